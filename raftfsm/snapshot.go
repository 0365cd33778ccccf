package raftfsm

import "time"

// Snapshots follow ops, not log entries: a batch entry holds many ops
// (async.go), so raft's own threshold, which counts entries, would let
// the log, and a restart's replay, grow far past SnapshotThreshold ops.
// snapshotCheck asks raft for a snapshot once that many ops have been
// applied since the last one; raft's entry threshold, set to the same
// number, remains as a backstop.

// snapshotEvery is how often snapshotCheck looks at the op count (raft
// checks its own threshold as often: SnapshotInterval).
const snapshotEvery = time.Second

func (n *Node) snapshotCheck() {
	if n.fsm.sinceSnap.Load() >= n.cfg.SnapshotThreshold {
		// Fails harmlessly when raft is snapshotting on its own, or the
		// node is closing.
		n.Snapshot()
	}
}
