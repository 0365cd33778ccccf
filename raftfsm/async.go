package raftfsm

import (
	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/op"
)

// Future is the outcome of a proposal made with ProposeAsync.
type Future struct {
	f   raft.ApplyFuture
	err error // set when the op was refused before reaching Raft
}

// Result waits for the proposal's outcome: the leader's apply result, or
// the same errors Propose returns.
func (f Future) Result() (any, error) {
	if f.err != nil {
		return nil, f.err
	}
	if err := f.f.Error(); err != nil {
		return nil, classify(err)
	}
	return f.f.Response(), nil
}

// ProposeAsync hands o to Raft and returns without waiting for it to
// commit, so a connection can propose the next pipelined write at once:
// hashicorp/raft appends the entries that queue up together in one batch,
// one fsync for all of them. Ops proposed one after another by the same
// goroutine are applied in that order. o is encoded before ProposeAsync
// returns, so its arguments may be reused at once.
func (n *Node) ProposeAsync(o *op.Op) Future {
	// The gate covers the hand-over only: Close flushes raft's queues
	// with a barrier before it shuts raft down, so every future handed
	// over is answered (see gate.go).
	if !n.gate.enter() {
		return Future{err: ErrNoLeader} // closing: nothing handed to raft
	}
	defer n.gate.leave()
	if n.raft.State() != raft.Leader {
		return Future{err: ErrNoLeader}
	}
	data := o.Encode(make([]byte, 0, o.Size()))
	return Future{f: n.raft.Apply(data, applyTimeout)}
}
