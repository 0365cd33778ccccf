package raftfsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// TestFollowerReadWaitsForApply: a follower whose FSM is held back has
// not applied a write the leader acknowledged; FollowerRead waits until
// it has, so what the follower reads after it is the write's value. And
// many concurrent reads share few read index requests.
func TestFollowerReadWaitsForApply(t *testing.T) {
	var hold sync.Map // node id -> chan struct{}: its FSM waits on it
	nodes := openReadCluster(t, func(i int, cfg *Config) {
		id := cfg.ID
		cfg.Apply = func(ks *keyspace.Store, o *op.Op) any {
			if ch, ok := hold.Load(id); ok {
				<-ch.(chan struct{})
			}
			return testApply(ks, o)
		}
	})
	leader := leaderOf(t, nodes)
	var f *Node
	for _, n := range nodes {
		if n != leader {
			f = n
			break
		}
	}
	set(t, leader, "k", "v1", 0)
	if err := f.FollowerRead(leaderWait); err != nil {
		t.Fatalf("FollowerRead: %v", err)
	}
	if v, _ := lookup(f, 0, "k"); v != "v1" {
		t.Fatalf("after FollowerRead the follower holds k=%q, want v1", v)
	}

	release := make(chan struct{})
	hold.Store(f.cfg.ID, release)
	set(t, leader, "k", "v2", 0) // a majority: the leader and the other follower
	if err := f.FollowerRead(50 * time.Millisecond); !errors.Is(err, ErrBehind) {
		t.Fatalf("FollowerRead on a follower held back, waiting 50ms: %v, want ErrBehind", err)
	}
	var done atomic.Bool
	read := make(chan error, 1)
	go func() {
		err := f.FollowerRead(leaderWait)
		done.Store(true)
		read <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if done.Load() {
		t.Fatal("FollowerRead returned while the follower had not applied the acknowledged write")
	}
	hold.Delete(f.cfg.ID)
	close(release)
	if err := <-read; err != nil {
		t.Fatalf("FollowerRead: %v", err)
	}
	if v, _ := lookup(f, 0, "k"); v != "v2" {
		t.Fatalf("after FollowerRead the follower holds k=%q, want v2", v)
	}

	before := f.fwd.requests.Load()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.FollowerRead(leaderWait); err != nil {
				errs <- fmt.Errorf("read %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if sent := f.fwd.requests.Load() - before; sent >= 200 || sent == 0 {
		t.Errorf("200 concurrent reads sent %d read index requests, want fewer, shared", sent)
	}
}

// TestReadIndexWithoutLeader: a follower cut off from every other node
// gets no read index: FollowerRead fails with ErrNoLeader rather than
// letting it read what it holds.
func TestReadIndexWithoutLeader(t *testing.T) {
	nodes := openReadCluster(t, nil)
	leader := leaderOf(t, nodes)
	set(t, leader, "k", "v1", 0)
	f := nodes[0]
	if f == leader {
		f = nodes[1]
	}
	for _, n := range nodes {
		if n != f {
			n.Close()
		}
	}
	if err := f.FollowerRead(leaderWait); err != ErrNoLeader {
		t.Fatalf("FollowerRead with every other node closed: %v, want ErrNoLeader", err)
	}
}

// TestReadIndexCoversRestore: a backup restored on the leader is
// installed at a new index past its log, which the FSM sees as no entry.
// A read index answered after the restore must cover it: were it the
// last entry applied before, a follower that had applied that entry but
// not yet installed the restore would serve the state from before.
func TestReadIndexCoversRestore(t *testing.T) {
	nodes := openReadCluster(t, nil)
	leader := leaderOf(t, nodes)
	set(t, leader, "k", "v1", 0)
	info, rc, err := leader.Backup()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	set(t, leader, "k", "v2", 0)
	if err := leader.RestoreSnapshot(info, bytes.NewReader(data)); err != nil {
		t.Fatalf("RestoreSnapshot: %v", err)
	}
	restoredAt := leader.Stats().LastSnapshotIndex
	index, err := leader.ReadIndex()
	if err != nil || index < restoredAt {
		t.Fatalf("read index after the restore: %d, %v; want at least the restore's index %d", index, err, restoredAt)
	}
	for _, n := range nodes {
		if err := n.FollowerRead(leaderWait); err != nil {
			t.Fatalf("%s: FollowerRead: %v", n.cfg.ID, err)
		}
		if n.AppliedIndex() < restoredAt {
			t.Errorf("%s: applied index %d after a read, below the restore's %d", n.cfg.ID, n.AppliedIndex(), restoredAt)
		}
		if v, _ := lookup(n, 0, "k"); v != "v1" {
			t.Errorf("%s holds k=%q after a read that follows the restore, want v1", n.cfg.ID, v)
		}
	}
}

// TestFollowerReadPastBarriers: a leader restarted from a snapshot that
// ends at a barrier answers that snapshot's index as its read index,
// while a follower that has no snapshot applied the same state as
// entries and holds the barrier as an entry its FSM never saw. The
// follower serves the read at once: nothing lies between but the barrier.
func TestFollowerReadPastBarriers(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	x := leaderOf(t, nodes)
	set(t, x, "k", "v1", 0)
	if err := x.barrier(); err != nil {
		t.Fatalf("barrier: %v", err)
	}
	if err := x.Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	for _, n := range nodes {
		n.Close()
	}
	for i, n := range nodes {
		again, err := Open(n.cfg)
		if err != nil {
			t.Fatalf("reopen %s: %v", n.cfg.ID, err)
		}
		t.Cleanup(func() { again.Close() })
		again.SetForwardHandler(incrHandler(again))
		nodes[i] = again
		if n == x {
			x = again
		}
	}
	// x leads (handed the leadership back if another node won) and
	// answers its restored snapshot's index, past every follower's FSM.
	waitFor(t, x.cfg.ID+" to lead and answer a read index past the followers' applied indexes", func() bool {
		if leader := leaderOf(t, nodes); leader != x {
			leader.TransferLeadership(x.cfg.ID)
			return false
		}
		i, err := x.ReadIndex()
		if err != nil || !x.IsLeader() {
			return false
		}
		for _, f := range nodes {
			if f != x && f.AppliedIndex() >= i {
				return false
			}
		}
		return true
	})
	for _, f := range nodes {
		if f == x {
			continue
		}
		if err := f.FollowerRead(time.Second); err != nil {
			t.Fatalf("%s: FollowerRead: %v", f.cfg.ID, err)
		}
		if v, _ := lookup(f, 0, "k"); v != "v1" {
			t.Errorf("%s holds k=%q, want v1", f.cfg.ID, v)
		}
	}
}

// openReadCluster opens three nodes that serve forwarded requests, read
// index requests among them.
func openReadCluster(t *testing.T, tweak func(i int, cfg *Config)) []*Node {
	nodes := openCluster(t, 3, tweak)
	for _, n := range nodes {
		n.SetForwardHandler(incrHandler(n))
	}
	return nodes
}
