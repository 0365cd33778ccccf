package raftfsm

import "sync"

// gate admits calls that wait on raft futures until Close, and lets Close
// wait for the calls already admitted before it shuts raft down.
//
// It exists because hashicorp/raft does not answer every future at
// Shutdown: an Apply or Barrier future still in raft's apply queue, a
// committed entry still queued for the FSM, or a VerifyLeader future still
// in its queue is never answered, and its Error() blocks forever
// (hashicorp/raft#498). While raft runs, every future is answered: a
// follower refuses at once, a leader commits or, losing its quorum, steps
// down within LeaderLeaseTimeout and fails what is in flight. So Close
// first stops admitting, waits for the admitted calls, then shuts down.
type gate struct {
	mu     sync.Mutex
	closed bool
	n      int
	idle   chan struct{} // closed once the gate is closed and n is 0
}

func newGate() *gate { return &gate{idle: make(chan struct{})} }

// enter admits a call, or reports false once the gate is closed. An
// admitted call must call leave when it is done.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.closed && g.n == 0 {
		close(g.idle)
	}
}

// close stops admitting calls and returns a channel closed once every
// admitted call has left. It must be called once.
func (g *gate) close() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.n == 0 {
		close(g.idle)
	}
	return g.idle
}
