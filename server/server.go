// Package server owns client connections: it accepts them (on the plain
// listener and, with tls-port, the TLS one; tls*.go), runs one
// goroutine per connection that reads requests (resp), dispatches them
// through the command table (commands) and writes replies, and it owns the
// node (raftfsm) those commands replicate through. It also answers the
// server-level questions commands ask (INFO, CLIENT LIST, CONFIG).
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
)

// Config is a node's whole configuration.
type Config struct {
	ID   string
	Addr string // RESP listen address; tls-port listens on its host too
	// NoPlainPort turns the plain-text RESP listener off, as Redis's
	// port 0 does: clients then connect to tls-port only.
	NoPlainPort   bool
	RaftAddr      string
	RaftAdvertise string // address other nodes dial; empty: RaftAddr's
	DataDir       string
	Fsync         bool
	Members       []raftfsm.Member
	Join          string
	// Partitions is the number of partitions, each a Raft group (0: 1);
	// fixed when the cluster is created (partition.go).
	Partitions        int
	SnapshotThreshold uint64
	// TrailingLogs is how many log entries a compaction keeps (0:
	// raftfsm.DefaultTrailingLogs).
	TrailingLogs uint64
	Databases    int
	LogLevel     string
	LogOutput    io.Writer
	ConfigFile   string // path the settings came from, for INFO
	MaxBulk      int64  // proto-max-bulk-len
	// ACLFile is the aclfile (Redis's directive): users loaded at startup
	// (through Raft, when they differ) and by ACL LOAD, written by ACL
	// SAVE. Empty: none.
	ACLFile string
	// ClusterSecret, when set, authenticates every connection on the
	// cluster port; every node has the same (raftfsm.Config.ClusterSecret).
	ClusterSecret []byte
	// ClusterTLS, when set, runs the cluster port under mutual TLS
	// (raftfsm.Config.ClusterTLS).
	ClusterTLS *tls.Config
	// WrapListener, when set, wraps each client listener New opens before
	// it accepts (tests stand their own connections in for the sockets).
	WrapListener func(net.Listener) net.Listener
	// Directives are Redis configuration directives given at startup
	// (maxclients, timeout, ...): the same names and checks as CONFIG SET.
	Directives [][2]string
	// HoldRestore and HoldLoading hold loading open (tests): the
	// snapshot restore reads nothing before HoldRestore is closed, and
	// loading ends no sooner than HoldLoading is closed.
	HoldRestore <-chan struct{}
	HoldLoading <-chan struct{}
	// MetricsAddr, when set, serves Prometheus metrics on /metrics there
	// (metrics.go).
	MetricsAddr string
	// FsyncEverySec, with Fsync false, fsyncs the log once a second
	// (appendfsync everysec).
	FsyncEverySec bool
	// Redis holds the process directives of a Redis config (redisconf.go).
	Redis RedisStartup
}

// Server is a running LoomCache node.
type Server struct {
	cfg   Config
	table *commands.Table
	// node is set once by New when raftfsm.OpenHost returns: partition
	// 0's group, which also holds the users and scripts. Connections,
	// served from the start, reach it through openNode (loading.go).
	node *raftfsm.Node
	// groups are every partition's group, set with node (partition.go).
	groups []*raftfsm.Node
	host   *raftfsm.Host
	ln     net.Listener // plain RESP; nil with NoPlainPort
	log    *log.Logger
	load   loadState // loading.go

	// Accept loops: one per listener, started by New (and by a CONFIG
	// SET that moves tls-port while serving), ended by closing their
	// listener, waited for by Close.
	lnMu      sync.Mutex
	tlsLn     net.Listener // nil: tls-port 0
	serving   bool
	closed    bool
	loops     sync.WaitGroup
	acceptErr chan error    // an accept loop's fatal error, for Serve
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	tls       tlsState

	mu      sync.Mutex
	clients map[int64]*client
	nextID  atomic.Int64
	wg      sync.WaitGroup

	started time.Time
	// startupMem is used_memory_startup (memory.go).
	startupMem uint64
	peak       memPeak // used_memory_peak (memory_stats.go)
	stats      stats
	conf       runtimeConfig // what CONFIG SET changed (config.go)
	evict      *evictor      // eviction under maxmemory (evict.go); set by New
	startup    startupACL    // what startup settings ask of the users (acl.go)
	// aclSynced is closed once the startup proposals are applied (or
	// there are none, or Run stops trying).
	aclSynced  chan struct{}
	syncedOnce sync.Once
	// inst samples INFO's instantaneous rates (info_stats.go).
	inst instRates
	// revoke closes the connections of deleted users (revoke.go).
	revoke revoker
	pause  pauseState // CLIENT PAUSE (pause.go)
	// metrics is the metrics endpoint, nil when off (metrics.go).
	metrics *metricsServer
	admin   adminState // SHUTDOWN, BGSAVE, DEBUG (admin.go)
}

type client struct {
	sess *commands.Session
	nc   net.Conn
	// sock is nc for the connection goroutine's reads and writes
	// (internal/sockio); nil until it serves the connection.
	sock net.Conn
	net  *netStats // the server's, counting what nc carries
	// duringLoad: admitted while loading, before the users were known
	// (loading.go).
	duringLoad bool
	pubsubConn // pubsub.go
}

// desc names the client in log lines, as Redis's do (id and address).
func (c *client) desc() string {
	return "id=" + strconv.FormatInt(c.sess.ID, 10) + " addr=" + c.nc.RemoteAddr().String()
}

// New listens on cfg.Addr (and tls-port), serves clients from then on
// (as a loading node, loading.go), opens the node's storage and starts
// Raft, which restores the newest snapshot before New returns; the WAL
// after it replays later. The caller runs Serve (or Run) and, at the end,
// Close.
func New(cfg Config) (*Server, error) {
	if cfg.LogOutput == nil {
		cfg.LogOutput = os.Stderr
	}
	if cfg.Databases == 0 {
		cfg.Databases = 16
	}
	s := &Server{
		cfg:        cfg,
		table:      commands.NewTable(),
		clients:    make(map[int64]*client),
		log:        log.New(cfg.LogOutput, "loomcache: ", log.LstdFlags),
		started:    time.Now(),
		startupMem: startupMemory(cfg.Databases),
		aclSynced:  make(chan struct{}),
		acceptErr:  make(chan error, 1),
		done:       make(chan struct{}),
		revoke:     newRevoker(),
	}
	s.table.SetNodeID(cfg.ID)
	s.table.SetDoctorFacts(s.doctorFacts)
	s.admin.init()
	s.conf.v = defaultConfValues()
	if len(cfg.Directives) > 0 {
		if err := s.configSet(cfg.Directives, true); err != nil {
			return nil, startupError(err)
		}
	}
	tlsPort := s.conf.v.tls.port
	if cfg.NoPlainPort && tlsPort == 0 {
		// As Redis, which exits when configured to listen nowhere.
		return nil, errors.New("configured to not listen anywhere: the plain port is off and tls-port is 0")
	}
	if cfg.ACLFile != "" {
		data, err := s.loadACLFile()
		if err != nil {
			return nil, err
		}
		s.startup.file, s.startup.fileName = data, cfg.ACLFile
	}
	users := s.table.ACL()
	users.HoldAuth(!s.startup.empty())
	users.OnChange(s.usersChanged)
	s.conf.limits.Store(newConnLimits(s, &s.conf.v))
	s.publishEncodings(s.conf.v.enc)
	// A caller's (a test's) cluster TLS wins over tls-cluster's.
	clusterTLS := cfg.ClusterTLS
	if clusterTLS == nil {
		var err error
		if clusterTLS, err = s.ClusterTLS(); err != nil {
			return nil, err
		}
	}
	if err := s.listen(tlsPort); err != nil {
		return nil, err
	}
	if w := cfg.WrapListener; w != nil {
		if s.ln != nil {
			s.ln = w(s.ln)
		}
		if s.tlsLn != nil {
			s.tlsLn = w(s.tlsLn)
		}
	}
	// From here on a failure is cleaned up by Close, which waits for it.
	s.startRevoker()
	s.startSampler()
	s.startLoading()
	s.lnMu.Lock()
	s.serving = true
	if s.ln != nil {
		s.startAccept(s.ln, false)
	}
	if s.tlsLn != nil {
		s.startAccept(s.tlsLn, true)
	}
	s.lnMu.Unlock()
	if cfg.MetricsAddr != "" {
		if err := s.startMetrics(cfg.MetricsAddr); err != nil {
			s.Close()
			return nil, err
		}
	}
	host, err := raftfsm.OpenHost(raftfsm.Config{
		ID:                cfg.ID,
		Partitions:        cfg.Partitions,
		ClientAddr:        s.clientAdvertise(),
		RaftAddr:          cfg.RaftAddr,
		RaftAdvertise:     cfg.RaftAdvertise,
		DataDir:           cfg.DataDir,
		Fsync:             s.cfg.Fsync, // appendfsync among the directives may have set it
		FsyncEverySec:     s.cfg.FsyncEverySec,
		Members:           cfg.Members,
		NoBootstrap:       cfg.Join != "",
		SnapshotThreshold: cfg.SnapshotThreshold,
		TrailingLogs:      cfg.TrailingLogs,
		NumDBs:            cfg.Databases,
		EncodingLimits:    s.conf.encodings.Load(),
		ClusterSecret:     cfg.ClusterSecret,
		ClusterTLS:        clusterTLS,
		Apply: func(ks *keyspace.Store, o *op.Op) any {
			tr := s.table.Tracking()
			tr.BeginOp(ks, s.table.NoLoopWriter(o.Req)) // NOLOOP: not to its writer
			r := s.table.Apply(ks, o)
			tr.EndOpOn(ks) // BCAST invalidations: one per op
			s.notePeak(ks)
			return r
		},
		Aux:          s.table.Aux(),
		ExpiryPaused: s.expiryPaused,
		LogOutput:    cfg.LogOutput,
		LogLevel:     cfg.LogLevel,
		Loading:      s.load.progress,
		ExpireCycle: func(d time.Duration) {
			s.latencySample("expire-cycle", time.Now().Add(-d))
		},
		WALSync: func(d time.Duration) {
			s.latencySample("aof-fsync-always", time.Now().Add(-d))
		},
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	s.host, s.groups, s.node = host, host.Groups(), host.Group(0)
	for g, n := range s.groups {
		ks := n.Store()
		ks.Lock()
		ks.SetReady(s.table.Waiters().Ready)            // applied changes wake blocked clients
		ks.SetChanged(s.table.Tracking().ChangedOn(ks)) // and invalidate tracked keys
		ks.SetNotifier(s.table.KeyspaceEvents())
		ks.TrackLazyExpiry() // reads' expired keys are deleted (conn.ExpireLazily)
		ks.Unlock()
		s.table.PubSub().AddLive(ks) // its PUBLISH ops deliver
		n.SetForwardHandler(func(reqs []op.Op) ([]byte, raftfsm.ForwardResult) { return s.runForwarded(g, reqs) })
	}
	node := s.node
	s.startEviction()
	s.startSaver()
	s.load.node.Store(node) // after s.node: see openNode
	return s, nil
}

// listen opens the plain listener (unless NoPlainPort) and, with
// tls-port, the TLS one.
func (s *Server) listen(tlsPort int64) error {
	if !s.cfg.NoPlainPort {
		ln, err := s.listenBind()
		if err != nil {
			return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
		}
		s.ln = ln
	}
	if tlsPort != 0 {
		addr := s.tlsListenAddr(tlsPort)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if s.ln != nil {
				s.ln.Close()
			}
			return fmt.Errorf("listen %s (tls-port): %w", addr, err)
		}
		s.tlsLn = ln
	}
	return nil
}

// Addr returns the plain RESP listen address, nil with NoPlainPort.
func (s *Server) Addr() net.Addr {
	ln := s.plainListener()
	if ln == nil {
		return nil
	}
	return ln.Addr()
}

// Node returns the Raft node.
func (s *Server) Node() *raftfsm.Node { return s.node }

// Host returns the node's Raft groups and their shared parts; nil until
// the node is open.
func (s *Server) Host() *raftfsm.Host { return s.host }

// Run serves until ctx is done, then shuts down cleanly.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	stopJoin := s.startJoin(ctx)
	stopACL := s.startACLSync(ctx)
	select {
	case <-ctx.Done():
		stopJoin()
		stopACL()
		return s.Close()
	case <-s.admin.stop: // SHUTDOWN
		stopJoin()
		stopACL()
		return s.Close()
	case err := <-errc:
		stopJoin()
		stopACL()
		cerr := s.Close()
		if err == nil {
			err = cerr
		}
		return err
	}
}

// Serve waits while the plain and TLS listeners accept connections (New
// started them) until Close; it returns an accept error that is not the
// listener closing.
func (s *Server) Serve() error {
	s.lnMu.Lock()
	closed := s.closed
	s.lnMu.Unlock()
	if closed {
		return errors.New("serve: closed")
	}
	select {
	case err := <-s.acceptErr:
		return err
	case <-s.done:
		return nil
	}
}

// startAccept runs an accept loop on ln; the caller holds lnMu, so Close
// cannot be waiting for the loops yet.
func (s *Server) startAccept(ln net.Listener, secure bool) {
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		if err := s.accept(ln, secure); err != nil {
			select {
			case s.acceptErr <- err:
			default: // Serve has one to return already
			}
		}
	}()
}

// accept accepts clients on ln until it is closed. Connections on the TLS
// listener are clients like the others (maxclients, CLIENT LIST, INFO);
// their handshake runs on the connection's goroutine, so a slow one holds
// up no one else.
func (s *Server) accept(ln net.Listener, secure bool) error {
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		s.mu.Lock()
		if s.clients == nil { // closing
			s.mu.Unlock()
			nc.Close()
			return nil
		}
		if int64(len(s.clients)) >= s.maxClients() {
			s.mu.Unlock()
			s.stats.rejected.Add(1)
			// As Redis: the error, then the connection closes; nothing is
			// built for it, and it counts as rejected, not received. On
			// the TLS port Redis's write of the error fails, the
			// handshake not being done, and the client sees the
			// connection close: so here too.
			if !secure {
				nc.Write(errMaxClients)
			}
			nc.Close()
			continue
		}
		// Protected mode answers in the clear: on the TLS port it is
		// checked after the handshake (serveConn).
		if !secure && s.refuseProtected(nc) {
			s.mu.Unlock()
			continue
		}
		s.keepAlive(nc) // on the TCP socket, under TLS too
		if secure {
			nc = tls.Server(nc, s.tls.serverConfig())
		}
		s.stats.connections.Add(1)
		id := s.nextID.Add(1)
		c := &client{nc: nc, net: &s.stats.net, sess: commands.NewSession(id, nc.RemoteAddr().String(), nc.LocalAddr().String(), time.Now())}
		s.newSub(c) // before others (the revoker) can see c
		s.admit(c)
		s.clients[id] = c
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// errMaxClients is Redis's reply to a connection past maxclients.
var errMaxClients = []byte("-ERR max number of clients reached\r\n")

// Close stops accepting on both listeners, closes every connection (plain
// and TLS, handshaking or not), waits for their goroutines and the
// revoker's, and shuts the node down.
func (s *Server) Close() error {
	s.lnMu.Lock()
	s.closed = true
	tln := s.tlsLn
	s.tlsLn = nil
	s.lnMu.Unlock()
	s.closeOnce.Do(func() { close(s.done) })
	s.table.Waiters().Close()
	s.table.CloseMigrateSockets()
	if ln := s.plainListener(); ln != nil {
		ln.Close()
	}
	if tln != nil {
		tln.Close()
	}
	s.loops.Wait()
	s.mu.Lock()
	clients := s.clients
	s.clients = nil
	s.mu.Unlock()
	for _, c := range clients {
		c.nc.Close()
	}
	// A script never ends by itself if it loops: its connection's
	// goroutine would hold the shutdown forever (Redis's SHUTDOWN NOSAVE
	// kills it too). Scripts are killed until the connections are gone,
	// one that was about to start included.
	stopKilling := make(chan struct{})
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			s.table.KillScript()
			select {
			case <-stopKilling:
				return
			case <-tick.C:
			}
		}
	}()
	s.wg.Wait()
	close(stopKilling)
	<-killed
	<-s.revoke.done // it stops once s.done is closed
	s.stopMetrics()
	s.waitSampler()
	s.load.wg.Wait()
	s.admin.close()
	if s.node == nil {
		return nil // New failed to open it
	}
	if s.evict != nil {
		s.evict.close() // before the node: it proposes
	}
	return s.host.Close()
}

func (s *Server) dropClient(c *client) {
	s.mu.Lock()
	if s.clients != nil {
		delete(s.clients, c.sess.ID)
	}
	s.mu.Unlock()
}

// Clients returns the connected sessions.
func (s *Server) Clients() []*commands.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*commands.Session, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c.sess)
	}
	return out
}

// killClient closes the connection of a killed session.
func (s *Server) killClient(id int64) {
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c != nil {
		c.sess.Kill()
		c.nc.Close()
	}
}

type stats struct {
	rejected    atomic.Int64 // connections refused by maxclients
	connections atomic.Int64
	commands    atomic.Int64
	net         netStats // info_stats.go
}
