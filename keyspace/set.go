package keyspace

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"unsafe"
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

// Set is a set value. While it is an intset it is two words (as small
// as Redis's robj) and its packed intset (intset.go); the hashtable's
// fields are allocated when it converts.
type Set struct {
	// is is the first byte of the intset's allocation (nil for an empty
	// one, and for a hashtable); its header says its length, and its
	// capacity is that length's size class (intset.go).
	is *byte
	ht *setTable
}

// setTable is a hashtable set: members by slot ("" with free[slot] for a
// free one), the slot of each member, and the free slots below
// len(slots).
type setTable struct {
	slots []string
	pos   map[string]uint32
	free  freeSlots
	// strBytes is the memory of the members' bytes, kept as they come
	// and go: Size runs at every change and must be O(1).
	strBytes int64
}

// Struct sizes, for Size: both are size classes (TestIntsetSizeHonest).
const (
	setBytes      = int64(unsafe.Sizeof(Set{}))
	setTableBytes = int64(unsafe.Sizeof(setTable{}))
)

// NewSet returns an empty set, an intset as Redis's createIntsetObject.
func NewSet() *Set { return &Set{} }

// ints returns the intset (nil when empty); s must not be a hashtable.
func (s *Set) ints() intset {
	if s.is == nil {
		return nil
	}
	l := intsetBytes(binary.LittleEndian.Uint32(unsafe.Slice(s.is, intsetHeader)))
	return intset(unsafe.Slice(s.is, allocSize(l))[:l])
}

// setInts keeps is as the set's intset.
func (s *Set) setInts(is intset) {
	s.is = nil
	if is != nil {
		s.is = unsafe.SliceData(is)
	}
}

// Kind implements Object.
func (s *Set) Kind() Kind { return KindSet }

// Encoding implements Object.
func (s *Set) Encoding() Encoding {
	if s.ht != nil {
		return EncHashtable
	}
	return EncIntset
}

// Len implements Object.
func (s *Set) Len() int {
	if s.ht != nil {
		return len(s.ht.pos)
	}
	return s.ints().len()
}

// Size implements Object: the struct and the intset's allocation, or the
// hashtable's struct, slots, map (about 40 bytes a cell, at its load
// factor) and members' bytes.
func (s *Set) Size() int64 {
	if t := s.ht; t != nil {
		return setBytes + setTableBytes + allocSize(16*cap(t.slots)) + allocSize(4*cap(t.free)) +
			int64(len(t.pos))*40 + t.strBytes
	}
	return setBytes + int64(cap(s.ints()))
}

// Clone implements Object.
func (s *Set) Clone() Object {
	c := &Set{}
	t := s.ht
	if t == nil {
		c.setInts(s.ints().clone())
		return c
	}
	c.ht = &setTable{slots: slices.Clone(t.slots), free: slices.Clone(t.free), strBytes: t.strBytes,
		pos: maps.Clone(t.pos)} // the table whole, not key by key
	return c
}

// AppendSnapshot implements Object. An intset: its count and the
// integers ascending. A hashtable: its slot count and each slot, a free
// one as 0 and a member as its length+1 and bytes, so the slots (and the
// cursors of scans in progress) survive a restart.
func (s *Set) AppendSnapshot(b []byte) []byte {
	t := s.ht
	if t == nil {
		is := s.ints()
		b = binary.AppendUvarint(b, uint64(is.len()))
		for i := range is.len() {
			b = binary.AppendVarint(b, is.get(i))
		}
		return b
	}
	b = binary.AppendUvarint(b, uint64(len(t.slots)))
	for i, m := range t.slots {
		if p, ok := t.pos[m]; !ok || p != uint32(i) {
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
		if count > intsetMaxLen {
			return nil, errBadSet
		}
		// Once to check the integers and find the width they need, once
		// to pack them.
		w, rest, prev := 2, data, int64(0)
		for i := range count {
			v, n := binary.Varint(rest)
			if n <= 0 || (i > 0 && v <= prev) {
				return nil, errBadSet
			}
			prev, w, rest = v, max(w, intsetWidth(v)), rest[n:]
		}
		is := newIntset(w, int(count))
		for i := range int(count) {
			v, n := binary.Varint(data)
			is.put(i, v)
			data = data[n:]
		}
		s.setInts(is)
	case EncHashtable:
		t := &setTable{slots: make([]string, count), pos: make(map[string]uint32)}
		s.ht = t
		for i := range t.slots {
			l, n := binary.Uvarint(data)
			if n <= 0 || l > uint64(len(data)-n)+1 {
				return nil, errBadSet
			}
			data = data[n:]
			if l == 0 {
				t.free = append(t.free, uint32(i))
				continue
			}
			m := string(data[:l-1])
			data = data[l-1:]
			if _, dup := t.pos[m]; dup {
				return nil, errBadSet
			}
			t.slots[i], t.pos[m] = m, uint32(i)
			t.strBytes += allocSize(len(m))
		}
		if len(t.pos) == 0 || !t.live(len(t.slots)-1) {
			return nil, errBadSet
		}
		heap.Init(&t.free)
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
	if s.ht == nil {
		v, isInt := setInt(m)
		is := s.ints()
		if isInt && is.len() < intsetMaxLen {
			grown, added := is.add(v)
			s.setInts(grown)
			if added && int64(grown.len()) > maxIntset {
				s.toHashtable()
			}
			return added
		}
		if isInt { // a full intset: a new member converts it, as in Redis
			if _, found := is.search(v); found {
				return false
			}
		}
		s.toHashtable()
	}
	if _, ok := s.ht.pos[string(m)]; ok {
		return false
	}
	s.ht.insert(string(m))
	return true
}

func (s *Set) toHashtable() {
	is := s.ints()
	n := is.len()
	s.ht = &setTable{pos: make(map[string]uint32, n), slots: make([]string, 0, n)}
	for i := range n {
		s.ht.insert(strconv.FormatInt(is.get(i), 10))
	}
	s.is = nil
}

// insert puts a new member in the lowest free slot.
func (t *setTable) insert(m string) {
	var i uint32
	if len(t.free) > 0 {
		i = heap.Pop(&t.free).(uint32)
		t.slots[i] = m
	} else {
		i = uint32(len(t.slots))
		t.slots = append(t.slots, m)
	}
	t.pos[m] = i
	t.strBytes += allocSize(len(m))
}

// Remove removes m and reports whether it was there.
func (s *Set) Remove(m []byte) bool {
	if s.ht == nil {
		v, ok := setInt(m)
		if !ok {
			return false
		}
		is := s.ints()
		i, found := is.search(v)
		if found {
			s.setInts(is.remove(i))
		}
		return found
	}
	return s.ht.remove(string(m))
}

func (t *setTable) remove(m string) bool {
	i, ok := t.pos[m]
	if !ok {
		return false
	}
	delete(t.pos, m)
	t.slots[i] = ""
	t.strBytes -= allocSize(len(m))
	// Trailing free slots go; the rest are reused lowest first.
	if int(i) == len(t.slots)-1 {
		t.slots = t.slots[:i]
		t.trimFree()
	} else {
		heap.Push(&t.free, i)
	}
	if len(t.pos) == 0 {
		t.slots, t.free = t.slots[:0], t.free[:0]
	}
	return true
}

// trimFree drops free slots at the end of the slots.
func (t *setTable) trimFree() {
	for len(t.slots) > 0 && !t.live(len(t.slots)-1) {
		t.slots = t.slots[:len(t.slots)-1]
	}
	t.free.below(len(t.slots))
}

// Has reports whether m is a member.
func (s *Set) Has(m []byte) bool {
	if s.ht == nil {
		v, ok := setInt(m)
		if !ok {
			return false
		}
		_, found := s.ints().search(v)
		return found
	}
	_, ok := s.ht.pos[string(m)]
	return ok
}

// Each calls fn for every member, an intset's in ascending order, until
// fn returns false. fn must not change the set.
func (s *Set) Each(fn func(m []byte) bool) {
	t := s.ht
	if t == nil {
		var buf [20]byte
		is := s.ints()
		for i := range is.len() {
			if !fn(strconv.AppendInt(buf[:0], is.get(i), 10)) {
				return
			}
		}
		return
	}
	for i, m := range t.slots {
		if t.live(i) && !fn([]byte(m)) {
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

// live reports whether slot i holds a member.
func (t *setTable) live(i int) bool {
	m := t.slots[i]
	if m != "" {
		return true
	}
	p, ok := t.pos[""]
	return ok && p == uint32(i)
}

// Random returns a copy of a member chosen uniformly; the set must not
// be empty.
func (s *Set) Random() []byte {
	t := s.ht
	if t == nil {
		is := s.ints()
		return strconv.AppendInt(nil, is.get(rand.IntN(is.len())), 10)
	}
	// Slots freed by removals stay (a scan's cursor relies on members
	// keeping theirs): when most are free, count to a random live one
	// rather than probe for it.
	if len(t.pos)*4 >= len(t.slots) {
		for {
			if i := rand.IntN(len(t.slots)); t.live(i) {
				return []byte(t.slots[i])
			}
		}
	}
	k := rand.IntN(len(t.pos))
	for i := range t.slots {
		if t.live(i) {
			if k == 0 {
				return []byte(t.slots[i])
			}
			k--
		}
	}
	return nil // unreachable: len(t.pos) members are live
}

// Scan returns the members from cursor on, visiting about count slots
// (or integers), and the cursor to go on from, 0 when done. An intset is
// returned whole, as Redis does.
func (s *Set) Scan(cursor uint64, count int, fn func(m []byte)) uint64 {
	t := s.ht
	if t == nil {
		s.Each(func(m []byte) bool { fn(m); return true })
		return 0
	}
	i := cursor
	for visited := 0; visited < count && i < uint64(len(t.slots)); i++ {
		if t.live(int(i)) {
			fn([]byte(t.slots[i]))
			visited++
		}
	}
	if i >= uint64(len(t.slots)) {
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
