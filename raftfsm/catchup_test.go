package raftfsm

import (
	"fmt"
	"testing"
)

// A follower that was down while more than 10,000 writes happened (the
// snapshot threshold; compaction keeps DefaultTrailingLogs (1,024) trailing
// entries) catches up from the leader's snapshot (InstallSnapshot), then
// from the log.
func TestFollowerCatchesUpFromSnapshot(t *testing.T) {
	var cfgs []Config
	nodes := openCluster(t, 3, func(i int, cfg *Config) {
		cfgs = append(cfgs, *cfg) // the defaults
	})
	leader := leaderOf(t, nodes)
	var down int
	for i, n := range nodes {
		if n != leader {
			down = i
			break
		}
	}
	set(t, leader, "before", "1", 0)
	if err := nodes[down].Close(); err != nil {
		t.Fatal(err)
	}
	// One at a time, so each write is its own log entry (concurrent
	// ones would share batch entries) and the log passes the trailing
	// entries a compaction keeps.
	const writes = 12000
	for i := 0; i < writes; i++ {
		set(t, leader, fmt.Sprint("k", i), fmt.Sprint("v", i), 0)
	}
	if err := leader.Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if first := leader.Stats().FirstLogIndex; first <= nodes[down].Stats().AppliedIndex {
		t.Fatalf("leader's log still starts at %d: the follower could catch up from it", first)
	}
	back, err := Open(cfgs[down])
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	waitFor(t, "the follower to catch up", func() bool {
		v, ok := lookup(back, 0, fmt.Sprint("k", writes-1))
		return ok && v == fmt.Sprint("v", writes-1)
	})
	if back.Stats().Restores == 0 {
		t.Error("the follower caught up without installing a snapshot")
	}
	if v, ok := lookup(back, 0, "before"); !ok || v != "1" {
		t.Errorf("key written before the follower went down: %q %v", v, ok)
	}
}

// TestAppliedIndexAgreesAtRest: the applied index Stats reports passes
// the barriers and no-ops after the FSM's last entry, so at rest every
// member reports the commit index, whether or not its last snapshot
// ended at a barrier (the leader's here, the followers have none).
func TestAppliedIndexAgreesAtRest(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	leader := leaderOf(t, nodes)
	set(t, leader, "k", "v", 0)
	if err := leader.barrier(); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	if err := leader.Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	commit := leader.Stats().CommitIndex
	if last := leader.AppliedIndex(); last >= commit {
		t.Fatalf("the FSM's last entry %d is not below the commit index %d: no barrier after it", last, commit)
	}
	for _, n := range nodes {
		waitFor(t, n.cfg.ID+" to report the commit index applied", func() bool {
			st := n.Stats()
			return st.CommitIndex == commit && st.AppliedIndex == commit
		})
	}
}
