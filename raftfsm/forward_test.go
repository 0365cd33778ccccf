package raftfsm

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/loomcache/loomcache/op"
)

// incrHandler runs forwarded "INCR key" commands as the server would: an
// IncrBy op carrying the request id, the reply as RESP.
func incrHandler(n *Node) ForwardHandler {
	return func(req *op.Op) ([]byte, bool) {
		if !n.IsLeader() {
			return nil, true
		}
		o := op.Op{Type: op.IncrBy, Int: 1, Now: n.Now(), Args: req.Args[1:2], Req: req.Req}
		res, err := n.Propose(&o)
		switch {
		case errors.Is(err, ErrNoLeader):
			return nil, true
		case err != nil:
			return []byte("-UNKNOWN\r\n"), false
		}
		return []byte(fmt.Sprintf(":%v\r\n", res)), false
	}
}

func forwardIncr(key string) *op.Op {
	return &op.Op{Type: op.Forward, Int: 2, Args: [][]byte{[]byte("INCR"), []byte(key)}}
}

// TestForwardToLeader: followers' commands run on the leader, in order,
// and a command sent to the leader itself runs there.
func TestForwardToLeader(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	for _, n := range nodes {
		n.SetForwardHandler(incrHandler(n))
	}
	leaderOf(t, nodes)
	want := 0
	for round := 0; round < 3; round++ {
		for _, n := range nodes {
			want++
			reply, err := n.Forward(forwardIncr("n"), true)
			if err != nil || string(reply) != fmt.Sprintf(":%d\r\n", want) {
				t.Fatalf("INCR via %s: %q, %v; want :%d", n.cfg.ID, reply, err, want)
			}
		}
	}
}

// TestForwardRetriedAfterLeaderLoss: the leader applies a forwarded INCR
// and stops before it replies; the follower sends the same request to the
// next leader, which answers with the first application's reply instead
// of applying it again.
func TestForwardRetriedAfterLeaderLoss(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	leader := leaderOf(t, nodes)
	applied := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	for _, n := range nodes {
		h := incrHandler(n)
		if n == leader {
			inner := h
			h = func(req *op.Op) ([]byte, bool) {
				reply, notLeader := inner(req)
				once.Do(func() {
					close(applied)
					<-release // stopped before the reply goes out
				})
				return reply, notLeader
			}
		}
		n.SetForwardHandler(h)
	}
	var follower *Node
	for _, n := range nodes {
		if n != leader {
			follower = n
			break
		}
	}
	type result struct {
		reply []byte
		err   error
	}
	done := make(chan result, 1)
	go func() {
		r, err := follower.Forward(forwardIncr("n"), true)
		done <- result{r, err}
	}()
	<-applied
	closed := make(chan error, 1)
	go func() { closed <- leader.Close() }()
	r := <-done
	close(release)
	<-closed
	if r.err != nil || string(r.reply) != ":1\r\n" {
		t.Errorf("retried INCR: %q, %v; want :1", r.reply, r.err)
	}
	waitFor(t, "the follower to apply", func() bool {
		v, ok := lookup(follower, 0, "n")
		return ok && v == "1"
	})
	// One more INCR applies normally: the count shows one application.
	if r, err := follower.Forward(forwardIncr("n"), true); err != nil || string(r) != ":2\r\n" {
		t.Errorf("next INCR: %q, %v; want :2", r, err)
	}
}

// TestForwardNoLeader: with no leader reachable, reads and writes fail
// with ErrNoLeader after a bounded wait; nothing was sent, so a write is
// not an unknown outcome.
func TestForwardNoLeader(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Members = []Member{{ID: "n1", RaftAddr: cfg.RaftAddr}, {ID: "n2", RaftAddr: freeAddr(t)}}
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	n.SetForwardHandler(incrHandler(n))
	for _, write := range []bool{false, true} {
		if _, err := n.Forward(forwardIncr("n"), write); !errors.Is(err, ErrNoLeader) {
			t.Errorf("write=%v: %v, want ErrNoLeader", write, err)
		}
	}
}
