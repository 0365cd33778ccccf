package keyspace

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A stream's snapshot encoding: its ids and counters, its blocks (first
// and last id, the first entry's field names, the counts, the packed
// entries as they are in memory), then its groups with their PELs and
// consumers. The decoder checks every block decodes to the counts and
// ids it claims, in order, so a damaged snapshot is an error, never a
// stream that panics later.

func appendID(b []byte, id StreamID) []byte {
	b = binary.AppendUvarint(b, id.Ms)
	return binary.AppendUvarint(b, id.Seq)
}

// AppendSnapshot appends the stream's snapshot encoding.
func (s *Stream) AppendSnapshot(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(s.length))
	b = appendID(b, s.lastID)
	b = appendID(b, s.maxDeleted)
	b = appendID(b, s.firstID)
	b = binary.AppendUvarint(b, s.entriesAdded)
	b = binary.AppendUvarint(b, uint64(len(s.blocks)))
	for _, bl := range s.blocks {
		b = appendID(b, bl.master)
		b = binary.AppendUvarint(b, uint64(len(bl.fields)))
		for _, f := range bl.fields {
			b = appendBytes(b, f)
		}
		b = binary.AppendUvarint(b, uint64(bl.live))
		b = binary.AppendUvarint(b, uint64(bl.dead))
		b = appendBytes(b, bl.data)
	}
	b = binary.AppendUvarint(b, uint64(len(s.groups)))
	for _, g := range s.groups {
		b = appendString(b, g.Name)
		b = appendID(b, g.LastID)
		b = binary.AppendVarint(b, g.EntriesRead)
		b = binary.AppendUvarint(b, uint64(len(g.consumers)))
		for _, c := range g.consumers {
			b = appendString(b, c.Name)
			b = binary.AppendVarint(b, c.SeenTime)
		}
		b = binary.AppendUvarint(b, uint64(len(g.pel)))
		for _, p := range g.pel {
			b = appendID(b, p.ID)
			idx, _ := g.consumerIndex([]byte(p.Consumer.Name))
			b = binary.AppendUvarint(b, uint64(idx))
			b = binary.AppendVarint(b, p.DeliveryTime)
			b = binary.AppendUvarint(b, p.DeliveryCount)
		}
	}
	return b
}

// snapReader reads a snapshot encoding, remembering the first error.
type snapReader struct {
	d   []byte
	err error
}

var errStreamSnapshot = errors.New("bad stream")

func (r *snapReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.d)
	if n <= 0 {
		r.err = errStreamSnapshot
		return 0
	}
	r.d = r.d[n:]
	return v
}

func (r *snapReader) varint() int64 {
	u := r.uvarint() // binary.AppendVarint's zig-zag form
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a count of items of at least one byte each.
func (r *snapReader) count() int {
	n := r.uvarint()
	if n > uint64(len(r.d)) {
		r.err = errStreamSnapshot
		return 0
	}
	return int(n)
}

func (r *snapReader) id() StreamID { return StreamID{r.uvarint(), r.uvarint()} }

func (r *snapReader) bytes() []byte {
	var b []byte
	var ok bool
	if r.err == nil {
		if b, _, ok = readBytes(r.d, 0); !ok {
			r.err = errStreamSnapshot
			return nil
		}
		_, n := binary.Uvarint(r.d)
		r.d = r.d[n+len(b):]
	}
	return append([]byte(nil), b...)
}

// decodeStream decodes AppendSnapshot's bytes (the data is the loader's
// buffer: everything kept is copied).
func decodeStream(enc Encoding, data []byte) (Object, error) {
	if enc != EncStream {
		return nil, fmt.Errorf("stream encoding %d", enc)
	}
	r := &snapReader{d: data}
	s := &Stream{}
	length := r.uvarint()
	s.lastID, s.maxDeleted, s.firstID = r.id(), r.id(), r.id()
	s.entriesAdded = r.uvarint()
	nb := r.count()
	prev := StreamID{}
	for i := 0; i < nb && r.err == nil; i++ {
		b := &streamBlock{master: r.id()}
		nf := r.count()
		b.fields = make([][]byte, nf)
		b.lpRest = lpIntSize(int64(nf)) + lpIntSize(0)
		for j := range b.fields {
			b.fields[j] = r.bytes()
			b.lpRest += lpStrSize(b.fields[j])
		}
		live, dead := r.uvarint(), r.uvarint()
		b.data = r.bytes()
		if r.err != nil {
			break
		}
		if err := b.check(live, dead, i == 0, prev); err != nil {
			return nil, err
		}
		prev = b.last
		s.blocks = append(s.blocks, b)
		s.length += b.live
		s.bytes += streamBlockBytes + allocSize(cap(b.data)) + allocSize(24*nf)
		for _, f := range b.fields {
			s.bytes += allocSize(len(f))
		}
	}
	if r.err == nil && (uint64(s.length) != length || s.lastID.Less(prev)) {
		return nil, errors.New("stream length or last id does not match its entries")
	}
	ng := r.count()
	for i := 0; i < ng && r.err == nil; i++ {
		g := &StreamGroup{Name: string(r.bytes()), LastID: r.id(), EntriesRead: r.varint()}
		if i > 0 && s.groups[i-1].Name >= g.Name {
			return nil, errors.New("stream groups out of order")
		}
		nc := r.count()
		for j := 0; j < nc && r.err == nil; j++ {
			c := &StreamConsumer{Name: string(r.bytes()), SeenTime: r.varint()}
			if j > 0 && g.consumers[j-1].Name >= c.Name {
				return nil, errors.New("stream consumers out of order")
			}
			g.consumers = append(g.consumers, c)
		}
		np := r.count()
		for j := 0; j < np && r.err == nil; j++ {
			p := &PendingEntry{ID: r.id()}
			ci := r.uvarint()
			p.DeliveryTime, p.DeliveryCount = r.varint(), r.uvarint()
			if r.err != nil {
				break
			}
			if ci >= uint64(len(g.consumers)) || j > 0 && !g.pel[j-1].ID.Less(p.ID) {
				return nil, errors.New("bad stream PEL")
			}
			p.Consumer = g.consumers[ci]
			p.Consumer.pel = append(p.Consumer.pel, p.ID)
			g.pel = append(g.pel, p)
		}
		s.groups = append(s.groups, g)
	}
	if r.err != nil {
		return nil, r.err
	}
	if len(r.d) != 0 {
		return nil, errors.New("trailing bytes after a stream")
	}
	return s, nil
}

// check verifies a decoded block: its entries decode, in order, after
// prev, starting at the master id, to live and dead entries (live > 0).
// It fills last and lpRest.
func (b *streamBlock) check(live, dead uint64, first bool, prev StreamID) error {
	if live == 0 || live > uint64(len(b.data)) || dead > uint64(len(b.data)) {
		return errors.New("stream block counts")
	}
	var l, d uint64
	last := prev
	for off := 0; off < len(b.data); {
		e, ok := b.decodeAt(off, nil)
		if !ok || e.flags > entryDeleted|entrySameFields || e.id.Less(b.master) ||
			(off == 0) != (e.id == b.master) || (!first || off > 0) && !last.Less(e.id) {
			return errors.New("stream block entries")
		}
		nf := len(b.fields)
		count := int64(3)
		lp := lpIntSize(int64(e.flags)) + lpIntSize(int64(e.id.Ms-b.master.Ms)) + lpIntSize(int64(e.id.Seq-b.master.Seq))
		var fv [][]byte
		b.decodeAt(off, &fv)
		if e.flags&entrySameFields == 0 {
			nf = len(fv) / 2
			lp += lpIntSize(int64(nf))
			count += int64(nf) + 1
			for i := 0; i < nf; i++ {
				lp += lpStrSize(fv[2*i])
			}
		}
		count += int64(nf)
		for i := 0; i < nf; i++ {
			lp += lpStrSize(fv[2*i+1])
		}
		b.lpRest += lp + lpIntSize(count)
		if e.flags&entryDeleted != 0 {
			d++
		} else {
			l++
		}
		last = e.id
		off = e.end
	}
	if l != live || d != dead {
		return errors.New("stream block counts")
	}
	b.live, b.dead, b.last = int(live), int(dead), last
	return nil
}
