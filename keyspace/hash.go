package keyspace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// The hash kind, in Redis's encodings. A "listpack" (no field has had a
// deadline, at most hash-max-listpack-entries fields of at most
// hash-max-listpack-value bytes) is one packed buffer in insertion order
// (hash_pack.go), so HGETALL of a small hash lists its fields in Redis's
// order and it costs about what Redis's listpack does. A field given a
// deadline (Redis 7.4's hash-field expiry, hash_ttl.go) makes it a
// "listpackex", and passing the limits a "hashtable": both keep their
// fields as hashPairs (hash_pairs.go), and neither goes back. Past its
// deadline, a field is invisible to every read taking a time, and the
// leader proposes its deletion.

// Hash is a hash value. Change it only inside DB.Update. A listpack is
// its buffer's first byte, length and number of fields; t holds any
// other encoding (lp is then nil).
type Hash struct {
	lp     *byte
	n, cnt uint32
	t      *hashPairs
}

// hashBytes is Hash's size, for Size: a size class (TestHashSizeHonest).
const hashBytes = int64(unsafe.Sizeof(Hash{}))

// NewHash returns an empty hash, encoded as Redis creates one (listpack).
func NewHash() *Hash { return &Hash{} }

func (h *Hash) Kind() Kind { return KindHash }

func (h *Hash) Encoding() Encoding {
	if h.t != nil {
		return h.t.enc
	}
	return EncListpack
}

func (h *Hash) Len() int {
	if h.t != nil {
		return h.t.live
	}
	return int(h.cnt)
}

// Size counts the struct and the listpack's buffer or the hashPairs.
func (h *Hash) Size() int64 {
	if h.t != nil {
		return hashBytes + h.t.size()
	}
	return hashBytes + allocSize(int(h.n))
}

// Clone returns a deep copy; a listpack's buffer never changes, so
// sharing it is safe.
func (h *Hash) Clone() Object {
	c := *h
	if h.t != nil {
		c.t = h.t.clone()
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
	if h.t == nil {
		return h.packSnapshot(b)
	}
	t := h.t
	b = binary.AppendUvarint(b, uint64(t.live))
	b = binary.AppendUvarint(b, t.nextSeq)
	for i := range t.pairs {
		if p := &t.pairs[i]; !p.dead {
			b = appendString(b, p.field)
			b = appendString(b, p.value)
			b = binary.AppendUvarint(b, p.seq)
		}
	}
	return t.appendDeadlines(b)
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
	nextSeq, k := binary.Uvarint(data)
	if k <= 0 || nextSeq <= n {
		return nil, errors.New("bad hash sequence")
	}
	data = data[k:]
	// A listpack is packed as it is read (its numbers are checked, then
	// dropped: see packSnapshot); any other encoding is hashPairs.
	var t *hashPairs
	var buf []byte
	if enc == EncListpack {
		buf = make([]byte, 0, len(data))
	} else {
		t = &hashPairs{enc: enc, nextSeq: 1, pairs: make([]hashPair, 0, n)}
		if enc == EncHashtable {
			t.idx = make(map[string]int, n)
		}
	}
	next := func() ([]byte, error) {
		l, k := binary.Uvarint(data)
		if k <= 0 || l > uint64(len(data)-k) {
			return nil, errors.New("bad hash string")
		}
		s := data[k : k+int(l)]
		data = data[k+int(l):]
		return s, nil
	}
	last := uint64(0)
	for i := uint64(0); i < n; i++ {
		f, err := next()
		if err != nil {
			return nil, err
		}
		v, err := next()
		if err != nil {
			return nil, err
		}
		if t != nil && t.find(f) >= 0 || t == nil && packHas(buf, f) {
			return nil, errors.New("a hash field twice")
		}
		seq, k := binary.Uvarint(data)
		if k <= 0 || seq <= last || seq >= nextSeq {
			return nil, errors.New("bad hash field sequence")
		}
		data = data[k:]
		last = seq
		if t == nil {
			buf = appendPacked(appendPacked(buf, f), v)
			continue
		}
		t.nextSeq = seq // push gives it, then moves past it
		t.push(string(f), string(v))
	}
	h := &Hash{t: t}
	if t == nil {
		if len(data) != 0 {
			return nil, errors.New("bytes after a listpack hash")
		}
		h.setPacked(append([]byte(nil), buf...), int(n))
		return h, nil
	}
	t.nextSeq = nextSeq
	if err := t.decodeDeadlines(data); err != nil {
		return nil, err
	}
	return h, nil
}

// Get returns field's value, unless it is absent or expired at now.
func (h *Hash) Get(field []byte, now int64) (string, bool) {
	if h.t == nil {
		return h.packGet(field)
	}
	if i := h.t.findLive(field, now); i >= 0 {
		return h.t.pairs[i].value, true
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
	if h.t == nil {
		if int64(len(field)) <= lim.HashMaxListpackValue && int64(len(value)) <= lim.HashMaxListpackValue {
			if isNew, ok := h.packSet(field, value, lim); ok {
				return isNew
			}
		}
		h.toPairs(EncHashtable)
	}
	return h.t.set(field, value, lim, now, keepTTL)
}

// ConvertIfLong makes a listpack a hashtable when any of args is longer
// than HashMaxListpackValue, as HSET checks all its arguments before
// setting any (hashTypeTryConversion).
func (h *Hash) ConvertIfLong(args [][]byte, lim EncodingLimits) {
	if h.t != nil && h.t.idx != nil {
		return
	}
	for _, a := range args {
		if int64(len(a)) > lim.HashMaxListpackValue {
			if h.t == nil {
				h.toPairs(EncHashtable)
			} else {
				h.t.toHashtable()
			}
			return
		}
	}
}

// Delete removes field, expired or not; it reports whether the field
// was there and not expired at now.
func (h *Hash) Delete(field []byte, now int64) bool {
	if h.t == nil {
		return h.packDelete(field)
	}
	return h.t.delete(field, now)
}

// Each calls fn for every field not expired at now, in order, until fn
// returns false.
func (h *Hash) Each(now int64, fn func(field, value string) bool) {
	if h.t == nil {
		h.packEach(fn)
		return
	}
	h.t.each(now, fn)
}

// Random returns a field and value not expired at now, chosen by r, which
// returns a number in [0, n); Visible(now) must not be 0.
func (h *Hash) Random(now int64, r func(n int) int) (field, value string) {
	if h.t != nil {
		return h.t.random(now, r)
	}
	k := r(int(h.cnt))
	h.packEach(func(f, v string) bool {
		field, value = f, v
		k--
		return k >= 0
	})
	return field, value
}

// RandomN calls fn count times with a field and value not expired at
// now, each chosen by r on its own (repeats allowed), as HRANDFIELD with
// a negative count; Visible(now) must not be 0. A listpack is indexed
// once, so that each pick is O(1) as in Redis's lpRandomPairs.
func (h *Hash) RandomN(now int64, count int, r func(n int) int, fn func(field, value string)) {
	if h.t != nil {
		for range count {
			fn(h.t.random(now, r))
		}
		return
	}
	b := h.packed()
	offs := make([]uint32, 0, h.cnt)
	for off := 0; off < len(b); {
		offs = append(offs, uint32(off))
		_, off = packStr(b, off)
		_, off = packStr(b, off)
	}
	for range count {
		f, off := packStr(b, int(offs[r(len(offs))]))
		v, _ := packStr(b, off)
		fn(f, v)
	}
}

// Scan calls fn for about count fields not expired at now from cursor on
// and returns the cursor to continue from, 0 when done. A listpack is
// returned whole in one call, as Redis does.
func (h *Hash) Scan(now int64, cursor uint64, count int, fn func(field, value string)) uint64 {
	if h.t == nil {
		h.packEach(func(f, v string) bool { fn(f, v); return true })
		return 0
	}
	return h.t.scan(now, cursor, count, fn)
}
