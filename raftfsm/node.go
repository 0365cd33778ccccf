// Package raftfsm owns LoomCache's hashicorp/raft wiring: the FSM that
// applies ops to the keyspace, snapshots and restores it, the node's
// lifecycle and membership, the read barrier that makes reads
// linearizable, and the leader's active expiry. It knows ops and the
// keyspace, not commands or the wire protocol.
package raftfsm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
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
	ID                string
	RaftAddr          string
	DataDir           string
	Fsync             bool
	Members           []Member // initial members; empty: a single node of ID
	SnapshotThreshold uint64
	NumDBs            int
	Apply             ApplyFunc
	LogOutput         io.Writer
	LogLevel          string // hclog level name
	// Now is the clock used for op deadlines and active expiry.
	Now func() time.Time
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

// Node is one LoomCache Raft member.
type Node struct {
	cfg   Config
	raft  *raft.Raft
	fsm   *fsm
	wal   *persistence.Store
	snaps *raft.FileSnapshotStore
	trans *raft.NetworkTransport

	// readyTerm is the term whose first barrier has applied: a leader
	// serves no read before its own term's barrier is through.
	readyTerm atomic.Uint64

	startIndex   uint64 // last log index on disk at start
	restoredSnap uint64 // snapshot index restored at start, 0: none

	stop chan struct{}
	wg   sync.WaitGroup
}

// applyTimeout bounds how long a proposal may wait to be enqueued.
const applyTimeout = 10 * time.Second

// Open starts a node: it opens the WAL and snapshots in DataDir,
// bootstraps a new cluster if there is no state yet, and starts Raft.
func Open(cfg Config) (*Node, error) {
	if cfg.NumDBs == 0 {
		cfg.NumDBs = 16
	}
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = 10000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = os.Stderr
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	n := &Node{cfg: cfg, stop: make(chan struct{})}
	n.fsm = &fsm{ks: keyspace.New(cfg.NumDBs), apply: cfg.Apply}
	ok := false
	defer func() {
		if !ok {
			n.closeStores()
		}
	}()

	var err error
	if n.wal, err = persistence.Open(filepath.Join(cfg.DataDir, "wal"), cfg.Fsync); err != nil {
		return nil, err
	}
	if n.snaps, err = raft.NewFileSnapshotStore(cfg.DataDir, 2, cfg.LogOutput); err != nil {
		return nil, fmt.Errorf("open snapshots: %w", err)
	}
	if n.startIndex, err = n.wal.LastIndex(); err != nil {
		return nil, fmt.Errorf("read wal: %w", err)
	}
	if metas, err := n.snaps.List(); err == nil && len(metas) > 0 {
		n.restoredSnap = metas[0].Index
	}
	addr, err := net.ResolveTCPAddr("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, fmt.Errorf("raft address %q: %w", cfg.RaftAddr, err)
	}
	if n.trans, err = raft.NewTCPTransport(cfg.RaftAddr, addr, 3, 10*time.Second, cfg.LogOutput); err != nil {
		return nil, fmt.Errorf("listen raft %s: %w", cfg.RaftAddr, err)
	}

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = time.Second // checked often so snapshots follow the threshold closely
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = 256
	rc.Logger = hclog.New(&hclog.LoggerOptions{
		Name: "raft", Output: cfg.LogOutput, Level: hclog.LevelFromString(cfg.LogLevel),
	})

	has, err := raft.HasExistingState(n.wal, n.wal, n.snaps)
	if err != nil {
		return nil, fmt.Errorf("inspect raft state: %w", err)
	}
	if !has {
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
	leaderCh := make(chan bool, 16)
	rc.NotifyCh = leaderCh
	if n.raft, err = raft.NewRaft(rc, n.fsm, n.wal, n.wal, n.snaps, n.trans); err != nil {
		return nil, fmt.Errorf("start raft: %w", err)
	}
	ok = true
	n.wg.Add(2)
	go n.watchLeadership(leaderCh)
	go n.expireLoop()
	return n, nil
}

// Store returns the keyspace. Readers hold its read lock while they look.
func (n *Node) Store() *keyspace.Store { return n.fsm.ks }

// Now returns the node's clock as unix milliseconds.
func (n *Node) Now() int64 { return n.cfg.Now().UnixMilli() }

// watchLeadership runs a barrier at the start of each term this node
// leads, and marks reads ready once it has applied.
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
			term := n.term()
			if err := n.raft.Barrier(applyTimeout).Error(); err == nil {
				n.readyTerm.Store(term)
			}
		}
	}
}

func (n *Node) term() uint64 {
	t, _ := parseUint(n.raft.Stats()["term"])
	return t
}

// Propose replicates o and returns the leader's apply result.
func (n *Node) Propose(o *op.Op) (any, error) {
	if n.raft.State() != raft.Leader {
		return nil, ErrNoLeader
	}
	data := o.Encode(make([]byte, 0, o.Size()))
	f := n.raft.Apply(data, applyTimeout)
	if err := f.Error(); err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress),
			errors.Is(err, raft.ErrEnqueueTimeout), errors.Is(err, raft.ErrRaftShutdown):
			return nil, ErrNoLeader
		default:
			return nil, fmt.Errorf("%w: %v", ErrUnknownOutcome, err)
		}
	}
	return f.Response(), nil
}

// ReadBarrier returns nil when this node may serve a linearizable read:
// it leads, its term's first barrier has applied, and (with peers) a
// quorum still follows it.
func (n *Node) ReadBarrier() error {
	if n.raft.State() != raft.Leader {
		return ErrNoLeader
	}
	if n.readyTerm.Load() == 0 {
		return ErrNoLeader
	}
	if n.voters() > 1 {
		if err := n.raft.VerifyLeader().Error(); err != nil {
			return ErrNoLeader
		}
	}
	return nil
}

func (n *Node) voters() int {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	c := 0
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			c++
		}
	}
	return c
}

// WaitLeader waits until this node leads with reads ready, or ctx ends.
func (n *Node) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if n.raft.State() == raft.Leader && n.readyTerm.Load() != 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// IsLeader reports whether this node currently believes it leads.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Close stops the node's loops, shuts Raft down and closes its stores.
func (n *Node) Close() error {
	close(n.stop)
	// Shutting Raft down first fails any barrier or proposal a loop is
	// waiting on, so the loops return promptly.
	err := n.raft.Shutdown().Error()
	n.wg.Wait()
	if cerr := n.trans.Close(); err == nil {
		err = cerr
	}
	if cerr := n.closeStores(); err == nil {
		err = cerr
	}
	return err
}

func (n *Node) closeStores() error {
	if n.wal != nil {
		err := n.wal.Close()
		n.wal = nil
		return err
	}
	return nil
}

// Snapshot takes a snapshot now (for tests and admin commands).
func (n *Node) Snapshot() error { return n.raft.Snapshot().Error() }
