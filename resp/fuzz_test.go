package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"strings"
	"testing"
	"testing/iotest"
)

// countReader counts the reads made of it.
type countReader struct {
	rd    io.Reader
	reads int
}

func (c *countReader) Read(p []byte) (int, error) {
	c.reads++
	return c.rd.Read(p)
}

// fuzzRead reads every request from r, whose source is cr, checking what
// holds for any input: no empty request, never more argument bytes than
// were given, and Buffered tells exactly whether the next ReadCommand can
// answer without reading (a request it cannot parse may fail either way).
func fuzzRead(t *testing.T, r *Reader, cr *countReader, given int) (cmds [][]string, err error) {
	total := 0
	for {
		buffered, reads := r.Buffered(), cr.reads
		args, err := r.ReadCommand()
		if buffered > 0 && cr.reads != reads {
			t.Fatalf("Buffered said %d, yet ReadCommand read (after %q)", buffered, cmds)
		}
		if buffered == 0 && err == nil && cr.reads == reads {
			t.Fatalf("Buffered said 0, yet ReadCommand returned %q without reading", args)
		}
		if err != nil {
			return cmds, err
		}
		if len(args) == 0 {
			t.Fatal("empty request returned")
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
			total += len(a)
		}
		if total > given {
			t.Fatalf("%d bytes of arguments from %d bytes of input", total, given)
		}
		cmds = append(cmds, cmd)
	}
}

// tooBig reports an error whose occurrence depends on read boundaries, as
// it does in Redis: a 64KB line may or may not be complete when checked.
func tooBig(err error) bool {
	var pe *ProtocolError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Msg, "too big")
}

// encode writes args as a multibulk request.
func encode(args [][]byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.Bytes()
}

func FuzzReader(f *testing.F) {
	for _, tc := range readCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in), int64(0), false)
		}
	}
	f.Add([]byte("*11\r\n$1\r\na\r\n"), int64(0), true)
	f.Add([]byte("*1\r\n$16385\r\n"), int64(0), true)
	f.Add([]byte("*1\r\n$9223372036854775807\r\nab"), int64(math.MaxInt64), false)
	f.Add([]byte("*1\r\n$9223372036854775805\r\nab"), int64(math.MaxInt64), false)
	f.Add([]byte("*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n"), int64(2), false)
	f.Fuzz(func(t *testing.T, data []byte, maxBulk int64, unauth bool) {
		read := func(rd io.Reader) ([][]string, error) {
			cr := &countReader{rd: rd}
			r := NewReader(cr)
			if maxBulk > 0 {
				r.MaxBulk = maxBulk
			}
			r.Unauthenticated = unauth
			return fuzzRead(t, r, cr, len(data))
		}
		whole, werr := read(bytes.NewReader(data))
		bytewise, berr := read(iotest.OneByteReader(bytes.NewReader(data)))
		if !tooBig(werr) && !tooBig(berr) {
			if !equalCmds(whole, bytewise) || fmt.Sprint(werr) != fmt.Sprint(berr) {
				t.Fatalf("read boundaries change the result:\nwhole    %q %v\nbytewise %q %v", whole, werr, bytewise, berr)
			}
		}

		// Any arguments, encoded as a client would, come back unchanged.
		args := bytes.Split(data, []byte{0xff})
		args = args[:min(len(args), 20)]
		in := encode(args)
		seed := int64(len(data))
		got, err := read(&chunkReader{data: in, rnd: rand.New(rand.NewSource(seed)), max: 1 + len(data)%13})
		if maxBulk > 0 || unauth {
			return // limits may refuse them
		}
		want := make([]string, len(args))
		for i, a := range args {
			want[i] = string(a)
		}
		if err != io.EOF || !equalCmds(got, [][]string{want}) {
			t.Fatalf("round trip of %q: %q, %v", want, got, err)
		}
	})
}

// quote writes arg in double quotes with every byte escaped.
func quote(arg []byte) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range arg {
		fmt.Fprintf(&b, "\\x%02x", c)
	}
	b.WriteByte('"')
	return b.String()
}

func FuzzSplitArgs(f *testing.F) {
	for _, tc := range readCases {
		if !strings.HasPrefix(tc.in, "*") && len(tc.in) < 4096 {
			f.Add([]byte(strings.TrimRight(tc.in, "\r\n")))
		}
	}
	f.Add([]byte(`set "a\x00b" 'c\'d' "\n\r\t\b\a\z"`))
	f.Add([]byte("a\"b c\"d"))
	f.Fuzz(func(t *testing.T, line []byte) {
		args, ok := SplitArgs(line, nil)
		if !ok {
			return
		}
		// Quoting every argument fully gives the same arguments back.
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = quote(a)
		}
		again, ok := SplitArgs([]byte(strings.Join(quoted, " ")), nil)
		if !ok || len(again) != len(args) {
			t.Fatalf("requoted %q: %q, ok %v", args, again, ok)
		}
		for i := range args {
			if !bytes.Equal(args[i], again[i]) {
				t.Fatalf("requoted %q: %q", args, again)
			}
		}
		// An inline request is the same split of its line.
		if bytes.IndexAny(line, "\n\x00") >= 0 || len(line) > MaxInline-2 || len(args) == 0 || line[0] == '*' {
			return
		}
		cr := &countReader{rd: bytes.NewReader(append(line, '\r', '\n'))}
		cmds, err := fuzzRead(t, NewReader(cr), cr, len(line))
		if err != io.EOF || len(cmds) != 1 || len(cmds[0]) != len(args) {
			t.Fatalf("inline %q: %q %v, SplitArgs %q", line, cmds, err, args)
		}
		for i := range args {
			if cmds[0][i] != string(args[i]) {
				t.Fatalf("inline %q: %q, SplitArgs %q", line, cmds, args)
			}
		}
	})
}
