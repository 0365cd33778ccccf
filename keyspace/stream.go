package keyspace

import (
	"encoding/binary"
	"errors"
	"slices"
	"sync/atomic"
	"unsafe"
)

// The stream kind. Entries live in blocks as Redis keeps them in listpack
// nodes of its radix tree: a block holds up to stream-node-max-entries
// entries (deleted ones included) and about stream-node-max-bytes of
// Redis's listpack bytes, so a block ends where Redis's node ends and
// "~" trimming, which removes whole blocks as Redis removes whole nodes,
// leaves what Redis leaves. Within a block an entry is packed bytes: its
// id as deltas from the block's first id, and its field names only when
// they differ from the block's first entry's (Redis's SAMEFIELDS flag).
// Blocks are a slice sorted by id: an id is found by binary search over
// the blocks and a scan of one block, and a range is read in order.

// Stream is a stream value. Change it only inside DB.Update.
type Stream struct {
	blocks []*streamBlock
	length int
	// lastID is the largest id ever added (or set by XSETID); maxDeleted
	// the largest id deleted; firstID the first entry's id (0-0 when
	// empty); entriesAdded counts every entry ever added.
	lastID, maxDeleted, firstID StreamID
	entriesAdded                uint64
	// groups are the consumer groups, by name (stream_group.go).
	groups []*StreamGroup
	// bytes is the blocks' memory, for Size.
	bytes int64
	// shared: blocks[:shared] may be a clone's too (Clone shares blocks,
	// copy on write), so own copies one before it changes. Atomic: Clone
	// runs under the read lock (a transaction's copy of the key), perhaps
	// in two readers at once.
	shared atomic.Int64
}

// streamBlock is one block of entries.
type streamBlock struct {
	master StreamID // the first entry's id
	last   StreamID // the last entry's id, deleted or not
	fields [][]byte // the first entry's field names
	data   []byte
	// live and dead count the entries not deleted and deleted.
	live, dead int
	// lpRest is Redis's listpack bytes for the node but its count and
	// deleted fields (lpBytes adds them): stream-node-max-bytes counts
	// those.
	lpRest int
}

// Entry flags in a block, as Redis's STREAM_ITEM_FLAG_*.
const (
	entryDeleted    = 1
	entrySameFields = 2
)

const (
	streamBytes      = int64(unsafe.Sizeof(Stream{}))
	streamBlockBytes = int64(unsafe.Sizeof(streamBlock{}))
)

// NewStream returns an empty stream.
func NewStream() *Stream { return &Stream{} }

func (s *Stream) Kind() Kind         { return KindStream }
func (s *Stream) Encoding() Encoding { return EncStream }

// Len is the number of entries. An empty stream is kept, as Redis keeps
// it (DB.Update does not delete it).
func (s *Stream) Len() int { return s.length }

// Size counts the struct, the blocks and the groups.
func (s *Stream) Size() int64 {
	n := streamBytes + s.bytes + allocSize(8*cap(s.blocks))
	for _, g := range s.groups {
		n += g.size()
	}
	return n
}

// Clone returns a copy that shares the blocks until either side changes
// one (a snapshot's copy of a large stream costs a slice of pointers, not
// the entries).
func (s *Stream) Clone() Object {
	n := int64(len(s.blocks))
	s.shared.Store(n)
	c := &Stream{blocks: slices.Clone(s.blocks), length: s.length, lastID: s.lastID, maxDeleted: s.maxDeleted,
		firstID: s.firstID, entriesAdded: s.entriesAdded, bytes: s.bytes}
	c.shared.Store(n)
	c.groups = make([]*StreamGroup, len(s.groups))
	for i, g := range s.groups {
		c.groups[i] = g.clone()
	}
	return c
}

// own returns block i, copied first if a clone may share it.
func (s *Stream) own(i int) *streamBlock {
	b := s.blocks[i]
	if int64(i) >= s.shared.Load() {
		return b
	}
	nb := *b // fields never change once set: they stay shared
	nb.data = slices.Clone(b.data)
	s.bytes += allocSize(cap(nb.data)) - allocSize(cap(b.data))
	s.blocks[i] = &nb
	return &nb
}

// LastID is the largest id the stream has held or been set to.
func (s *Stream) LastID() StreamID { return s.lastID }

// MaxDeletedID is the largest id deleted from it.
func (s *Stream) MaxDeletedID() StreamID { return s.maxDeleted }

// EntriesAdded counts the entries ever added.
func (s *Stream) EntriesAdded() uint64 { return s.entriesAdded }

// FirstID is the first entry's id as Redis records it (0-0 when empty).
func (s *Stream) FirstID() StreamID { return s.firstID }

// Blocks is the number of blocks (Redis's radix-tree-keys).
func (s *Stream) Blocks() int { return len(s.blocks) }

// Errors of Add.
var (
	ErrStreamIDTooSmall = errors.New("ERR The ID specified in XADD is equal or smaller than the target stream top item")
	ErrStreamExhausted  = errors.New("ERR The stream has exhausted the last possible ID, unable to add more items")
	ErrStreamTooLarge   = errors.New("ERR Elements are too large to be stored")
)

// streamMaxElements is Redis's STREAM_LISTPACK_MAX_SIZE: an entry's
// fields and values together may not be larger.
const streamMaxElements = 1 << 30

// NextID is the id Add gives an entry: with explicit, id itself (seqGiven
// false: id.Ms with the next free sequence); otherwise one after the last
// id, or now's first when the clock is ahead. ok is false when no id
// fits (the error to reply).
func (s *Stream) NextID(now int64, explicit bool, id StreamID, seqGiven bool) (StreamID, error) {
	if s.lastID == MaxStreamID {
		return StreamID{}, ErrStreamExhausted
	}
	if explicit {
		if !seqGiven {
			switch {
			case id.Ms == s.lastID.Ms:
				if s.lastID.Seq == ^uint64(0) {
					return StreamID{}, ErrStreamIDTooSmall
				}
				id.Seq = s.lastID.Seq + 1
			default:
				id.Seq = 0
			}
		}
		if id.Cmp(s.lastID) <= 0 {
			return StreamID{}, ErrStreamIDTooSmall
		}
		return id, nil
	}
	ms := uint64(max(now, 0))
	if ms > s.lastID.Ms {
		return StreamID{Ms: ms}, nil
	}
	next, _ := s.lastID.Incr()
	return next, nil
}

// Add appends an entry of id (from NextID) with fv, field value pairs.
func (s *Stream) Add(id StreamID, fv [][]byte, lim EncodingLimits) error {
	total := 0
	for _, x := range fv {
		total += len(x)
	}
	if total > streamMaxElements {
		return ErrStreamTooLarge
	}
	var b *streamBlock
	if n := len(s.blocks); n > 0 {
		b = s.blocks[n-1]
		maxBytes := lim.StreamNodeMaxBytes
		if maxBytes <= 0 || maxBytes > streamMaxElements {
			maxBytes = streamMaxElements
		}
		if int64(b.lpBytes()+total) >= maxBytes ||
			lim.StreamNodeMaxEntries > 0 && int64(b.live+b.dead) >= lim.StreamNodeMaxEntries {
			b = nil
		} else {
			b = s.own(n - 1)
		}
	}
	nf := len(fv) / 2
	flags := byte(0)
	if b == nil {
		b = &streamBlock{master: id, fields: make([][]byte, nf)}
		b.lpRest = lpIntSize(int64(nf)) + lpIntSize(0)
		for i := range nf {
			b.fields[i] = slices.Clone(fv[2*i])
			b.lpRest += lpStrSize(fv[2*i])
		}
		s.blocks = append(s.blocks, b)
		s.bytes += streamBlockBytes + allocSize(24*nf)
		for _, f := range b.fields {
			s.bytes += allocSize(len(f))
		}
		flags = entrySameFields
	} else if nf == len(b.fields) {
		flags = entrySameFields
		for i, f := range b.fields {
			if string(f) != string(fv[2*i]) {
				flags = 0
				break
			}
		}
	}
	before := allocSize(cap(b.data))
	b.data = append(b.data, flags)
	b.data = binary.AppendUvarint(b.data, id.Ms-b.master.Ms)
	b.data = binary.AppendVarint(b.data, int64(id.Seq-b.master.Seq))
	lp := lpIntSize(int64(flags)) + lpIntSize(int64(id.Ms-b.master.Ms)) + lpIntSize(int64(id.Seq-b.master.Seq))
	count := int64(nf) + 3
	if flags&entrySameFields == 0 {
		b.data = binary.AppendUvarint(b.data, uint64(nf))
		lp += lpIntSize(int64(nf))
		count += int64(nf) + 1
	}
	for i := range nf {
		if flags&entrySameFields == 0 {
			b.data = appendBytes(b.data, fv[2*i])
			lp += lpStrSize(fv[2*i])
		}
		b.data = appendBytes(b.data, fv[2*i+1])
		lp += lpStrSize(fv[2*i+1])
	}
	b.lpRest += lp + lpIntSize(count)
	s.bytes += allocSize(cap(b.data)) - before
	b.live++
	b.last = id
	s.length++
	s.entriesAdded++
	s.lastID = id
	if s.length == 1 {
		s.firstID = id
	}
	return nil
}

// lpBytes is Redis's lpBytes for the node.
func (b *streamBlock) lpBytes() int {
	return 7 + lpIntSize(int64(b.live)) + lpIntSize(int64(b.dead)) + b.lpRest
}

// lpIntSize is the bytes of an integer entry of a listpack, its back
// length included.
func lpIntSize(v int64) int {
	switch {
	case v >= 0 && v <= 127:
		return 2
	case v >= -4096 && v <= 4095:
		return 3
	case v >= -32768 && v <= 32767:
		return 4
	case v >= -8388608 && v <= 8388607:
		return 5
	case v >= -2147483648 && v <= 2147483647:
		return 6
	}
	return 10
}

// lpStrSize is the bytes of a string entry, which a listpack stores as an
// integer when it reads as one.
func lpStrSize(s []byte) int {
	if len(s) <= 20 && isCanonicalInt(s) {
		n, _ := parseInt64(s)
		return lpIntSize(n)
	}
	l := len(s)
	switch {
	case l <= 63:
		l++
	case l <= 4095:
		l += 2
	default:
		l += 5
	}
	return l + lpBacklenSize(l)
}

func lpBacklenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

func parseInt64(b []byte) (int64, bool) {
	var n int64
	neg := len(b) > 0 && b[0] == '-'
	d := b
	if neg {
		d = d[1:]
	}
	for _, c := range d {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
