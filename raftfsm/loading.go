package raftfsm

import (
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
)

// Loading at start. A node's state comes back in two steps: NewRaft (in
// Open) restores the newest snapshot before it returns, and the entries
// the WAL holds after it are applied by the FSM once their commit is
// known again (at once on a single node that elects itself, when the
// leader's first heartbeat says so on a follower). Open's caller serves
// clients meanwhile: it learns how far the restore has read from a
// Loading it passes in Config.Loading, and whether the replay is done
// from Replayed.

// Loading follows a node's start-up restore: the size of the snapshot
// being restored and the bytes of it read so far. Its owner makes one,
// passes it to Open in Config.Loading and reads it from any goroutine.
type Loading struct {
	// Hold, when set (tests), keeps the start-up restore from reading the
	// snapshot until it is closed.
	Hold <-chan struct{}

	total     atomic.Int64 // size of the snapshot being restored
	read      atomic.Int64 // bytes of it read so far
	restoring atomic.Bool  // Open is in NewRaft, which restores

	// Written by Open's goroutine only (NewRaft restores on it).
	metas   []*raft.SnapshotMeta // the snapshots NewRaft may try, newest first
	attempt int                  // restores NewRaft has begun
}

// Progress returns the bytes read so far of the snapshot being restored
// at start, and its size (0: there is none, or it is not known yet).
// Once the restore is done, read equals total.
func (l *Loading) Progress() (read, total int64) { return l.read.Load(), l.total.Load() }

// Restoring reports whether Open is still restoring the snapshot.
func (l *Loading) Restoring() bool { return l.restoring.Load() }

// begin notes the snapshots NewRaft will try, newest first, from the
// store's metadata: their sizes are known before a byte is read.
func (l *Loading) begin(snaps raft.SnapshotStore) {
	l.metas, _ = snaps.List() // an error here is NewRaft's to report
	if len(l.metas) > 0 {
		l.total.Store(l.metas[0].Size)
	}
	l.restoring.Store(true)
}

// end marks the restore done (or failed, or absent).
func (l *Loading) end() {
	l.restoring.Store(false)
	l.read.Store(l.total.Load())
}

// wrap counts what the restore reads of rc. NewRaft tries the snapshots
// in List's order, so the n-th restore it begins reads the n-th.
func (l *Loading) wrap(rc io.ReadCloser) io.ReadCloser {
	var total int64
	if l.attempt < len(l.metas) {
		total = l.metas[l.attempt].Size
	}
	l.attempt++
	l.read.Store(0)
	l.total.Store(total)
	return &countingReader{rc: rc, l: l}
}

type countingReader struct {
	rc      io.ReadCloser
	l       *Loading
	started bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if !c.started {
		c.started = true
		if c.l.Hold != nil {
			<-c.l.Hold
		}
	}
	n, err := c.rc.Read(p)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.rc.Close() }

// WrappedReadCloser lets persistence.SnapshotIndex see the snapshot read.
func (c *countingReader) WrappedReadCloser() io.ReadCloser { return c.rc }

// loadingFSM is the FSM raft is given when Config.Loading is set: the
// node's fsm, whose restores during Open count the bytes they read.
// Restores after Open (a snapshot installed by a leader) are the fsm's
// own.
type loadingFSM struct {
	*fsm
	load *Loading
}

func (f loadingFSM) Restore(rc io.ReadCloser) error {
	if f.load.restoring.Load() {
		rc = f.load.wrap(rc)
	}
	return f.fsm.Restore(rc)
}

// Replayed reports whether the FSM has applied the entries that were in
// the WAL when the node opened (those after the restored snapshot), so
// its state is at least what it was when the node last stopped.
//
// The FSM sees commands and configuration changes only (no-ops and
// barriers are raft's), so its last index may stay below the WAL's last
// when that entry is, say, a new term's no-op: appliedThrough reads past
// those. A follower's uncommitted tail may have been replaced by its
// leader's shorter log: then the last index now is the target.
func (n *Node) Replayed() bool {
	target := min(n.fsm.replayTo, n.raft.LastIndex())
	// A restored snapshot (at start, or installed by a leader since)
	// counts as applied through its index: the WAL's entries it covers
	// are never applied.
	done := n.fsm.lastIndex.Load()
	if done >= target {
		return true
	}
	return n.appliedThrough(done, target) >= target
}
