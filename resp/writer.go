// Package resp owns the Redis wire protocol: reading commands (RESP
// multibulk and inline) with Redis's limits and errors, and writing replies
// in RESP2 or RESP3. It knows nothing of commands or data; it never blocks
// on I/O by itself beyond the reader it is given.
package resp

import (
	"io"
	"math"
	"net"
	"strconv"

	"github.com/loomcache/loomcache/internal/memcopy"
)

// Writer appends replies to a buffer in the protocol version of one
// connection. RESP3-only types degrade to their RESP2 forms as Redis does.
type Writer struct {
	b     []byte
	Proto int // 2 or 3
	// refs are large bulks written by reference (BulkRef), in order:
	// each goes before b[at]. WriteTo sends them from where they are;
	// Bytes copies them in.
	refs   []ref
	refLen int // their bytes
	// Errors counts the error replies written, so a caller can tell
	// whether a command it ran replied with an error (INFO commandstats).
	Errors int
	// OnError, when set, is told of each error reply written (INFO
	// errorstats); msg is the reply without its '-'.
	OnError func(msg string)
}

type ref struct {
	at int
	p  []byte
}

// NewWriter returns a Writer for RESP2.
func NewWriter() *Writer { return &Writer{b: make([]byte, 0, 4096), Proto: 2} }

// Bytes returns what has been written since the last Reset.
func (w *Writer) Bytes() []byte {
	w.inline()
	return w.b
}

// Len returns the number of buffered bytes.
func (w *Writer) Len() int { return len(w.b) + w.refLen }

// inline copies the bulks written by reference into the buffer.
func (w *Writer) inline() {
	if len(w.refs) == 0 {
		return
	}
	b := make([]byte, 0, w.Len())
	prev := 0
	for _, r := range w.refs {
		b = memcopy.Append(b, w.b[prev:r.at])
		b = memcopy.Append(b, r.p)
		prev = r.at
	}
	w.b = memcopy.Append(b, w.b[prev:])
	w.refs, w.refLen = nil, 0
}

// WriteTo writes what has been written to dst: the bulks written by
// reference from where they are, without a copy.
func (w *Writer) WriteTo(dst io.Writer) (int64, error) {
	if len(w.refs) == 0 {
		n, err := dst.Write(w.b)
		return int64(n), err
	}
	bufs := make(net.Buffers, 0, 2*len(w.refs)+1)
	prev := 0
	for _, r := range w.refs {
		bufs = append(bufs, w.b[prev:r.at], r.p)
		prev = r.at
	}
	bufs = append(bufs, w.b[prev:])
	return bufs.WriteTo(dst)
}

// minRef is the fewest bytes BulkRef and RawRef do not copy.
const minRef = 64 << 10

// BulkRef writes a bulk string as Bulk does, but one of minRef bytes or
// more is not copied: p must stay unchanged until the Writer is reset.
// A 200 MB value then goes to the client from where it is stored.
func (w *Writer) BulkRef(p []byte) {
	if len(p) < minRef {
		w.Bulk(p)
		return
	}
	w.b = append(w.b, '$')
	w.b = strconv.AppendInt(w.b, int64(len(p)), 10)
	w.b = append(w.b, '\r', '\n')
	w.RawRef(p)
	w.b = append(w.b, '\r', '\n')
}

// RawRef is Raw for bytes that stay unchanged until the Writer is reset:
// minRef bytes or more are not copied (as BulkRef's).
func (w *Writer) RawRef(p []byte) {
	if len(p) < minRef {
		w.Raw(p)
		return
	}
	w.refs = append(w.refs, ref{at: len(w.b), p: p})
	w.refLen += len(p)
}

// maxKeep is the most buffer a Writer keeps across Reset: a connection
// idle after one huge reply must not pin that reply's memory.
const maxKeep = 1 << 20

// Reset empties the buffer, keeping its capacity unless a big reply grew
// it past maxKeep.
func (w *Writer) Reset() {
	w.refs, w.refLen = nil, 0
	if cap(w.b) > maxKeep {
		w.b = make([]byte, 0, 4096)
		return
	}
	w.b = w.b[:0]
}

// Truncate drops everything written after the first n bytes.
func (w *Writer) Truncate(n int) {
	w.inline()
	w.b = w.b[:n]
}

// Raw appends bytes verbatim (a large reply a leader sent, in pieces:
// see memcopy).
func (w *Writer) Raw(p []byte) { w.b = memcopy.Append(w.b, p) }

// Status writes a simple string (+OK).
func (w *Writer) Status(s string) {
	w.b = append(w.b, '+')
	w.b = append(w.b, s...)
	w.b = append(w.b, '\r', '\n')
}

// OK writes +OK.
func (w *Writer) OK() { w.b = append(w.b, "+OK\r\n"...) }

// Error writes an error line; msg must include its code ("ERR ...").
// Newlines in msg would break the protocol, so they become spaces as in Redis.
func (w *Writer) Error(msg string) {
	w.Errors++
	if w.OnError != nil {
		w.OnError(msg)
	}
	w.b = append(w.b, '-')
	for i := 0; i < len(msg); i++ {
		c := msg[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.b = append(w.b, c)
	}
	w.b = append(w.b, '\r', '\n')
}

// Int writes an integer reply.
func (w *Writer) Int(n int64) {
	w.b = append(w.b, ':')
	w.b = strconv.AppendInt(w.b, n, 10)
	w.b = append(w.b, '\r', '\n')
}

// Bulk writes a bulk string.
func (w *Writer) Bulk(p []byte) {
	w.b = append(w.b, '$')
	w.b = strconv.AppendInt(w.b, int64(len(p)), 10)
	w.b = append(w.b, '\r', '\n')
	w.b = memcopy.Append(w.b, p)
	w.b = append(w.b, '\r', '\n')
}

// BulkString writes a bulk string from a string.
func (w *Writer) BulkString(s string) {
	w.b = append(w.b, '$')
	w.b = strconv.AppendInt(w.b, int64(len(s)), 10)
	w.b = append(w.b, '\r', '\n')
	w.b = memcopy.AppendString(w.b, s)
	w.b = append(w.b, '\r', '\n')
}

// BulkInt writes an integer as a bulk string.
func (w *Writer) BulkInt(n int64) {
	var tmp [24]byte
	w.Bulk(strconv.AppendInt(tmp[:0], n, 10))
}

// Null writes the null bulk string ($-1 in RESP2, _ in RESP3).
func (w *Writer) Null() {
	if w.Proto == 3 {
		w.b = append(w.b, "_\r\n"...)
		return
	}
	w.b = append(w.b, "$-1\r\n"...)
}

// NullArray writes the null array (*-1 in RESP2, _ in RESP3).
func (w *Writer) NullArray() {
	if w.Proto == 3 {
		w.b = append(w.b, "_\r\n"...)
		return
	}
	w.b = append(w.b, "*-1\r\n"...)
}

func (w *Writer) header(c byte, n int) {
	w.b = append(w.b, c)
	w.b = strconv.AppendInt(w.b, int64(n), 10)
	w.b = append(w.b, '\r', '\n')
}

// Array writes an array header of n elements.
func (w *Writer) Array(n int) { w.header('*', n) }

// Map writes a map header of n key/value pairs (a flat array of 2n in RESP2).
func (w *Writer) Map(n int) {
	if w.Proto == 3 {
		w.header('%', n)
		return
	}
	w.header('*', 2*n)
}

// Set writes a set header of n elements (an array in RESP2).
func (w *Writer) Set(n int) {
	if w.Proto == 3 {
		w.header('~', n)
		return
	}
	w.header('*', n)
}

// Push writes an out-of-band push header (an array in RESP2).
func (w *Writer) Push(n int) {
	if w.Proto == 3 {
		w.header('>', n)
		return
	}
	w.header('*', n)
}

// Double writes a double (a bulk string in RESP2), formatted as Redis does.
func (w *Writer) Double(f float64) {
	if w.Proto == 3 {
		w.b = append(w.b, ',')
		w.b = AppendDouble(w.b, f)
		w.b = append(w.b, '\r', '\n')
		return
	}
	var tmp [32]byte
	w.Bulk(AppendDouble(tmp[:0], f))
}

// Bool writes a boolean (:1/:0 in RESP2).
func (w *Writer) Bool(v bool) {
	if w.Proto == 3 {
		if v {
			w.b = append(w.b, "#t\r\n"...)
		} else {
			w.b = append(w.b, "#f\r\n"...)
		}
		return
	}
	if v {
		w.b = append(w.b, ":1\r\n"...)
	} else {
		w.b = append(w.b, ":0\r\n"...)
	}
}

// Verbatim writes a verbatim string of the given 3-letter format
// (a bulk string in RESP2).
func (w *Writer) Verbatim(format string, s []byte) {
	if w.Proto == 3 {
		w.header('=', len(s)+4)
		w.b = append(w.b, format...)
		w.b = append(w.b, ':')
		w.b = append(w.b, s...)
		w.b = append(w.b, '\r', '\n')
		return
	}
	w.Bulk(s)
}

// AppendDouble formats f as Redis's addReplyDouble does: "%.17g" from
// glibc's printf, with inf, -inf, nan and -nan spelled the C way.
func AppendDouble(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}
