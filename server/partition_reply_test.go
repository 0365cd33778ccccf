package server

import "testing"

// TestReplyLen: the first value's length in RESP2 and RESP3 replies, and
// false for anything cut short or malformed.
func TestReplyLen(t *testing.T) {
	cases := []struct {
		in   string
		want int // -1: not a whole value
	}{
		{"+OK\r\n", 5},
		{"-ERR x\r\n:1\r\n", 8},
		{":42\r\n", 5},
		{"$3\r\nabc\r\n+OK\r\n", 9},
		{"$-1\r\n", 5},
		{"_\r\n", 3},
		{"*2\r\n$1\r\na\r\n:1\r\n", 15},
		{"*-1\r\n", 5},
		{"%1\r\n+k\r\n:1\r\n", 12},
		{"|1\r\n+a\r\n+b\r\n:1\r\n", 16},
		{"~1\r\n,1.5\r\n", 10},
		{"=7\r\ntxt:abc\r\n", 13},
		{"$3\r\nab", -1},
		{"*2\r\n:1\r\n", -1},
		{"$-2\r\n", -1},
		{"*99999999999\r\n", -1},
		{"x\r\n", -1},
		{"", -1},
		{"+OK", -1},
	}
	for _, c := range cases {
		n, ok := replyLen([]byte(c.in))
		if c.want < 0 && ok || c.want >= 0 && (!ok || n != c.want) {
			t.Errorf("replyLen(%q) = %d, %v; want %d", c.in, n, ok, c.want)
		}
	}
	if es, ok := replyArray([]byte("*2\r\n$1\r\n7\r\n*1\r\n$1\r\nk\r\n")); !ok || len(es) != 2 || string(es[0]) != "$1\r\n7\r\n" {
		t.Errorf("replyArray of a SCAN reply = %q, %v", es, ok)
	}
	if v, ok := replyUint([]byte("$2\r\n17\r\n")); !ok || v != 17 {
		t.Errorf("replyUint = %d, %v", v, ok)
	}
	if v, ok := replyInt([]byte(":-3\r\n")); !ok || v != -3 {
		t.Errorf("replyInt = %d, %v", v, ok)
	}
}

// FuzzReplyLen: splitting replies never panics, and what it splits off
// is within the input and splits again the same way.
func FuzzReplyLen(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "*2\r\n$1\r\na\r\n:1\r\n", "%1\r\n+k\r\n:1\r\n", "$-1\r\n", "*1\r\n*1\r\n*1\r\n_\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		n, ok := replyLen(b)
		if !ok {
			return
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("replyLen(%q) = %d of %d bytes", b, n, len(b))
		}
		if m, ok := replyLen(b[:n]); !ok || m != n {
			t.Fatalf("replyLen of its own value %q = %d, %v", b[:n], m, ok)
		}
		replyArray(b)
		replyUint(b)
		replyInt(b)
	})
}
