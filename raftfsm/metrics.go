package raftfsm

import (
	"io"
	"time"

	"github.com/hashicorp/raft"

	"github.com/loomcache/loomcache/persistence"
)

// Figures for the metrics endpoint that INFO does not print: histograms
// and per-follower replication. They are counted where the work happens
// (a WAL commit, a snapshot's Persist, raft's leader observation, a
// follower's acknowledgement) and read at scrape time.

// Metrics are a group's figures beyond Stats.
type Metrics struct {
	LeaderChanges  uint64 // leaders this node has seen elected since it started
	SyncLatency    persistence.HistogramSnapshot
	EntriesPerSync persistence.HistogramSnapshot
	// SnapshotDuration (nanoseconds, from the snapshot's point to its
	// file closed) and SnapshotSize (bytes) of the snapshots this node
	// took and persisted.
	SnapshotDuration persistence.HistogramSnapshot
	SnapshotSize     persistence.HistogramSnapshot
	// Followers is, on a leader, each other voter's replication: what the
	// leader knows it holds of the log. Empty on a follower.
	Followers []FollowerLag
}

// FollowerLag is one follower's replication as its leader sees it.
type FollowerLag struct {
	ID         string
	MatchIndex uint64 // last entry it acknowledged holding in this term, 0: none yet
	Lag        uint64 // the leader's last log index - MatchIndex
}

// snapshotStats are the histograms of the snapshots a group takes.
type snapshotStats struct {
	duration, size *persistence.Histogram
}

func newSnapshotStats() *snapshotStats {
	return &snapshotStats{
		duration: persistence.NewHistogram(persistence.Exponential(1_000_000, 2, 16)), // 1ms..32s
		size:     persistence.NewHistogram(persistence.Exponential(4096, 4, 12)),      // 4KiB..16GiB
	}
}

// countingWriter counts what a snapshot writes to its sink.
type countingWriter struct {
	w io.Writer
	n uint64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += uint64(n)
	return n, err
}

// observe records a persisted snapshot started at start of size bytes.
func (s *snapshotStats) observe(start time.Time, size uint64) {
	if s == nil {
		return
	}
	s.duration.Observe(uint64(time.Since(start)))
	s.size.Observe(size)
}

// watchLeaders counts leader elections raft observes; the filter runs
// on raft's goroutine and sends nothing, so no goroutine drains it.
func (n *Node) watchLeaders() {
	n.raft.RegisterObserver(raft.NewObserver(nil, false, func(o *raft.Observation) bool {
		if lo, ok := o.Data.(raft.LeaderObservation); ok && lo.LeaderID != "" {
			n.leaderChanges.Add(1)
		}
		return false
	}))
}

// Metrics returns the group's figures for the metrics endpoint.
func (n *Node) Metrics() Metrics {
	m := Metrics{LeaderChanges: n.leaderChanges.Load()}
	m.SyncLatency, m.EntriesPerSync = n.wal.SyncHistograms()
	if s := n.fsm.snapStats; s != nil {
		m.SnapshotDuration, m.SnapshotSize = s.duration.Snapshot(), s.size.Snapshot()
	}
	if n.raft.State() != raft.Leader {
		return m
	}
	ids, err := n.voterIDs()
	if err != nil {
		return m
	}
	last := n.raft.LastIndex()
	term := n.raft.CurrentTerm()
	for _, id := range ids {
		if string(id) == n.cfg.ID {
			continue
		}
		match := n.acks.matchIndex(id, term)
		m.Followers = append(m.Followers, FollowerLag{ID: string(id), MatchIndex: match, Lag: last - min(last, match)})
	}
	return m
}

// matchIndex is the last log index id acknowledged holding in term, 0
// if it acknowledged nothing in term.
func (a *ackTimes) matchIndex(id raft.ServerID, term uint64) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if x, ok := a.by[id]; ok && x.term == term {
		return x.match
	}
	return 0
}
