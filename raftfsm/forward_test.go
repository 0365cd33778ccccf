package raftfsm

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/loomcache/loomcache/op"
)

// incrHandler runs forwarded "INCR key" commands as the server would: an
// IncrBy op carrying the request id, the reply as RESP, a batch's
// commands in order.
func incrHandler(n *Node) ForwardHandler {
	return func(reqs []op.Op) ([]byte, ForwardResult) {
		if !n.IsLeader() {
			return nil, ForwardNotLeader
		}
		var out []byte
		for _, req := range reqs {
			o := op.Op{Type: op.IncrBy, Int: 1, Now: n.Now(), Args: req.Args[1:2], Req: req.Req}
			res, err := n.Propose(&o)
			switch {
			case errors.Is(err, ErrNoLeader):
				return nil, ForwardNotLeader
			case err != nil:
				return nil, ForwardLost
			}
			out = fmt.Appendf(out, ":%v\r\n", res)
		}
		return out, ForwardReplied
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
			h = func(reqs []op.Op) ([]byte, ForwardResult) {
				reply, res := inner(reqs)
				once.Do(func() {
					close(applied)
					<-release // stopped before the reply goes out
				})
				return reply, res
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

// TestForwardLostRetriesSameID: a leader that reports its leadership lost
// with the write in flight (ForwardLost) gets the same request again, and
// applies it once: the retry is answered with the first application's
// reply.
func TestForwardLostRetriesSameID(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	leader := leaderOf(t, nodes)
	calls := 0
	var mu sync.Mutex
	for _, n := range nodes {
		h := incrHandler(n)
		if n == leader {
			inner := h
			h = func(reqs []op.Op) ([]byte, ForwardResult) {
				reply, res := inner(reqs)
				mu.Lock()
				defer mu.Unlock()
				if calls++; calls == 1 {
					return nil, ForwardLost // applied, but the reply is lost
				}
				return reply, res
			}
		}
		n.SetForwardHandler(h)
	}
	for _, n := range nodes {
		if n == leader {
			continue
		}
		reply, err := n.Forward(forwardIncr("n"), true)
		if err != nil || string(reply) != ":1\r\n" {
			t.Errorf("INCR after a lost reply: %q, %v; want :1", reply, err)
		}
		break
	}
	if v, _ := lookup(leader, 0, "n"); v != "1" {
		t.Errorf("n = %q, want 1", v)
	}
	if calls != 2 {
		t.Errorf("the leader ran the request %d times, want 2", calls)
	}
}

// TestForwardPoolBounded: many concurrent clients of a follower share at
// most forwardConns connections to the leader, and every command runs
// exactly once.
func TestForwardPoolBounded(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	for _, n := range nodes {
		n.SetForwardHandler(incrHandler(n))
	}
	leader := leaderOf(t, nodes)
	var follower *Node
	for _, n := range nodes {
		if n != leader {
			follower = n
		}
	}
	const clients, each = 40, 10
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < each; j++ {
				if r, err := follower.Forward(forwardIncr("n"), true); err != nil || r[0] != ':' {
					errs <- fmt.Errorf("%q, %v", r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	follower.fwd.mu.Lock()
	pooled := len(follower.fwd.conns)
	follower.fwd.mu.Unlock()
	if pooled < 1 || pooled > forwardConns {
		t.Errorf("%d pooled connections, want 1 to %d", pooled, forwardConns)
	}
	// Every INCR was acknowledged; under load leadership may have moved
	// meanwhile, and a node that no longer leads may still be applying.
	waitFor(t, fmt.Sprintf("n = %d on every node", clients*each), func() bool {
		for _, n := range nodes {
			if v, _ := lookup(n, 0, "n"); v != fmt.Sprint(clients*each) {
				return false
			}
		}
		return true
	})
}

// TestForwardBatchRetriedOnce: a follower forwards a pipeline of INCRs as
// one batch; the leader applies them all but its reply is lost, so the
// follower sends the batch again: every INCR is applied once, and the
// replies, in order, are the first application's.
func TestForwardBatchRetriedOnce(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	leader := leaderOf(t, nodes)
	var calls int
	var mu sync.Mutex
	for _, n := range nodes {
		h := incrHandler(n)
		if n == leader {
			inner := h
			h = func(reqs []op.Op) ([]byte, ForwardResult) {
				reply, res := inner(reqs)
				mu.Lock()
				defer mu.Unlock()
				if calls++; calls == 1 {
					return nil, ForwardLost
				}
				return reply, res
			}
		}
		n.SetForwardHandler(h)
	}
	var follower *Node
	for _, n := range nodes {
		if n != leader {
			follower = n
		}
	}
	var b ForwardBatch
	want := ""
	for i := 0; i < 20; i++ {
		key := fmt.Sprint("k", i%7)
		follower.AddForward(&b, forwardIncr(key), true)
		want += fmt.Sprintf(":%d\r\n", i/7+1)
	}
	reply, err := follower.ForwardAll(&b)
	if err != nil || string(reply) != want {
		t.Fatalf("batch: %q, %v; want %q", reply, err, want)
	}
	if calls != 2 {
		t.Errorf("the leader ran the batch %d times, want 2", calls)
	}
	for i := 0; i < 7; i++ {
		wantV := fmt.Sprint((20 - i + 6) / 7)
		if v, _ := lookup(leader, 0, fmt.Sprint("k", i)); v != wantV {
			t.Errorf("k%d = %q, want %s", i, v, wantV)
		}
	}
}
