package keyspace

import (
	"encoding/binary"
	"sort"
)

// StreamEntry is one entry as a read sees it: Fields holds field, value,
// field, value... Its slices are the stream's own: valid until the
// stream changes.
type StreamEntry struct {
	ID     StreamID
	Fields [][]byte
}

// blockEntry is an entry decoded from a block, with where it sits.
type blockEntry struct {
	off, end int // the entry's bytes in data
	flags    byte
	id       StreamID
}

// decodeAt decodes the entry at off of b's data; fv, if not nil, gets
// its field value pairs appended. ok is false for malformed bytes (a
// snapshot decoder's check; a block built by Add is always well formed).
func (b *streamBlock) decodeAt(off int, fv *[][]byte) (e blockEntry, ok bool) {
	d := b.data
	e.off = off
	if off >= len(d) {
		return e, false
	}
	e.flags = d[off]
	off++
	ms, n := binary.Uvarint(d[off:])
	if n <= 0 {
		return e, false
	}
	off += n
	seq, n := binary.Varint(d[off:])
	if n <= 0 {
		return e, false
	}
	off += n
	e.id = StreamID{b.master.Ms + ms, b.master.Seq + uint64(seq)}
	nf := uint64(len(b.fields))
	if e.flags&entrySameFields == 0 {
		if nf, n = binary.Uvarint(d[off:]); n <= 0 || nf > uint64(len(d)) {
			return e, false
		}
		off += n
	}
	for i := uint64(0); i < nf; i++ {
		if e.flags&entrySameFields == 0 {
			var f []byte
			if f, off, ok = readBytes(d, off); !ok {
				return e, false
			}
			if fv != nil {
				*fv = append(*fv, f)
			}
		} else if fv != nil {
			*fv = append(*fv, b.fields[i])
		}
		var v []byte
		if v, off, ok = readBytes(d, off); !ok {
			return e, false
		}
		if fv != nil {
			*fv = append(*fv, v)
		}
	}
	e.end = off
	return e, true
}

func readBytes(d []byte, off int) ([]byte, int, bool) {
	l, n := binary.Uvarint(d[off:])
	if n <= 0 || l > uint64(len(d)-off-n) {
		return nil, off, false
	}
	off += n
	return d[off : off+int(l) : off+int(l)], off + int(l), true
}

// entries decodes the positions of every entry of b, deleted ones too.
func (b *streamBlock) entries() []blockEntry {
	out := make([]blockEntry, 0, b.live+b.dead)
	for off := 0; off < len(b.data); {
		e, ok := b.decodeAt(off, nil)
		if !ok {
			break
		}
		out = append(out, e)
		off = e.end
	}
	return out
}

// blockFor is the index of the block that would hold id: the last whose
// first id is at or before it (0 when none is).
func (s *Stream) blockFor(id StreamID) int {
	i := sort.Search(len(s.blocks), func(i int) bool { return id.Less(s.blocks[i].master) })
	return max(i-1, 0)
}

// Range calls fn with each entry from start to end (inclusive), in order
// or, with rev, in reverse, until fn returns false.
func (s *Stream) Range(start, end StreamID, rev bool, fn func(e StreamEntry) bool) {
	if end.Less(start) || len(s.blocks) == 0 {
		return
	}
	var fv [][]byte
	if !rev {
		for bi := s.blockFor(start); bi < len(s.blocks); bi++ {
			b := s.blocks[bi]
			if b.last.Less(start) {
				continue
			}
			if end.Less(b.master) {
				return
			}
			for off := 0; off < len(b.data); {
				fv = fv[:0]
				e, ok := b.decodeAt(off, &fv)
				if !ok {
					break
				}
				off = e.end
				if e.flags&entryDeleted != 0 || e.id.Less(start) {
					continue
				}
				if end.Less(e.id) || !fn(StreamEntry{e.id, fv}) {
					return
				}
				fv = nil // the entry's slice is the caller's now
			}
		}
		return
	}
	for bi := s.blockFor(end); bi >= 0; bi-- {
		b := s.blocks[bi]
		if b.last.Less(start) {
			return
		}
		if end.Less(b.master) {
			continue
		}
		es := b.entries()
		for i := len(es) - 1; i >= 0; i-- {
			e := es[i]
			if e.flags&entryDeleted != 0 || end.Less(e.id) {
				continue
			}
			if e.id.Less(start) {
				return
			}
			var fv [][]byte
			b.decodeAt(e.off, &fv)
			if !fn(StreamEntry{e.id, fv}) {
				return
			}
		}
	}
}

// Get returns the entry of id, if the stream holds it.
func (s *Stream) Get(id StreamID) (StreamEntry, bool) {
	var out StreamEntry
	found := false
	s.Range(id, id, false, func(e StreamEntry) bool { out, found = e, true; return false })
	return out, found
}

// Delete removes the entry of id and reports whether there was one. Like
// Redis's XDEL it does not change the first id; XDEL calls
// RecordFirstID.
func (s *Stream) Delete(id StreamID) bool {
	if len(s.blocks) == 0 {
		return false
	}
	bi := s.blockFor(id)
	b := s.blocks[bi]
	if id.Less(b.master) || b.last.Less(id) {
		return false
	}
	for off := 0; off < len(b.data); {
		e, ok := b.decodeAt(off, nil)
		if !ok {
			return false
		}
		off = e.end
		if e.id != id {
			if id.Less(e.id) {
				return false
			}
			continue
		}
		if e.flags&entryDeleted != 0 {
			return false
		}
		s.markDeleted(bi, e.off)
		return true
	}
	return false
}

// markDeleted flags the entry at off of block bi deleted, and drops the
// block when it was its last live entry.
func (s *Stream) markDeleted(bi, off int) {
	b := s.own(bi)
	b.data[off] |= entryDeleted
	b.live--
	b.dead++
	s.length--
	if b.live == 0 {
		s.dropBlock(bi)
	}
}

func (s *Stream) dropBlock(bi int) {
	b := s.blocks[bi]
	s.bytes -= streamBlockBytes + allocSize(cap(b.data)) + allocSize(24*len(b.fields))
	for _, f := range b.fields {
		s.bytes -= allocSize(len(f))
	}
	copy(s.blocks[bi:], s.blocks[bi+1:])
	s.blocks[len(s.blocks)-1] = nil
	s.blocks = s.blocks[:len(s.blocks)-1]
	if int64(bi) < s.shared.Load() {
		s.shared.Add(-1)
	}
}

// firstLive is the id of the first entry not deleted (0-0 when none).
func (s *Stream) firstLive() StreamID {
	var id StreamID
	s.Range(StreamID{}, MaxStreamID, false, func(e StreamEntry) bool { id = e.ID; return false })
	return id
}

// LastLive is the id of the last entry not deleted (0-0 when none).
func (s *Stream) LastLive() StreamID {
	var id StreamID
	s.Range(StreamID{}, MaxStreamID, true, func(e StreamEntry) bool { id = e.ID; return false })
	return id
}

// NoteDeleted records, after XDEL, the largest id deleted and the new
// first entry.
func (s *Stream) NoteDeleted(maxDeleted StreamID, firstGone bool) {
	if s.maxDeleted.Less(maxDeleted) {
		s.maxDeleted = maxDeleted
	}
	if s.length == 0 {
		s.firstID = StreamID{}
	} else if firstGone {
		s.firstID = s.firstLive()
	}
}

// TrimArgs are XADD's and XTRIM's trimming options.
type TrimArgs struct {
	MinID  bool // trim by MINID (else by MAXLEN)
	MaxLen int64
	Min    StreamID
	Approx bool
	// Limit bounds the entries trimmed (0: none).
	Limit int64
}

// WouldTrim reports whether Trim would remove anything.
func (s *Stream) WouldTrim(a TrimArgs) bool {
	if len(s.blocks) == 0 || !a.MinID && int64(s.length) <= a.MaxLen {
		return false
	}
	b := s.blocks[0]
	switch {
	case a.Limit > 0 && int64(b.live) > a.Limit:
		return false
	case a.MinID && b.last.Less(a.Min), !a.MinID && int64(s.length-b.live) >= a.MaxLen:
		return true
	case a.Approx:
		return false
	case a.MinID:
		return s.firstLive().Less(a.Min)
	}
	return true
}

// Trim removes entries from the head as Redis's streamTrim does, and
// returns how many.
func (s *Stream) Trim(a TrimArgs) int64 {
	var deleted int64
	for len(s.blocks) > 0 {
		if !a.MinID && int64(s.length) <= a.MaxLen {
			break
		}
		b := s.blocks[0]
		entries := int64(b.live)
		if a.Limit > 0 && deleted+entries > a.Limit {
			break
		}
		var whole bool
		if a.MinID {
			whole = b.last.Less(a.Min)
		} else {
			whole = int64(s.length)-entries >= a.MaxLen
		}
		if whole {
			s.length -= b.live
			deleted += entries
			s.dropBlock(0)
			continue
		}
		if a.Approx {
			break
		}
		b = s.own(0)
		for off := 0; off < len(b.data); {
			e, ok := b.decodeAt(off, nil)
			if !ok {
				break
			}
			off = e.end
			if a.MinID && !e.id.Less(a.Min) || !a.MinID && int64(s.length) <= a.MaxLen {
				break
			}
			if e.flags&entryDeleted == 0 {
				s.markDeleted(0, e.off)
				deleted++
				if b.live == 0 {
					break // dropped with its last entry
				}
			}
		}
		break
	}
	if s.length == 0 {
		s.firstID = StreamID{}
	} else if deleted > 0 {
		s.firstID = s.firstLive()
	}
	return deleted
}

// SetID is XSETID's change: the last id, and optionally the entries
// added and the largest deleted id.
func (s *Stream) SetID(last StreamID, entriesAdded *uint64, maxDeleted *StreamID) {
	s.lastID = last
	if entriesAdded != nil {
		s.entriesAdded = *entriesAdded
	}
	if maxDeleted != nil {
		s.maxDeleted = *maxDeleted
	}
}

// RadixNodes is the node count of the radix tree Redis would hold for the
// stream's blocks (XINFO STREAM's radix-tree-nodes): the tree of the
// blocks' first ids as 16-byte big-endian keys, compressed as rax keeps
// it.
func (s *Stream) RadixNodes() int64 {
	keys := make([][16]byte, len(s.blocks))
	for i, b := range s.blocks {
		binary.BigEndian.PutUint64(keys[i][:8], b.master.Ms)
		binary.BigEndian.PutUint64(keys[i][8:], b.master.Seq)
	}
	if len(keys) == 0 {
		return 1 // the empty root
	}
	return raxNodes(keys, 0)
}

// raxNodes counts the nodes below depth d of sorted, distinct keys that
// share their first d bytes: a compressed node for a longer shared
// prefix, a branching node, and each branch's own; a lone key is a
// compressed node of its rest and its leaf.
func raxNodes(keys [][16]byte, d int) int64 {
	if len(keys) == 1 {
		if d == 16 {
			return 1
		}
		return 2
	}
	l := d
	first, last := keys[0], keys[len(keys)-1]
	for l < 16 && first[l] == last[l] {
		l++
	}
	n := int64(1) // the branching node
	if l > d {
		n++ // the compressed node of the shared prefix
	}
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j][l] == keys[i][l] {
			j++
		}
		n += raxNodes(keys[i:j], l+1)
		i = j
	}
	return n
}
