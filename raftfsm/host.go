package raftfsm

import (
	"errors"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/loomcache/loomcache/persistence"
)

// Host is one node of a LoomCache cluster: the cluster port, the Pebble
// database and one Raft group (a Node) per partition, each with its own
// FSM, keyspace, log, snapshots, lease and leader. The groups share the
// port (a connection's hello names its group) and the database (each
// group's keys under its own prefix, so one fsync can cover several
// groups' writes).
type Host struct {
	cfg    Config
	mux    *mux
	db     *persistence.DB
	lock   *os.File // the data directory's (dirlock.go)
	groups []*Node
	// waitedLease: the restart's lease wait (lease.go) is done; one
	// covers every group.
	waitedLease bool

	// addrs are the members' RESP addresses learnt by probes.
	addrMu sync.Mutex
	addrs  map[string]clientAddrEntry

	stop      chan struct{} // closed by Close: ends balanceLoop
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// MaxPartitions bounds Config.Partitions.
const MaxPartitions = 1024

// partitionsFile records, in the data directory, the number of
// partitions the node was created with.
const partitionsFile = "partition-count"

// OpenHost starts a node: it opens the database and the cluster port,
// then each partition's group (bootstrapping a new cluster if the data
// directory has no state yet).
func OpenHost(cfg Config) (*Host, error) {
	if cfg.NumDBs == 0 {
		cfg.NumDBs = 16
	}
	if cfg.Partitions == 0 {
		cfg.Partitions = 1
	}
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if cfg.TrailingLogs == 0 {
		cfg.TrailingLogs = DefaultTrailingLogs
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = os.Stderr
	}
	if cfg.Partitions < 1 || cfg.Partitions > MaxPartitions {
		return nil, fmt.Errorf("partitions must be between 1 and %d, not %d", MaxPartitions, cfg.Partitions)
	}
	if k := len(cfg.ClusterSecret); k > 0 && k < MinClusterSecret {
		return nil, fmt.Errorf("the cluster secret has %d bytes: it must have at least %d (a random one: openssl rand -base64 32)", k, MinClusterSecret)
	}
	// Owner only: the log and snapshots hold the data, and requirepass.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	h := &Host{cfg: cfg, stop: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			h.Close() // the groups opened so far, the port, the database
		}
	}()
	var err error
	if h.lock, err = lockDir(cfg.DataDir); err != nil {
		return nil, err
	}
	space := persistence.NewSpace(cfg.DataDir)
	if h.db, err = persistence.OpenDBWithSpace(filepath.Join(cfg.DataDir, "wal"), cfg.Fsync, space); err != nil {
		return nil, err
	}
	if cfg.WALSync != nil {
		h.db.OnSync(cfg.WALSync)
	}
	if !cfg.Fsync && cfg.FsyncEverySec {
		h.db.SetSyncMode(persistence.SyncEverySec)
	}
	if err := h.checkPartitions(); err != nil {
		return nil, err
	}
	portLog := hclog.New(&hclog.LoggerOptions{
		Name: "cluster-port", Output: cfg.LogOutput, Level: hclog.LevelFromString(cfg.LogLevel),
	})
	dialer := Dialer{ID: cfg.ID, Secret: cfg.ClusterSecret, TLS: cfg.ClusterTLS}
	if h.mux, err = listenMux(cfg.RaftAddr, cfg.RaftAdvertise, cfg.Partitions, dialer, portLog); err != nil {
		return nil, fmt.Errorf("listen raft %s: %w", cfg.RaftAddr, err)
	}
	h.mux.clientAddr.Store(&cfg.ClientAddr)
	// On loopback only this machine's processes reach the port, as with
	// Redis's protected mode: the warning is for ports others can reach.
	if bound, ok := h.mux.ln.Addr().(*net.TCPAddr); len(cfg.ClusterSecret) == 0 && cfg.ClusterTLS == nil && !(ok && bound.IP.IsLoopback()) {
		portLog.Warn("the cluster port is unauthenticated: whoever reaches it can join the cluster and read and write all data; "+
			"give every node the same cluster secret (--cluster-secret, or LOOMCACHE_CLUSTER_SECRET)", "addr", cfg.RaftAddr)
	}
	for g := range cfg.Partitions {
		n, err := h.openGroup(g)
		if err != nil {
			if cfg.Partitions > 1 {
				err = fmt.Errorf("partition %d: %w", g, err)
			}
			return nil, err
		}
		h.groups = append(h.groups, n)
	}
	ok = true
	h.wg.Add(1)
	go h.balanceLoop()
	if h.db.Space() != nil {
		if err := h.db.Space().KeepBallast(); err != nil {
			log.Printf("disk: %v", err)
		}
		h.wg.Add(1)
		go h.spaceLoop()
	}
	return h, nil
}

// checkPartitions compares the number of partitions asked for with the
// one the data directory was created with, and records it in a new one.
// A directory with state and no record is from a node of one partition.
func (h *Host) checkPartitions() error {
	path := filepath.Join(h.cfg.DataDir, partitionsFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		p, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if perr != nil {
			return fmt.Errorf("%s: %q is not a number of partitions", path, b)
		}
		if p != h.cfg.Partitions {
			return fmt.Errorf("the data directory %s holds %d partitions, not %d: the number of partitions is fixed when a cluster is created", h.cfg.DataDir, p, h.cfg.Partitions)
		}
		return nil
	case !errors.Is(err, os.ErrNotExist):
		return err
	}
	s0, err := h.db.Group(0)
	if err != nil {
		return err
	}
	if last, _ := s0.LastIndex(); last > 0 && h.cfg.Partitions != 1 {
		return fmt.Errorf("the data directory %s holds 1 partition, not %d: the number of partitions is fixed when a cluster is created", h.cfg.DataDir, h.cfg.Partitions)
	}
	return writeFileSync(path, []byte(strconv.Itoa(h.cfg.Partitions)+"\n"))
}

// writeFileSync writes a small file durably: into a temporary file,
// synced, then renamed into place.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// groupDir is where group g keeps its snapshots: the data directory for
// group 0, as a node of one partition always did.
func (h *Host) groupDir(g int) string {
	if g == 0 {
		return h.cfg.DataDir
	}
	return filepath.Join(h.cfg.DataDir, "partitions", strconv.Itoa(g))
}

// Partitions is the number of partitions (Raft groups).
func (h *Host) Partitions() int { return h.cfg.Partitions }

// Group returns partition p's Raft group.
func (h *Host) Group(p int) *Node { return h.groups[p] }

// Groups returns every partition's Raft group, in partition order.
func (h *Host) Groups() []*Node { return h.groups }

// serveForward hands a forwarding connection to its group.
func (h *Host) serveForward(nc net.Conn, hello Hello) {
	if hello.Group >= len(h.groups) {
		nc.Close()
		return
	}
	h.groups[hello.Group].serveForward(nc)
}

// Close closes every group (together: each waits for its last barrier),
// then the port and the database. Calling it again returns the first
// call's result.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		close(h.stop)
		h.wg.Wait() // a transfer under way is answered, or fails at the groups' close
		errs := make([]error, len(h.groups))
		var wg sync.WaitGroup
		for i, n := range h.groups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = n.closeGroup()
			}()
		}
		wg.Wait()
		h.closeErr = errors.Join(append(errs, h.closeParts())...)
	})
	return h.closeErr
}

// closeParts closes the port and the database.
func (h *Host) closeParts() error {
	var err error
	if h.mux != nil {
		err = h.mux.Close()
	}
	if h.db != nil {
		if cerr := h.db.Close(); err == nil {
			err = cerr
		}
	}
	if h.lock != nil {
		h.lock.Close() // releases the flock
	}
	return err
}

// clientAddrTTL is how long a peer's RESP address learnt by a probe is
// reused before it is asked again.
const clientAddrTTL = 30 * time.Second

// clientAddrProbe bounds asking a peer its RESP address.
const clientAddrProbe = time.Second

type clientAddrEntry struct {
	addr string
	at   time.Time
}

// ClientAddr returns the RESP address of the member id, reached at its
// cluster address raftAddr: this node's own, or what the member answers
// a probe (kept for clientAddrTTL). Empty when it cannot be learnt.
func (h *Host) ClientAddr(id, raftAddr string) string {
	if id == h.cfg.ID {
		return h.cfg.ClientAddr
	}
	h.addrMu.Lock()
	e, ok := h.addrs[id]
	h.addrMu.Unlock()
	if ok && time.Since(e.at) < clientAddrTTL {
		return e.addr
	}
	d := h.mux.dialer
	d.Timeout = clientAddrProbe
	addr, err := d.probe(raftAddr, id)
	if err != nil {
		return e.addr // the last known, if any
	}
	h.addrMu.Lock()
	if h.addrs == nil {
		h.addrs = map[string]clientAddrEntry{}
	}
	if len(h.addrs) > 4*MaxPartitions { // members come and go: stay bounded
		clear(h.addrs)
	}
	h.addrs[id] = clientAddrEntry{addr, time.Now()}
	h.addrMu.Unlock()
	return addr
}

// Partition is the partition the group is.
func (n *Node) Partition() int { return n.group }
