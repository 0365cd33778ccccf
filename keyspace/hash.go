package keyspace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// The hash kind. Fields are kept in one slice in insertion order, as
// Redis's listpack keeps them, so HGETALL of a small hash lists its
// fields in Redis's order. A hash past the listpack limits becomes
// "hashtable": an index from field to position is added, and a deleted
// field leaves a hole (compacted in order later) instead of moving the
// fields after it. Every field carries a sequence number, increasing in
// the slice, which HSCAN's cursor names: a field present for a whole
// scan keeps its number, so it is returned exactly once however the
// slice is compacted meanwhile.

// hashPair is one field. seq 0 never names a live field (numbers start at
// 1), so cursor 0 is the start.
type hashPair struct {
	field, value string
	seq          uint64
	dead         bool
}

// pairBytes is hashPair's size, for Size.
const pairBytes = 48

// Hash is a hash value. Change it only inside DB.Update.
type Hash struct {
	enc   Encoding
	pairs []hashPair
	// idx maps a field to its position in pairs; nil while listpack
	// (a listpack is searched, as Redis searches one).
	idx     map[string]int
	live    int
	dead    int
	nextSeq uint64
	// strBytes is the memory of the fields' and values' bytes, kept as
	// they change so Size is O(1).
	strBytes int64
}

// NewHash returns an empty hash, encoded as Redis creates one (listpack).
func NewHash() *Hash { return &Hash{enc: EncListpack, nextSeq: 1} }

func (h *Hash) Kind() Kind         { return KindHash }
func (h *Hash) Encoding() Encoding { return h.enc }
func (h *Hash) Len() int           { return h.live }

// Size counts the slice, the strings and, for a hashtable, about 40 bytes
// an index entry takes in a Go map at its usual load.
func (h *Hash) Size() int64 {
	n := 80 + allocSize(cap(h.pairs)*pairBytes) + h.strBytes
	if h.idx != nil {
		n += 48 + int64(len(h.idx))*40
	}
	return n
}

// Clone returns a deep copy; strings are immutable, so sharing them is
// safe.
func (h *Hash) Clone() Object {
	c := *h
	c.pairs = append([]hashPair(nil), h.pairs...)
	if h.idx != nil {
		c.idx = make(map[string]int, len(h.idx))
		for k, v := range h.idx {
			c.idx[k] = v
		}
	}
	return &c
}

// AppendSnapshot writes the number of fields, then each field and value,
// in order (holes left out), with the sequence numbers (the next one,
// then each field's): they are HSCAN's cursors once the hash is a
// hashtable, and a node that restores the snapshot must continue a scan
// begun elsewhere as the node it came from would.
func (h *Hash) AppendSnapshot(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(h.live))
	b = binary.AppendUvarint(b, h.nextSeq)
	for i := range h.pairs {
		if p := &h.pairs[i]; !p.dead {
			b = appendString(b, p.field)
			b = appendString(b, p.value)
			b = binary.AppendUvarint(b, p.seq)
		}
	}
	return b
}

func decodeHash(enc Encoding, data []byte) (Object, error) {
	if enc != EncListpack && enc != EncHashtable {
		return nil, fmt.Errorf("hash encoding %d", enc)
	}
	n, k := binary.Uvarint(data)
	if k <= 0 || n == 0 || n > uint64(len(data)-k)/2 { // each field and value takes a byte at least
		return nil, errors.New("bad hash length")
	}
	data = data[k:]
	h := &Hash{enc: enc, nextSeq: 1, pairs: make([]hashPair, 0, n)}
	if enc == EncHashtable {
		h.idx = make(map[string]int, n)
	}
	nextSeq, k := binary.Uvarint(data)
	if k <= 0 || nextSeq <= n {
		return nil, errors.New("bad hash sequence")
	}
	data = data[k:]
	next := func() (string, error) {
		l, k := binary.Uvarint(data)
		if k <= 0 || l > uint64(len(data)-k) {
			return "", errors.New("bad hash string")
		}
		s := string(data[k : k+int(l)])
		data = data[k+int(l):]
		return s, nil
	}
	for i := uint64(0); i < n; i++ {
		f, err := next()
		if err != nil {
			return nil, err
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		if h.find([]byte(f)) >= 0 {
			return nil, errors.New("a hash field twice")
		}
		seq, k := binary.Uvarint(data)
		if k <= 0 || seq < h.nextSeq || seq >= nextSeq {
			return nil, errors.New("bad hash field sequence")
		}
		data = data[k:]
		h.nextSeq = seq // push gives it, then moves past it
		h.push(f, v)
	}
	h.nextSeq = nextSeq
	if len(data) != 0 {
		return nil, errors.New("bytes after a hash")
	}
	return h, nil
}

// find returns field's position, -1 if absent. It takes bytes so that a
// lookup converts nothing (Go compares and indexes by string(b) without
// allocating).
func (h *Hash) find(field []byte) int {
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

func (h *Hash) push(field, value string) {
	if h.idx != nil {
		h.idx[field] = len(h.pairs)
	}
	h.pairs = append(h.pairs, hashPair{field: field, value: value, seq: h.nextSeq})
	h.nextSeq++
	h.live++
	h.strBytes += allocSize(len(field)) + allocSize(len(value))
}

// Get returns field's value.
func (h *Hash) Get(field []byte) (string, bool) {
	if i := h.find(field); i >= 0 {
		return h.pairs[i].value, true
	}
	return "", false
}

// Set sets field to value and reports whether the field is new. As
// Redis's hashTypeSet, a field or value longer than
// HashMaxListpackValue makes a listpack a hashtable first, and more than
// HashMaxListpackEntries fields after it; a hashtable stays one.
func (h *Hash) Set(field, value []byte, lim EncodingLimits) bool {
	if h.enc == EncListpack && (int64(len(field)) > lim.HashMaxListpackValue || int64(len(value)) > lim.HashMaxListpackValue) {
		h.toHashtable()
	}
	isNew := false
	if i := h.find(field); i >= 0 {
		p := &h.pairs[i]
		h.strBytes += allocSize(len(value)) - allocSize(len(p.value))
		p.value = string(value)
	} else {
		h.push(string(field), string(value))
		isNew = true
	}
	if h.enc == EncListpack && int64(h.live) > lim.HashMaxListpackEntries {
		h.toHashtable()
	}
	return isNew
}

// ConvertIfLong makes a listpack a hashtable when any of args is longer
// than HashMaxListpackValue, as HSET checks all its arguments before
// setting any (hashTypeTryConversion).
func (h *Hash) ConvertIfLong(args [][]byte, lim EncodingLimits) {
	if h.enc != EncListpack {
		return
	}
	for _, a := range args {
		if int64(len(a)) > lim.HashMaxListpackValue {
			h.toHashtable()
			return
		}
	}
}

func (h *Hash) toHashtable() {
	h.enc = EncHashtable
	h.idx = make(map[string]int, len(h.pairs))
	for i := range h.pairs {
		h.idx[h.pairs[i].field] = i
	}
}

// Delete removes field; false if it was absent.
func (h *Hash) Delete(field []byte) bool {
	i := h.find(field)
	if i < 0 {
		return false
	}
	p := &h.pairs[i]
	h.strBytes -= allocSize(len(p.field)) + allocSize(len(p.value))
	h.live--
	if h.idx == nil {
		// A listpack closes the gap, keeping the order.
		h.pairs = append(h.pairs[:i], h.pairs[i+1:]...)
		return true
	}
	delete(h.idx, p.field)
	*p = hashPair{seq: p.seq, dead: true}
	h.dead++
	if h.dead > 16 && h.dead > h.live {
		h.compact()
	}
	return true
}

// compact drops the holes, keeping the order (and so the sequence numbers
// increasing, which HSCAN's binary search needs).
func (h *Hash) compact() {
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

// Each calls fn for every field in order until fn returns false.
func (h *Hash) Each(fn func(field, value string) bool) {
	for i := range h.pairs {
		if p := &h.pairs[i]; !p.dead && !fn(p.field, p.value) {
			return
		}
	}
}

// Random returns a field and value chosen by r, which returns a number in
// [0, n); the hash must not be empty.
func (h *Hash) Random(r func(n int) int) (field, value string) {
	for {
		// Holes are at most half the slice (compact), so this ends
		// after two tries on average.
		if p := &h.pairs[r(len(h.pairs))]; !p.dead {
			return p.field, p.value
		}
	}
}

// Scan calls fn for about count fields from cursor on and returns the
// cursor to continue from, 0 when done. A listpack is returned whole in
// one call, as Redis does.
func (h *Hash) Scan(cursor uint64, count int, fn func(field, value string)) uint64 {
	if h.enc == EncListpack {
		h.Each(func(f, v string) bool { fn(f, v); return true })
		return 0
	}
	i := sort.Search(len(h.pairs), func(i int) bool { return h.pairs[i].seq >= cursor })
	for n := 0; i < len(h.pairs) && n < count; i++ {
		if p := &h.pairs[i]; !p.dead {
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
