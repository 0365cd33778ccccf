package keyspace

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
)

// The set kind. As in Redis 7.0 a set is an intset (sorted integers)
// while every member is an integer in canonical form and there are at
// most set-max-intset-entries of them, and a hashtable from then on; it
// never converts back.
//
// The hashtable keeps its members in numbered slots, as a database keeps
// its keys: a member keeps its slot while it is in the set and a new
// member takes the lowest free slot. So an SSCAN cursor (a slot number)
// returns every member present for the whole scan exactly once, and
// since slots follow from the ops applied, every node numbers alike.

// Set is a set value.
type Set struct {
	// ints holds an intset's members in ascending order; nil for a
	// hashtable.
	ints []int64
	// The hashtable: members by slot ("" with free[slot] for a free
	// one), the slot of each member, and the free slots below len(slots).
	slots []string
	pos   map[string]uint32
	free  freeSlots
	isHT  bool
	// strBytes is the memory of the hashtable's members' bytes, kept as
	// they come and go: Size runs at every change and must be O(1).
	strBytes int64
}

// NewSet returns an empty set, an intset as Redis's createIntsetObject.
func NewSet() *Set { return &Set{} }

// Kind implements Object.
func (s *Set) Kind() Kind { return KindSet }

// Encoding implements Object.
func (s *Set) Encoding() Encoding {
	if s.isHT {
		return EncHashtable
	}
	return EncIntset
}

// Len implements Object.
func (s *Set) Len() int {
	if s.isHT {
		return len(s.pos)
	}
	return len(s.ints)
}

// Size implements Object: the struct, the intset's array, or the
// hashtable's slots, map (about 40 bytes a cell, at its load factor) and
// members' bytes.
func (s *Set) Size() int64 {
	n := int64(96)
	if !s.isHT {
		return n + allocSize(8*cap(s.ints))
	}
	return n + allocSize(16*cap(s.slots)) + allocSize(4*cap(s.free)) + int64(len(s.pos))*40 + s.strBytes
}

// Clone implements Object.
func (s *Set) Clone() Object {
	c := &Set{isHT: s.isHT, strBytes: s.strBytes}
	if !s.isHT {
		c.ints = slices.Clone(s.ints)
		return c
	}
	c.slots = slices.Clone(s.slots)
	c.free = slices.Clone(s.free)
	c.pos = make(map[string]uint32, len(s.pos))
	for m, i := range s.pos {
		c.pos[m] = i
	}
	return c
}

// AppendSnapshot implements Object. An intset: its count and the
// integers ascending. A hashtable: its slot count and each slot, a free
// one as 0 and a member as its length+1 and bytes, so the slots (and the
// cursors of scans in progress) survive a restart.
func (s *Set) AppendSnapshot(b []byte) []byte {
	if !s.isHT {
		b = binary.AppendUvarint(b, uint64(len(s.ints)))
		for _, v := range s.ints {
			b = binary.AppendVarint(b, v)
		}
		return b
	}
	b = binary.AppendUvarint(b, uint64(len(s.slots)))
	for i, m := range s.slots {
		if _, ok := s.pos[m]; !ok || s.pos[m] != uint32(i) {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(m))+1)
		b = append(b, m...)
	}
	return b
}

var errBadSet = errors.New("bad set")

// decodeSet reads AppendSnapshot's bytes; anything else is an error.
func decodeSet(enc Encoding, data []byte) (Object, error) {
	count, n := binary.Uvarint(data)
	if n <= 0 || count == 0 || count > uint64(len(data)) {
		return nil, errBadSet
	}
	data = data[n:]
	s := &Set{}
	switch enc {
	case EncIntset:
		s.ints = make([]int64, 0, count)
		for range count {
			v, n := binary.Varint(data)
			if n <= 0 || (len(s.ints) > 0 && v <= s.ints[len(s.ints)-1]) {
				return nil, errBadSet
			}
			s.ints = append(s.ints, v)
			data = data[n:]
		}
	case EncHashtable:
		s.isHT = true
		s.slots = make([]string, count)
		s.pos = make(map[string]uint32)
		for i := range s.slots {
			l, n := binary.Uvarint(data)
			if n <= 0 || l > uint64(len(data)-n)+1 {
				return nil, errBadSet
			}
			data = data[n:]
			if l == 0 {
				s.free = append(s.free, uint32(i))
				continue
			}
			m := string(data[:l-1])
			data = data[l-1:]
			if _, dup := s.pos[m]; dup {
				return nil, errBadSet
			}
			s.slots[i], s.pos[m] = m, uint32(i)
			s.strBytes += allocSize(len(m))
		}
		if len(s.pos) == 0 || !s.live(len(s.slots)-1) {
			return nil, errBadSet
		}
		heap.Init(&s.free)
	default:
		return nil, fmt.Errorf("set encoding %d", enc)
	}
	if len(data) != 0 {
		return nil, errBadSet
	}
	return s, nil
}

// setInt parses a member as an intset holds it: an integer Redis's
// string2ll accepts and prints back identically.
func setInt(m []byte) (int64, bool) {
	if len(m) == 0 || len(m) > 20 || !isCanonicalInt(m) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(m), 10, 64)
	return v, err == nil
}

// Add adds m and reports whether it was new. maxIntset is
// set-max-intset-entries: an intset that would grow past it, or gets a
// member that is not an integer, becomes a hashtable, as setTypeAdd does.
func (s *Set) Add(m []byte, maxIntset int64) bool {
	if !s.isHT {
		v, isInt := setInt(m)
		if isInt {
			i, found := slices.BinarySearch(s.ints, v)
			if found {
				return false
			}
			s.ints = slices.Insert(s.ints, i, v)
			if int64(len(s.ints)) > maxIntset {
				s.toHashtable()
			}
			return true
		}
		s.toHashtable()
	}
	if _, ok := s.pos[string(m)]; ok {
		return false
	}
	s.insert(string(m))
	return true
}

// insert puts a new member in the lowest free slot.
func (s *Set) insert(m string) {
	var i uint32
	if len(s.free) > 0 {
		i = heap.Pop(&s.free).(uint32)
		s.slots[i] = m
	} else {
		i = uint32(len(s.slots))
		s.slots = append(s.slots, m)
	}
	s.pos[m] = i
	s.strBytes += allocSize(len(m))
}

func (s *Set) toHashtable() {
	s.isHT = true
	s.pos = make(map[string]uint32, len(s.ints))
	s.slots = make([]string, 0, len(s.ints))
	for _, v := range s.ints {
		s.insert(strconv.FormatInt(v, 10))
	}
	s.ints = nil
}

// Remove removes m and reports whether it was there.
func (s *Set) Remove(m []byte) bool {
	if !s.isHT {
		v, ok := setInt(m)
		if !ok {
			return false
		}
		i, found := slices.BinarySearch(s.ints, v)
		if found {
			s.ints = slices.Delete(s.ints, i, i+1)
		}
		return found
	}
	i, ok := s.pos[string(m)]
	if !ok {
		return false
	}
	delete(s.pos, string(m))
	s.slots[i] = ""
	s.strBytes -= allocSize(len(m))
	// Trailing free slots go; the rest are reused lowest first.
	if int(i) == len(s.slots)-1 {
		s.slots = s.slots[:i]
		s.trimFree()
	} else {
		heap.Push(&s.free, i)
	}
	if len(s.pos) == 0 {
		s.slots, s.free = s.slots[:0], s.free[:0]
	}
	return true
}

// trimFree drops free slots at the end of the slots.
func (s *Set) trimFree() {
	for len(s.slots) > 0 && !s.live(len(s.slots)-1) {
		s.slots = s.slots[:len(s.slots)-1]
	}
	s.free.below(len(s.slots))
}

// Has reports whether m is a member.
func (s *Set) Has(m []byte) bool {
	if !s.isHT {
		v, ok := setInt(m)
		if !ok {
			return false
		}
		_, found := slices.BinarySearch(s.ints, v)
		return found
	}
	_, ok := s.pos[string(m)]
	return ok
}

// Each calls fn for every member, an intset's in ascending order, until
// fn returns false. fn must not change the set.
func (s *Set) Each(fn func(m []byte) bool) {
	if !s.isHT {
		var buf [20]byte
		for _, v := range s.ints {
			if !fn(strconv.AppendInt(buf[:0], v, 10)) {
				return
			}
		}
		return
	}
	for i, m := range s.slots {
		if s.live(i) && !fn([]byte(m)) {
			return
		}
	}
}

// Members returns copies of every member, in Each's order.
func (s *Set) Members() [][]byte {
	out := make([][]byte, 0, s.Len())
	s.Each(func(m []byte) bool { out = append(out, slices.Clone(m)); return true })
	return out
}

// live reports whether hashtable slot i holds a member.
func (s *Set) live(i int) bool {
	m := s.slots[i]
	if m != "" {
		return true
	}
	p, ok := s.pos[""]
	return ok && p == uint32(i)
}

// Random returns a copy of a member chosen uniformly; the set must not
// be empty.
func (s *Set) Random() []byte {
	if !s.isHT {
		return strconv.AppendInt(nil, s.ints[rand.IntN(len(s.ints))], 10)
	}
	// Slots freed by removals stay (a scan's cursor relies on members
	// keeping theirs): when most are free, count to a random live one
	// rather than probe for it.
	if len(s.pos)*4 >= len(s.slots) {
		for {
			if i := rand.IntN(len(s.slots)); s.live(i) {
				return []byte(s.slots[i])
			}
		}
	}
	k := rand.IntN(len(s.pos))
	for i := range s.slots {
		if s.live(i) {
			if k == 0 {
				return []byte(s.slots[i])
			}
			k--
		}
	}
	return nil // unreachable: len(s.pos) members are live
}

// Scan returns the members from cursor on, visiting about count slots
// (or integers), and the cursor to go on from, 0 when done. An intset is
// returned whole, as Redis does.
func (s *Set) Scan(cursor uint64, count int, fn func(m []byte)) uint64 {
	if !s.isHT {
		s.Each(func(m []byte) bool { fn(m); return true })
		return 0
	}
	i := cursor
	for visited := 0; visited < count && i < uint64(len(s.slots)); i++ {
		if s.live(int(i)) {
			fn([]byte(s.slots[i]))
			visited++
		}
	}
	if i >= uint64(len(s.slots)) {
		return 0
	}
	return i
}

// below drops the free slots at n and past (the slots were trimmed to
// n), keeping the rest a heap.
func (f *freeSlots) below(n int) {
	kept := (*f)[:0]
	for _, i := range *f {
		if int(i) < n {
			kept = append(kept, i)
		}
	}
	*f = kept
	heap.Init(f)
}

// freeSlots is a min-heap of free slot numbers.
type freeSlots []uint32

func (f freeSlots) Len() int           { return len(f) }
func (f freeSlots) Less(i, j int) bool { return f[i] < f[j] }
func (f freeSlots) Swap(i, j int)      { f[i], f[j] = f[j], f[i] }
func (f *freeSlots) Push(x any)        { *f = append(*f, x.(uint32)) }
func (f *freeSlots) Pop() any {
	old := *f
	x := old[len(old)-1]
	*f = old[:len(old)-1]
	return x
}
