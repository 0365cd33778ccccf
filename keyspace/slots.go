package keyspace

import (
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// A database keeps its keys in slots: fixed pages of entries, numbered
// from 0. A key keeps its slot while it exists, and a new key takes the
// lowest free slot, so the slots are dense and their order is a function
// of the ops applied: every node numbers keys the same way, a snapshot
// carries the numbers, and a SCAN cursor (a slot number) means the same
// thing on every node, after a restart, a snapshot install or a failover.

const (
	pageBits = 10
	pageSize = 1 << pageBits
)

// entry is one key: its bytes, its value, its deadline and the data the
// keyspace keeps about it. 64 bytes.
type entry struct {
	// kv is the key followed, for a string stored inline, by the value: one
	// allocation for both. It is never changed in place (a string that is
	// appended to becomes an Object), so a snapshot may share it.
	kv string
	// obj holds the value when it is not an inline string.
	obj      Object
	deadline int64 // unix ms; 0: none
	// version is the store's modification count when the entry last
	// changed: a snapshot writes entries not changed since its point.
	version uint64
	klen    uint32
	// access is the last access in unix seconds (LRU), or the LFU
	// counter and its decay time; local, never replicated. Read and
	// written atomically: readers under the read lock touch it.
	access uint32
	volIdx uint32 // position in DB.vol while deadline != 0
	kind   Kind
	enc    Encoding
	flags  uint8
}

const (
	flagCopied uint8 = 1 << iota // made by COPY (see Entry.Shared)
)

// The keyspace's memory accounting counts an entry as its slot.
const entrySize = int64(unsafe.Sizeof(entry{}))

type page struct {
	e    [pageSize]entry
	used [pageSize / 64]uint64
	n    int
}

const pageBytes = int64(unsafe.Sizeof(page{}))

func (p *page) isUsed(i int) bool { return p.used[i>>6]&(1<<(i&63)) != 0 }

// slots is a database's pages with the lowest-free-slot allocator.
type slots struct {
	pages []*page
	// low is at or below the lowest free slot.
	low uint32
	// spare is the last page emptied, kept for the next page needed: a
	// database whose keys come and go around a page boundary (or a
	// transaction's private store, reused) does not allocate and clear
	// 64 KB each time.
	spare *page
}

func (s *slots) limit() uint32 { return uint32(len(s.pages)) << pageBits }

// at returns the entry in slot i, nil if the slot is free.
func (s *slots) at(i uint32) *entry {
	pi := i >> pageBits
	if int(pi) >= len(s.pages) {
		return nil
	}
	p := s.pages[pi]
	if p == nil || !p.isUsed(int(i&(pageSize-1))) {
		return nil
	}
	return &p.e[i&(pageSize-1)]
}

// alloc takes the lowest free slot; the page is allocated if needed. It
// reports the memory it added.
func (s *slots) alloc() (uint32, *entry, int64) {
	var grown int64
	for pi := int(s.low >> pageBits); ; pi++ {
		if pi == len(s.pages) {
			s.pages = append(s.pages, nil)
		}
		p := s.pages[pi]
		if p == nil {
			if p, s.spare = s.spare, nil; p == nil {
				p = new(page)
			}
			s.pages[pi] = p
			grown = pageBytes
		}
		if p.n == pageSize {
			continue
		}
		start := 0
		if pi == int(s.low>>pageBits) {
			start = int(s.low & (pageSize - 1) >> 6)
		}
		for w := start; w < len(p.used); w++ {
			if free := ^p.used[w]; free != 0 {
				b := bits.TrailingZeros64(free)
				p.used[w] |= 1 << b
				p.n++
				i := uint32(pi)<<pageBits | uint32(w<<6+b)
				s.low = i + 1
				return i, &p.e[w<<6+b], grown
			}
		}
	}
}

// release frees slot i, whose entry the caller has cleared; a page left
// empty is dropped. It reports the memory it gave back.
func (s *slots) release(i uint32) int64 {
	pi, j := i>>pageBits, int(i&(pageSize-1))
	p := s.pages[pi]
	p.used[j>>6] &^= 1 << (j & 63)
	p.n--
	if i < s.low {
		s.low = i
	}
	if p.n > 0 {
		return 0
	}
	s.pages[pi] = nil
	s.spare = p // every entry of it was zeroed as it was released
	for n := len(s.pages); n > 0 && s.pages[n-1] == nil; n-- {
		s.pages = s.pages[:n-1]
	}
	return -pageBytes
}

// top returns one past the highest used slot (0 if none).
func (s *slots) top() uint32 {
	for pi := len(s.pages) - 1; pi >= 0; pi-- {
		p := s.pages[pi]
		if p == nil {
			continue
		}
		for w := len(p.used) - 1; w >= 0; w-- {
			if p.used[w] != 0 {
				return uint32(pi)<<pageBits | uint32(w*64+bits.Len64(p.used[w]))
			}
		}
	}
	return 0
}

// next returns the first used slot at or after i, or limit() if none.
func (s *slots) next(i uint32) uint32 {
	for lim := s.limit(); i < lim; {
		p := s.pages[i>>pageBits]
		if p == nil {
			i = (i>>pageBits + 1) << pageBits
			continue
		}
		j := int(i & (pageSize - 1))
		w := p.used[j>>6] >> (j & 63)
		if w != 0 {
			return i + uint32(bits.TrailingZeros64(w))
		}
		i = (i | 63) + 1
	}
	return s.limit()
}

func loadAccess(e *entry) uint32     { return atomic.LoadUint32(&e.access) }
func storeAccess(e *entry, a uint32) { atomic.StoreUint32(&e.access, a) }
