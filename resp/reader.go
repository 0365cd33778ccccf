package resp

import (
	"bytes"
	"errors"
	"io"
	"math"

	"github.com/loomcache/loomcache/internal/memcopy"
)

// Limits Redis applies while reading a request (networking.c).
const (
	// MaxInline bounds an inline request line and any length header.
	MaxInline = 64 * 1024
	// DefaultMaxBulk is Redis's default proto-max-bulk-len.
	DefaultMaxBulk = 512 * 1024 * 1024
	// UnauthMaxArgs and UnauthMaxBulk bound requests from a client that has
	// not authenticated yet (CVE-2021-32675).
	UnauthMaxArgs = 10
	UnauthMaxBulk = 16384
)

// ProtocolError is a malformed request. Redis replies "-ERR Protocol
// error: ..." and closes the connection after the reply.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

var (
	errTooBigInline    = &ProtocolError{"too big inline request"}
	errTooBigMbulk     = &ProtocolError{"too big mbulk count string"}
	errTooBigBulkCount = &ProtocolError{"too big bulk count string"}
	errMultibulkLen    = &ProtocolError{"invalid multibulk length"}
	errBulkLen         = &ProtocolError{"invalid bulk length"}
	errUnauthMultibulk = &ProtocolError{"unauthenticated multibulk length"}
	errUnauthBulk      = &ProtocolError{"unauthenticated bulk length"}
	errQuotes          = &ProtocolError{"unbalanced quotes in request"}
)

// ErrQueryBufferLimit is returned when the request being read grows past
// the reader's MaxQueryBuffer (client-query-buffer-limit); Redis closes
// such a client without a reply.
var ErrQueryBufferLimit = errors.New("query buffer limit exceeded")

// Reader parses requests from a connection. It reads in large chunks and
// hands out arguments that point into its buffer: they stay valid only until
// the next call to ReadCommand.
type Reader struct {
	rd    io.Reader
	buf   []byte
	start int // first byte of the request being parsed
	pos   int // parse position
	end   int // end of buffered data

	need int   // arguments still to read in a multibulk request; 0: none begun
	bulk int   // length of the bulk being read; -1 while reading its header
	offs []int // start/end pairs of parsed arguments, relative to start
	args [][]byte
	tmp  [][]byte // inline arguments (copied, as inline unescapes)

	// MaxBulk is proto-max-bulk-len.
	MaxBulk int64
	// MaxQueryBuffer is client-query-buffer-limit: ReadCommand fails with
	// ErrQueryBufferLimit once the request being read holds more than
	// this, counting its bytes and the index of its parsed arguments
	// (argIndexCost each), and the Reader never holds more than
	// MaxQueryBuffer+readSlack for it, whatever lengths it declares.
	// 0: no bound.
	MaxQueryBuffer int
	// Unauthenticated applies Redis's tighter limits for clients that must
	// still authenticate.
	Unauthenticated bool
}

const minBuffer = 16 * 1024

// initialBuffer is a new connection's read buffer: small, so that a node
// holds very many idle connections cheaply; the first read that fills it
// grows it to minBuffer.
const initialBuffer = 1024

// NewReader returns a Reader over rd with Redis's default limits.
func NewReader(rd io.Reader) *Reader {
	return &Reader{rd: rd, buf: make([]byte, initialBuffer), bulk: -1, MaxBulk: DefaultMaxBulk}
}

// Buffered reports the size of the next request if it is complete in
// memory, so that ReadCommand will return without reading; 0 otherwise.
// A server flushes its replies once it is zero: a pipeline gets one write,
// and no reply waits behind a request that is still arriving (Redis
// answers the complete requests of a read before the rest comes).
func (r *Reader) Buffered() int {
	if r.need != 0 {
		return 0
	}
	for p := r.pos; p < r.end; {
		next, args, ok := r.scan(p)
		if !ok {
			return 0
		}
		if args {
			return next - r.pos
		}
		p = next // an empty request, which ReadCommand skips
	}
	return 0
}

// scan finds the end of the well-formed, complete request starting at p
// without parsing it; ok is false otherwise (then ReadCommand may block,
// or fail: answering 0 for a malformed request only flushes early).
func (r *Reader) scan(p int) (next int, args, ok bool) {
	b := r.buf[:r.end]
	if b[p] != '*' {
		nl := strchr(b[p:], '\n')
		if nl < 0 {
			return 0, false, false
		}
		for _, c := range b[p : p+nl] {
			if !isSpace(c) {
				return p + nl + 1, true, true
			}
		}
		return p + nl + 1, false, true
	}
	nl := strchr(b[p:], '\r')
	if nl < 0 || p+nl+1 >= len(b) {
		return 0, false, false
	}
	n, valid := ParseInt(b[p+1 : p+nl])
	if !valid || n > math.MaxInt32 {
		return 0, false, false
	}
	p += nl + 2
	if n <= 0 {
		return p, false, true
	}
	for ; n > 0; n-- {
		nl := strchr(b[p:], '\r')
		if nl < 0 || p+nl+1 >= len(b) || b[p] != '$' {
			return 0, false, false
		}
		l, valid := ParseInt(b[p+1 : p+nl])
		if !valid || l < 0 {
			return 0, false, false
		}
		p += nl + 2
		if int64(len(b)-p-2) < l {
			return 0, false, false
		}
		p += int(l) + 2
	}
	return p, true, true
}

// ReadCommand returns the next request's arguments, reading from the
// connection as needed. Empty requests are skipped as Redis skips them.
// The error is a *ProtocolError for malformed input, ErrQueryBufferLimit, or
// the connection's read error. After an error the Reader must not be used.
func (r *Reader) ReadCommand() ([][]byte, error) {
	for {
		args, done, err := r.parse()
		if err != nil {
			return nil, err
		}
		if done {
			if len(args) == 0 {
				continue
			}
			return args, nil
		}
		// Everything buffered from start on is the incomplete request:
		// checked after each read, as Redis checks its query buffer.
		if r.overLimit() {
			return nil, ErrQueryBufferLimit
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// maxIdleBuffer is the most buffer a Reader keeps while it waits for
// input: a connection idle after a big request must not pin its memory.
const maxIdleBuffer = 4 * minBuffer

// trustBulk is the largest bulk length a Reader allocates for on the
// strength of its header alone.
const trustBulk = 1 << 20

// bulkEarned: a Reader allocates a bulk's whole length once its request
// has sent that length's share (one part in bulkEarned).
const bulkEarned = 8

// argIndexCost is what each argument of a request costs beyond its bytes:
// its start/end pair in offs (16 bytes) and, once the request is
// complete, its slice header in args (24). Redis 7.0 counts only the
// unparsed bytes, as it moves parsed arguments out of its query buffer;
// here they stay in the buffer, so the index is counted too, or a request
// of many empty arguments could hold several times the limit.
const argIndexCost = 40

// readSlack is how far past MaxQueryBuffer the buffer may grow: room for
// the read that finds the request over the limit.
const readSlack = minBuffer

// indexBytes is what the argument index of the request being read holds,
// counted by capacity: memory held, not just used.
func (r *Reader) indexBytes() int { return cap(r.offs) / 2 * argIndexCost }

// room is the most the buffer and the index may hold together: the
// limit and one read (no bound when the limit is that large).
func (r *Reader) room() int {
	if r.MaxQueryBuffer > math.MaxInt-readSlack {
		return math.MaxInt
	}
	return r.MaxQueryBuffer + readSlack
}

// overLimit reports whether the request being read holds more than
// MaxQueryBuffer: its bytes received so far plus its argument index. It
// is asked when parse stopped for want of bytes, so that every byte from
// start on belongs to that one incomplete request.
func (r *Reader) overLimit() bool {
	return r.MaxQueryBuffer > 0 && r.end-r.start+r.indexBytes() > r.MaxQueryBuffer
}

// fill reads more bytes, compacting or growing the buffer first if full.
// It runs only inside ReadCommand, when the previous request's arguments
// are no longer in use.
func (r *Reader) fill() error {
	if len(r.buf) > maxIdleBuffer && r.end-r.start <= minBuffer/4 {
		r.shrink()
	}
	if r.end == len(r.buf) {
		if r.start > 0 && len(r.buf) < minBuffer {
			// A connection that has filled its small first buffer is busy:
			// give it the working size rather than compacting in place.
			nb := make([]byte, minBuffer)
			n := copy(nb, r.buf[r.start:r.end])
			r.buf = nb
			r.pos -= r.start
			r.end = n
			r.start = 0
		} else if r.start > 0 {
			n := memcopy.Copy(r.buf, r.buf[r.start:r.end])
			r.pos -= r.start
			r.end = n
			r.start = 0
		} else {
			size := max(2*len(r.buf), minBuffer)
			if r.need > 0 && r.bulk >= 0 && (r.bulk <= trustBulk || r.bulk < size-r.pos-2 || r.bulk/bulkEarned <= r.end-r.start) {
				// Grow straight to what the current argument needs if that is
				// modest, less than double, or a good part of it has come;
				// short of that a length alone earns no memory, the bytes
				// received must. (Doubling all the way to a 200 MB bulk
				// allocated and copied twice its size, and fresh memory is
				// what a big write costs most.)
				size = max(r.pos+r.bulk+2, minBuffer)
			}
			if r.MaxQueryBuffer > 0 {
				// The whole buffer is this request's: it and the index
				// together stay within the limit and one read.
				size = min(size, r.room()-r.indexBytes())
				if size <= len(r.buf) {
					return ErrQueryBufferLimit
				}
			}
			nb := make([]byte, size)
			memcopy.Copy(nb, r.buf[:r.end])
			r.buf = nb
		}
	}
	n, err := r.rd.Read(r.buf[r.end:])
	r.end += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// shrink moves the few unparsed bytes to a small buffer and drops every
// reference into the big one, so the garbage collector can take it.
func (r *Reader) shrink() {
	nb := make([]byte, minBuffer)
	n := copy(nb, r.buf[r.start:r.end])
	r.pos -= r.start
	r.end = n
	r.start = 0
	r.buf = nb
	clear(r.args[:cap(r.args)])
	clear(r.tmp[:cap(r.tmp)])
	if cap(r.args) > 1024 {
		r.args, r.tmp = nil, nil
	}
	if cap(r.offs) > 2048 && r.need == 0 {
		r.offs = nil
	}
}

// parse tries to complete one request from the buffered bytes. It follows
// processMultibulkBuffer and processInlineBuffer of Redis 7.0's networking.c.
func (r *Reader) parse() (args [][]byte, done bool, err error) {
	if r.need == 0 {
		if r.pos == r.end {
			return nil, false, nil
		}
		if r.buf[r.pos] != '*' {
			return r.parseInline()
		}
		nl := strchr(r.buf[r.pos:r.end], '\r')
		if nl < 0 {
			if r.end-r.pos > MaxInline {
				return nil, false, errTooBigMbulk
			}
			return nil, false, nil
		}
		if r.pos+nl+1 >= r.end {
			return nil, false, nil // the byte after '\r' has not arrived
		}
		n, ok := ParseInt(r.buf[r.pos+1 : r.pos+nl])
		if !ok || n > math.MaxInt32 {
			return nil, false, errMultibulkLen
		}
		if r.Unauthenticated && n > UnauthMaxArgs {
			return nil, false, errUnauthMultibulk
		}
		// Redis skips the byte after '\r' without checking it is '\n'.
		r.pos += nl + 2
		if n <= 0 {
			r.start = r.pos
			return nil, true, nil
		}
		r.need = int(n)
		r.bulk = -1
		r.offs = r.offs[:0]
	}
	for r.need > 0 {
		if r.bulk < 0 {
			nl := strchr(r.buf[r.pos:r.end], '\r')
			if nl < 0 {
				if r.end-r.pos > MaxInline {
					return nil, false, errTooBigBulkCount
				}
				return nil, false, nil
			}
			if r.pos+nl+1 >= r.end {
				return nil, false, nil
			}
			if c := r.buf[r.pos]; c != '$' {
				return nil, false, &ProtocolError{"expected '$', got '" + string([]byte{c}) + "'"}
			}
			n, ok := ParseInt(r.buf[r.pos+1 : r.pos+nl])
			if !ok || n < 0 || n > r.MaxBulk || n > math.MaxInt-2 {
				return nil, false, errBulkLen
			}
			if r.Unauthenticated && n > UnauthMaxBulk {
				return nil, false, errUnauthBulk
			}
			r.pos += nl + 2
			r.bulk = int(n)
		}
		// Written so that no sum can overflow whatever MaxBulk is. A
		// declared length is not held against the limit, only the bytes
		// that arrive (as in Redis, which waits for them).
		if r.end-r.pos-2 < r.bulk {
			return nil, false, nil
		}
		if len(r.offs) == cap(r.offs) && !r.growIndex() {
			return nil, false, ErrQueryBufferLimit
		}
		r.offs = append(r.offs, r.pos-r.start, r.pos-r.start+r.bulk)
		// Redis skips the two bytes after a bulk without looking at them.
		r.pos += r.bulk + 2
		r.bulk = -1
		r.need--
	}
	if n := len(r.offs) / 2; cap(r.args) < n {
		r.args = make([][]byte, 0, n) // exactly: the index was counted for n
	}
	r.args = r.args[:0]
	base := r.buf[r.start:]
	for i := 0; i < len(r.offs); i += 2 {
		r.args = append(r.args, base[r.offs[i]:r.offs[i+1]:r.offs[i+1]])
	}
	r.start = r.pos
	return r.args, true, nil
}

// growIndex doubles offs' capacity, unless the buffer and the bigger
// index would hold more than the limit (and one read) allows.
func (r *Reader) growIndex() bool {
	c := max(2*cap(r.offs), 16)
	if r.MaxQueryBuffer > 0 && len(r.buf)+c/2*argIndexCost > r.room() {
		return false
	}
	offs := make([]int, len(r.offs), c)
	copy(offs, r.offs)
	r.offs = offs
	return true
}

func (r *Reader) parseInline() ([][]byte, bool, error) {
	nl := strchr(r.buf[r.pos:r.end], '\n')
	if nl < 0 {
		if r.end-r.pos > MaxInline {
			return nil, false, errTooBigInline
		}
		return nil, false, nil
	}
	line := r.buf[r.pos : r.pos+nl]
	r.pos += nl + 1
	r.start = r.pos
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	args, ok := SplitArgs(line, r.tmp[:0])
	if !ok {
		return nil, false, errQuotes
	}
	r.tmp = args
	return args, true, nil
}

// strchr finds c in b as C's strchr does in Redis's NUL-terminated query
// buffer: a NUL byte ends the search, so a request with a NUL before its
// line end waits for more input (and ends as "too big") exactly as in Redis.
func strchr(b []byte, c byte) int {
	i := bytes.IndexByte(b, c)
	if i > 0 && bytes.IndexByte(b[:i], 0) >= 0 {
		return -1
	}
	return i
}

// SplitArgs splits an inline request line the way Redis's sdssplitargs
// does: spaces separate, "double quotes" take \n \r \t \b \a \xHH escapes,
// 'single quotes' take \'. ok is false for unbalanced quotes. The returned
// arguments are fresh copies.
func SplitArgs(line []byte, dst [][]byte) (args [][]byte, ok bool) {
	if i := bytes.IndexByte(line, 0); i >= 0 {
		line = line[:i] // C string semantics: a NUL ends the line
	}
	p := 0
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return dst, true
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inq:
				if c == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)) {
					cur = append(cur, unhex(at(p+2))<<4|unhex(at(p+3)))
					p += 3
				} else if c == '\\' && at(p+1) != 0 {
					p++
					switch e := at(p); e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				} else if c == '"' {
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				} else if c == 0 {
					return nil, false
				} else {
					cur = append(cur, c)
				}
			case insq:
				if c == '\\' && at(p+1) == '\'' {
					p++
					cur = append(cur, '\'')
				} else if c == '\'' {
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				} else if c == 0 {
					return nil, false
				} else {
					cur = append(cur, c)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c)
				}
			}
			if p < len(line) {
				p++
			}
		}
		if cur == nil {
			cur = []byte{}
		}
		dst = append(dst, cur)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// ParseInt parses an integer the way Redis's string2ll does, for lengths
// here and for command arguments: optional '-', no '+', no leading zeros,
// no spaces, within int64.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := false
	if b[0] == '-' {
		neg = true
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > (math.MaxUint64-9)/10 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
