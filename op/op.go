// Package op owns LoomCache's native operation set: every state change (and
// every forwardable request) is one Op with a stable numeric Type and a
// versioned binary encoding. Raft log entries, snapshots' metadata and
// node-to-node forwarding carry these bytes. The decoder validates
// everything and returns errors for unknown types or malformed bytes; it
// never panics. The package imports nothing of the project.
package op

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/loomcache/loomcache/internal/memcopy"
)

// Version is the encoding version written by Encode. Decode also reads
// version 1, the same encoding without the request id.
const Version = 2

// Op is one operation. Fields are generic; each Type documents which it
// uses (see types.go and docs/ops.md). Everything non-deterministic has
// been decided by the proposer: Now is the proposing leader's clock and
// deadlines in Int are absolute unix milliseconds.
type Op struct {
	Type  Type
	DB    int      // database index
	Now   int64    // proposer's clock, unix ms; expiry during apply is judged against it
	Flags uint32   // type-specific flags
	Int   int64    // type-specific integer
	Args  [][]byte // type-specific arguments, usually keys then values
	// Req identifies a write forwarded from a follower, or one a client
	// named (RAFT.REQID), so that the leader applies it at most once
	// however often it is retried.
	Req ReqID
	// Owned is not encoded: Decode's caller sets it when the bytes
	// decoded are the op's alone (an op assembled from its pieces), so
	// that its applier may keep an argument rather than copy it.
	Owned bool
}

// ReqID is a request id: the node that first received the request and
// that node's sequence number for it, or a client's origin (ClientOrigin
// and the client's own name) and its sequence number. The zero ReqID
// means none.
type ReqID struct {
	Origin string // node id, or ClientOrigin + the client's; empty: no request id
	Seq    uint64
}

// ClientOrigin starts the origin of a client's request id (RAFT.REQID):
// no node id holds a NUL byte, so a client's ids never meet a node's.
const ClientOrigin = "\x00"

// IsClient reports whether the id is a client's rather than a node's.
func (r ReqID) IsClient() bool { return len(r.Origin) > 0 && r.Origin[0] == ClientOrigin[0] }

// MaxOrigin bounds the length of a request id's origin (a node id).
const MaxOrigin = 255

// Errors returned by Decode.
var (
	ErrTruncated = errors.New("op: truncated")
	ErrVersion   = errors.New("op: unsupported version")
	ErrUnknown   = errors.New("op: unknown type")
	ErrMalformed = errors.New("op: malformed")
)

// maxArgs bounds the argument count a decoder accepts, so a corrupt count
// cannot make it allocate without bound before it fails.
const maxArgs = 1 << 26

// Encode appends the binary form of o to dst.
func (o *Op) Encode(dst []byte) []byte {
	dst = o.appendHead(dst)
	for _, a := range o.Args {
		dst = binary.AppendUvarint(dst, uint64(len(a)))
		dst = memcopy.Append(dst, a)
	}
	return o.appendTail(dst)
}

// EncodeParts returns Encode's bytes as parts whose concatenation they
// are, and their total length. An argument of at least ref bytes is a
// part of its own, the argument itself: not copied, so it must not change
// while the parts are in use. A large op (a 200 MB SET) is then sent or
// cut into pieces without being copied whole first.
func (o *Op) EncodeParts(ref int) (parts [][]byte, size int) {
	cur := o.appendHead(make([]byte, 0, 64))
	for _, a := range o.Args {
		cur = binary.AppendUvarint(cur, uint64(len(a)))
		if len(a) < ref {
			cur = memcopy.Append(cur, a)
			continue
		}
		parts = append(parts, cur, a)
		size += len(cur) + len(a)
		cur = cur[len(cur):] // the parts before keep their bytes
	}
	cur = o.appendTail(cur)
	return append(parts, cur), size + len(cur)
}

// appendHead appends the encoding's fields before the arguments' bytes.
func (o *Op) appendHead(dst []byte) []byte {
	dst = append(dst, Version)
	dst = binary.AppendUvarint(dst, uint64(o.Type))
	dst = binary.AppendUvarint(dst, uint64(o.DB))
	dst = binary.AppendVarint(dst, o.Now)
	dst = binary.AppendUvarint(dst, uint64(o.Flags))
	dst = binary.AppendVarint(dst, o.Int)
	return binary.AppendUvarint(dst, uint64(len(o.Args)))
}

// appendTail appends the encoding's fields after the arguments.
func (o *Op) appendTail(dst []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(o.Req.Origin)))
	dst = append(dst, o.Req.Origin...)
	return binary.AppendUvarint(dst, o.Req.Seq)
}

// Size returns an upper bound of the encoded size, to size buffers.
func (o *Op) Size() int {
	n := 1 + 8*binary.MaxVarintLen64 + len(o.Req.Origin)
	for _, a := range o.Args {
		n += binary.MaxVarintLen64 + len(a)
	}
	return n
}

// Decode parses b into o. Args alias b: the caller must not modify b while
// o is in use.
func Decode(b []byte, o *Op) error {
	_, err := DecodeInto(b, o, nil)
	return err
}

// DecodeInto is Decode with o.Args taken from spare's capacity when it
// has room for them (capped, so appending to o.Args never writes over
// the rest), which saves an allocation; it returns the rest of spare's
// capacity, as an empty slice.
func DecodeInto(b []byte, o *Op, spare [][]byte) ([][]byte, error) {
	rest, err := decodeInto(b, o, spare)
	if err != nil {
		return spare, err
	}
	return rest, nil
}

func decodeInto(b []byte, o *Op, spare [][]byte) ([][]byte, error) {
	d := decoder{b: b}
	v := d.byte()
	if d.err == nil && v != 1 && v != 2 {
		return nil, fmt.Errorf("%w %d", ErrVersion, v)
	}
	t := d.uvarint()
	db := d.uvarint()
	now := d.varint()
	flags := d.uvarint()
	i := d.varint()
	n := d.uvarint()
	if d.err != nil {
		return nil, d.err
	}
	if t > 0xffff || !Type(t).Known() {
		return nil, fmt.Errorf("%w %d", ErrUnknown, t)
	}
	if db > 1<<20 || flags > 0xffffffff || n > maxArgs || n > uint64(len(d.b)) {
		return nil, ErrMalformed
	}

	var args [][]byte
	if n > 0 && uint64(cap(spare)) >= n {
		room := spare[:cap(spare)]
		args, spare = room[:n:n], room[n:n]
	} else {
		args = make([][]byte, n)
	}
	for k := range args {
		args[k] = d.bytes()
	}
	var req ReqID
	if v >= 2 {
		origin := d.bytes()
		req.Seq = d.uvarint()
		if d.err == nil && len(origin) > MaxOrigin {
			return nil, fmt.Errorf("%w: request origin of %d bytes", ErrMalformed, len(origin))
		}
		req.Origin = string(origin)
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.b))
	}
	if !Type(t).ValidArgs(int(n)) {
		return nil, fmt.Errorf("%w: %d arguments for %s", ErrMalformed, n, Type(t))
	}
	*o = Op{Type: Type(t), DB: int(db), Now: now, Flags: uint32(flags), Int: i, Args: args, Req: req}
	return spare, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = ErrTruncated
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = ErrTruncated
		if n < 0 {
			d.err = ErrMalformed
		}
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = ErrTruncated
		if n < 0 {
			d.err = ErrMalformed
		}
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = ErrTruncated
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}
