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
// slice is compacted meanwhile. A field may have a deadline (Redis 7.4's
// hash-field expiry, hash_ttl.go): past it, the field is invisible to
// every read taking a time, and the leader proposes its deletion.

// hashPair is one field. seq 0 never names a live field (numbers start at
// 1), so cursor 0 is the start.
type hashPair struct {
	field, value string
	seq          uint64
	exp          int64 // unix ms the field expires at; 0: never
	dead         bool
}

// pairBytes is hashPair's size, for Size.
const pairBytes = 56

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
	// ttls counts the fields with a deadline; minExp and maxExp are the
	// earliest and the latest, exact after settle (stale says they may
	// be too early and too late).
	ttls           int
	minExp, maxExp int64
	stale          bool
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
// begun elsewhere as the node it came from would. The fields' deadlines
// follow, only when there are some (hash_ttl.go), so a hash without any
// is written as before they existed.
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
	return h.appendDeadlines(b)
}

func decodeHash(enc Encoding, data []byte) (Object, error) {
	if enc != EncListpack && enc != EncListpackEx && enc != EncHashtable {
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
	if err := h.decodeDeadlines(data); err != nil {
		return nil, err
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

// Get returns field's value, unless it is absent or expired at now.
func (h *Hash) Get(field []byte, now int64) (string, bool) {
	if i := h.findLive(field, now); i >= 0 {
		return h.pairs[i].value, true
	}
	return "", false
}

// Set sets field to value and reports whether the field is new; a
// field that was there loses its deadline, as HSET's does in Redis 7.4.
// As Redis's hashTypeSet, a field or value longer than
// HashMaxListpackValue makes a listpack a hashtable first, and more than
// HashMaxListpackEntries fields after it; a hashtable stays one.
func (h *Hash) Set(field, value []byte, lim EncodingLimits, now int64) bool {
	return h.set(field, value, lim, now, false)
}

// SetKeepTTL is Set keeping the deadline of a field that was there, as
// HINCRBY and HINCRBYFLOAT do.
func (h *Hash) SetKeepTTL(field, value []byte, lim EncodingLimits, now int64) bool {
	return h.set(field, value, lim, now, true)
}

func (h *Hash) set(field, value []byte, lim EncodingLimits, now int64, keepTTL bool) bool {
	if h.idx == nil && (int64(len(field)) > lim.HashMaxListpackValue || int64(len(value)) > lim.HashMaxListpackValue) {
		h.toHashtable()
	}
	i := h.find(field)
	if i >= 0 && h.pairs[i].expired(now) {
		h.Delete(field, now) // an expired field is replaced by a new one
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

// ConvertIfLong makes a listpack a hashtable when any of args is longer
// than HashMaxListpackValue, as HSET checks all its arguments before
// setting any (hashTypeTryConversion).
func (h *Hash) ConvertIfLong(args [][]byte, lim EncodingLimits) {
	if h.idx != nil {
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

// Delete removes field, expired or not; it reports whether the field
// was there and not expired at now.
func (h *Hash) Delete(field []byte, now int64) bool {
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

// Each calls fn for every field not expired at now, in order, until fn
// returns false.
func (h *Hash) Each(now int64, fn func(field, value string) bool) {
	for i := range h.pairs {
		if p := &h.pairs[i]; p.visible(now) && !fn(p.field, p.value) {
			return
		}
	}
}

// Random returns a field and value not expired at now, chosen by r, which
// returns a number in [0, n); Visible(now) must not be 0.
func (h *Hash) Random(now int64, r func(n int) int) (field, value string) {
	for try := 0; h.ttls == 0 || try < 64; try++ {
		// Holes are at most half the slice (compact), so this ends
		// after two tries on average when no field has a deadline.
		if p := &h.pairs[r(len(h.pairs))]; p.visible(now) {
			return p.field, p.value
		}
	}
	// Mostly expired fields: pick uniformly among the visible.
	k := r(h.Visible(now))
	h.Each(now, func(f, v string) bool {
		if k == 0 {
			field, value = f, v
			return false
		}
		k--
		return true
	})
	return field, value
}

// Scan calls fn for about count fields not expired at now from cursor on
// and returns the cursor to continue from, 0 when done. A listpack is
// returned whole in one call, as Redis does.
func (h *Hash) Scan(now int64, cursor uint64, count int, fn func(field, value string)) uint64 {
	if h.idx == nil {
		h.Each(now, func(f, v string) bool { fn(f, v); return true })
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
