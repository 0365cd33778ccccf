package keyspace

import (
	"encoding/binary"
	"math"
)

// intset is Redis's intset, packed as tightly: a little-endian uint32
// header, (count-1)<<2 | width code (an empty intset is nil), then the integers ascending, each in
// the set's width (2, 4 or 8 bytes, little-endian). The width is the
// least that holds every member and only grows, as in intset.c: a member
// that needs more widens them all (intsetUpgradeAndAdd).
//
// Its capacity is always its allocation's size class, allocSize(len):
// it is reallocated whenever its length crosses a class, growing or
// shrinking, as Redis reallocs its intset at each change. So a Set can
// keep just a pointer to its first byte, and Size can be exact.
type intset []byte

const (
	intsetHeader = 4
	// intsetMaxLen is Redis's cap on an intset (setTypeAdd's "limit to
	// 1G entries"), whatever set-max-intset-entries says; the header's
	// 30 bits of count-1 hold it.
	intsetMaxLen = 1 << 30
)

// intsetWidth is the width an intset needs to hold v (_intsetValueEncoding).
func intsetWidth(v int64) int {
	switch {
	case v < math.MinInt32 || v > math.MaxInt32:
		return 8
	case v < math.MinInt16 || v > math.MaxInt16:
		return 4
	}
	return 2
}

// intsetBytes is the length of an intset of header h.
func intsetBytes(h uint32) int { return intsetHeader + int(h>>2+1)*(2<<(h&3)) }

// newIntset allocates an intset of n members of width w, their values
// to be set.
func newIntset(w, n int) intset {
	l := intsetHeader + n*w
	is := intset(make([]byte, l, allocSize(l)))
	is.setHeader(w, n)
	return is
}

func (is intset) setHeader(w, n int) {
	code := uint32(0)
	for 2<<code < w {
		code++
	}
	binary.LittleEndian.PutUint32(is, uint32(n-1)<<2|code)
}

// len is the number of members, 0 for a nil intset.
func (is intset) len() int {
	if is == nil {
		return 0
	}
	return int(binary.LittleEndian.Uint32(is)>>2) + 1
}

func (is intset) width() int { return 2 << (is[0] & 3) }

// get returns member i.
func (is intset) get(i int) int64 {
	switch w := is.width(); w {
	case 2:
		return int64(int16(binary.LittleEndian.Uint16(is[intsetHeader+2*i:])))
	case 4:
		return int64(int32(binary.LittleEndian.Uint32(is[intsetHeader+4*i:])))
	default:
		return int64(binary.LittleEndian.Uint64(is[intsetHeader+8*i:]))
	}
}

// put stores v, which fits the width, as member i.
func (is intset) put(i int, v int64) {
	switch w := is.width(); w {
	case 2:
		binary.LittleEndian.PutUint16(is[intsetHeader+2*i:], uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(is[intsetHeader+4*i:], uint32(v))
	default:
		binary.LittleEndian.PutUint64(is[intsetHeader+8*i:], uint64(v))
	}
}

// search returns v's position, or where it would go, and whether it is
// there.
func (is intset) search(v int64) (int, bool) {
	lo, hi := 0, is.len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		switch m := is.get(mid); {
		case m < v:
			lo = mid + 1
		case m > v:
			hi = mid
		default:
			return mid, true
		}
	}
	return lo, false
}

// resize returns is holding n (> 0) members of its width, the first
// min(n, len) kept: is itself while n's bytes stay in its size class, a
// new allocation otherwise.
func (is intset) resize(n int) intset {
	w := is.width()
	l := intsetHeader + n*w
	if allocSize(l) != int64(cap(is)) {
		out := intset(make([]byte, l, allocSize(l)))
		copy(out, is[:min(len(is), l)])
		is = out
	}
	is = is[:l]
	is.setHeader(w, n)
	return is
}

// add returns is with v added (is may have moved) and whether v was new.
func (is intset) add(v int64) (intset, bool) {
	w := intsetWidth(v)
	if is == nil {
		is = newIntset(w, 1)
		is.put(0, v)
		return is, true
	}
	n := is.len()
	if w > is.width() {
		// v is past every member (intsetUpgradeAndAdd): first if
		// negative, last if not.
		out := newIntset(w, n+1)
		lead := 0
		if v < 0 {
			lead = 1
			out.put(0, v)
		} else {
			out.put(n, v)
		}
		for i := range n {
			out.put(i+lead, is.get(i))
		}
		return out, true
	}
	i, found := is.search(v)
	if found {
		return is, false
	}
	is = is.resize(n + 1)
	w = is.width()
	copy(is[intsetHeader+(i+1)*w:], is[intsetHeader+i*w:intsetHeader+n*w])
	is.put(i, v)
	return is, true
}

// remove returns is without member i (is may have moved); nil once
// empty. The width stays, as in Redis.
func (is intset) remove(i int) intset {
	n, w := is.len(), is.width()
	if n == 1 {
		return nil
	}
	copy(is[intsetHeader+i*w:], is[intsetHeader+(i+1)*w:intsetHeader+n*w])
	return is.resize(n - 1)
}

// clone returns a copy in an allocation of its own.
func (is intset) clone() intset {
	if is == nil {
		return nil
	}
	out := intset(make([]byte, len(is), cap(is)))
	copy(out, is)
	return out
}
