// Package raftfsm owns LoomCache's hashicorp/raft wiring: the FSM that
// applies ops to the keyspace, snapshots and restores it, the node's
// lifecycle and membership, the cluster port (one listener for Raft,
// forwarding and probes, every connection authenticated by the cluster
// secret and optionally mutual TLS), the read barrier that makes reads
// linearizable, and the leader's active expiry. It knows ops and the
// keyspace, not commands or the client wire protocol. It never serves a
// cluster-port channel to a connection that has not authenticated.
package raftfsm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/persistence"
)

// Member is one initial cluster member.
type Member struct {
	ID       string
	RaftAddr string
}

// Config configures a Node.
type Config struct {
	ID       string
	RaftAddr string // cluster port listen address
	// RaftAdvertise is the address other nodes dial to reach this node,
	// and the one it is known by in the Raft configuration; empty: the
	// address RaftAddr bound.
	RaftAdvertise string
	DataDir       string
	Fsync         bool
	// FsyncEverySec, with Fsync false, has the log fsync'd once a second
	// (persistence.SyncEverySec): Redis's appendfsync everysec.
	FsyncEverySec bool
	Members       []Member // initial members; empty: a single node of ID
	// Partitions is the number of partitions, each a Raft group (OpenHost;
	// 0: 1). It is fixed when the cluster is created.
	Partitions int
	// ClientAddr is the node's RESP address (host:port) as clients reach
	// it, which other nodes learn from a probe (Host.ClientAddr).
	ClientAddr string
	// NoBootstrap leaves a node with no state yet without a configuration,
	// to be added to a running cluster by its leader (--join).
	NoBootstrap bool
	// SnapshotThreshold is how many ops applied since the last snapshot
	// trigger the next (snapshot.go); 0: 10,000.
	SnapshotThreshold uint64
	// TrailingLogs is how many entries a compaction leaves behind the
	// snapshot (0: DefaultTrailingLogs), so a follower that is only a
	// little behind catches up from the log rather than a snapshot.
	TrailingLogs uint64
	NumDBs       int
	// EncodingLimits are the keyspace's encoding thresholds from the
	// start (so a restored snapshot's values are built with them); nil:
	// Redis's defaults.
	EncodingLimits *keyspace.EncodingLimits
	// ClusterSecret, when set, is required of every connection on the
	// cluster port, accepted or dialled (auth.go); every node of the
	// cluster has the same. At least MinClusterSecret bytes.
	ClusterSecret []byte
	// ClusterTLS, when set, runs the cluster port under mutual TLS: it
	// holds this node's certificate and the CAs that sign the nodes'
	// (RootCAs, or ClientCAs), used both to serve (a dialer's certificate
	// is required and verified) and to dial (see Dialer.TLS).
	ClusterTLS *tls.Config
	Apply      ApplyFunc
	// Aux is replicated state beside the keyspace that Apply changes (the
	// users): it is written into every snapshot and restored from it.
	Aux       AuxState
	LogOutput io.Writer
	LogLevel  string // hclog level name
	// Now is the clock used for op deadlines and active expiry.
	Now func() time.Time
	// ExpiryPaused, when set and true, has the leader propose no expiry
	// deletions for now (CLIENT PAUSE on this node).
	ExpiryPaused func() bool
	// ExpireCycle, when set, is told how long each active expiry cycle
	// took, its proposals' round trips included (LATENCY's expire-cycle).
	ExpireCycle func(d time.Duration)
	// WALSync, when set, is told how long each fsync'd commit of log
	// entries took (LATENCY's aof-fsync-always).
	WALSync func(d time.Duration)
	// Loading, when set, follows the snapshot restore Open does
	// (loading.go), for a caller that serves clients meanwhile.
	Loading *Loading
}

// AuxState is replicated state outside the keyspace. Both methods run on
// the FSM goroutine, between applies.
type AuxState interface {
	// Snapshot encodes the state.
	Snapshot() []byte
	// Restore replaces the state with a Snapshot's; nil or empty is the
	// initial state (a snapshot taken before the state existed).
	Restore(data []byte) error
}

// Errors of Propose and ReadBarrier.
var (
	// ErrNoLeader: this node cannot serve the request and nothing was
	// applied. Retrying is safe.
	ErrNoLeader = errors.New("no leader")
	// ErrUnknownOutcome: the op was handed to Raft but leadership was lost
	// before its outcome was known; it may or may not have been applied.
	ErrUnknownOutcome = errors.New("outcome unknown")
)

// Node is one Raft group (one partition) of a Host: its FSM and
// keyspace, its log, snapshots, transport, lease and forwarding.
type Node struct {
	cfg   Config
	group int
	host  *Host
	// ownsHost: the node is Open's, and its Close closes the host.
	ownsHost bool
	raft     *raft.Raft
	peers    peerLog // raft's log lines about peers (peerlog.go)
	fsm      *fsm
	wal      *persistence.Store
	snaps    *persistence.SnapshotStore
	trans    *raft.NetworkTransport
	acks     ackTimes // when peers accepted this node's requests (acks.go)
	mux      *mux     // the host's cluster port (transport.go)
	// fwd forwards commands to the group's leader; fwdHandler runs
	// those forwarded here (forward.go).
	fwd        *forwarder
	fwdHandler atomic.Pointer[ForwardHandler]

	// readyTerm is the term whose first barrier has applied: a leader
	// serves no read (and expires nothing) until readyTerm equals its
	// current term.
	readyTerm atomic.Uint64

	startIndex   uint64 // last log index on disk at start
	restoredSnap uint64 // snapshot index restored at start, 0: none

	// gate admits the calls that wait on raft futures (proposals,
	// barriers, leader checks) until Close; see gate.go.
	gate *gate
	prop *proposer // batches proposals (async.go)
	stop chan struct{}
	// multiVoter caches "the configuration has more than one voter" for
	// the read path (reading the configuration allocates). Only a leader
	// serves reads, and only a leader changes the configuration, so it is
	// refreshed when this node becomes leader and around every membership
	// change it makes (set before a voter is added, recomputed after).
	multiVoter atomic.Bool
	lease      leaseState // lease.go
	reads      rounds     // readindex.go: a follower's read index requests
	wg         sync.WaitGroup
	closeOnce  sync.Once
	closeErr   error

	// leaderChanges counts the leaders raft has observed (metrics.go).
	leaderChanges atomic.Uint64
}

// DefaultSnapshotThreshold is Config.SnapshotThreshold's default.
const DefaultSnapshotThreshold = 10000

// DefaultHeartbeatTimeout is Raft's heartbeat and election timeout.
const DefaultHeartbeatTimeout = 500 * time.Millisecond

// applyTimeout bounds how long a proposal may wait to be enqueued.
const applyTimeout = 10 * time.Second

// DefaultTrailingLogs is how many log entries a compaction keeps behind
// a snapshot. An entry holds a batch of up to maxBatchOps ops (async.go),
// so hashicorp/raft's 10,240 would keep up to 10,240 batches, and the log
// on disk would not shrink at a snapshot until that many had been written.
const DefaultTrailingLogs = 1024

// Open starts a node of one partition (Config.Partitions is ignored):
// OpenHost's group 0, whose Close closes the host.
func Open(cfg Config) (*Node, error) {
	cfg.Partitions = 1
	h, err := OpenHost(cfg)
	if err != nil {
		return nil, err
	}
	n := h.groups[0]
	n.ownsHost = true
	return n, nil
}

// openGroup starts Raft group g on the host: its log in the shared
// database, its snapshots, its transport on the shared port, and Raft,
// bootstrapping a new cluster if the group has no state yet.
func (h *Host) openGroup(g int) (*Node, error) {
	cfg := h.cfg
	dialer := h.mux.dialer
	dialer.Group = g
	n := &Node{cfg: cfg, group: g, host: h, mux: h.mux, gate: newGate(), prop: newProposer(), stop: make(chan struct{}), fwd: newForwarder(dialer)}
	ks := keyspace.New(cfg.NumDBs)
	if cfg.EncodingLimits != nil {
		ks.SetEncodingLimits(*cfg.EncodingLimits)
	}
	aux := cfg.Aux
	if g > 0 {
		aux = nil // the users and scripts are group 0's
	}
	n.fsm = &fsm{ks: ks, apply: cfg.Apply, aux: aux, snapStats: newSnapshotStats()}
	ok := false
	defer func() {
		if !ok && n.trans != nil {
			n.trans.Close()
		}
	}()

	var err error
	if n.wal, err = h.db.Group(g); err != nil {
		return nil, fmt.Errorf("read wal: %w", err)
	}
	if n.snaps, err = persistence.NewSnapshotStore(h.groupDir(g), 2, cfg.LogOutput); err != nil {
		return nil, fmt.Errorf("open snapshots: %w", err)
	}
	n.snaps.SetSpace(h.db.Space())
	load := cfg.Loading
	if g > 0 {
		load = nil
	}
	if load != nil {
		load.begin(n.snaps)
		defer load.end()
	}
	if n.startIndex, err = n.wal.LastIndex(); err != nil {
		return nil, fmt.Errorf("read wal: %w", err)
	}
	// Entries up to here that the FSM applies are a replay of the WAL.
	n.fsm.replayTo = n.startIndex
	name := "raft"
	if h.Partitions() > 1 {
		name = fmt.Sprintf("raft-p%d", g)
	}
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: h.mux.stream(g), MaxPool: 3, Timeout: 10 * time.Second,
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: name + "-net", Output: cfg.LogOutput, Level: hclog.LevelFromString(cfg.LogLevel),
		}),
	})

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.TrailingLogs = cfg.TrailingLogs
	rc.SnapshotInterval = time.Second // checked often so snapshots follow the threshold closely
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256
	// Timeouts (docs/consistency.md): followers start an election after
	// HeartbeatTimeout to 2× without contact; a leader without quorum
	// contact steps down after LeaderLeaseTimeout. Half of hashicorp/raft's
	// defaults, so a leader's failure is repaired in about a second. The
	// step-down waits as long as a follower does before it stands (250 ms
	// made a leader on a busy machine step down over one slow round of
	// heartbeats); no read relies on it (lease.go).
	rc.HeartbeatTimeout = DefaultHeartbeatTimeout
	rc.ElectionTimeout = DefaultHeartbeatTimeout
	rc.LeaderLeaseTimeout = DefaultHeartbeatTimeout
	n.lease.init(rc.HeartbeatTimeout)
	n.acks.init(n.lease.base)
	n.peers.single.Store(!n.wasMultiVoter())
	rc.Logger = hclog.New(&hclog.LoggerOptions{
		Name: name, Output: cfg.LogOutput, Level: hclog.LevelFromString(cfg.LogLevel),
		Exclude: n.peers.exclude,
	})

	has, err := raft.HasExistingState(n.wal, n.wal, n.snaps)
	if err != nil {
		return nil, fmt.Errorf("inspect raft state: %w", err)
	}
	if has && n.wasMultiVoter() && !h.waitedLease {
		// See lease.go: a restarted node must not vote before a leader's
		// lease, which it may have helped grant just before it stopped,
		// has run out. One wait covers every group.
		time.Sleep(rc.HeartbeatTimeout)
		h.waitedLease = true
	}
	if !has && !cfg.NoBootstrap {
		servers := []raft.Server{{ID: rc.LocalID, Address: n.trans.LocalAddr()}}
		if len(cfg.Members) > 0 {
			servers = servers[:0]
			for _, m := range cfg.Members {
				servers = append(servers, raft.Server{ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.RaftAddr)})
			}
		}
		if err := raft.BootstrapCluster(rc, n.wal, n.wal, n.snaps, n.trans, raft.Configuration{Servers: servers}); err != nil {
			return nil, fmt.Errorf("bootstrap: %w", err)
		}
	}
	// Recent entries stay in memory in front of the WAL (up to a budget
	// in bytes: an entry is a batch of up to maxBatchBytes), so a leader
	// replicating to followers rarely reads Pebble.
	logs, err := persistence.NewLogCache(n.wal, persistence.DefaultLogCacheBytes/h.Partitions())
	if err != nil {
		return nil, fmt.Errorf("log cache: %w", err)
	}
	var rfsm raft.FSM = n.fsm
	if load != nil {
		rfsm = loadingFSM{fsm: n.fsm, load: load}
	}
	if n.raft, err = raft.NewRaft(rc, rfsm, logs, n.wal, n.snaps, &ackTransport{n.trans, &n.acks}); err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	n.prop.start(n.raft)
	n.watchLeaders()
	// NewRaft restored the newest loadable snapshot before returning (it
	// falls back to older ones), so raft's last snapshot is the one the
	// FSM holds now.
	if n.fsm.restores.Load() > 0 {
		n.restoredSnap, _ = parseUint(n.raft.Stats()["last_snapshot_index"])
	}
	ok = true
	n.wg.Add(5)
	go n.watchPeers(rc.Logger)
	go n.every(snapshotEvery, n.snapshotCheck)
	go n.leaseLoop()
	// LeaderCh, unlike Config.NotifyCh, never blocks raft's main loop: it
	// keeps only the latest transition, which is all the watcher needs.
	go n.watchLeadership(n.raft.LeaderCh())
	go n.every(expireEvery, n.expireRound)
	return n, nil
}

// Store returns the keyspace. Readers hold its read lock while they look.
func (n *Node) Store() *keyspace.Store { return n.fsm.ks }

// Now returns the node's clock as unix milliseconds.
func (n *Node) Now() int64 { return n.cfg.Now().UnixMilli() }

// watchLeadership runs a barrier at the start of each term this node
// leads, and marks reads ready once it has applied: the barrier commits an
// entry of the new term, so every entry of earlier terms is applied too.
func (n *Node) watchLeadership(ch <-chan bool) {
	defer n.wg.Done()
	for {
		select {
		case <-n.stop:
			return
		case leader := <-ch:
			if !leader {
				n.readyTerm.Store(0)
				continue
			}
			n.peers.single.Store(false)
			// Read the term before the barrier: if leadership changed
			// in between, the barrier belongs to a later term and the
			// check below (or ready's) refuses the stale one.
			term := n.raft.CurrentTerm()
			if !n.gate.enter() {
				return // closing
			}
			err := n.barrier()
			n.gate.leave()
			n.multiVoter.Store(n.voters() > 1)
			if err == nil && n.raft.CurrentTerm() == term {
				n.readyTerm.Store(term)
			}
		}
	}
}

// ready reports whether this node leads and its current term's barrier
// has applied. Comparing terms (not just readyTerm != 0) covers a node
// that lost and regained leadership before the watcher saw it.
func (n *Node) ready() bool {
	if n.raft.State() != raft.Leader {
		return false
	}
	t := n.readyTerm.Load()
	return t != 0 && t == n.raft.CurrentTerm()
}

// Propose replicates o and returns the leader's apply result. ErrNoLeader
// means o was certainly not applied; ErrUnknownOutcome means it was handed
// to Raft and may have been (or may yet be, after a restart) applied.
func (n *Node) Propose(o *op.Op) (any, error) {
	n.awaitElection()
	return n.ProposeAsync(o).Result()
}

// leaderWait bounds how long a request waits for an election in progress.
const leaderWait = 3 * time.Second

// awaitElection gives an election in progress a bounded time to finish
// when no leader is known, so the clients of a node that is starting, or
// of a cluster between leaders, see a short delay instead of an error.
// It returns at once when this node is ready or another node leads.
func (n *Node) awaitElection() {
	if n.ready() {
		return
	}
	otherLeads := func() bool {
		_, id := n.raft.LeaderWithID()
		return id != "" && id != raft.ServerID(n.cfg.ID)
	}
	if otherLeads() {
		return
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	deadline := time.After(leaderWait)
	for !n.ready() && !otherLeads() {
		select {
		case <-deadline:
			return
		case <-n.stop:
			return
		case <-t.C:
		}
	}
}

// classify maps an Apply error to ErrNoLeader only where hashicorp/raft
// rejects the entry before appending it to the log: a follower or a
// stepping-down leader answers ErrNotLeader, a transferring leader
// ErrLeadershipTransferInProgress, and ErrEnqueueTimeout means it never
// reached the leader loop. ErrRaftShutdown is not among them: a future
// already appended (and perhaps fsync'd and committed) also fails with it
// when the node shuts down. ErrLeadershipLost and WAL errors are unknown
// outcomes too.
func classify(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress),
		errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrNoLeader
	default:
		return fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
	}
}

// ReadBarrier returns nil when this node may serve a linearizable read:
// it leads, its term's first barrier has applied, and (with peers) a
// quorum still follows it.
func (n *Node) ReadBarrier() error {
	n.awaitElection()
	if !n.ready() {
		return ErrNoLeader
	}
	if !n.multiVoter.Load() {
		return nil
	}
	if !n.leaseHeld() {
		if err := n.confirmLeadership(); err != nil {
			return err
		}
	}
	// A follower may have applied, and served a read of, an entry this
	// FSM has not applied yet (readindex.go).
	return n.CatchUp()
}

func (n *Node) voters() int {
	ids, err := n.voterIDs()
	if err != nil {
		return 0
	}
	return len(ids)
}

// WaitLeader waits until this node leads with reads ready, or ctx ends.
func (n *Node) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if n.ready() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-n.stop:
			return ErrNoLeader
		case <-t.C:
		}
	}
}

// IsLeader reports whether this node currently believes it leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Close closes the node: its host when the node is Open's, otherwise
// the group alone (see closeGroup). Calling Close again returns the
// first call's result.
func (n *Node) Close() error {
	if n.ownsHost {
		return n.host.Close()
	}
	return n.closeGroup()
}

// closeGroup stops the group's loops, shuts its Raft down and closes its
// transport. Proposals already handed to Raft are answered first (a
// leader commits them, or fails them when it steps down); proposals made
// once it has begun fail with ErrNoLeader.
func (n *Node) closeGroup() error {
	n.closeOnce.Do(func() {
		// Refuse new calls and wait for those inside raft calls (see
		// gate.go). Then a last barrier flushes raft's queues: once it is
		// answered, every entry queued before it has been answered too
		// (committed and applied, refused, or failed by a step-down).
		// Without quorum a leader steps down within LeaderLeaseTimeout,
		// which answers it.
		<-n.gate.close()
		n.prop.close()
		n.raft.Barrier(applyTimeout).Error()
		// The loops propose nothing more once the gate is closed.
		close(n.stop)
		n.fwd.close()
		// A snapshot being written at its pace fails now rather than
		// holding Shutdown up.
		n.snaps.Stop()
		// Shutdown waits for raft's own goroutines (FSM, snapshots) and
		// closes the transport.
		err := n.raft.Shutdown().Error()
		n.wg.Wait()
		if cerr := n.trans.Close(); err == nil {
			err = cerr
		}
		n.closeErr = err
	})
	return n.closeErr
}

// Snapshot takes a snapshot now (for tests and admin commands).
func (n *Node) Snapshot() error {
	if !n.gate.enter() {
		return raft.ErrRaftShutdown
	}
	defer n.gate.leave()
	return n.raft.Snapshot().Error()
}
