package keyspace

import (
	"encoding/binary"
	"math/bits"
	"sync/atomic"
)

// A list node's entries, packed in one byte buffer as a listpack packs
// them: each entry is its length (uvarint), its bytes, and a back length
// (the size of the first two, as a uvarint written backwards), so the
// node can be walked from either end. A short element costs two bytes
// beyond its own, as in a listpack.

// listNode is one node of a list: its packed entries and their number.
type listNode struct {
	buf []byte
	n   int32
	// shared is set (atomically: Clone runs under the read lock when a
	// transaction copies a key) when a Clone shares buf: the first change
	// copies it (own).
	shared uint32
}

// own makes nd's buffer the list's alone, before any change to it.
func (l *List) own(nd *listNode) {
	if atomic.LoadUint32(&nd.shared) == 0 {
		return
	}
	b := make([]byte, len(nd.buf), cap(nd.buf))
	copy(b, nd.buf)
	nd.buf = b
	atomic.StoreUint32(&nd.shared, 0)
}

// listpackOverhead is a listpack's header and end byte, counted as Redis
// counts them when it checks a node against list-max-listpack-size.
const listpackOverhead = 7

// listSafetyLimit is Redis's SIZE_SAFETY_LIMIT: a node sized by a count
// (list-max-listpack-size > 0) still holds at most this many bytes.
const listSafetyLimit = 8192

// uvarintLen is the length of x's uvarint encoding.
func uvarintLen(x uint64) int { return (bits.Len64(x|1) + 6) / 7 }

// entryLen is the bytes an entry of n bytes takes in a node.
func entryLen(n int) int {
	h := uvarintLen(uint64(n)) + n
	return h + uvarintLen(uint64(h))
}

// putEntry writes e's entry at the start of dst, which has room for it.
func putEntry(dst, e []byte) {
	k := binary.PutUvarint(dst, uint64(len(e)))
	k += copy(dst[k:], e)
	// The back length: the uvarint of k, its bytes in reverse order.
	var tmp [binary.MaxVarintLen64]byte
	m := binary.PutUvarint(tmp[:], uint64(k))
	for i := m - 1; i >= 0; i-- {
		dst[k] = tmp[i]
		k++
	}
}

// entryAt returns the entry starting at off and the offset after it.
func entryAt(buf []byte, off int) (e []byte, next int) {
	n, k := binary.Uvarint(buf[off:])
	start := off + k
	end := start + int(n)
	return buf[start:end], end + uvarintLen(uint64(k+int(n)))
}

// entryBefore returns the entry ending at end and its start offset.
func entryBefore(buf []byte, end int) (e []byte, start int) {
	var v uint64
	i := end - 1
	for s := uint(0); ; s += 7 {
		b := buf[i]
		v |= uint64(b&0x7f) << s
		if b < 0x80 {
			break
		}
		i--
	}
	start = i - int(v)
	n, k := binary.Uvarint(buf[start:])
	return buf[start+k : start+k+int(n)], start
}

// offsetOf returns the offset of entry j (0 <= j <= n; n: the end),
// walking from the nearer end of the node.
func (nd *listNode) offsetOf(j int) int {
	if j <= int(nd.n)/2 {
		off := 0
		for ; j > 0; j-- {
			_, off = entryAt(nd.buf, off)
		}
		return off
	}
	off := len(nd.buf)
	for k := int(nd.n); k > j; k-- {
		_, off = entryBefore(nd.buf, off)
	}
	return off
}

// nodeFits reports whether a node of size bytes (entries only) and count
// entries is within list-max-listpack-size (fill), as Redis's
// _quicklistNodeAllowInsert and _quicklistNodeAllowMerge judge it: a
// negative fill from -1 to -5 bounds the bytes (4KB to 64KB), a positive
// one the entries (and the bytes by the safety limit); any other value
// lets no node hold two entries.
func nodeFits(size, count int, fill int64) bool {
	size += listpackOverhead
	switch {
	case fill < -5:
		return false
	case fill < 0:
		return size <= 4096<<(-fill-1)
	}
	return size <= listSafetyLimit && int64(count) <= fill
}

// bufCap is the capacity a node buffer of need bytes gets: the allocator's
// size class, with room to grow in place once it is past a few hundred
// bytes (so pushes copy a large node rarely).
func bufCap(need int) int {
	if need > 256 {
		need += need / 4
	}
	return int(allocSize(need))
}

// resize sets nd's buffer length to n, reallocating (and counting the
// memory in l.mem) when the capacity is short, or far too large.
func (l *List) resize(nd *listNode, n int) {
	l.own(nd)
	c := cap(nd.buf)
	if n <= c && (c <= 128 || n > c/2) {
		nd.buf = nd.buf[:n]
		return
	}
	nb := make([]byte, n, bufCap(n))
	copy(nb, nd.buf[:min(n, len(nd.buf))])
	l.mem += allocSize(cap(nb)) - allocSize(c)
	nd.buf = nb
}

// insertEntry puts e's entry at offset off of nd.
func (l *List) insertEntry(nd *listNode, off int, e []byte) {
	l.own(nd)
	sz, old := entryLen(len(e)), len(nd.buf)
	if old+sz > cap(nd.buf) {
		// Copy around the gap at once rather than twice.
		nb := make([]byte, old+sz, bufCap(old+sz))
		copy(nb, nd.buf[:off])
		copy(nb[off+sz:], nd.buf[off:])
		l.mem += allocSize(cap(nb)) - allocSize(cap(nd.buf))
		nd.buf = nb
	} else {
		nd.buf = nd.buf[:old+sz]
		copy(nd.buf[off+sz:], nd.buf[off:old])
	}
	putEntry(nd.buf[off:], e)
	nd.n++
}

// cut removes the bytes [from, to) of nd, which hold k entries.
func (l *List) cut(nd *listNode, from, to, k int) {
	l.own(nd)
	n := copy(nd.buf[from:], nd.buf[to:])
	l.resize(nd, from+n)
	nd.n -= int32(k)
}

// replaceEntry replaces the entry at [off, next) of nd by e's.
func (l *List) replaceEntry(nd *listNode, off, next int, e []byte) {
	l.own(nd)
	sz, old := entryLen(len(e)), len(nd.buf)
	if d := sz - (next - off); d > 0 {
		l.resize(nd, old+d)
		copy(nd.buf[off+sz:], nd.buf[next:old])
	} else if d < 0 {
		copy(nd.buf[off+sz:], nd.buf[next:])
		l.resize(nd, old+d)
	}
	putEntry(nd.buf[off:], e)
}

// validNode reports whether buf holds exactly n well-formed entries, so
// that the unchecked walks above can trust it.
func validNode(buf []byte, n uint64) bool {
	off := 0
	for ; n > 0 && off < len(buf); n-- {
		l, k := binary.Uvarint(buf[off:])
		if k <= 0 || l > uint64(len(buf)-off-k) {
			return false
		}
		h := k + int(l)
		var back [binary.MaxVarintLen64]byte
		m := binary.PutUvarint(back[:], uint64(h))
		if m > len(buf)-off-h {
			return false
		}
		for i := 0; i < m; i++ {
			if buf[off+h+i] != back[m-1-i] {
				return false
			}
		}
		if entryLen(int(l)) != h+m { // a uvarint longer than it need be
			return false
		}
		off += h + m
	}
	return n == 0 && off == len(buf)
}
