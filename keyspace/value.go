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
	// copied marks a value made by Clone: Redis's COPY gives even a small
	// integer an object of its own instead of the shared one (see Shared).
	copied bool
	meta   valueMeta // its database and LFU counter (lfu.go, evict.go)
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

// NewStringObject returns a string value holding a copy of b, encoded as
// Redis's createStringObject leaves it (embstr up to 44 bytes, raw beyond,
// never int), as INCRBYFLOAT stores its result.
func NewStringObject(b []byte) *Value {
	v := &Value{kind: KindString, enc: EncRaw, str: append([]byte(nil), b...)}
	if len(b) <= embstrLimit {
		v.enc = EncEmbstr
	}
	return v
}

// Append appends b to a string value in place, as APPEND does, leaving it
// raw, and returns the new length. The caller holds the store's write lock.
func (v *Value) Append(b []byte) int {
	v.grew(len(b))
	v.str = append(v.str, b...)
	v.enc = EncRaw
	return len(v.str)
}

// SetRange overwrites a string value from off with b in place, zero-padding
// it first if it is shorter, as SETRANGE does, leaving it raw, and returns
// the new length. The caller holds the store's write lock.
func (v *Value) SetRange(off int, b []byte) int {
	if end := off + len(b); end > len(v.str) {
		v.grew(end - len(v.str))
		v.str = append(v.str, make([]byte, end-len(v.str))...)
	}
	copy(v.str[off:], b)
	v.enc = EncRaw
	return len(v.str)
}

// Kind returns the value's type.
func (v *Value) Kind() Kind { return v.kind }

// Encoding returns the value's OBJECT ENCODING.
func (v *Value) Encoding() Encoding { return v.enc }

// Bytes returns a string value's bytes. Callers must not modify them.
func (v *Value) Bytes() []byte { return v.str }

// Touch records an access at now (unix ms, local clock) and, under an
// LFU policy, counts it (lfu.go).
func (v *Value) Touch(now int64) {
	v.access.Store(now)
	v.countAccess(now)
}

// Accessed returns the time of the last recorded access.
func (v *Value) Accessed() int64 { return v.access.Load() }

// Clone returns a deep copy, as COPY needs.
func (v *Value) Clone() *Value {
	c := &Value{kind: v.kind, enc: v.enc, str: append([]byte(nil), v.str...), copied: true}
	c.access.Store(v.access.Load())
	return c
}

// Shared reports whether Redis would hold this value as one of its shared
// integer objects (0..9999, int-encoded, as SET and INCR store them and a
// restart reloads them), which OBJECT REFCOUNT reports as 2147483647.
func (v *Value) Shared() bool {
	if v.kind != KindString || v.enc != EncInt || v.copied || len(v.str) > 4 {
		return false
	}
	n, err := strconv.Atoi(string(v.str))
	return err == nil && n >= 0 && n < 10000
}

// isCanonicalInt reports whether b is an integer Redis's string2l accepts
// and would print back identically.
func isCanonicalInt(b []byte) bool {
	// Most values are not numbers: a byte ParseInt would refuse fails
	// them here, without the error ParseInt allocates.
	if len(b) == 0 || (b[0] < '0' || b[0] > '9') && b[0] != '-' || b[len(b)-1] < '0' || b[len(b)-1] > '9' {
		return false
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return false
	}
	var tmp [20]byte
	return string(strconv.AppendInt(tmp[:0], n, 10)) == string(b)
}
