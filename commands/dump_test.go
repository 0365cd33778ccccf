package commands

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// doArgs runs one command given as arguments and returns the raw reply.
func (x *tester) doArgs(args ...string) string {
	x.t.Helper()
	x.ctx.Args = nil
	for _, a := range args {
		x.ctx.Args = append(x.ctx.Args, []byte(a))
	}
	x.ctx.W.Reset()
	x.ctx.Table.Dispatch(x.ctx)
	return string(x.ctx.W.Bytes())
}

// bulkOf strips a bulk reply's framing.
func bulkOf(t testing.TB, r string) string {
	t.Helper()
	head, rest, ok := strings.Cut(r, "\r\n")
	if !ok || head[0] != '$' {
		t.Fatalf("not a bulk reply: %q", r)
	}
	return strings.TrimSuffix(rest, "\r\n")
}

// Every kind DUMPs and RESTOREs to the same value (the same DUMP, the same
// encoding), and a restore applied on two nodes leaves both alike.
func TestDumpRestoreRoundTrip(t *testing.T) {
	x := newTester(t)
	fill := []string{
		"SET s hello", "SET n 42", "SET long " + strings.Repeat("abc", 30),
		"RPUSH l a b 1 2", "SADD si 1 2 3", "SADD ss a b c", "HSET h f v g 1",
		"ZADD z 1 a 2.5 b", "XADD x 1-1 f v", "XADD x 2-1 f w", "XDEL x 1-1",
		"XGROUP CREATE x g 0", "XREADGROUP GROUP g alice STREAMS x >",
	}
	var big []string
	for i := range 700 {
		big = append(big, fmt.Sprintf("m%d", i), fmt.Sprint(i))
	}
	fill = append(fill, "HSET hbig "+strings.Join(big, " "), "ZADD zbig "+strings.Join(reverse(big), " "),
		"RPUSH lbig "+strings.Join(big, " "))
	for _, c := range fill {
		if r := x.do(c); strings.HasPrefix(r, "-") {
			t.Fatalf("%s: %s", c, r)
		}
	}
	y := newTester(t)
	for _, k := range []string{"s", "n", "long", "l", "si", "ss", "h", "z", "x", "hbig", "zbig", "lbig"} {
		p := bulkOf(t, x.doArgs("DUMP", k))
		if r := y.doArgs("RESTORE", k, "0", p); r != "+OK\r\n" {
			t.Fatalf("RESTORE %s: %q", k, r)
		}
		if a, b := x.do("OBJECT ENCODING "+k), y.do("OBJECT ENCODING "+k); a != b {
			t.Errorf("%s: encoding %q, was %q", k, b, a)
		}
		if q := bulkOf(t, y.doArgs("DUMP", k)); q != p {
			t.Errorf("%s: DUMP after RESTORE differs", k)
		}
	}
	z := newTester(t)
	for _, k := range []string{"s", "n", "long", "l", "si", "ss", "h", "z", "x", "hbig", "zbig", "lbig"} {
		z.doArgs("RESTORE", k, "0", bulkOf(t, x.doArgs("DUMP", k)))
	}
	var a, b bytes.Buffer
	if err := y.node.ks.WriteSnapshot(&a); err != nil {
		t.Fatal(err)
	}
	if err := z.node.ks.WriteSnapshot(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two nodes restoring the same payloads differ")
	}
}

func reverse(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func TestRestoreErrors(t *testing.T) {
	x := newTester(t)
	x.do("SET k v")
	p := bulkOf(t, x.doArgs("DUMP", "k"))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"RESTORE", "k", "0", p}, "-BUSYKEY Target key name already exists.\r\n"},
		{[]string{"RESTORE", "k2", "-1", p}, "-ERR Invalid TTL value, must be >= 0\r\n"},
		{[]string{"RESTORE", "k2", "0", p[:len(p)-1]}, "-ERR DUMP payload version or checksum are wrong\r\n"},
		{[]string{"RESTORE", "k2", "0", p, "FREQ", "300"}, "-ERR Invalid FREQ value, must be >= 0 and <= 255\r\n"},
		{[]string{"RESTORE", "k2", "0", p, "IDLETIME", "1", "FREQ", "1"}, "-ERR syntax error\r\n"},
		{[]string{"RESTORE", "k", "1", p, "REPLACE", "ABSTTL"}, "+OK\r\n"},
	} {
		if got := x.doArgs(c.args...); got != c.want {
			t.Errorf("%q: %q, want %q", c.args[:3], got, c.want)
		}
	}
	if got := x.do("EXISTS k"); got != ":0\r\n" {
		t.Errorf("an expired ABSTTL with REPLACE leaves the key: %q", got)
	}
}

// FuzzApplyRestore: a RESTORE op whatever its payload, access and limits
// applies or replies an error, never a panic, and twice as well.
func FuzzApplyRestore(f *testing.F) {
	x := newTester(f)
	for _, c := range []string{"SET s hello", "RPUSH l a 1", "SADD si 1 2", "SADD ss a", "HSET h f v",
		"ZADD z 1 a", "XADD x 1-1 f v", "XGROUP CREATE x g 0", "XREADGROUP GROUP g c STREAMS x >"} {
		x.do(c)
	}
	for _, k := range []string{"s", "l", "si", "ss", "h", "z", "x"} {
		p := []byte(bulkOf(f, x.doArgs("DUMP", k)))
		f.Add(p, []byte("idle:5"), int64(0), uint32(0))
		f.Add(p, []byte("freq:300"), int64(1), uint32(op.FlagReplace))
	}
	table := NewTable()
	f.Fuzz(func(t *testing.T, payload, access []byte, deadline int64, flags uint32) {
		ks := keyspace.New(1)
		ks.Lock()
		defer ks.Unlock()
		o := &op.Op{Type: op.Restore, Now: 1000, Int: deadline, Flags: flags,
			Args: [][]byte{[]byte("k"), payload, access, []byte("4294967396")}}
		table.Apply(ks, o)
		table.Apply(ks, o)
	})
}
