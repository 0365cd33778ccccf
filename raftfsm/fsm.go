package raftfsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/persistence"
)

// ApplyFunc applies one op to the store, which the caller has locked for
// writing, and returns the reply for the proposer. It must be
// deterministic.
type ApplyFunc func(ks *keyspace.Store, o *op.Op) any

// fsm adapts keyspace to raft.FSM (and raft.BatchingFSM, so a batch of
// entries takes the store's lock once).
type fsm struct {
	ks    *keyspace.Store
	apply ApplyFunc
	aux   AuxState // nil: none
	dedup dedup    // request ids applied (dedup.go); guarded like ks
	// uploads are large ops arriving in pieces (pieces.go); guarded like ks
	uploads uploads

	applied   atomic.Uint64 // entries applied since this process started (replay included)
	ops       atomic.Uint64 // ops those entries held (a batch entry holds many)
	replayed  atomic.Uint64 // of those, entries that were already in the WAL at start
	lastIndex atomic.Uint64 // index of the last applied entry (or restored snapshot)
	watch     appliedWatch  // wakes CatchUp's waiters (catchup.go)
	restores  atomic.Uint64 // snapshots restored since this process started
	snapshots atomic.Uint64 // snapshots taken since this process started
	// sinceSnap counts ops (not entries: a batch holds many) applied
	// since the last snapshot taken or restored; see snapshotCheck.
	sinceSnap atomic.Uint64
	// snapStats times and sizes the snapshots taken (metrics.go); nil:
	// not counted.
	snapStats *snapshotStats

	// replayTo is the last log index on disk when the node opened; set
	// before raft starts and never changed.
	replayTo uint64

	// out is ApplyBatch's reply slice, reused: raft reads it before the
	// next call and keeps nothing of it. Only the FSM goroutine uses it.
	out []interface{}
}

// slotArgs is how many arguments an opSlot holds (SET's key and value,
// and one more).
const slotArgs = 3

// opSlot is room for one decoded op and its arguments, allocated with
// the entry's other ops: a SET costs no allocation of its own to decode.
// Slots are never reused, as an applier may keep what it was given.
type opSlot struct {
	o    op.Op
	args [slotArgs][]byte
}

var _ raft.BatchingFSM = (*fsm)(nil)

// decodeError is the reply for an entry that cannot be decoded: every node
// fails it the same way instead of diverging.
type decodeError struct{ err error }

func (e decodeError) Error() string { return "ERR corrupt operation: " + e.err.Error() }

func (f *fsm) Apply(l *raft.Log) interface{} {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

func (f *fsm) ApplyBatch(logs []*raft.Log) []interface{} {
	out := f.out[:0]
	if cap(out) < len(logs) {
		out = make([]interface{}, 0, len(logs))
	}
	out = out[:len(logs)]
	clear(out) // nothing of the last batch's replies stays referenced here
	ops := 0
	f.ks.Lock()
	for i, l := range logs {
		f.uploads.at(l)
		if l.Type != raft.LogCommand {
			continue
		}
		ops++
		if !op.IsBatch(l.Data) {
			out[i] = f.applyOp(l.Data, new(opSlot))
			continue
		}
		encs, err := op.SplitBatch(l.Data)
		if err != nil {
			out[i] = decodeError{err}
			continue
		}
		replies := make(batchReply, len(encs))
		slots := make([]opSlot, len(encs))
		for j, enc := range encs {
			replies[j] = f.applyOp(enc, &slots[j])
		}
		out[i] = replies
		ops += len(encs) - 1
	}
	f.ks.Unlock()
	f.out = out
	f.sinceSnap.Add(uint64(ops))
	f.ops.Add(uint64(ops))
	if n := len(logs); n > 0 {
		f.applied.Add(uint64(n))
		f.lastIndex.Store(logs[n-1].Index)
		f.watch.applied()
		replayed := 0
		for _, l := range logs {
			if l.Index <= f.replayTo {
				replayed++
			}
		}
		f.replayed.Add(uint64(replayed))
	}
	return out
}

// batchReply is the FSM's reply to a batch entry: one reply per op.
type batchReply []any

// errBatchReply: a batch's reply lacks an op's (cannot happen unless the
// log was tampered with).
var errBatchReply = errors.New("batch reply without this op")

// applyOp decodes into slot and applies one encoded op (or piece of
// one); the caller holds the store's write lock.
func (f *fsm) applyOp(enc []byte, slot *opSlot) any {
	if op.IsPiece(enc) {
		return f.applyPiece(enc)
	}
	return f.decodeApply(enc, false, slot)
}

// decodeApply decodes into slot and applies one encoded op, once per
// request id; owned: enc is the op's alone, and its applier may keep its
// bytes.
func (f *fsm) decodeApply(enc []byte, owned bool, slot *opSlot) any {
	o := &slot.o
	if _, err := op.DecodeInto(enc, o, slot.args[:0]); err != nil {
		return decodeError{err}
	}
	o.Owned = owned
	if o.Req.Origin == "" {
		return f.apply(f.ks, o)
	}
	if r, dup := f.dedup.lookup(o.Req); dup {
		return r
	}
	r := f.apply(f.ks, o)
	if u, ok := r.(Unapplied); ok && u.Unapplied() {
		return r // proposed again with the same id; not to be answered from memory
	}
	f.dedup.record(o.Req, r)
	return r
}

// Unapplied is a reply that says its op changed nothing and may be
// proposed again under the same request id (a transaction whose checks
// met a conflict): the FSM does not remember it for that id.
type Unapplied interface{ Unapplied() bool }

// Snapshot marks the snapshot's point on the FSM goroutine, so applies
// that follow cannot change what it holds, and returns at once: the
// request ids and the aux state (small) are encoded now, the keyspace
// (large) is written by Persist while applies go on (keyspace.Snapshot
// keeps the entries that change meanwhile as they were).
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	if f.uploads.pending() {
		return nil, errUploadOpen
	}
	// The FSM's own header: the request ids and the aux state, then the
	// keyspace.
	ids := f.dedup.appendTo(nil)
	head := binary.AppendUvarint([]byte(fsmSnapshotMagic), uint64(len(ids)))
	head = append(head, ids...)
	var aux []byte
	if f.aux != nil {
		aux = f.aux.Snapshot()
	}
	head = binary.AppendUvarint(head, uint64(len(aux)))
	head = append(head, aux...)
	f.ks.Lock()
	ks, err := f.ks.BeginSnapshot()
	f.ks.Unlock()
	if err != nil {
		return nil, fmt.Errorf("snapshot keyspace: %w", err)
	}
	f.snapshots.Add(1)
	f.sinceSnap.Store(0)
	return &snapshot{head: head, ks: ks, start: time.Now(), stats: f.snapStats}, nil
}

// fsmSnapshotMagic starts a snapshot that has the FSM's header (the
// request ids, then the aux state) before the keyspace. One with
// fsmSnapshotMagicV1 has the request ids only, one with neither is the
// keyspace alone: both as written before those sections existed.
const (
	fsmSnapshotMagic   = "LCFS2"
	fsmSnapshotMagicV1 = "LCFS1"
)

// maxAuxSection bounds the aux section a snapshot may declare.
const maxAuxSection = 1 << 30

// maxDedupSection bounds the request id section a snapshot may declare.
const maxDedupSection = 1 << 30

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	// The snapshot's index is where the state stands once it is
	// restored: a read index answered after a restore (a backup's, at a
	// new index past the log) must cover it, or a follower that has not
	// installed it yet would serve the state from before.
	index, indexed := persistence.SnapshotIndex(rc)
	br := bufio.NewReaderSize(rc, 64*1024)
	var d dedup
	var aux []byte
	// A copy: the peeked bytes are the reader's buffer, which later reads
	// overwrite.
	peeked, _ := br.Peek(len(fsmSnapshotMagic))
	magic := string(peeked)
	if magic == fsmSnapshotMagic || magic == fsmSnapshotMagicV1 {
		br.Discard(len(magic))
		n, err := binary.ReadUvarint(br)
		if err != nil || n > maxDedupSection {
			return fmt.Errorf("snapshot: request id section of %d bytes: %v", n, err)
		}
		sec := bufio.NewReader(io.LimitReader(br, int64(n)))
		if err := d.read(sec); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		if _, err := sec.ReadByte(); err != io.EOF {
			return fmt.Errorf("snapshot: %w: trailing bytes", errBadDedup)
		}
		if magic == fsmSnapshotMagic {
			n, err := binary.ReadUvarint(br)
			if err != nil || n > maxAuxSection {
				return fmt.Errorf("snapshot: aux section of %d bytes: %v", n, err)
			}
			var b bytes.Buffer
			if _, err := io.CopyN(&b, br, int64(n)); err != nil {
				return fmt.Errorf("snapshot: aux section: %w", err)
			}
			aux = b.Bytes()
		}
	}
	// The keyspace is read without the lock and put in place at the end.
	if err := f.ks.ReadSnapshot(br); err != nil {
		return err
	}
	f.ks.Lock()
	defer f.ks.Unlock()
	if f.aux != nil {
		if err := f.aux.Restore(aux); err != nil {
			return fmt.Errorf("snapshot: aux state: %w", err)
		}
	}
	f.dedup = d
	f.uploads.reset()
	if indexed {
		f.lastIndex.Store(index)
	}
	f.restores.Add(1)
	f.sinceSnap.Store(0)
	f.watch.applied() // readers waiting for an index it covers (AwaitApplied)
	return nil
}

// snapshot is a snapshot being taken: its header, and the keyspace at its
// point, streamed to the sink.
type snapshot struct {
	head  []byte
	ks    *keyspace.Snapshot
	start time.Time
	stats *snapshotStats
}

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	cw := &countingWriter{w: sink}
	bw := bufio.NewWriterSize(cw, 256*1024)
	_, err := bw.Write(s.head)
	if err == nil {
		_, err = s.ks.WriteTo(bw)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		sink.Cancel()
		return err
	}
	if err := sink.Close(); err != nil {
		return err
	}
	s.stats.observe(s.start, cw.n)
	return nil
}

func (s *snapshot) Release() { s.ks.Release() }
