package keyspace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/loomcache/loomcache/internal/memcopy"
)

// Snapshots without stalls. BeginSnapshot marks a point in O(databases)
// on the applier's goroutine; WriteTo then writes the keyspace as it was
// at that point from another goroutine while applies go on, a chunk of
// slots at a time under the read lock, writing each chunk out with no
// lock held. An entry that is about to change after the point, in a slot
// the writer has not reached yet, first leaves a copy of itself for the
// writer (cowState.saved; inline strings share their bytes, which never
// change in place). Entries created after the point carry a later version
// and are skipped. A flushed database is replaced, not emptied, so the
// writer keeps reading the old one.

// snapshotMagic starts every snapshot; the digit is the format version.
// Version 1 (LCKS1) had no slot numbers, version 2 no versions (the
// store's change count and each entry's, which WATCH and the checks of
// transactions and scripts compare on every node); ReadSnapshot still
// reads both.
const (
	snapshotMagic   = "LCKS3"
	snapshotMagicV2 = "LCKS2"
	snapshotMagicV1 = "LCKS1"
)

// snapshotChunk is how many slots the writer encodes per hold of the read
// lock.
const snapshotChunk = 4096

// snapshotFlush is how much encoded data the writer gathers before it
// writes, with no lock held.
const snapshotFlush = 64 << 10

// cowState is a database's part in a snapshot being written.
type cowState struct {
	snap *Snapshot
	// pos: the writer has written every slot below it.
	pos   atomic.Uint32
	saved map[uint32]entry
}

// changeBegin comes before any change to a key's entry (its value, its
// deadline, its removal): it keeps the entry as it was for a snapshot
// being written, and takes its memory out of the count.
func (d *DB) changeBegin(slot uint32, e *entry) {
	if sn := d.cow.snap; sn != nil && e.version <= sn.version && slot >= d.cow.pos.Load() {
		pre := *e
		if pre.obj != nil {
			pre.obj = snapshotCopy(pre.obj)
		}
		if d.cow.saved == nil {
			d.cow.saved = make(map[uint32]entry)
		}
		d.cow.saved[slot] = pre
	}
	d.mem -= footprint(e)
}

// snapshotCopy is what a snapshot being written keeps of a value about
// to change: a clone, or, for a value that says its encoding costs far
// less than a clone (encodedForSnapshot), the encoding itself, which the
// writer would make anyway. A skiplist sorted set of 100k members is
// encoded in 5 ms and cloned in 50-130 ms (a node, its levels and a map
// entry per member), on the applier's goroutine, once per snapshot while
// it is written to.
func snapshotCopy(o Object) Object {
	if c, ok := o.(interface{ encodedForSnapshot() bool }); ok && c.encodedForSnapshot() {
		return &encodedValue{kind: o.Kind(), enc: o.Encoding(), n: o.Len(), b: o.AppendSnapshot(nil)}
	}
	return o.Clone()
}

// encodedValue is a value as its snapshot encoding (snapshotCopy): only
// a snapshot's writer reads it, through AppendSnapshot.
type encodedValue struct {
	kind Kind
	enc  Encoding
	n    int
	b    []byte
}

func (v *encodedValue) Kind() Kind                     { return v.kind }
func (v *encodedValue) Encoding() Encoding             { return v.enc }
func (v *encodedValue) Len() int                       { return v.n }
func (v *encodedValue) Size() int64                    { return int64(cap(v.b)) }
func (v *encodedValue) Clone() Object                  { return v } // never changes
func (v *encodedValue) AppendSnapshot(b []byte) []byte { return append(b, v.b...) }

// changeEnd follows a change: a new version, the memory counted again.
func (d *DB) changeEnd(e *entry) {
	d.store.version++
	e.version = d.store.version
	d.mem += footprint(e)
	d.signalReady(e)
	d.store.signalChanged(e.kv[:e.klen], false)
}

// Snapshot is the keyspace at a point, being written out.
type Snapshot struct {
	s       *Store
	version uint64
	dbs     []*DB
	counts  []int
	limits  []uint32
}

// ErrSnapshotInProgress: one snapshot is written at a time.
var ErrSnapshotInProgress = errors.New("keyspace: a snapshot is already being written")

// BeginSnapshot marks the point a snapshot is written at. The caller holds
// the write lock; it then calls WriteTo (without the lock) and Release.
func (s *Store) BeginSnapshot() (*Snapshot, error) {
	for _, d := range s.dbs {
		if d.cow.snap != nil {
			return nil, ErrSnapshotInProgress
		}
	}
	sn := &Snapshot{s: s, version: s.version, dbs: append([]*DB(nil), s.dbs...)}
	for _, d := range s.dbs {
		sn.counts = append(sn.counts, d.n)
		sn.limits = append(sn.limits, d.slots.limit())
		d.cow.snap = sn
		d.cow.pos.Store(0)
	}
	return sn, nil
}

// Release ends the snapshot; the copies kept for it are dropped.
func (sn *Snapshot) Release() {
	sn.s.Lock()
	for _, d := range sn.dbs {
		if d.cow.snap == sn {
			d.cow.snap, d.cow.saved = nil, nil
		}
	}
	sn.s.Unlock()
}

// WriteTo writes the keyspace as it was at the snapshot's point to w. It
// takes the store's read lock a chunk at a time, never across a write.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	var total int64
	buf := []byte(snapshotMagic)
	buf = binary.AppendUvarint(buf, sn.version)
	buf = binary.AppendUvarint(buf, uint64(len(sn.dbs)))
	for i, d := range sn.dbs {
		buf = binary.AppendUvarint(buf, uint64(sn.counts[i]))
		written, prev := 0, int64(-1)
		for start := uint32(0); start < sn.limits[i]; start += snapshotChunk {
			end := min(start+snapshotChunk, sn.limits[i])
			sn.s.RLock()
			if len(d.cow.saved) == 0 {
				// Chunks with no used slot are passed in one step: a
				// database whose few keys sit at high slots would
				// otherwise cost a scan of its pages per chunk.
				if n := d.slots.next(start); n >= end {
					skip := min(n, sn.limits[i]) &^ (snapshotChunk - 1)
					if skip > start {
						d.cow.pos.Store(skip)
						sn.s.RUnlock()
						start = skip - snapshotChunk
						continue
					}
				}
			}
			for slot := start; slot < end; slot++ {
				if len(d.cow.saved) == 0 { // only used slots to look at
					if slot = d.slots.next(slot); slot >= end {
						break
					}
				}
				e := d.slots.at(slot)
				if pre, ok := d.cow.saved[slot]; ok {
					e = &pre
					delete(d.cow.saved, slot)
				} else if e == nil || e.version > sn.version {
					continue
				}
				buf = binary.AppendUvarint(buf, uint64(int64(slot)-prev-1))
				prev = int64(slot)
				written++
				size, encode := unlocked(e)
				if encode == nil {
					buf = appendEntry(buf, e)
					continue
				}
				// The slots before it are done, and it may change now
				// without a copy for the snapshot.
				buf = binary.AppendUvarint(appendEntryHead(buf, e), uint64(size))
				d.cow.pos.Store(slot + 1)
				sn.s.RUnlock()
				pw := pieceWriter{w: w, b: buf}
				encode(pw.write)
				n, err := pw.close()
				total += n
				if err != nil {
					return total, err
				}
				buf = buf[:0]
				sn.s.RLock()
			}
			d.cow.pos.Store(end)
			sn.s.RUnlock()
			if len(buf) < snapshotFlush {
				continue
			}
			n, err := w.Write(buf)
			total += int64(n)
			if err != nil {
				return total, err
			}
			buf = buf[:0]
		}
		if written != sn.counts[i] {
			return total, fmt.Errorf("keyspace: snapshot of db %d wrote %d keys of %d", i, written, sn.counts[i])
		}
	}
	n, err := w.Write(buf)
	return total + int64(n), err
}

// WriteSnapshot writes every database to w: a point and its writing in
// one call. The caller holds no lock.
func (s *Store) WriteSnapshot(w io.Writer) error {
	s.Lock()
	sn, err := s.BeginSnapshot()
	s.Unlock()
	if err != nil {
		return err
	}
	defer sn.Release()
	_, err = sn.WriteTo(w)
	return err
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return memcopy.Append(b, p)
}

func appendString(b []byte, p string) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return memcopy.AppendString(b, p)
}

// snapshotDirect is the size from which a value that never changes in
// place, or a list (from a copy), is written out without the lock
// (WriteTo), in pieces of snapshotPiece bytes, so the sink paces it as
// it paces the rest.
const (
	snapshotDirect = 1 << 20
	snapshotPiece  = 1 << 20
)

// pieceWriter writes what it is given to w in pieces of snapshotPiece
// bytes (the last one shorter), starting with b's bytes.
type pieceWriter struct {
	w   io.Writer
	b   []byte
	n   int64
	err error
}

func (p *pieceWriter) write(v []byte) {
	for len(v) > 0 && p.err == nil {
		switch {
		case len(p.b) >= snapshotPiece:
			p.flush()
		case len(p.b) == 0 && len(v) >= snapshotPiece:
			// A whole piece of v, written from where it is.
			p.put(v[:snapshotPiece])
			v = v[snapshotPiece:]
		default:
			k := min(len(v), snapshotPiece-len(p.b))
			p.b = append(p.b, v[:k]...)
			v = v[k:]
		}
	}
}

func (p *pieceWriter) flush() {
	if len(p.b) > 0 {
		p.put(p.b)
	}
	p.b = p.b[:0]
}

func (p *pieceWriter) put(b []byte) {
	if p.err == nil {
		var n int
		n, p.err = p.w.Write(b)
		p.n += int64(n)
	}
}

// close writes what is left and returns the bytes written.
func (p *pieceWriter) close() (int64, error) {
	p.flush()
	return p.n, p.err
}

// unlocked returns, for a value WriteTo writes out with no lock held,
// its encoding's length and what hands the encoding over in order (nil
// for a value encoded under the read lock). A large string whose bytes
// never change in place is written as it is: copying 200 MB into the
// buffer held every apply up meanwhile. A large list is written from a
// copy (streamForSnapshot): one of 2.5M elements encoded under the lock
// held every apply up, in one 165 MB buffer whose copies the GC's
// preemption could not interrupt (a third of the CPU went to signals
// and spinning).
func unlocked(e *entry) (int, func(put func([]byte))) {
	if l, ok := e.obj.(*List); ok {
		if frozen, size, ok := l.streamForSnapshot(); ok {
			return size, frozen.encodeSnapshot
		}
		return 0, nil
	}
	if v, fixed := fixedBytes(e); fixed && len(v) >= snapshotDirect {
		return len(v), func(put func([]byte)) { put(v) }
	}
	return 0, nil
}

// fixedBytes is Entry.FixedBytes.
func fixedBytes(e *entry) ([]byte, bool) {
	switch e.obj.(type) {
	case nil, *keptString:
		return (*Entry)(e).Bytes(), true
	}
	return nil, false
}

// appendEntry encodes one key: kind, encoding, deadline, version, key,
// value. A string's value is its bytes; an Object's, its own encoding.
func appendEntry(b []byte, e *entry) []byte {
	b = appendEntryHead(b, e)
	switch r := e.obj.(type) {
	case nil:
		return appendString(b, e.kv[e.klen:])
	case *rawString:
		return appendBytes(b, r.b)
	case *keptString:
		return appendBytes(b, r.b)
	default:
		at := len(b)
		b = append(b, make([]byte, binary.MaxVarintLen64)...)
		b = r.AppendSnapshot(b)
		// The length before the bytes, moved into place.
		n := len(b) - at - binary.MaxVarintLen64
		hdr := binary.AppendUvarint(nil, uint64(n))
		copy(b[at+len(hdr):], b[at+binary.MaxVarintLen64:])
		copy(b[at:], hdr)
		return b[:at+len(hdr)+n]
	}
}

// appendEntryHead encodes an entry up to its value.
func appendEntryHead(b []byte, e *entry) []byte {
	b = append(b, byte(e.kind), byte(e.enc))
	b = binary.AppendVarint(b, e.deadline)
	b = binary.AppendUvarint(b, e.version)
	return appendString(b, e.kv[:e.klen])
}
