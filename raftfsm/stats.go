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
	LastLogIndex      uint64
	LastSnapshotIndex uint64
	RestoredSnapshot  uint64 // snapshot index loaded at start, 0: none
	StartLogIndex     uint64 // last log index on disk at start
	AppliedSinceStart uint64 // entries applied by this process (replay included)
	Voters            int
	WAL               persistence.Stats
	FsyncAlways       bool
	SnapshotThreshold uint64
}

// Stats returns the node's current figures.
func (n *Node) Stats() Stats {
	rs := n.raft.Stats()
	_, leaderID := n.raft.LeaderWithID()
	s := Stats{
		ID:                n.cfg.ID,
		State:             n.raft.State().String(),
		Leader:            string(leaderID),
		AppliedIndex:      n.fsm.lastIndex.Load(),
		RestoredSnapshot:  n.restoredSnap,
		StartLogIndex:     n.startIndex,
		AppliedSinceStart: n.fsm.applied.Load(),
		Voters:            n.voters(),
		WAL:               n.wal.Stats(),
		FsyncAlways:       n.cfg.Fsync,
		SnapshotThreshold: n.cfg.SnapshotThreshold,
	}
	s.Term, _ = parseUint(rs["term"])
	s.CommitIndex, _ = parseUint(rs["commit_index"])
	s.LastLogIndex, _ = parseUint(rs["last_log_index"])
	s.LastSnapshotIndex, _ = parseUint(rs["last_snapshot_index"])
	return s
}

func parseUint(s string) (uint64, error) { return strconv.ParseUint(s, 10, 64) }
