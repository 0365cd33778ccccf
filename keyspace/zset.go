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
// The listpack is one packed byte buffer, ordered by (score, member) as
// Redis orders: per member a uvarint of its length<<1 | isFloat, its
// bytes, and its score, a zigzag varint when it is an integer that a
// float64 holds exactly, else the 8 bytes of the float64. Small sets stay
// a few bytes a member, as Redis's listpack does.
//
// The skiplist numbers its members in slots, as a set's hashtable does,
// so a ZSCAN cursor (a slot number) means the same on every node, and a
// member present for the whole scan is returned exactly once.

// ZSet is a sorted set value. Change it only inside DB.Update.
type ZSet struct {
	lp []byte // the listpack; unused once sl is set
	n  int    // the listpack's members
	sl *zskiplist
}

// NewZSet returns an empty sorted set encoded as a listpack.
func NewZSet() *ZSet { return &ZSet{} }

// NewZSetFor returns an empty sorted set encoded as Redis's
// zsetTypeCreate chooses for size members, the longest maxLen bytes.
func NewZSetFor(size, maxLen int, lim EncodingLimits) *ZSet {
	z := &ZSet{}
	if lim.ZsetMaxListpackEntries == 0 || int64(size) > lim.ZsetMaxListpackEntries || int64(maxLen) > lim.ZsetMaxListpackValue {
		z.sl = newSkiplist()
	}
	return z
}

// Kind implements Object.
func (z *ZSet) Kind() Kind { return KindZSet }

// Encoding implements Object.
func (z *ZSet) Encoding() Encoding {
	if z.sl != nil {
		return EncSkiplist
	}
	return EncListpack
}

// Len implements Object.
func (z *ZSet) Len() int {
	if z.sl != nil {
		return z.sl.length
	}
	return z.n
}

// Size implements Object: the struct and the listpack's buffer, or the
// skiplist's nodes, levels, members, map and slots.
func (z *ZSet) Size() int64 {
	if z.sl == nil {
		return 48 + allocSize(cap(z.lp))
	}
	return 48 + z.sl.size()
}

// Clone implements Object.
func (z *ZSet) Clone() Object {
	if z.sl == nil {
		return &ZSet{lp: append([]byte(nil), z.lp...), n: z.n}
	}
	return &ZSet{sl: z.sl.clone()}
}

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
	for off := 0; off < len(z.lp); {
		em, s, next, _ := lpNext(z.lp, off)
		if str(em) == str(m) {
			return off, s
		}
		off = next
	}
	return -1, 0
}

// lpDelete removes the entry at off.
func (z *ZSet) lpDelete(off int) {
	_, _, next, _ := lpNext(z.lp, off)
	z.lp = append(z.lp[:off], z.lp[next:]...)
	z.n--
	z.lpShrink()
}

// lpShrink gives back a buffer left mostly empty by removals.
func (z *ZSet) lpShrink() {
	if cap(z.lp) > 64 && cap(z.lp) > 2*len(z.lp) {
		z.lp = append([]byte(nil), z.lp...)
	}
}

// lpInsert puts m at its place in the order.
func (z *ZSet) lpInsert(m []byte, score float64) {
	off := 0
	for off < len(z.lp) {
		em, s, next, _ := lpNext(z.lp, off)
		if zless(score, str(m), s, str(em)) {
			break
		}
		off = next
	}
	var tmp [32]byte
	e := lpAppend(tmp[:0], m, score)
	z.lp = append(z.lp, e...) // grow, then move the tail up
	copy(z.lp[off+len(e):], z.lp[off:len(z.lp)-len(e)])
	copy(z.lp[off:], e)
	z.n++
}

// Score returns m's score.
func (z *ZSet) Score(m []byte) (float64, bool) {
	if z.sl != nil {
		x, ok := z.sl.dict[str(m)]
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
	if z.sl == nil {
		off, cur := z.lpFind(m)
		if off >= 0 {
			if cur != score {
				z.lpDelete(off)
				z.lpInsert(m, score)
			}
			return false
		}
		if int64(z.n)+1 <= lim.ZsetMaxListpackEntries && int64(len(m)) <= lim.ZsetMaxListpackValue {
			z.lpInsert(m, score)
			return true
		}
		z.toSkiplist()
	}
	if x, ok := z.sl.dict[str(m)]; ok {
		if x.score != score {
			z.sl.update(x, score)
		}
		return false
	}
	z.sl.add(string(m), score)
	return true
}

func (z *ZSet) toSkiplist() {
	sl := newSkiplist()
	for off := 0; off < len(z.lp); {
		m, s, next, _ := lpNext(z.lp, off)
		sl.add(string(m), s)
		off = next
	}
	z.sl, z.lp, z.n = sl, nil, 0
}

// ConvertToListpackIfNeeded makes a skiplist a listpack when it fits the
// limits, as Redis's zsetConvertToListpackIfNeeded does for a *STORE
// result it built as a skiplist.
func (z *ZSet) ConvertToListpackIfNeeded(lim EncodingLimits) {
	if z.sl == nil || int64(z.sl.length) > lim.ZsetMaxListpackEntries {
		return
	}
	var lp []byte
	for x := z.sl.header.level[0].forward; x != nil; x = x.level[0].forward {
		if int64(len(x.member)) > lim.ZsetMaxListpackValue {
			return
		}
		lp = lpAppend(lp, []byte(x.member), x.score)
	}
	z.lp, z.n, z.sl = lp, z.sl.length, nil
}

// Remove removes m and reports whether it was there.
func (z *ZSet) Remove(m []byte) bool {
	if z.sl != nil {
		x, ok := z.sl.dict[str(m)]
		if ok {
			z.sl.remove(x)
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
	if z.sl != nil {
		return z.sl.search(pred)
	}
	i := 0
	for off := 0; off < len(z.lp); i++ {
		m, s, next, _ := lpNext(z.lp, off)
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
	if z.sl != nil {
		z.sl.walk(start, rev, fn)
		return
	}
	if !rev {
		i := 0
		for off := 0; off < len(z.lp); i++ {
			m, s, next, _ := lpNext(z.lp, off)
			if i >= start && !fn(m, s) {
				return
			}
			off = next
		}
		return
	}
	offs := make([]int, 0, z.n)
	for off := 0; off < len(z.lp); {
		offs = append(offs, off)
		_, _, off, _ = lpNext(z.lp, off)
	}
	for i := len(offs) - 1 - start; i >= 0; i-- {
		m, s, _, _ := lpNext(z.lp, offs[i])
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
	if z.sl != nil {
		x := z.sl.byRank(start + 1)
		for i := start; i < end; i++ {
			next := x.level[0].forward
			z.sl.remove(x)
			x = next
		}
		return end - start
	}
	from, to, i := 0, 0, 0
	for off := 0; off < len(z.lp); i++ {
		if i == start {
			from = off
		}
		_, _, off, _ = lpNext(z.lp, off)
		if i == end-1 {
			to = off
			break
		}
	}
	z.lp = append(z.lp[:from], z.lp[to:]...)
	z.n -= end - start
	z.lpShrink()
	return end - start
}

// Scan calls fn for about count members from cursor on and returns the
// cursor to continue from, 0 when done. A listpack is returned whole in
// one call, as Redis does.
func (z *ZSet) Scan(cursor uint64, count int, fn func(m []byte, score float64)) uint64 {
	if z.sl == nil {
		z.Range(0, false, func(m []byte, s float64) bool { fn(m, s); return true })
		return 0
	}
	return z.sl.scan(cursor, count, fn)
}
