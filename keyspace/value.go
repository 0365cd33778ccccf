package keyspace

import (
	"strconv"
	"sync/atomic"
)

// Kind is a value's Redis type.
type Kind uint8

// The kinds of value, in Redis's TYPE names.
const (
	KindString Kind = iota + 1
)

// String returns the name TYPE replies with.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	}
	return "none"
}

// Encoding is a value's internal representation as OBJECT ENCODING names
// it. LoomCache keeps Redis's names so tools that read them keep working.
type Encoding uint8

// Encodings.
const (
	EncRaw Encoding = iota
	EncInt
	EncEmbstr
)

// String returns the OBJECT ENCODING name.
func (e Encoding) String() string {
	switch e {
	case EncInt:
		return "int"
	case EncEmbstr:
		return "embstr"
	}
	return "raw"
}

// embstrLimit is Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const embstrLimit = 44

// Value is one key's value. A Value reachable from a DB is only changed by
// the applier holding the store's write lock.
type Value struct {
	kind Kind
	enc  Encoding
	str  []byte
	// access is the local clock (unix ms) of the last access, for OBJECT
	// IDLETIME. It is not replicated state.
	access atomic.Int64
}

// NewString returns a string value holding a copy of b, encoded as Redis
// would encode a value set by SET.
func NewString(b []byte) *Value {
	v := &Value{kind: KindString, str: append([]byte(nil), b...)}
	switch {
	case len(b) <= 20 && isCanonicalInt(b):
		v.enc = EncInt
	case len(b) <= embstrLimit:
		v.enc = EncEmbstr
	default:
		v.enc = EncRaw
	}
	return v
}

// NewInt returns a string value holding n, as INCR leaves it.
func NewInt(n int64) *Value {
	return &Value{kind: KindString, enc: EncInt, str: strconv.AppendInt(nil, n, 10)}
}

// NewRawString returns a string value that takes ownership of b and is
// encoded "raw", as APPEND and SETRANGE leave a value.
func NewRawString(b []byte) *Value {
	return &Value{kind: KindString, enc: EncRaw, str: b}
}

// Kind returns the value's type.
func (v *Value) Kind() Kind { return v.kind }

// Encoding returns the value's OBJECT ENCODING.
func (v *Value) Encoding() Encoding { return v.enc }

// Bytes returns a string value's bytes. Callers must not modify them.
func (v *Value) Bytes() []byte { return v.str }

// Touch records an access at now (unix ms, local clock).
func (v *Value) Touch(now int64) { v.access.Store(now) }

// Accessed returns the time of the last recorded access.
func (v *Value) Accessed() int64 { return v.access.Load() }

// Clone returns a deep copy, as COPY needs.
func (v *Value) Clone() *Value {
	c := &Value{kind: v.kind, enc: v.enc, str: append([]byte(nil), v.str...)}
	c.access.Store(v.access.Load())
	return c
}

// isCanonicalInt reports whether b is an integer Redis's string2l accepts
// and would print back identically.
func isCanonicalInt(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return false
	}
	var tmp [20]byte
	return string(strconv.AppendInt(tmp[:0], n, 10)) == string(b)
}
