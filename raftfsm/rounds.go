package raftfsm

import "sync"

// rounds shares a piece of work among the callers waiting for it: each
// caller waits for a round that begins after it joined, and one round
// serves every caller that joined before it began. The lease's quorum
// rounds (lease.go) and a follower's read index requests (readindex.go)
// are shared so.
type rounds struct {
	mu      sync.Mutex
	next    *round
	running bool
}

type round struct {
	done  chan struct{}
	index uint64
	err   error
}

// join waits for a round of do that begins after the call and returns
// its result. The rounds run on a goroutine that holds a slot of g while
// callers wait, so closing g waits for it; a closing g fails the call
// with ErrNoLeader.
func (rs *rounds) join(g *gate, do func() (uint64, error)) (uint64, error) {
	rs.mu.Lock()
	r := rs.next
	if r == nil {
		r = &round{done: make(chan struct{})}
		rs.next = r
	}
	if !rs.running {
		if !g.enter() { // closing: nobody would run the round
			rs.next = nil
			rs.mu.Unlock()
			return 0, ErrNoLeader
		}
		rs.running = true
		go rs.run(g, do)
	}
	rs.mu.Unlock()
	<-r.done
	return r.index, r.err
}

// run runs rounds while callers wait for one.
func (rs *rounds) run(g *gate, do func() (uint64, error)) {
	defer g.leave()
	for {
		rs.mu.Lock()
		r := rs.next
		rs.next = nil
		if r == nil {
			rs.running = false
			rs.mu.Unlock()
			return
		}
		rs.mu.Unlock()
		r.index, r.err = do()
		close(r.done)
	}
}
