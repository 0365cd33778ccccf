package keyspace

import (
	"maps"
	"sort"
	"unsafe"
)

// hashPairs is a hash that is no plain listpack: a "listpackex" (a
// listpack with field deadlines) or a "hashtable". Fields are kept in
// one slice in insertion order, as Redis's listpack keeps them. A
// hashtable adds an index from field to position, and a deleted field
// leaves a hole (compacted in order later) instead of moving the fields
// after it. Every field carries a sequence number, increasing in the
// slice, which HSCAN's cursor names: a field present for a whole scan
// keeps its number, so it is returned exactly once however the slice is
// compacted meanwhile.
type hashPairs struct {
	enc   Encoding
	pairs []hashPair
	// idx maps a field to its position in pairs; nil while listpackex
	// (a listpack is searched, as Redis searches one).
	idx     map[string]int
	live    int
	dead    int
	nextSeq uint64
	// strBytes is the memory of the fields' and values' bytes, kept as
	// they change so Size is O(1).
	strBytes int64
	// ttls counts the fields with a deadline; minExp and maxExp are the
	// earliest and the latest, exact after settle (stale says they may
	// be too early and too late).
	ttls           int
	minExp, maxExp int64
	stale          bool
}

// hashPair is one field. seq 0 never names a live field (numbers start at
// 1), so cursor 0 is the start.
type hashPair struct {
	field, value string
	seq          uint64
	exp          int64 // unix ms the field expires at; 0: never
	dead         bool
}

// Struct sizes, for Size.
const (
	pairBytes      = int(unsafe.Sizeof(hashPair{}))
	hashPairsBytes = int(unsafe.Sizeof(hashPairs{}))
)

// size counts the struct, the slice, the strings and, for a hashtable,
// about 40 bytes an index entry takes in a Go map at its usual load.
func (h *hashPairs) size() int64 {
	n := allocSize(hashPairsBytes) + allocSize(cap(h.pairs)*pairBytes) + h.strBytes
	if h.idx != nil {
		n += 48 + int64(len(h.idx))*40
	}
	return n
}

// clone returns a deep copy; strings are immutable, so sharing them is
// safe.
func (h *hashPairs) clone() *hashPairs {
	c := *h
	c.pairs = append([]hashPair(nil), h.pairs...)
	c.idx = maps.Clone(h.idx) // copies the table whole, not key by key
	return &c
}

// find returns field's position, -1 if absent. It takes bytes so that a
// lookup converts nothing (Go compares and indexes by string(b) without
// allocating).
func (h *hashPairs) find(field []byte) int {
	if h.idx != nil {
		if i, ok := h.idx[string(field)]; ok {
			return i
		}
		return -1
	}
	for i := range h.pairs {
		if h.pairs[i].field == string(field) {
			return i
		}
	}
	return -1
}

func (h *hashPairs) push(field, value string) {
	if h.idx != nil {
		h.idx[field] = len(h.pairs)
	}
	h.pairs = append(h.pairs, hashPair{field: field, value: value, seq: h.nextSeq})
	h.nextSeq++
	h.live++
	h.strBytes += allocSize(len(field)) + allocSize(len(value))
}

func (h *hashPairs) set(field, value []byte, lim EncodingLimits, now int64, keepTTL bool) bool {
	if h.idx == nil && (int64(len(field)) > lim.HashMaxListpackValue || int64(len(value)) > lim.HashMaxListpackValue) {
		h.toHashtable()
	}
	i := h.find(field)
	if i >= 0 && h.pairs[i].expired(now) {
		h.delete(field, now) // an expired field is replaced by a new one
		i = -1
	}
	isNew := false
	if i >= 0 {
		p := &h.pairs[i]
		h.strBytes += allocSize(len(value)) - allocSize(len(p.value))
		p.value = string(value)
		if !keepTTL {
			h.setExp(i, 0)
		}
	} else {
		h.push(string(field), string(value))
		isNew = true
	}
	if h.idx == nil && int64(h.live) > lim.HashMaxListpackEntries {
		h.toHashtable()
	}
	return isNew
}

func (h *hashPairs) toHashtable() {
	h.enc = EncHashtable
	h.idx = make(map[string]int, len(h.pairs))
	for i := range h.pairs {
		h.idx[h.pairs[i].field] = i
	}
}

// delete removes field, expired or not; it reports whether the field
// was there and not expired at now.
func (h *hashPairs) delete(field []byte, now int64) bool {
	i := h.find(field)
	if i < 0 {
		return false
	}
	p := &h.pairs[i]
	visible := !p.expired(now)
	h.setExp(i, 0)
	h.strBytes -= allocSize(len(p.field)) + allocSize(len(p.value))
	h.live--
	if h.idx == nil {
		// A listpack closes the gap, keeping the order.
		h.pairs = append(h.pairs[:i], h.pairs[i+1:]...)
		clear(h.pairs[len(h.pairs):cap(h.pairs)][:1])
		return visible
	}
	delete(h.idx, p.field)
	*p = hashPair{seq: p.seq, dead: true}
	h.dead++
	if h.dead > 16 && h.dead > h.live {
		h.compact()
	}
	return visible
}

// compact drops the holes, keeping the order (and so the sequence numbers
// increasing, which HSCAN's binary search needs).
func (h *hashPairs) compact() {
	out := h.pairs[:0]
	for _, p := range h.pairs {
		if !p.dead {
			h.idx[p.field] = len(out)
			out = append(out, p)
		}
	}
	clear(h.pairs[len(out):])
	h.pairs = out
	h.dead = 0
	if cap(h.pairs) > 2*len(h.pairs)+16 {
		h.pairs = append([]hashPair(nil), h.pairs...)
	}
}

// each calls fn for every field not expired at now, in order, until fn
// returns false.
func (h *hashPairs) each(now int64, fn func(field, value string) bool) {
	for i := range h.pairs {
		if p := &h.pairs[i]; p.visible(now) && !fn(p.field, p.value) {
			return
		}
	}
}

func (h *hashPairs) random(now int64, r func(n int) int) (field, value string) {
	for try := 0; h.ttls == 0 || try < 64; try++ {
		// Holes are at most half the slice (compact), so this ends
		// after two tries on average when no field has a deadline.
		if p := &h.pairs[r(len(h.pairs))]; p.visible(now) {
			return p.field, p.value
		}
	}
	// Mostly expired fields: pick uniformly among the visible.
	k := r(h.visible(now))
	h.each(now, func(f, v string) bool {
		if k == 0 {
			field, value = f, v
			return false
		}
		k--
		return true
	})
	return field, value
}

func (h *hashPairs) scan(now int64, cursor uint64, count int, fn func(field, value string)) uint64 {
	if h.idx == nil {
		h.each(now, func(f, v string) bool { fn(f, v); return true })
		return 0
	}
	i := sort.Search(len(h.pairs), func(i int) bool { return h.pairs[i].seq >= cursor })
	for n := 0; i < len(h.pairs) && n < count; i++ {
		if p := &h.pairs[i]; p.visible(now) {
			fn(p.field, p.value)
			n++
		}
	}
	for ; i < len(h.pairs); i++ {
		if !h.pairs[i].dead {
			return h.pairs[i].seq
		}
	}
	return 0
}
