package commands

import (
	"testing"

	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

// TestListNoChangeKeepsVersion: a list write that changes nothing leaves
// the key's version (what WATCH checks) alone, as Redis signals no
// change then; LTRIM counts as a change whatever it trims, as in Redis.
func TestListNoChangeKeepsVersion(t *testing.T) {
	x := newTester(t)
	x.expect("RPUSH l a b c", ":3\r\n")
	version := func() uint64 {
		x.node.ks.RLock()
		defer x.node.ks.RUnlock()
		return x.node.ks.DB(0).Version([]byte("l"), x.node.now)
	}
	v := version()
	for _, line := range []string{"LINSERT l BEFORE nope x", "LREM l 0 nope", "LREM l -1 nope",
		"LSET l 5 x", "LSET l x x", "LPOP l 0", "RPOP l 0", "LPUSHX nosuch a", "LMOVE nosuch l LEFT LEFT",
		"LMPOP 1 nosuch LEFT", "LRANGE l 0 -1", "LPOS l a", "LINDEX l 0", "LLEN l"} {
		x.do(line)
		if got := version(); got != v {
			t.Fatalf("%s changed the version", line)
		}
	}
	x.expect("LTRIM l 0 -1", "+OK\r\n")
	if version() == v {
		t.Fatal("LTRIM left the version")
	}
}

// TestListMoveOntoItself: a list rotated onto itself is never emptied on
// the way, so it keeps its deadline even with one element.
func TestListMoveOntoItself(t *testing.T) {
	x := newTester(t)
	x.expect("RPUSH one only", ":1\r\n")
	x.expect("PEXPIRE one 5000", ":1\r\n")
	x.expect("RPOPLPUSH one one", "$4\r\nonly\r\n")
	x.expect("LMOVE one one LEFT RIGHT", "$4\r\nonly\r\n")
	x.expect("PTTL one", ":5000\r\n")
	x.expect("LRANGE one 0 -1", "*1\r\n$4\r\nonly\r\n")
}

// TestListPopResult: a ListPop op's result is a listPop the blocking
// pops can read (the key, the elements in pop order; no elements when no
// key held a list), written in the shape the op names.
func TestListPopResult(t *testing.T) {
	x := newTester(t)
	x.expect("RPUSH b 1 2 3", ":3\r\n")
	pop := func(flags uint32, count int64, keys ...string) listPop {
		args := make([][]byte, len(keys))
		for i, k := range keys {
			args[i] = []byte(k)
		}
		res, _ := x.node.Propose(&op.Op{Type: op.ListPop, Flags: flags, Int: count, Now: x.node.now, Args: args})
		p, ok := res.(listPop)
		if !ok {
			t.Fatalf("ListPop replied %#v", res)
		}
		return p
	}
	if p := pop(op.PopKeyed|op.FlagRight, 2, "a", "b"); string(p.Key) != "b" || len(p.Elems) != 2 ||
		string(p.Elems[0]) != "3" || string(p.Elems[1]) != "2" {
		t.Fatalf("popped %q %q", p.Key, p.Elems)
	}
	if p := pop(op.PopKeyed, 1, "a"); p.Elems != nil || p.Key != nil {
		t.Fatalf("popped %q %q from no list", p.Key, p.Elems)
	}
	for _, c := range []struct {
		p     listPop
		proto int
		want  string
	}{
		{listPop{Key: []byte("k"), Elems: [][]byte{[]byte("v")}, Shape: op.PopKeyed}, 2, "*2\r\n$1\r\nk\r\n*1\r\n$1\r\nv\r\n"},
		{listPop{Shape: op.PopKeyed}, 2, "*-1\r\n"},
		{listPop{Shape: op.PopKeyed}, 3, "_\r\n"},
		{listPop{Shape: op.PopCount}, 2, "*-1\r\n"},
		{listPop{Key: []byte("k"), Elems: [][]byte{}, Shape: op.PopCount}, 3, "*0\r\n"},
		{listPop{Shape: op.PopOne}, 2, "$-1\r\n"},
		{listPop{Key: []byte("k"), Elems: [][]byte{[]byte("v")}, Shape: op.PopOne}, 3, "$1\r\nv\r\n"},
	} {
		w := &resp.Writer{Proto: c.proto}
		writeResult(w, c.p)
		if got := string(w.Bytes()); got != c.want {
			t.Errorf("%+v in RESP%d: %q, want %q", c.p, c.proto, got, c.want)
		}
	}
}

// TestParseMPop: LMPOP's arguments parse into a ListPop op, from any
// position of numkeys (BLMPOP has its timeout first).
func TestParseMPop(t *testing.T) {
	args, _ := resp.SplitArgs([]byte("BLMPOP 0 2 a b right COUNT 3"), nil)
	o, err := parseMPop(args, 2)
	if err != nil || len(o.Args) != 2 || string(o.Args[1]) != "b" || o.Int != 3 || o.Flags != op.PopKeyed|op.FlagRight {
		t.Fatalf("parsed %+v, %v", o, err)
	}
	for line, want := range map[string]error{
		"LMPOP 0 a LEFT":                 errNumKeys,
		"LMPOP 3 a LEFT":                 errSyntax,
		"LMPOP 1 a UP":                   errSyntax,
		"LMPOP 1 a LEFT COUNT 0":         errMPopCount,
		"LMPOP 1 a LEFT COUNT 1 x":       errSyntax,
		"LMPOP 1 a LEFT COUNT 1 COUNT 1": errSyntax,
	} {
		args, _ := resp.SplitArgs([]byte(line), nil)
		if _, err := parseMPop(args, 1); err != want {
			t.Errorf("%s: %v, want %v", line, err, want)
		}
	}
}
