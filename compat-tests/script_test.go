package compattests

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
)

func TestParseScriptErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown directive", "PING\n!srot SMEMBERS s\n", "x.txt:2: unknown directive !srot"},
		{"unbalanced quotes", "ECHO \"abc\n", "x.txt:1: unbalanced quotes"},
		{"closing quote glued", "ECHO \"abc\"def\n", "x.txt:1: unbalanced quotes"},
		{"directive without command", "!sort\n", "x.txt:1: no command"},
		{"sleep not a number", "!sleep soon\n", "x.txt:1: !sleep wants"},
		{"sleep too long", "!sleep 60000\n", "x.txt:1: !sleep wants"},
		{"raw two strings", "!raw \"a\" \"b\"\n", "x.txt:1: !raw wants"},
		{"raw empty", "!raw \"\"\n", "x.txt:1: !raw wants"},
		{"raw unbalanced", "!raw \"abc\n", "x.txt:1: !raw wants"},
		{"protocol switch with args", "!resp3 PING\n", "x.txt:1: !resp3 takes nothing"},
		{"empty file", "# only a comment\n\n", "x.txt: no commands"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseScript("x.txt", []byte(c.src))
			if err == nil || !strings.HasPrefix(err.Error(), c.want) {
				t.Fatalf("error %v, want prefix %q", err, c.want)
			}
		})
	}
}

func TestParseScript(t *testing.T) {
	src := "# comment\n" +
		"SET \"a b\" 'c'\r\n" +
		"  !sort SMEMBERS s\n" +
		"!resp3\n" +
		"!type PTTL k\n" +
		"!both\n" +
		"!noreply-compare RANDOMKEY\n" +
		"!sleep 5\n" +
		"!raw \"*1\\r\\n$4\\r\\nPING\\r\\n\"\n" +
		"!resp2\n" +
		"GET \"\\x00\"\n"
	steps, err := ParseScript("x.txt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		line    int
		kind    stepKind
		compare compareMode
		args    string // joined with |
		protos  int
	}
	wants := []want{
		{2, stepCommand, compareExact, "SET|a b|c", protoBoth},
		{3, stepCommand, compareSorted, "SMEMBERS|s", protoBoth},
		{5, stepCommand, compareType, "PTTL|k", proto3},
		{7, stepCommand, compareNothing, "RANDOMKEY", protoBoth},
		{8, stepSleep, compareExact, "", protoBoth},
		{9, stepRaw, compareExact, "", protoBoth},
		{11, stepCommand, compareExact, "GET|\x00", proto2},
	}
	if len(steps) != len(wants) {
		t.Fatalf("%d steps, want %d: %+v", len(steps), len(wants), steps)
	}
	for i, w := range wants {
		st := steps[i]
		var args []string
		for _, a := range st.Args {
			args = append(args, string(a))
		}
		got := want{st.Line, st.Kind, st.Compare, strings.Join(args, "|"), st.Protos}
		if got != w {
			t.Errorf("step %d: %+v, want %+v", i, got, w)
		}
	}
	if steps[4].Sleep != 5*time.Millisecond {
		t.Errorf("sleep %v", steps[4].Sleep)
	}
	if string(steps[5].Raw) != "*1\r\n$4\r\nPING\r\n" {
		t.Errorf("raw %q", steps[5].Raw)
	}
	if steps[6].RunsUnder(3) || !steps[6].RunsUnder(2) || steps[2].RunsUnder(2) {
		t.Error("RunsUnder ignores !resp2/!resp3")
	}
}

func TestReadReply(t *testing.T) {
	cases := []struct {
		in, raw, sorted string
		typ             byte
	}{
		{"+OK\r\n", "+OK\r\n", "+OK\r\n", '+'},
		{"-ERR x\r\n", "-ERR x\r\n", "-ERR x\r\n", '-'},
		{":-3\r\n", ":-3\r\n", ":-3\r\n", ':'},
		{"$-1\r\n", "$-1\r\n", "$-1\r\n", '$'},
		{"$0\r\n\r\n", "$0\r\n\r\n", "$0\r\n\r\n", '$'},
		{"$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n", '$'},
		{"*-1\r\n", "*-1\r\n", "*-1\r\n", '*'},
		{"*0\r\n", "*0\r\n", "*0\r\n", '*'},
		{"*3\r\n$1\r\nc\r\n:1\r\n$1\r\na\r\n", "*3\r\n$1\r\nc\r\n:1\r\n$1\r\na\r\n", "*3\r\n$1\r\na\r\n$1\r\nc\r\n:1\r\n", '*'},
		{"~2\r\n+b\r\n+a\r\n", "~2\r\n+b\r\n+a\r\n", "~2\r\n+a\r\n+b\r\n", '~'},
		{"%2\r\n+z\r\n:1\r\n+a\r\n:2\r\n", "%2\r\n+z\r\n:1\r\n+a\r\n:2\r\n", "%2\r\n+a\r\n:2\r\n+z\r\n:1\r\n", '%'},
		{"*2\r\n*1\r\n+y\r\n*1\r\n+x\r\n", "*2\r\n*1\r\n+y\r\n*1\r\n+x\r\n", "*2\r\n*1\r\n+x\r\n*1\r\n+y\r\n", '*'},
		{"_\r\n", "_\r\n", "_\r\n", '_'},
		{",1.5\r\n", ",1.5\r\n", ",1.5\r\n", ','},
		{"#t\r\n", "#t\r\n", "#t\r\n", '#'},
		{"(123\r\n", "(123\r\n", "(123\r\n", '('},
		{"=7\r\ntxt:abc\r\n", "=7\r\ntxt:abc\r\n", "=7\r\ntxt:abc\r\n", '='},
		{"!3\r\nerr\r\n", "!3\r\nerr\r\n", "!3\r\nerr\r\n", '!'},
		{">2\r\n+b\r\n+a\r\n", ">2\r\n+b\r\n+a\r\n", ">2\r\n+a\r\n+b\r\n", '>'},
		{"|1\r\n+k\r\n+v\r\n+OK\r\n", "|1\r\n+k\r\n+v\r\n+OK\r\n", "|1\r\n+k\r\n+v\r\n+OK\r\n", '+'},
	}
	for _, c := range cases {
		// A second reply follows each one: the reader must stop at the end
		// of the first.
		br := bufio.NewReader(strings.NewReader(c.in + "+NEXT\r\n"))
		r, err := ReadReply(br)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if string(r.Raw) != c.raw || r.Type != c.typ || string(r.Sorted()) != c.sorted {
			t.Errorf("%q: raw %q type %q sorted %q", c.in, r.Raw, r.Type, r.Sorted())
		}
		if next, err := ReadReply(br); err != nil || string(next.Raw) != "+NEXT\r\n" {
			t.Errorf("%q: next reply %q, %v", c.in, next.Raw, err)
		}
	}
}

func TestReadReplyErrors(t *testing.T) {
	cases := []struct {
		in  string
		eof error // the error expected, nil for any malformed-reply error
	}{
		{"", io.EOF},
		{"+OK", io.ErrUnexpectedEOF},
		{"$5\r\nab", io.ErrUnexpectedEOF},
		{"*2\r\n+a\r\n", io.ErrUnexpectedEOF},
		{"+OK\n", nil},
		{"?x\r\n", nil},
		{"\r\n", nil},
		{"$abc\r\n", nil},
		{"$-2\r\n", nil},
		{"$2\r\nabcd", nil},
		{"*99999999999\r\n", nil},
	}
	for _, c := range cases {
		_, err := ReadReply(bufio.NewReader(strings.NewReader(c.in)))
		want := c.eof
		if want == nil {
			want = errMalformed
		}
		if !errors.Is(err, want) {
			t.Errorf("%q: error %v, want %v", c.in, err, want)
		}
	}
}

// TestCompareFindsDifferences proves the harness can fail: two
// redis-servers holding different data must be reported, line by line.
func TestCompareFindsDifferences(t *testing.T) {
	a, b := nodetest.StartRedis(t), nodetest.StartRedis(t)
	script := "PING\n" +
		"GET only-on-b\n" +
		"!type SET only-on-b2 v XX\n" + // nil vs +OK: different types
		"!type INCR only-on-b\n" + // :1 vs :2: same type, not reported
		"!sort SMEMBERS s\n" +
		"!noreply-compare GET only-on-b\n" +
		"!raw \"GET only-on-b\\r\\n\"\n" +
		"QUIT\n" +
		"PING\n"
	steps, err := ParseScript("diff.txt", []byte(script))
	if err != nil {
		t.Fatal(err)
	}
	for _, proto := range []int{2, 3} {
		flushAll(t, "a", a.Addr)
		flushAll(t, "b", b.Addr)
		c, err := dial(b.Addr, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"SET only-on-b 1", "SET only-on-b2 1", "SADD s x y z"} {
			if _, err := c.do(bytesFields(cmd)); err != nil {
				t.Fatal(err)
			}
		}
		c.close()
		got, err := compareServers("diff.txt", steps, proto, a.Addr, b.Addr)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"diff.txt:2: GET only-on-b", "diff.txt:3: ", "diff.txt:5: ", "diff.txt:7: "}
		if len(got) != len(want) {
			t.Fatalf("RESP%d: %d mismatches, want %d:\n%s", proto, len(got), len(want), strings.Join(got, "\n"))
		}
		for i, w := range want {
			if !strings.HasPrefix(got[i], w) {
				t.Errorf("RESP%d: mismatch %q, want prefix %q", proto, got[i], w)
			}
		}
		if !strings.Contains(got[0], "redis:     ") || !strings.Contains(got[0], "loomcache: \"$1\\r\\n1\\r\\n\"") {
			t.Errorf("mismatch does not quote both replies: %s", got[0])
		}
	}
}

func bytesFields(s string) [][]byte {
	var out [][]byte
	for _, f := range strings.Fields(s) {
		out = append(out, []byte(f))
	}
	return out
}

// RulesSorted sorts only runs of single-command rules, inside nested
// replies, and keeps every length right.
func TestRulesSorted(t *testing.T) {
	in := "*2\r\n$32\r\n-@all +set +get (~k -@all +b +a)\r\n*1\r\n$21\r\n+@string -del +append\r\n"
	want := "*2\r\n$32\r\n-@all +get +set (~k -@all +a +b)\r\n*1\r\n$21\r\n+@string +append -del\r\n"
	r, err := ReadReply(bufio.NewReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.RulesSorted()); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
