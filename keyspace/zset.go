package keyspace

import (
	"encoding/binary"
	"math"
	"unsafe"
)

// The sorted set kind. As in Redis 7.0 a sorted set is a "listpack" while
// it has at most zset-max-listpack-entries members, none longer than
// zset-max-listpack-value bytes, and a "skiplist" (a skiplist with spans,
// for ranks in O(log n), and a member -> node map) from then on; it
// converts back only where Redis does (a *STORE result built fresh).
//
// The listpack is one packed byte buffer: a uvarint of the member count,
// then the members ordered by (score, member) as Redis orders them. Per
// member: a uvarint of its length<<1 | isFloat, its bytes, and its score,
// a zigzag varint when it is an integer that a float64 holds exactly,
// else the 8 bytes of the float64. Small sets stay a few bytes a member,
// as Redis's listpack does.
//
// The skiplist numbers its members in slots, as a set's hashtable does,
// so a ZSCAN cursor (a slot number) means the same on every node, and a
// member present for the whole scan is returned exactly once.

// ZSet is a sorted set value. Change it only inside DB.Update.
//
// A ZSet is 16 bytes, as most sorted sets are small: p is the listpack's
// first byte (its length and capacity beside it) or, with capacity
// slMark, the skiplist.
type ZSet struct {
	p        unsafe.Pointer
	len, cap uint32
}

// slMark in ZSet.cap says p is a skiplist. A listpack stays below 1GB
// (lpMax), as Redis's (lpSafeToAdd), so its capacity never reaches it.
const (
	slMark = ^uint32(0)
	lpMax  = 1 << 30
)

// lpb returns the listpack; nil for a skiplist or an empty set.
func (z *ZSet) lpb() []byte {
	if z.cap == slMark || z.p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(z.p), z.cap)[:z.len]
}

func (z *ZSet) setLP(b []byte) {
	if cap(b) == 0 {
		*z = ZSet{}
		return
	}
	z.p, z.len, z.cap = unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)), uint32(cap(b))
}

// skip returns the skiplist; nil for a listpack.
func (z *ZSet) skip() *zskiplist {
	if z.cap != slMark {
		return nil
	}
	return (*zskiplist)(z.p)
}

func (z *ZSet) setSkip(sl *zskiplist) { z.p, z.len, z.cap = unsafe.Pointer(sl), 0, slMark }

// NewZSet returns an empty sorted set encoded as a listpack.
func NewZSet() *ZSet { return &ZSet{} }

// NewZSetFor returns an empty sorted set encoded as Redis's
// zsetTypeCreate chooses for size members, the longest maxLen bytes.
func NewZSetFor(size, maxLen int, lim EncodingLimits) *ZSet {
	z := &ZSet{}
	if lim.ZsetMaxListpackEntries == 0 || int64(size) > lim.ZsetMaxListpackEntries || int64(maxLen) > lim.ZsetMaxListpackValue {
		z.setSkip(newSkiplist())
	}
	return z
}

// Kind implements Object.
func (z *ZSet) Kind() Kind { return KindZSet }

// Encoding implements Object.
func (z *ZSet) Encoding() Encoding {
	if z.skip() != nil {
		return EncSkiplist
	}
	return EncListpack
}

// Len implements Object.
func (z *ZSet) Len() int {
	if z.skip() != nil {
		return z.skip().length
	}
	return z.count()
}

// count reads the listpack's member count.
func (z *ZSet) count() int {
	n, _ := binary.Uvarint(z.lpb())
	return int(n)
}

// hdr is the offset of the listpack's first member, past the count.
func (z *ZSet) hdr() int {
	_, k := binary.Uvarint(z.lpb())
	return max(k, 0)
}

// setCount rewrites the count, moving the members when its width
// changes.
func (z *ZSet) setCount(n int) {
	if n == 0 {
		z.setLP(nil)
		return
	}
	old := z.hdr()
	var tmp [binary.MaxVarintLen64]byte
	h := binary.PutUvarint(tmp[:], uint64(n))
	if h == old {
		copy(z.lpb(), tmp[:h])
		return
	}
	z.setLP(append(tmp[:h:h], z.lpb()[old:]...))
}

// Size implements Object: the struct and the listpack's buffer, or the
// skiplist's nodes, levels, members, map and slots.
func (z *ZSet) Size() int64 {
	if z.skip() == nil {
		return 16 + allocSize(cap(z.lpb()))
	}
	return 16 + z.skip().size()
}

// Clone implements Object.
func (z *ZSet) Clone() Object {
	if z.skip() == nil {
		c := &ZSet{}
		c.setLP(append([]byte(nil), z.lpb()...))
		return c
	}
	c := &ZSet{}
	c.setSkip(z.skip().clone())
	return c
}

// encodedForSnapshot: a skiplist is kept for a snapshot as its encoding,
// not cloned (snapshotCopy).
func (z *ZSet) encodedForSnapshot() bool { return z.skip() != nil }

// zzInt reports whether f is stored as an integer: integral and exactly
// held. -0 is stored as 0, as Redis's listpack stores it.
func zzInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// lpAppend appends one listpack entry.
func lpAppend(b []byte, m []byte, score float64) []byte {
	if v, ok := zzInt(score); ok {
		b = binary.AppendUvarint(b, uint64(len(m))<<1)
		b = append(b, m...)
		return binary.AppendVarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(m))<<1|1)
	b = append(b, m...)
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(score))
}

// lpNext decodes the entry at off of a well-formed listpack; ok is false
// for a malformed one (a snapshot's).
func lpNext(b []byte, off int) (m []byte, score float64, next int, ok bool) {
	h, k := binary.Uvarint(b[off:])
	if k <= 0 || h>>1 > uint64(len(b)-off-k) {
		return nil, 0, 0, false
	}
	off += k
	m = b[off : off+int(h>>1)]
	off += int(h >> 1)
	if h&1 != 0 {
		if len(b)-off < 8 {
			return nil, 0, 0, false
		}
		return m, math.Float64frombits(binary.LittleEndian.Uint64(b[off:])), off + 8, true
	}
	v, k := binary.Varint(b[off:])
	if k <= 0 {
		return nil, 0, 0, false
	}
	return m, float64(v), off + k, true
}

// zless orders as Redis: by score, then by member bytes.
func zless(s1 float64, m1 string, s2 float64, m2 string) bool {
	return s1 < s2 || s1 == s2 && m1 < m2
}

// str views b as a string without copying, for map lookups and
// comparisons that do not keep it.
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// lpFind returns the offset of m's entry and its score, -1 if absent.
func (z *ZSet) lpFind(m []byte) (int, float64) {
	for off := z.hdr(); off < len(z.lpb()); {
		em, s, next, _ := lpNext(z.lpb(), off)
		if str(em) == str(m) {
			return off, s
		}
		off = next
	}
	return -1, 0
}

// lpDelete removes the entry at off.
func (z *ZSet) lpDelete(off int) {
	_, _, next, _ := lpNext(z.lpb(), off)
	z.setLP(append(z.lpb()[:off], z.lpb()[next:]...))
	z.lpShrink()
	z.setCount(z.count() - 1)
}

// lpShrink gives back a buffer left mostly empty by removals.
func (z *ZSet) lpShrink() {
	if cap(z.lpb()) > 64 && cap(z.lpb()) > 2*len(z.lpb()) {
		z.setLP(append([]byte(nil), z.lpb()...))
	}
}

// lpInsert puts m at its place in the order.
func (z *ZSet) lpInsert(m []byte, score float64) {
	off := z.hdr()
	if off == 0 {
		z.setLP([]byte{0})
		off = 1
	}
	for off < len(z.lpb()) {
		em, s, next, _ := lpNext(z.lpb(), off)
		if zless(score, str(m), s, str(em)) {
			break
		}
		off = next
	}
	var tmp [32]byte
	e := lpAppend(tmp[:0], m, score)
	z.setLP(append(z.lpb(), e...)) // grow, then move the tail up
	copy(z.lpb()[off+len(e):], z.lpb()[off:len(z.lpb())-len(e)])
	copy(z.lpb()[off:], e)
	z.setCount(z.count() + 1)
}

// Score returns m's score.
func (z *ZSet) Score(m []byte) (float64, bool) {
	if z.skip() != nil {
		x, ok := z.skip().dict[str(m)]
		if !ok {
			return 0, false
		}
		return x.score, true
	}
	off, s := z.lpFind(m)
	return s, off >= 0
}

// Set sets m's score and reports whether m is new. As Redis's zsetAdd, a
// listpack that a new member would take past zset-max-listpack-entries,
// or a member longer than zset-max-listpack-value, becomes a skiplist
// first.
func (z *ZSet) Set(m []byte, score float64, lim EncodingLimits) bool {
	if z.skip() == nil {
		off, cur := z.lpFind(m)
		if off >= 0 {
			if cur != score {
				z.lpDelete(off)
				z.lpInsert(m, score)
			}
			return false
		}
		if int64(z.count())+1 <= lim.ZsetMaxListpackEntries && int64(len(m)) <= lim.ZsetMaxListpackValue &&
			len(z.lpb())+len(m)+32 < lpMax {
			z.lpInsert(m, score)
			return true
		}
		z.toSkiplist()
	}
	if x, ok := z.skip().dict[str(m)]; ok {
		if x.score != score {
			z.skip().update(x, score)
		}
		return false
	}
	z.skip().add(string(m), score)
	return true
}

func (z *ZSet) toSkiplist() {
	sl := newSkiplist()
	for off := z.hdr(); off < len(z.lpb()); {
		m, s, next, _ := lpNext(z.lpb(), off)
		sl.add(string(m), s)
		off = next
	}
	z.setSkip(sl)
}

// ConvertToListpackIfNeeded makes a skiplist a listpack when it fits the
// limits, as Redis's zsetConvertToListpackIfNeeded does for a *STORE
// result it built as a skiplist.
func (z *ZSet) ConvertToListpackIfNeeded(lim EncodingLimits) {
	if z.skip() == nil || int64(z.skip().length) > lim.ZsetMaxListpackEntries {
		return
	}
	lp := binary.AppendUvarint(nil, uint64(z.skip().length))
	for x := z.skip().header.level[0].forward; x != nil; x = x.level[0].forward {
		if int64(len(x.member)) > lim.ZsetMaxListpackValue || len(lp) >= lpMax-32 {
			return
		}
		lp = lpAppend(lp, []byte(x.member), x.score)
	}
	z.setLP(lp)
}

// Remove removes m and reports whether it was there.
func (z *ZSet) Remove(m []byte) bool {
	if z.skip() != nil {
		x, ok := z.skip().dict[str(m)]
		if ok {
			z.skip().remove(x)
		}
		return ok
	}
	off, _ := z.lpFind(m)
	if off < 0 {
		return false
	}
	z.lpDelete(off)
	return true
}

// Rank returns m's 0-based rank in ascending order.
func (z *ZSet) Rank(m []byte) (int, bool) {
	s, ok := z.Score(m)
	if !ok {
		return 0, false
	}
	return z.Search(func(em []byte, es float64) bool { return !zless(es, str(em), s, str(m)) }), true
}

// Search returns the number of members, in ascending order, before the
// first for which pred is true; pred must be false then true along the
// order (a lower bound).
func (z *ZSet) Search(pred func(m []byte, score float64) bool) int {
	if z.skip() != nil {
		return z.skip().search(pred)
	}
	i := 0
	for off := z.hdr(); off < len(z.lpb()); i++ {
		m, s, next, _ := lpNext(z.lpb(), off)
		if pred(m, s) {
			return i
		}
		off = next
	}
	return i
}

// Range calls fn for the members from rank start on (0-based, counted
// from the highest when rev), in that direction, until fn returns false.
// The member's bytes are valid only during the call; fn must not change
// the set.
func (z *ZSet) Range(start int, rev bool, fn func(m []byte, score float64) bool) {
	if start < 0 || start >= z.Len() {
		return
	}
	if z.skip() != nil {
		z.skip().walk(start, rev, fn)
		return
	}
	if !rev {
		i := 0
		for off := z.hdr(); off < len(z.lpb()); i++ {
			m, s, next, _ := lpNext(z.lpb(), off)
			if i >= start && !fn(m, s) {
				return
			}
			off = next
		}
		return
	}
	offs := make([]int, 0, z.count())
	for off := z.hdr(); off < len(z.lpb()); {
		offs = append(offs, off)
		_, _, off, _ = lpNext(z.lpb(), off)
	}
	for i := len(offs) - 1 - start; i >= 0; i-- {
		m, s, _, _ := lpNext(z.lpb(), offs[i])
		if !fn(m, s) {
			return
		}
	}
}

// RemoveRange removes the members of ranks [start, end) (ascending) and
// returns how many it removed.
func (z *ZSet) RemoveRange(start, end int) int {
	end = min(end, z.Len())
	if start < 0 || start >= end {
		return 0
	}
	if z.skip() != nil {
		x := z.skip().byRank(start + 1)
		for i := start; i < end; i++ {
			next := x.level[0].forward
			z.skip().remove(x)
			x = next
		}
		return end - start
	}
	from, to, i := 0, 0, 0
	for off := z.hdr(); off < len(z.lpb()); i++ {
		if i == start {
			from = off
		}
		_, _, off, _ = lpNext(z.lpb(), off)
		if i == end-1 {
			to = off
			break
		}
	}
	z.setLP(append(z.lpb()[:from], z.lpb()[to:]...))
	z.lpShrink()
	z.setCount(z.count() - (end - start))
	return end - start
}

// Scan calls fn for about count members from cursor on and returns the
// cursor to continue from, 0 when done. A listpack is returned whole in
// one call, as Redis does.
func (z *ZSet) Scan(cursor uint64, count int, fn func(m []byte, score float64)) uint64 {
	if z.skip() == nil {
		z.Range(0, false, func(m []byte, s float64) bool { fn(m, s); return true })
		return 0
	}
	return z.skip().scan(cursor, count, fn)
}
