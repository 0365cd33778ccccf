package raftfsm

import (
	"fmt"
	"io"
	"testing"

	"github.com/hashicorp/raft"
)

// TestLoadingProgress restores a snapshot with Config.Loading held
// before its first read: the size comes from the snapshot's metadata
// before anything is read, and once Open returns every byte is counted.
func TestLoadingProgress(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	n := openLeader(t, cfg)
	for i := range 200 {
		set(t, n, fmt.Sprintf("k%d", i), "v", 0)
	}
	if err := n.Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	n.Close()
	store, err := raft.NewFileSnapshotStore(cfg.DataDir, 2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	metas, err := store.List()
	if err != nil || len(metas) == 0 {
		t.Fatalf("snapshots: %v, %v", metas, err)
	}
	size := metas[0].Size

	hold := make(chan struct{})
	cfg.Loading = &Loading{Hold: hold}
	opened := make(chan *Node, 1)
	go func() {
		n, err := Open(cfg)
		if err != nil {
			t.Errorf("open: %v", err)
		}
		opened <- n
	}()
	waitFor(t, "the restore to begin", func() bool {
		_, total := cfg.Loading.Progress()
		return cfg.Loading.Restoring() && total == size
	})
	if read, _ := cfg.Loading.Progress(); read != 0 {
		t.Fatalf("read %d bytes while held", read)
	}
	close(hold)
	n = <-opened
	if n == nil {
		return
	}
	defer n.Close()
	if cfg.Loading.Restoring() {
		t.Fatal("still restoring after Open returned")
	}
	if read, total := cfg.Loading.Progress(); read != size || total != size {
		t.Fatalf("progress %d of %d, want %d of %d", read, total, size, size)
	}
	if _, ok := lookup(n, 0, "k199"); !ok {
		t.Fatal("k199 not restored")
	}
}

// TestReplayedAfterRestart checks that when Replayed first reports true
// every write made before the restart is in the store, after a restart
// with entries to replay and after one whose WAL ends in a new term's
// no-op and barrier (entries the FSM never sees).
func TestReplayedAfterRestart(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	n := openLeader(t, cfg)
	for i := range 50 {
		set(t, n, fmt.Sprintf("k%d", i), "v", 0)
	}
	n.Close()
	for round := range 2 {
		n, err := Open(cfg)
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		waitFor(t, "the replay", n.Replayed)
		for i := range 50 {
			if _, ok := lookup(n, 0, fmt.Sprintf("k%d", i)); !ok {
				n.Close()
				t.Fatalf("round %d: Replayed with k%d missing", round, i)
			}
		}
		n.Close()
	}
}

// TestReplayedFreshNode: a node with nothing on disk has nothing to
// replay.
func TestReplayedFreshNode(t *testing.T) {
	n, err := Open(testConfig(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if !n.Replayed() {
		t.Fatal("a fresh node is not replayed")
	}
}

// TestReplayedAfterInstalledSnapshot: a follower restarts with entries in
// its WAL that its leader has compacted away since; the leader installs
// a snapshot covering them, and they stay in the follower's WAL (its
// trailing logs), never to be applied. The follower has replayed all it
// must (its state is the snapshot's, newer than its WAL), and Replayed
// says so: otherwise it would stay loading for good.
func TestReplayedAfterInstalledSnapshot(t *testing.T) {
	cfgs := make([]Config, 3)
	nodes := openCluster(t, 3, func(i int, cfg *Config) {
		cfg.SnapshotThreshold = 20
		cfg.TrailingLogs = 10
		cfgs[i] = *cfg
	})
	leader := leaderOf(t, nodes)
	fi := 0
	if nodes[fi] == leader {
		fi = 1
	}
	f := nodes[fi]
	for i := range 30 {
		set(t, leader, fmt.Sprintf("a%d", i), "v", 0)
	}
	waitFor(t, "the follower to apply", func() bool { _, ok := lookup(f, 0, "a29"); return ok })
	f.Close()
	for i := range 200 {
		set(t, leader, fmt.Sprintf("b%d", i), "v", 0)
	}
	if err := leader.Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	f, err := Open(cfgs[fi])
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer f.Close()
	waitFor(t, "the installed snapshot", func() bool { _, ok := lookup(f, 0, "b199"); return ok })
	waitFor(t, "Replayed after the install", f.Replayed)
}
