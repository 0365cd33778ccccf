package raftfsm

import (
	"strconv"

	"github.com/loomcache/loomcache/persistence"
)

// Stats describes the node for INFO's raft and persistence sections.
type Stats struct {
	ID                string
	State             string
	Term              uint64
	Leader            string
	CommitIndex       uint64
	AppliedIndex      uint64
	FirstLogIndex     uint64 // first entry still in the WAL (compaction moves it), 0: none
	LastLogIndex      uint64
	LastSnapshotIndex uint64
	LastSnapshotTerm  uint64
	RestoredSnapshot  uint64 // snapshot index loaded at start, 0: none
	StartLogIndex     uint64 // last log index on disk at start
	AppliedSinceStart uint64 // entries applied by this process (replay included)
	AppliedOps        uint64 // ops those entries held: group commit packs many into one
	ReplayedEntries   uint64 // entries applied from the WAL that were there at start
	Restores          uint64 // snapshots restored by this process (at start or installed by a leader)
	SnapshotsTaken    uint64 // snapshots this process took
	FSMPending        uint64 // committed batches waiting for the FSM
	ReadsReady        bool   // leads, and this term's barrier has applied
	LeaseHeld         bool   // reads are served locally under a lease now
	LeaseRounds       uint64 // leadership rounds run for reads and lease renewal
	Voters            int
	ForwardRequests   uint64 // requests this node forwarded to a leader (a batch counts once)
	ForwardCommands   uint64 // commands in them
	RefusedConns      uint64 // cluster-port connections refused: bad hello, TLS or authentication
	WAL               persistence.Stats
	FsyncAlways       bool
	FsyncMode         persistence.SyncMode // the log's policy now (appendfsync)
	SnapshotThreshold uint64
	// The disk (persistence.Space): why writes are refused (nil: they
	// are not), the bytes free and those kept in reserve (0: unknown).
	DiskErr     error
	DiskFree    uint64
	DiskReserve uint64
}

// statsScan bounds how far past the FSM's last entry Stats reads the
// log for entries the FSM never sees: a few after an election or a
// barrier; the first command stops it.
const statsScan = 256

// Stats returns the node's current figures.
func (n *Node) Stats() Stats {
	rs := n.raft.Stats()
	_, leaderID := n.raft.LeaderWithID()
	s := Stats{
		LeaseHeld:         n.leaseHeld(),
		LeaseRounds:       n.lease.rounds.Load(),
		ID:                n.cfg.ID,
		State:             n.raft.State().String(),
		Leader:            string(leaderID),
		AppliedIndex:      n.fsm.lastIndex.Load(),
		RestoredSnapshot:  n.restoredSnap,
		StartLogIndex:     n.startIndex,
		AppliedSinceStart: n.fsm.applied.Load(),
		AppliedOps:        n.fsm.ops.Load(),
		ReplayedEntries:   n.fsm.replayed.Load(),
		Restores:          n.fsm.restores.Load(),
		SnapshotsTaken:    n.fsm.snapshots.Load(),
		ReadsReady:        n.ready(),
		Voters:            n.voters(),
		ForwardRequests:   n.fwd.requests.Load(),
		ForwardCommands:   n.fwd.commands.Load(),
		RefusedConns:      n.mux.refused.count.Load(),
		WAL:               n.wal.Stats(),
		FsyncAlways:       n.wal.SyncMode() == persistence.SyncAlways,
		FsyncMode:         n.wal.SyncMode(),
		SnapshotThreshold: n.cfg.SnapshotThreshold,
	}
	if sp := n.wal.Space(); sp != nil {
		s.DiskErr, s.DiskFree, s.DiskReserve = sp.Err(), sp.Free(), sp.Reserve()
	}
	s.Term, _ = parseUint(rs["term"])
	s.CommitIndex, _ = parseUint(rs["commit_index"])
	s.LastLogIndex, _ = parseUint(rs["last_log_index"])
	s.LastSnapshotIndex, _ = parseUint(rs["last_snapshot_index"])
	s.LastSnapshotTerm, _ = parseUint(rs["last_snapshot_term"])
	s.FSMPending, _ = parseUint(rs["fsm_pending"])
	s.FirstLogIndex, _ = n.wal.FirstIndex()
	// The FSM sees only commands (and restored snapshots): everything up
	// to the last snapshot taken, barriers included, is applied too.
	// Past the FSM's last entry, the no-ops and barriers raft has handed
	// on count: at rest every member reports its commit index, whichever
	// entry its snapshots end at.
	done := max(s.AppliedIndex, s.LastSnapshotIndex)
	s.AppliedIndex = n.appliedThrough(done, done+statsScan)
	return s
}

// AppliedIndex is the index of the last entry the FSM applied or the
// last snapshot it restored, whichever came later, without Stats' cost
// (which also counts the no-ops and barriers past it).
func (n *Node) AppliedIndex() uint64 { return n.fsm.lastIndex.Load() }

func parseUint(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }
