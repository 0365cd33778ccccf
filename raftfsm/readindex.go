package raftfsm

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/loomcache/loomcache/op"
)

// Linearizable reads on followers: ReadIndex, as the Raft thesis (§6.4)
// and etcd describe it (docs/consistency.md states the argument).
//
// A follower that must serve a read asks the leader for a read index: the
// leader confirms that it still leads (its lease, or a quorum round that
// began after the request arrived), waits until its FSM has applied every
// entry it had committed, and answers the index of the last entry its FSM
// applied. The follower serves the read once its own FSM has applied that
// far: its state then holds every write acknowledged before the read
// arrived. The reads waiting on one follower at once share one request,
// which begins after they all arrived, so a round trip serves them all.
//
// The leader catches up before it answers, and before it serves a read
// of its own (ReadBarrier), because a follower may apply an entry before
// the leader's FSM does: without it a read on the leader could miss a
// write a follower's read had already returned.

// ReadIndex returns a read index obtained after the call: an index of
// this group's log such that once this node has applied it, its state
// holds every write acknowledged before the call. On the leader it is
// its own applied index, after the read barrier.
func (n *Node) ReadIndex() (uint64, error) {
	if n.IsLeader() {
		if err := n.ReadBarrier(); err == nil {
			return n.fsm.lastIndex.Load(), nil
		}
	}
	return n.reads.join(n.gate, n.askReadIndex)
}

// askReadIndex sends a ReadIndex request to the leader (ForwardAll finds
// it and bounds the wait for one).
func (n *Node) askReadIndex() (uint64, error) {
	reply, err := n.Forward(&op.Op{Type: op.ReadIndex}, false)
	if err != nil {
		return 0, err
	}
	index, k := binary.Uvarint(reply)
	if k <= 0 || k != len(reply) {
		return 0, errFrame
	}
	return index, nil
}

// serveReadIndex answers a follower's ReadIndex request on the leader.
func (n *Node) serveReadIndex() ([]byte, ForwardResult) {
	if reply, ok := n.readIndexAtOnce(); ok {
		return reply, ForwardReplied
	}
	// ReadBarrier catches up only with several voters: a non-voter's
	// read needs it too.
	if !n.IsLeader() || n.ReadBarrier() != nil || n.CatchUp() != nil {
		return nil, ForwardNotLeader
	}
	return binary.AppendUvarint(nil, n.fsm.lastIndex.Load()), ForwardReplied
}

// readIndexAtOnce answers a ReadIndex request when that needs no wait:
// this node leads with reads ready, holds its lease (or is the only
// voter), and its FSM has applied every entry it committed. These are
// serveReadIndex's checks where they pass at once; the forwarding
// connection's reader answers so, without a goroutine of its own, a
// request a busy follower sends every few reads.
func (n *Node) readIndexAtOnce() ([]byte, bool) {
	if !n.ready() || n.multiVoter.Load() && !n.leaseHeld() {
		return nil, false
	}
	if !n.appliedTo(n.raft.CommitIndex()) {
		return nil, false
	}
	return binary.AppendUvarint(nil, n.fsm.lastIndex.Load()), true
}

// ErrBehind is a read index this node did not apply within the time a
// read may wait for it (a follower catching up); a kind of ErrNoLeader:
// no leader's read index is usable here now.
var ErrBehind = fmt.Errorf("%w: the read index was not applied in time", ErrNoLeader)

// AwaitApplied waits until this node's state holds every entry up to
// index (covers), at most wait; then ErrBehind.
func (n *Node) AwaitApplied(index uint64, wait time.Duration) error {
	if n.covers(index) {
		return nil
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	// The entries the FSM never sees wake nobody: the tick looks past
	// them (a leader's read index may be a snapshot's it restored at
	// start, which ends at a barrier this node holds as an entry).
	tick := time.NewTicker(coverTick)
	defer tick.Stop()
	for !n.covers(index) {
		select {
		case <-n.fsm.watch.next():
		case <-tick.C:
		case <-deadline.C:
			return ErrBehind
		case <-n.stop:
			return ErrNoLeader
		}
	}
	return nil
}

// coverTick is how often a read waiting for its index looks past the
// entries the FSM never sees.
const coverTick = 10 * time.Millisecond

// covers reports whether this node's state holds every entry up to
// index: its FSM applied (or restored a snapshot) that far, or only
// entries it never sees (no-ops, barriers), which raft has handed on,
// lie between.
func (n *Node) covers(index uint64) bool {
	done := n.fsm.lastIndex.Load()
	return done >= index || n.appliedThrough(done, index) >= index
}

// FollowerRead waits until this node may serve a linearizable read: it
// got a read index after the call and has applied it, within lag of
// getting it (ErrBehind otherwise). On the leader it is ReadBarrier.
func (n *Node) FollowerRead(lag time.Duration) error {
	index, err := n.ReadIndex()
	if err != nil {
		return err
	}
	return n.AwaitApplied(index, lag)
}

// barrier runs a Raft barrier and notes its index: every entry up to it
// is applied (those the FSM never sees included), which CatchUp counts.
func (n *Node) barrier() error {
	f := n.raft.Barrier(applyTimeout)
	if err := f.Error(); err != nil {
		return err
	}
	if f, ok := f.(raft.IndexFuture); ok {
		n.fsm.watch.passed(f.Index())
	}
	return nil
}
