package commands

import (
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// TestSetSPopOpAfterChange: an SPOP op whose members were chosen before
// the set changed removes and replies only those still there.
func TestSetSPopOpAfterChange(t *testing.T) {
	x := newTester(t)
	x.expect("SADD s a b c", ":3\r\n")
	x.expect("SREM s b", ":1\r\n")
	pop := func(flags uint32, ms ...string) any {
		args := [][]byte{[]byte("s")}
		for _, m := range ms {
			args = append(args, []byte(m))
		}
		res, _ := x.node.Propose(&op.Op{Type: op.SPop, Flags: flags, Now: x.node.now, Args: args})
		return res
	}
	if got := pop(op.FlagCount, "a", "b"); len(got.(setReply)) != 1 || string(got.(setReply)[0]) != "a" {
		t.Fatalf("SPOP of a, b after b went: %q", got)
	}
	if got := pop(0, "b"); got != nil {
		t.Fatalf("SPOP of a member gone: %q", got)
	}
	if got := pop(op.FlagCount | op.FlagAll); len(got.(setReply)) != 1 || string(got.(setReply)[0]) != "c" {
		t.Fatalf("SPOP of all: %q", got)
	}
	x.expect("EXISTS s", ":0\r\n")
	x.expect("SET s v", "+OK\r\n")
	if got := pop(op.FlagCount, "a"); got != errWrongType {
		t.Fatalf("SPOP of a string: %v", got)
	}
}

// TestSetStoreDeterministic: the *STORE ops compute their result from the
// sources at apply time, so two stores given the same ops agree, encoding
// and order included.
func TestSetStoreDeterministic(t *testing.T) {
	var dumps [2]string
	for i := range dumps {
		x := newTester(t)
		for _, line := range []string{"SADD a 1 2 3 x", "SADD b 2 3 4", "SADD c 3 9",
			"SINTERSTORE i a b", "SUNIONSTORE u a b c", "SDIFFSTORE d a b", "SUNIONSTORE n b c", "SSCAN u 0 COUNT 3"} {
			x.do(line)
		}
		for _, k := range []string{"i", "u", "d", "n"} {
			x.node.ks.RLock()
			e, _ := x.node.ks.DB(0).Lookup([]byte(k), x.node.now, keyspace.KindSet)
			dumps[i] += k + ":" + e.Encoding().String() + ":" + string(e.Object().AppendSnapshot(nil)) + ";"
			x.node.ks.RUnlock()
		}
	}
	if dumps[0] != dumps[1] {
		t.Fatalf("two stores differ:\n%q\n%q", dumps[0], dumps[1])
	}
	runSteps(t, newTester(t), []step{
		{"SADD a 1 2 3 x", ":4\r\n"},
		{"SADD b 2 3 4", ":3\r\n"},
		{"SINTERSTORE i a b", ":2\r\n"},
		{"SMEMBERS i", "*2\r\n$1\r\n2\r\n$1\r\n3\r\n"},
		{"OBJECT ENCODING i", "$6\r\nintset\r\n"},
		{"SUNIONSTORE n b i", ":3\r\n"},
		{"SMEMBERS n", "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"},
		{"SDIFFSTORE d a b", ":2\r\n"},
		{"OBJECT ENCODING d", "$9\r\nhashtable\r\n"},
		{"SINTERSTORE i a nosuch", ":0\r\n"},
		{"EXISTS i", ":0\r\n"},
	})
}
