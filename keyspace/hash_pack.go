package keyspace

import (
	"encoding/binary"
	"math"
	"strings"
	"unsafe"
)

// A plain listpack hash is one packed buffer, as Redis's listpack: each
// field then its value, in insertion order, each a uvarint length and
// its bytes (as appendString writes them). The buffer is never changed
// once built: a change builds a new one (Redis reallocs its listpack at
// each change too), so the strings read from it may point into it, and
// a clone shares it. Its allocation is exactly its length's size class,
// so Size is exact.

// packed returns the buffer (nil when empty or not a listpack).
func (h *Hash) packed() []byte {
	if h.lp == nil {
		return nil
	}
	return unsafe.Slice(h.lp, h.n)
}

// setPacked keeps b, of cnt fields, as the hash's buffer.
func (h *Hash) setPacked(b []byte, cnt int) {
	h.lp, h.n, h.cnt = nil, 0, uint32(cnt)
	if len(b) != 0 {
		h.lp, h.n = unsafe.SliceData(b), uint32(len(b))
	}
}

// packStr reads the string at b[off:] and returns it, pointing into b,
// with the offset after it.
func packStr(b []byte, off int) (string, int) {
	l, k := binary.Uvarint(b[off:])
	off += k
	if l == 0 {
		return "", off
	}
	return unsafe.String(&b[off], int(l)), off + int(l)
}

// packLen is the length of s in the buffer.
func packLen(n int) int {
	var tmp [binary.MaxVarintLen64]byte
	return len(binary.AppendUvarint(tmp[:0], uint64(n))) + n
}

func appendPacked(b, s []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// packFind returns the offsets of field's entry, of its value and after
// it, or start -1 when field is absent.
func packFind(b, field []byte) (start, val, end int) {
	for off := 0; off < len(b); {
		f, v := packStr(b, off)
		_, next := packStr(b, v)
		if f == string(field) {
			return off, v, next
		}
		off = next
	}
	return -1, 0, 0
}

// packHas reports whether field is in b.
func packHas(b, field []byte) bool {
	start, _, _ := packFind(b, field)
	return start >= 0
}

// packGet returns field's value.
func (h *Hash) packGet(field []byte) (string, bool) {
	b := h.packed()
	if start, val, _ := packFind(b, field); start >= 0 {
		v, _ := packStr(b, val)
		return v, true
	}
	return "", false
}

// packSet sets field as Set does, unless the listpack must first become
// a hashtable (ok false, nothing done): as Redis's hashTypeSet converts
// after an update or insert leaving more than HashMaxListpackEntries
// fields (the caller has checked the lengths against
// HashMaxListpackValue).
func (h *Hash) packSet(field, value []byte, lim EncodingLimits) (isNew, ok bool) {
	b := h.packed()
	start, val, end := packFind(b, field)
	cnt := int(h.cnt)
	var n int
	if start >= 0 {
		n = len(b) - (end - val) + packLen(len(value))
	} else {
		cnt++
		n = len(b) + packLen(len(field)) + packLen(len(value))
	}
	if int64(cnt) > lim.HashMaxListpackEntries || n > math.MaxUint32 {
		return false, false
	}
	out := make([]byte, 0, n)
	if start >= 0 {
		out = append(out, b[:val]...)
		out = appendPacked(out, value)
		out = append(out, b[end:]...)
	} else {
		out = append(out, b...)
		out = appendPacked(out, field)
		out = appendPacked(out, value)
	}
	h.setPacked(out, cnt)
	return start < 0, true
}

// packDelete removes field and reports whether it was there.
func (h *Hash) packDelete(field []byte) bool {
	b := h.packed()
	start, _, end := packFind(b, field)
	if start < 0 {
		return false
	}
	out := make([]byte, 0, len(b)-(end-start))
	out = append(out, b[:start]...)
	out = append(out, b[end:]...)
	h.setPacked(out, int(h.cnt)-1)
	return true
}

// packEach calls fn for every field in order until fn returns false.
func (h *Hash) packEach(fn func(field, value string) bool) {
	b := h.packed()
	for off := 0; off < len(b); {
		var f, v string
		f, off = packStr(b, off)
		v, off = packStr(b, off)
		if !fn(f, v) {
			return
		}
	}
}

// toPairs makes the listpack a listpackex or a hashtable, its fields
// numbered from 1 in order. Their strings are copied: one pointing into
// the buffer would keep it all.
func (h *Hash) toPairs(enc Encoding) {
	t := &hashPairs{enc: EncListpackEx, nextSeq: 1, pairs: make([]hashPair, 0, h.cnt)}
	h.packEach(func(f, v string) bool {
		t.push(strings.Clone(f), strings.Clone(v))
		return true
	})
	if enc == EncHashtable {
		t.toHashtable()
	}
	h.t = t
	h.setPacked(nil, 0)
}

// packSnapshot writes a listpack as AppendSnapshot does, its fields
// numbered from 1: a listpack's numbers are no HSCAN cursors (it is
// returned whole) and it is numbered so when it converts.
func (h *Hash) packSnapshot(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(h.cnt))
	b = binary.AppendUvarint(b, uint64(h.cnt)+1)
	seq := uint64(1)
	h.packEach(func(f, v string) bool {
		b = appendString(b, f)
		b = appendString(b, v)
		b = binary.AppendUvarint(b, seq)
		seq++
		return true
	})
	return b
}
