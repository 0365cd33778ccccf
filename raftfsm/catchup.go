package raftfsm

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// catchUpWait is how long CatchUp waits for the FSM to apply what Raft
// committed before it asks Raft for a barrier instead (the last committed
// entry may be one the FSM never sees: a barrier or a new term's no-op).
const catchUpWait = 5 * time.Millisecond

// appliedWatch lets readers wait for the FSM to apply an index.
type appliedWatch struct {
	mu   sync.Mutex
	wake chan struct{} // closed at the next apply; nil: nobody waits
	// barrierAt is a commit index every entry up to which a barrier found
	// applied (entries the FSM never sees included).
	barrierAt atomic.Uint64
}

// applied wakes the waiters; the FSM calls it after each batch.
func (w *appliedWatch) applied() {
	w.mu.Lock()
	if w.wake != nil {
		close(w.wake)
		w.wake = nil
	}
	w.mu.Unlock()
}

// passed notes that every entry up to index is applied (a barrier at
// index returned).
func (w *appliedWatch) passed(index uint64) {
	for {
		if old := w.barrierAt.Load(); old >= index || w.barrierAt.CompareAndSwap(old, index) {
			return
		}
	}
}

// next returns a channel closed at the next apply.
func (w *appliedWatch) next() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wake == nil {
		w.wake = make(chan struct{})
	}
	return w.wake
}

// appliedTo reports whether every entry up to index is applied here
// (those the FSM never sees counted through the barriers).
func (n *Node) appliedTo(index uint64) bool {
	return max(n.fsm.lastIndex.Load(), n.fsm.watch.barrierAt.Load()) >= index
}

// appliedThrough returns how far every entry is applied, given done, an
// index every entry up to which is. It reads the entries after done, up
// to limit, and passes those the FSM never sees (a new term's no-op, a
// barrier), which change nothing, once raft has handed them on. It stops
// before the first command or configuration entry (handed to the FSM, it
// may not be applied yet) and at raft's applied index. An entry
// compacted away behind a snapshot a leader installed is passed up to
// that snapshot.
func (n *Node) appliedThrough(done, limit uint64) uint64 {
	applied := n.raft.AppliedIndex()
	limit = min(limit, applied)
	var l raft.Log
	for i := done + 1; i <= limit; i++ {
		err := n.wal.GetLog(i, &l)
		if errors.Is(err, raft.ErrLogNotFound) {
			// Raft counts an installed snapshot applied only once the
			// FSM restored it.
			metas, lerr := n.snaps.List()
			if lerr != nil || len(metas) == 0 || metas[0].Index < i || metas[0].Index > applied {
				return i - 1
			}
			i = metas[0].Index
			continue
		}
		if err != nil || l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return i - 1
		}
	}
	return max(done, limit)
}

// CatchUp waits until the FSM has applied every entry Raft had committed
// when it was called. A leader's FSM may lag its commit index, and a
// follower may apply an entry, and serve a read of it, before the
// leader's FSM does; a leader catches up before it serves a read, or
// answers a read index, so the read reflects every entry any follower
// had applied before (readindex.go; client-side caching relies on it
// too: docs/consistency.md).
func (n *Node) CatchUp() error {
	c := n.raft.CommitIndex()
	done := func() bool { return n.appliedTo(c) }
	if done() {
		return nil // a read's usual case: no timer
	}
	deadline := time.NewTimer(catchUpWait)
	defer deadline.Stop()
	for !done() {
		select {
		case <-n.fsm.watch.next():
		case <-deadline.C:
			if err := n.barrier(); err != nil {
				// A read has no outcome to lose: it is refused, to be
				// tried again (the leadership moved, say).
				return ErrNoLeader
			}
			n.fsm.watch.passed(c)
			return nil
		}
	}
	return nil
}
