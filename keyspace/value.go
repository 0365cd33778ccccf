package keyspace

import (
	"errors"
	"strconv"
	"unsafe"
)

// Kind is a value's Redis type.
type Kind uint8

// The kinds of value. Their numbers are in snapshots: never renumber.
const (
	KindString Kind = iota + 1
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
)

var kindNames = [...]string{KindString: "string", KindList: "list", KindSet: "set", KindZSet: "zset", KindHash: "hash", KindStream: "stream"}

// String returns the name TYPE replies with.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "none"
}

// Encoding is a value's internal representation as OBJECT ENCODING names
// it. LoomCache keeps Redis's names so tools that read them keep working.
// The numbers are in snapshots: never renumber.
type Encoding uint8

// Encodings.
const (
	EncRaw Encoding = iota
	EncInt
	EncEmbstr
	EncListpack
	EncQuicklist
	EncIntset
	EncHashtable
	EncSkiplist
	EncStream
	// EncListpackEx is Redis 7.4's listpack of a hash whose fields have
	// (or had) deadlines.
	EncListpackEx
)

var encodingNames = [...]string{EncRaw: "raw", EncInt: "int", EncEmbstr: "embstr", EncListpack: "listpack",
	EncQuicklist: "quicklist", EncIntset: "intset", EncHashtable: "hashtable", EncSkiplist: "skiplist", EncStream: "stream",
	EncListpackEx: "listpackex"}

// String returns the OBJECT ENCODING name.
func (e Encoding) String() string {
	if int(e) < len(encodingNames) {
		return encodingNames[e]
	}
	return "unknown"
}

// ErrWrongType is Redis's reply to a command on a key of another kind.
var ErrWrongType = errors.New("WRONGTYPE Operation against a key holding the wrong kind of value")

// Object is the seam every kind of value but the inline string sits
// behind: a list, a hash, a set, a sorted set, a stream, or a string that
// has been appended to. The keyspace does the rest in one place: type
// checks, deadlines, deleting a key whose collection became empty,
// versions, memory accounting, copy-on-write for snapshots.
type Object interface {
	Kind() Kind
	Encoding() Encoding
	// Len is the number of elements; a collection of 0 is deleted.
	Len() int
	// Size is the memory the value holds, in bytes.
	Size() int64
	// Clone returns a deep copy (COPY, and a snapshot's copy of a value
	// about to change).
	Clone() Object
	// AppendSnapshot appends the value's snapshot encoding.
	AppendSnapshot(b []byte) []byte
}

// Value is a value to store: built by NewString and its kin, or an
// Object. Set copies a string's bytes into the key's own allocation, so
// the bytes given may be the caller's buffer.
type Value struct {
	kind Kind
	enc  Encoding
	str  []byte
	obj  Object
	// copied: made by Entry.Clone (see Entry.Shared).
	copied bool
	// access is the access word a value moved from another key keeps
	// (RENAME, MOVE); 0: the value is new.
	access uint32
}

// embstrLimit is Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT.
const embstrLimit = 44

// NewString returns a string value of b, encoded as Redis encodes a value
// set by SET.
func NewString(b []byte) Value {
	v := Value{kind: KindString, str: b}
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
func NewInt(n int64) Value {
	return Value{kind: KindString, enc: EncInt, str: strconv.AppendInt(nil, n, 10)}
}

// AdoptString is NewString for bytes the caller gives up: a string too
// large to be worth copying into the key's allocation is kept as b itself
// (raw, the encoding NewString gives it too), never to be changed. The
// caller must not change b.
func AdoptString(b []byte) Value {
	if len(b) <= adoptMin {
		return NewString(b)
	}
	return ObjectValue(&keptString{b: b})
}

// adoptMin is the largest string AdoptString copies.
const adoptMin = 64 << 10

// NewRawString returns a string value encoded "raw", as SETRANGE leaves
// a value it creates. It is kept as an Object, ready to grow in place.
func NewRawString(b []byte) Value {
	return ObjectValue(&rawString{b: b})
}

// NewStringObject returns a string value encoded as Redis's
// createStringObject leaves it (embstr up to 44 bytes, raw beyond, never
// int), as INCRBYFLOAT stores its result.
func NewStringObject(b []byte) Value {
	v := Value{kind: KindString, enc: EncRaw, str: b}
	if len(b) <= embstrLimit {
		v.enc = EncEmbstr
	}
	return v
}

// ObjectValue returns a value held by o.
func ObjectValue(o Object) Value { return Value{kind: o.Kind(), enc: o.Encoding(), obj: o} }

// Entry is a key's slot as readers and appliers see it. It is valid while
// the caller holds the store's lock, and only until the next change to
// its database.
type Entry entry

// Kind returns the value's type.
func (e *Entry) Kind() Kind { return e.kind }

// Encoding returns the value's OBJECT ENCODING.
func (e *Entry) Encoding() Encoding {
	if e.obj != nil {
		return e.obj.Encoding()
	}
	return e.enc
}

// Key returns the key.
func (e *Entry) Key() string { return e.kv[:e.klen] }

// Deadline returns the key's deadline (unix ms), 0 if it has none.
func (e *Entry) Deadline() int64 { return e.deadline }

// Bytes returns a string value's bytes. Callers must not modify them, nor
// keep them past the lock.
func (e *Entry) Bytes() []byte {
	switch o := e.obj.(type) {
	case *rawString:
		return o.b
	case *keptString:
		return o.b
	}
	s := e.kv[e.klen:]
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// FixedBytes returns a string's bytes, and whether they never change in
// place (an inline string's, or a kept one's): then they stay valid, and
// the same, once the lock is released, whatever happens to the key.
func (e *Entry) FixedBytes() ([]byte, bool) {
	return fixedBytes((*entry)(e))
}

// Object returns the value's Object, nil for an inline string.
func (e *Entry) Object() Object { return e.obj }

// Value returns the entry's value, sharing its bytes or Object, with its
// access data: for moving it to another key (Set copies a string's
// bytes).
func (e *Entry) Value() Value {
	a := loadAccess((*entry)(e))
	if e.obj != nil {
		return Value{kind: e.kind, enc: e.obj.Encoding(), obj: e.obj, access: a}
	}
	return Value{kind: e.kind, enc: e.enc, str: e.Bytes(), access: a}
}

// Clone returns a deep copy of the value, as COPY makes.
func (e *Entry) Clone() Value {
	v := e.Value()
	if v.obj != nil {
		v.obj = v.obj.Clone()
	}
	v.copied = true
	v.access = 0 // a new object, as COPY makes
	return v
}

// Shared reports whether Redis would hold this value as one of its shared
// integer objects (0..9999, int-encoded, as SET and INCR store them and a
// restart reloads them), which OBJECT REFCOUNT reports as 2147483647.
func (e *Entry) Shared() bool {
	if e.kind != KindString || e.obj != nil || e.enc != EncInt || e.flags&flagCopied != 0 || len(e.kv)-int(e.klen) > 4 {
		return false
	}
	n, err := strconv.Atoi(e.kv[e.klen:])
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
