package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// readCase is one input and what the Reader makes of it. Every case was
// sent to Redis 7.0.15 (python3 /tmp/raw.py PORT '...'); the reply Redis
// gave is in the redis field so the expectation can be checked by eye:
// the server's badinput_test.go compares the same bytes against a live
// redis-server.
type readCase struct {
	name  string
	in    string
	cmds  [][]string // requests returned, in order
	err   string     // the protocol error ending the input; "" if none (EOF)
	redis string     // what Redis 7.0 replied
}

func rep(s string, n int) string { return strings.Repeat(s, n) }

var readCases = []readCase{
	// Well-formed requests, alone and pipelined.
	{"multibulk", "*1\r\n$4\r\nPING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"inline", "PING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"inline LF only", "PING\n", [][]string{{"PING"}}, "", "+PONG"},
	{"inline CR CR LF", "PING\r\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"inline CR splits", "PING\rPING\r\n", [][]string{{"PING", "PING"}}, "", "$4 PING"},
	{"pipeline", "*1\r\n$4\r\nPING\r\nECHO hi\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
		[][]string{{"PING"}, {"ECHO", "hi"}, {"ECHO", ""}}, "", "+PONG $2 hi $0"},
	{"empty lines", "\r\n\r\n\nPING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"blank line", "  \t \r\nPING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"lone LF", "\n", nil, "", "(nothing)"},
	{"*0 ignored", "*0\r\nPING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"*-1 ignored", "*-1\r\nPING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"*-5 ignored", "*-5\r\nPING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"*minint ignored", "*-9223372036854775808\r\nPING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"bulk with NUL", "*2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n", [][]string{{"ECHO", "a\x00b"}}, "", "$3 a\\x00b"},
	{"bulk CRLF inside", "*2\r\n$4\r\nECHO\r\n$4\r\n\r\n\r\n\r\n", [][]string{{"ECHO", "\r\n\r\n"}}, "", "$4"},
	{"two bytes after bulk skipped", "*1\r\n$4\r\nPINGxyPING\r\n", [][]string{{"PING"}, {"PING"}}, "", "+PONG +PONG"},
	{"byte after CR skipped", "*1\rx$4\r\nPING\r\n", [][]string{{"PING"}}, "", "+PONG"},
	{"inline $-5", "$-5\r\n", [][]string{{"$-5"}}, "", "-ERR unknown command '$-5'"},
	{"reply before error", "PING\r\n*x\r\n", [][]string{{"PING"}}, "invalid multibulk length", "+PONG -ERR"},

	// Incomplete requests wait for more input.
	{"half multibulk", "*3\r\n$3\r\nSET\r\n$1\r\nk", nil, "", "(nothing)"},
	{"header only", "*1\r\n$4\r\nPING", nil, "", "(nothing)"},
	{"CR without LF", "*1\r", nil, "", "(nothing)"},
	{"*2147483647 accepted", "*2147483647\r\n", nil, "", "(nothing)"},
	{"max bulk accepted", "*1\r\n$536870912\r\n", nil, "", "(nothing)"},
	{"64KB inline waits", rep("a", 65536), nil, "", "(nothing)"},

	// Multibulk count errors.
	{"*3000000000", "*3000000000\r\n", nil, "invalid multibulk length", "-ERR Protocol error: invalid multibulk length"},
	{"*2147483648", "*2147483648\r\n", nil, "invalid multibulk length", "same"},
	{"*99999999999999999999", "*99999999999999999999\r\n", nil, "invalid multibulk length", "same"},
	{"*below minint", "*-9223372036854775809\r\n", nil, "invalid multibulk length", "same"},
	{"* empty", "*\r\n", nil, "invalid multibulk length", "same"},
	{"*+1", "*+1\r\n", nil, "invalid multibulk length", "same"},
	{"*01", "*01\r\n", nil, "invalid multibulk length", "same"},
	{"*1 space", "*1 \r\n$4\r\nPING\r\n", nil, "invalid multibulk length", "same"},

	// Bulk length errors.
	{"$-5", "*1\r\n$-5\r\n", nil, "invalid bulk length", "-ERR Protocol error: invalid bulk length"},
	{"$-1", "*1\r\n$-1\r\n", nil, "invalid bulk length", "same"},
	{"$x", "*1\r\n$x\r\n", nil, "invalid bulk length", "same"},
	{"$ empty", "*1\r\n$\r\n", nil, "invalid bulk length", "same"},
	{"$04", "*1\r\n$04\r\nPING\r\n", nil, "invalid bulk length", "same"},
	{"$+4", "*1\r\n$+4\r\nPING\r\n", nil, "invalid bulk length", "same"},
	{"$ 4", "*1\r\n$ 4\r\nPING\r\n", nil, "invalid bulk length", "same"},
	{"over proto-max-bulk-len", "*1\r\n$536870913\r\n", nil, "invalid bulk length", "same"},
	{"4GB bulk", "*1\r\n$4294967296\r\n", nil, "invalid bulk length", "same"},
	{"maxint64 bulk", "*1\r\n$9223372036854775807\r\n", nil, "invalid bulk length", "same"},

	// Not a bulk where one is due.
	{"expected $ got x", "*1\r\nx4\r\n", nil, "expected '$', got 'x'", "-ERR Protocol error: expected '$', got 'x'"},
	{"expected $ got f", "*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", nil, "expected '$', got 'f'", "same"},
	{"expected $ got CR", "*1\r\n\r\n", nil, "expected '$', got '\r'", "got ' ' (CR mapped to space)"},
	{"expected $ got LF", "*1\r\n\nab\r\n", nil, "expected '$', got '\n'", "got ' '"},
	{"expected $ got 4", "*1\r$4\r\nPING\r\n", nil, "expected '$', got '4'", "same"},
	{"expected $ got 0x80", "*1\r\n\x80\r\n", nil, "expected '$', got '\x80'", "same raw byte"},

	// Inline quoting as sdssplitargs does it.
	{"unbalanced double", "SET \"a b\r\n", nil, "unbalanced quotes in request", "-ERR Protocol error: unbalanced quotes in request"},
	{"unbalanced single", "SET 'a\r\n", nil, "unbalanced quotes in request", "same"},
	{"text after quote", "ECHO \"a\"b\r\n", nil, "unbalanced quotes in request", "same"},
	{"escaped last quote", "ECHO \"a\\\r\n", nil, "unbalanced quotes in request", "same"},
	{"hex and newline escapes", "ECHO \"\\x41\\n\"\r\n", [][]string{{"ECHO", "A\n"}}, "", "$2 A\\n"},
	{"all escapes", "ECHO \"\\x41\\x42\\t\\r\\a\\b\\z\"\r\n", [][]string{{"ECHO", "AB\t\r\a\bz"}}, "", "$7"},
	{"bad hex escape", "ECHO \"\\x4g\"\r\n", [][]string{{"ECHO", "x4g"}}, "", "$3 x4g"},
	{"escaped double quote", "ECHO \"a\\\"b\"\r\n", [][]string{{"ECHO", "a\"b"}}, "", "$3 a\"b"},
	{"single quote escape", "ECHO 'a\\'b'\r\n", [][]string{{"ECHO", "a'b"}}, "", "$3 a'b"},
	{"single quotes are raw", "ECHO 'a\\nb'\r\n", [][]string{{"ECHO", "a\\nb"}}, "", "$4 a\\nb"},
	{"empty quoted", "ECHO \"\" ''\r\n", [][]string{{"ECHO", "", ""}}, "", "wrong number of args"},
	{"quote mid token", "ECHO a\"b c\"\r\n", [][]string{{"ECHO", "ab c"}}, "", "$4 ab c"},
	{"tab after quote", "ECHO \"a\"\tb\r\n", [][]string{{"ECHO", "a", "b"}}, "", "wrong number of args"},
	{"vt skipped ff kept", "ECHO \vx\f\r\n", [][]string{{"ECHO", "x\f"}}, "", "$2 x\\x0c"},
	{"high bytes", "ECHO \xe9\xa0\r\n", [][]string{{"ECHO", "\xe9\xa0"}}, "", "$2"},

	// A NUL ends Redis's strchr: the line never completes.
	{"NUL in inline", "PING\x00\r\nPING\r\n", nil, "", "(nothing)"},
	{"NUL in inline grows too big", "PING\x00" + rep("x", 70000) + "\r\n", nil, "too big inline request", "-ERR Protocol error: too big inline request"},
	{"NUL in mbulk count", "*1\x00\r\n" + rep("x", 70000), nil, "too big mbulk count string", "-ERR Protocol error: too big mbulk count string"},
	{"NUL in bulk count", "*1\r\n$4\x00\r\n" + rep("x", 70000), nil, "too big bulk count string", "-ERR Protocol error: too big bulk count string"},

	// Lines past 64KB.
	{"too big inline", rep("a", 65537), nil, "too big inline request", "-ERR Protocol error: too big inline request"},
	{"64KB inline line", "ECHO " + rep("a", 65530) + "\r\n", [][]string{{"ECHO", rep("a", 65530)}}, "", "$65530"},
	{"too big mbulk count", "*" + rep("1", 70000), nil, "too big mbulk count string", "-ERR Protocol error: too big mbulk count string"},
	{"too big bulk count", "*1\r\n$" + rep("1", 70000), nil, "too big bulk count string", "-ERR Protocol error: too big bulk count string"},
}

// readAll reads requests until an error; it returns them and the error
// (nil for a clean EOF).
func readAll(t *testing.T, r *Reader, given int) ([][]string, error) {
	t.Helper()
	var cmds [][]string
	total := 0
	for {
		args, err := r.ReadCommand()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return cmds, err
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
			total += len(a)
		}
		if total > given {
			t.Fatalf("returned %d bytes of arguments from %d bytes of input", total, given)
		}
		cmds = append(cmds, cmd)
	}
}

// chunkReader returns its data in pieces of random sizes up to max.
type chunkReader struct {
	data []byte
	rnd  *rand.Rand
	max  int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), 1+c.rnd.Intn(c.max))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// feeds are the ways a test sends the same bytes: at once, one byte per
// read, and in random pieces.
var feeds = []struct {
	name string
	wrap func(data []byte, seed int64) io.Reader
}{
	{"whole", func(d []byte, _ int64) io.Reader { return bytes.NewReader(d) }},
	{"bytewise", func(d []byte, _ int64) io.Reader { return iotest.OneByteReader(bytes.NewReader(d)) }},
	{"chunks", func(d []byte, s int64) io.Reader {
		return &chunkReader{data: d, rnd: rand.New(rand.NewSource(s)), max: 7}
	}},
}

func TestReaderCases(t *testing.T) {
	for _, tc := range readCases {
		for _, f := range feeds {
			t.Run(tc.name+"/"+f.name, func(t *testing.T) {
				r := NewReader(f.wrap([]byte(tc.in), 1))
				cmds, err := readAll(t, r, len(tc.in))
				if !equalCmds(cmds, tc.cmds) {
					t.Errorf("commands %q, want %q", cmds, tc.cmds)
				}
				checkErr(t, err, tc.err)
			})
		}
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("error %v, want none", err)
		}
		return
	}
	var pe *ProtocolError
	if !errors.As(err, &pe) || pe.Msg != want {
		t.Errorf("error %v, want protocol error %q", err, want)
	}
}

func equalCmds(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.Join(a[i], "\x00|") != strings.Join(b[i], "\x00|") || len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}

func TestReaderUnauthenticated(t *testing.T) {
	cases := []struct {
		in   string
		cmds [][]string
		err  string
	}{
		{"*10\r\n", nil, ""},
		{"*11\r\n", nil, "unauthenticated multibulk length"},
		{"*1\r\n$16384\r\n", nil, ""},
		{"*1\r\n$16385\r\n", nil, "unauthenticated bulk length"},
		{"*1\r\n$536870913\r\n", nil, "invalid bulk length"}, // checked first, as in Redis
		{"*3000000000\r\n", nil, "invalid multibulk length"},
		// Inline requests have no such limit.
		{"PING" + rep(" a", 20) + "\r\n", [][]string{append([]string{"PING"}, strings.Fields(rep(" a", 20))...)}, ""},
	}
	for _, tc := range cases {
		for _, f := range feeds {
			r := NewReader(f.wrap([]byte(tc.in), 2))
			r.Unauthenticated = true
			cmds, err := readAll(t, r, len(tc.in))
			if !equalCmds(cmds, tc.cmds) {
				t.Errorf("%q/%s: commands %q, want %q", tc.in, f.name, cmds, tc.cmds)
			}
			checkErr(t, err, tc.err)
		}
	}

	// AUTH and a big request in one packet: the limit is lifted between
	// the two, as Redis parses the second only after running AUTH.
	in := "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*11\r\n" + rep("$1\r\na\r\n", 11)
	r := NewReader(bytes.NewReader([]byte(in)))
	r.Unauthenticated = true
	if args, err := r.ReadCommand(); err != nil || string(args[0]) != "AUTH" {
		t.Fatalf("AUTH: %q %v", args, err)
	}
	r.Unauthenticated = false
	if args, err := r.ReadCommand(); err != nil || len(args) != 11 {
		t.Fatalf("after AUTH: %d args, %v", len(args), err)
	}
}

func TestReaderMaxBulk(t *testing.T) {
	cases := []struct {
		max  int64
		in   string
		cmds [][]string
		err  string
	}{
		{1 << 20, "*1\r\n$1048576\r\n", nil, ""},
		{1 << 20, "*1\r\n$1048577\r\n", nil, "invalid bulk length"},
		// proto-max-bulk-len may be as large as LONG_MAX: lengths near it
		// must not overflow the reader's arithmetic.
		{math.MaxInt64, "*1\r\n$9223372036854775807\r\nabc", nil, "invalid bulk length"},
		{math.MaxInt64, "*1\r\n$9223372036854775805\r\nabc", nil, ""},
		{math.MaxInt64, "*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n", [][]string{{"ECHO", "abc"}}, ""},
	}
	for _, tc := range cases {
		for _, f := range feeds {
			r := NewReader(f.wrap([]byte(tc.in), 3))
			r.MaxBulk = tc.max
			cmds, err := readAll(t, r, len(tc.in))
			if !equalCmds(cmds, tc.cmds) {
				t.Errorf("%q/%s: commands %q, want %q", tc.in, f.name, cmds, tc.cmds)
			}
			checkErr(t, err, tc.err)
		}
	}
}

func TestReaderQueryBufferLimit(t *testing.T) {
	// The first argument's index holds 8 (16 ints of offs), 320 bytes.
	const limit = 1024
	cases := []struct {
		in  string
		err error
	}{
		// A declared length alone is no reason to close: Redis waits for
		// the bytes, and so does the Reader, without allocating for them.
		{"*2\r\n$4\r\nECHO\r\n$1000\r\n", io.EOF},
		{"*2\r\n$4\r\nECHO\r\n$1000\r\n" + rep("a", 600), io.EOF},
		{"*2\r\n$4\r\nECHO\r\n$1000\r\n" + rep("a", 700), ErrQueryBufferLimit},
		{"*2\r\n$4\r\nECHO\r\n$600\r\n" + rep("a", 600), io.EOF}, // fits: waits
		{"*1\r\n$4\r\nPING\r\n", io.EOF},
		// Complete requests are not pending: a pipeline is never too big.
		{rep("*1\r\n$4\r\nPING\r\n", 1000), io.EOF},
	}
	for _, tc := range cases {
		for _, f := range feeds {
			r := NewReader(f.wrap([]byte(tc.in), 7))
			r.MaxQueryBuffer = limit
			var err error
			for err == nil {
				_, err = r.ReadCommand()
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("%q/%s: %v, want %v", tc.in, f.name, err, tc.err)
			}
		}
	}
}

// The largest limit CONFIG SET takes, 2^63-1, is no limit at all.
func TestReaderLargestQueryBufferLimit(t *testing.T) {
	in := setHeader(3<<20) + rep("v", 3<<20) + "\r\n" + "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
	r := NewReader(iotest.HalfReader(strings.NewReader(in)))
	r.MaxQueryBuffer = math.MaxInt
	cmds, err := readAll(t, r, len(in))
	if err != nil || len(cmds) != 2 || len(cmds[0][2]) != 3<<20 || len(cmds[1]) != 2 {
		t.Fatalf("%d commands, %v", len(cmds), err)
	}
}

// endless yields head, then body over and over, forever.
type endless struct {
	head, body []byte
	off        int
	sent       int64
	onRead     func() // called at each Read, when the Reader's buffer is ready
}

func (e *endless) Read(b []byte) (int, error) {
	if e.onRead != nil {
		e.onRead()
	}
	n := 0
	for n < len(b) {
		if e.off < len(e.head) {
			k := copy(b[n:], e.head[e.off:])
			e.off += k
			n += k
			continue
		}
		k := copy(b[n:], e.body[(e.off-len(e.head))%len(e.body):])
		e.off += k
		n += k
	}
	e.sent += int64(n)
	return n, nil
}

// held is the memory a Reader holds for the request it is reading.
func (r *Reader) held() int { return len(r.buf) + 8*cap(r.offs) + 24*cap(r.args) }

// Whatever a client sends, a Reader with a query buffer limit fails with
// ErrQueryBufferLimit (or Redis's protocol error) before it holds more
// than the limit and one read.
func TestReaderQueryBufferLimitBoundsMemory(t *testing.T) {
	const limit = 1 << 20
	// minSent is how much must arrive before the limit is reached: the
	// bytes and the argument index together, the index counted by its
	// capacity, which doubles.
	cases := []struct {
		name       string
		head, body string
		err        error
		minSent    int64
	}{
		{"one endless bulk", "*2\r\n$4\r\nECHO\r\n$536870912\r\n", "x", ErrQueryBufferLimit, limit - 320},
		{"many small args", "*2000000000\r\n$4\r\nECHO\r\n", "$1\r\na\r\n", ErrQueryBufferLimit, limit * 7 / 47 / 2},
		{"many empty args", "*2000000000\r\n$4\r\nECHO\r\n", "$0\r\n\r\n", ErrQueryBufferLimit, limit * 6 / 46 / 2},
		{"many 1KB args", "*2000000000\r\n", "$1000\r\n" + rep("v", 1000) + "\r\n", ErrQueryBufferLimit, limit * 1008 / 1048 / 2},
		{"endless inline line", "", "x", errTooBigInline, MaxInline},
		{"endless bulk header", "*1\r\n$", "1", errTooBigBulkCount, MaxInline},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &endless{head: []byte(tc.head), body: []byte(tc.body)}
			r := NewReader(iotest.HalfReader(src))
			r.MaxQueryBuffer = limit
			peak := 0
			src.onRead = func() { peak = max(peak, r.held()) }
			var err error
			for err == nil {
				args, e := r.ReadCommand()
				if e == nil {
					t.Fatalf("a request of %d args ended", len(args))
				}
				err = e
			}
			peak = max(peak, r.held())
			if !errors.Is(err, tc.err) {
				t.Fatalf("%v, want %v", err, tc.err)
			}
			if peak > limit+readSlack {
				t.Errorf("held %d bytes, limit %d", peak, limit)
			}
			if src.sent < tc.minSent {
				t.Errorf("closed after only %d bytes", src.sent)
			}
			t.Logf("closed after %d bytes read, %d held", src.sent, peak)
		})
	}
}

func TestSplitArgs(t *testing.T) {
	cases := []struct {
		line string
		args []string
		ok   bool
	}{
		{"", []string{}, true},
		{"   \t ", []string{}, true},
		{"set a b", []string{"set", "a", "b"}, true},
		{"  set\t a  ", []string{"set", "a"}, true},
		{`"a b" 'c d'`, []string{"a b", "c d"}, true},
		{`"\x41\x4a\x4A"`, []string{"AJJ"}, true},
		{`"\xZZ"`, []string{"xZZ"}, true},
		{`"\n\r\t\b\a\\\""`, []string{"\n\r\t\b\a\\\""}, true},
		{`'\x41 \''`, []string{`\x41 '`}, true},
		{`a"b"c`, nil, false},
		{`"a`, nil, false},
		{`'a`, nil, false},
		{`"a"b`, nil, false},
		{`'a'b`, nil, false},
		{`"a\"`, nil, false},
		{"a\x00b c", []string{"a"}, true}, // a NUL ends the C string
		{"\"a\x00\"", nil, false},
		{"x\fy", []string{"x\fy"}, true},
	}
	for _, tc := range cases {
		args, ok := SplitArgs([]byte(tc.line), nil)
		if ok != tc.ok {
			t.Errorf("%q: ok %v, want %v", tc.line, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		got := make([]string, len(args))
		for i, a := range args {
			got[i] = string(a)
		}
		if !equalCmds([][]string{got}, [][]string{tc.args}) {
			t.Errorf("%q: %q, want %q", tc.line, got, tc.args)
		}
	}
}

func TestReaderBuffered(t *testing.T) {
	cases := []struct {
		in   string
		want int // Buffered after the first request is read
	}{
		{"PING\r\n", 0},
		{"PING\r\nPING\r\n", 6},
		{"PING\r\nPI", 0},
		{"PING\r\n*1\r\n$4\r\nPING\r\n", 14},
		{"PING\r\n*1\r\n$4\r\nPING\r", 0}, // the two bytes after a bulk are due
		{"PING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk", 0},
		{"PING\r\n\r\n*0\r\n*-1\r\n", 0}, // only requests ReadCommand skips
		{"PING\r\n\r\n*0\r\nPING\r\n", 12},
		{"PING\r\n  \r\nECHO \"\"\r\n", 13},
		{"PING\r\nPING\x00\r\n", 0}, // never complete in Redis either
		{"PING\r\n*x\r\n", 0},       // malformed: flushing first is harmless
	}
	for _, tc := range cases {
		r := NewReader(bytes.NewReader([]byte(tc.in)))
		if _, err := r.ReadCommand(); err != nil {
			t.Fatalf("%q: %v", tc.in, err)
		}
		if got := r.Buffered(); got != tc.want {
			t.Errorf("%q: Buffered %d, want %d", tc.in, got, tc.want)
		}
	}
}
