package raftfsm

import (
	"errors"
	"fmt"
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
	nodes := openCluster(t, 3, func(i int, cfg *Config) {
		id := cfg.ID
		cfg.Apply = func(ks *keyspace.Store, o *op.Op) any {
			if ch, ok := hold.Load(id); ok {
				<-ch.(chan struct{})
			}
			return testApply(ks, o)
		}
	})
	for _, n := range nodes {
		n.SetForwardHandler(incrHandler(n))
	}
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
	nodes := openCluster(t, 3, nil)
	for _, n := range nodes {
		n.SetForwardHandler(incrHandler(n))
	}
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
