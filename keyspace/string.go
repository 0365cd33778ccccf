package keyspace

import (
	"strings"

	"github.com/loomcache/loomcache/internal/memcopy"
)

// The string kind. A string set by SET, INCR and their kin is stored
// inline, after its key in the entry's one allocation; a string that
// APPEND or SETRANGE changes becomes a rawString, which grows in place.
// A large string whose bytes were given up by their owner (AdoptString,
// a value restored from a snapshot) is kept as a keptString, as is.

// rawString is a string value that grows in place (encoding "raw").
type rawString struct{ b []byte }

func (r *rawString) Kind() Kind                     { return KindString }
func (r *rawString) Encoding() Encoding             { return EncRaw }
func (r *rawString) Len() int                       { return 1 } // a string is never "empty" in the collection sense
func (r *rawString) Size() int64                    { return 24 + allocSize(cap(r.b)) }
func (r *rawString) Clone() Object                  { return &rawString{b: memcopy.Append(nil, r.b)} }
func (r *rawString) AppendSnapshot(b []byte) []byte { return appendBytes(b, r.b) }

func decodeRawString(data []byte) (Object, error) {
	return &rawString{b: memcopy.Append(nil, data)}, nil
}

// keptString is a large string kept in the buffer it came in (encoding
// "raw"), which is never changed: like an inline string's bytes, which it
// stands for, they may be read without the lock that covered the key
// (a snapshot writes them out so) and shared by copies. APPEND and
// SETRANGE make it a rawString first, as they do an inline string.
type keptString struct{ b []byte }

func (k *keptString) Kind() Kind                     { return KindString }
func (k *keptString) Encoding() Encoding             { return EncRaw }
func (k *keptString) Len() int                       { return 1 }
func (k *keptString) Size() int64                    { return 24 + allocSize(cap(k.b)) }
func (k *keptString) Clone() Object                  { return k } // never changed: a copy may share it
func (k *keptString) AppendSnapshot(b []byte) []byte { return appendBytes(b, k.b) }

// Append appends b to the string value of key (which the caller has
// looked up and found to be a string) in place, as APPEND does, leaving it
// raw, and returns the new length. The deadline stays.
func (d *DB) Append(key []byte, b []byte) int {
	e, r := d.rawStringFor(key)
	r.b = append(r.b, b...)
	d.changeEnd(e)
	return len(r.b)
}

// SetRange overwrites key's string value (as for Append) from off with b,
// zero-padding it first if it is shorter, as SETRANGE does, leaving it
// raw, and returns the new length.
func (d *DB) SetRange(key []byte, off int, b []byte) int {
	e, r := d.rawStringFor(key)
	if end := off + len(b); end > len(r.b) {
		r.b = append(r.b, make([]byte, end-len(r.b))...)
	}
	copy(r.b[off:], b)
	d.changeEnd(e)
	return len(r.b)
}

// rawStringFor returns key's string as a rawString about to change,
// converting an inline string (and keeping the old one for a snapshot
// in progress).
func (d *DB) rawStringFor(key []byte) (*entry, *rawString) {
	slot, e := d.lookup(key)
	d.changeBegin(slot, e)
	if r, ok := e.obj.(*rawString); ok {
		return e, r
	}
	v := (*Entry)(e).Bytes()
	r := &rawString{b: memcopy.Append(make([]byte, 0, len(v)+len(v)/2+8), v)}
	// The key alone is the entry's allocation from now on.
	e.kv = strings.Clone(e.kv[:e.klen])
	e.obj = r
	e.enc = EncRaw
	return e, r
}
