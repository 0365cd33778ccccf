package commands

import (
	"math"
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// TestStrtod: scores and range ends read as C's strtod and Redis's
// string2d read them.
func TestStrtod(t *testing.T) {
	for _, c := range []struct {
		in     string
		score  float64 // NaN: parseScore refuses it
		bound  float64 // NaN: a range end refuses it
		bounds bool
	}{
		{"1", 1, 1, true}, {"-2.5", -2.5, -2.5, true}, {"+.5", 0.5, 0.5, true}, {"5.", 5, 5, true},
		{" 1", math.NaN(), 1, true}, {"1 ", math.NaN(), math.NaN(), false}, {"", math.NaN(), 0, true},
		{"inf", math.Inf(1), math.Inf(1), true}, {"-Infinity", math.Inf(-1), math.Inf(-1), true},
		{"nan", math.NaN(), math.NaN(), false}, {"0x10", 16, 16, true}, {"0X1p-2", 0.25, 0.25, true},
		{"1e400", math.NaN(), math.Inf(1), true}, {"1e-400", math.NaN(), 0, true},
		{"4.9e-324", 4.9e-324, 4.9e-324, true}, {"1e", math.NaN(), math.NaN(), false},
		{".", math.NaN(), math.NaN(), false}, {"0x", math.NaN(), math.NaN(), false},
		{"1_0", math.NaN(), math.NaN(), false}, {"0x1_0", math.NaN(), math.NaN(), false},
		{"1.2.3", math.NaN(), math.NaN(), false}, {"+", math.NaN(), math.NaN(), false},
	} {
		s, ok := parseScore([]byte(c.in))
		if ok != !math.IsNaN(c.score) || ok && s != c.score {
			t.Errorf("parseScore(%q) = %g %v, want %g", c.in, s, ok, c.score)
		}
		b, _, ok := parseRangeBound([]byte(c.in))
		if ok != c.bounds || ok && b != c.bound {
			t.Errorf("parseRangeBound(%q) = %g %v, want %g", c.in, b, ok, c.bound)
		}
	}
}

// TestZSetNoChangeKeepsVersion: a ZADD, ZREM or ZREMRANGE that changes
// nothing leaves the key's version (a WATCH on it holds).
func TestZSetNoChangeKeepsVersion(t *testing.T) {
	x := newTester(t)
	x.expect("ZADD z 1 a 2 b", ":2\r\n")
	version := func() uint64 {
		x.node.ks.RLock()
		defer x.node.ks.RUnlock()
		return x.node.ks.DB(0).Version([]byte("z"), x.node.now)
	}
	v := version()
	for _, line := range []string{"ZADD z 1 a", "ZADD z NX 5 a", "ZADD z XX 5 c", "ZADD z GT 0 b", "ZADD z INCR GT -1 a",
		"ZREM z c", "ZREMRANGEBYSCORE z 5 6", "ZREMRANGEBYLEX z (c +", "ZREMRANGEBYRANK z 5 6", "ZPOPMIN z 0", "ZINCRBY z 0 a"} {
		x.do(line)
		if version() != v {
			t.Fatalf("%s changed the version", line)
		}
	}
	x.do("ZADD z CH 3 a")
	if version() == v {
		t.Fatal("a changed score kept the version")
	}
}

// TestZSetPopResult: the ZPop op returns the key, members and scores for
// the blocking pops to reply in their own shape.
func TestZSetPopResult(t *testing.T) {
	x := newTester(t)
	x.expect("ZADD z2 1 a 2 b 3 c", ":3\r\n")
	pop := func(flags uint32, count int64, keys ...string) any {
		args := make([][]byte, len(keys))
		for i, k := range keys {
			args[i] = []byte(k)
		}
		res, _ := x.node.Propose(&op.Op{Type: op.ZPop, Flags: flags, Int: count, Now: x.node.now, Args: args})
		return res
	}
	p := pop(op.FlagZMax, 2, "z1", "z2").(*zsetPop)
	if string(p.Key) != "z2" || len(p.Members) != 2 || string(p.Members[0]) != "c" || p.Scores[1] != 2 {
		t.Fatalf("pop max 2: %q %q %v", p.Key, p.Members, p.Scores)
	}
	if p := pop(0, 5, "z1").(*zsetPop); p.Key != nil || len(p.Members) != 0 {
		t.Fatalf("pop from nothing: %q %q", p.Key, p.Members)
	}
	x.expect("SET s v", "+OK\r\n")
	if got := pop(0, 1, "z1", "s", "z2"); got != errWrongType {
		t.Fatalf("a string before the set: %v", got)
	}
	p = pop(0, 5, "z2").(*zsetPop)
	if len(p.Members) != 1 || string(p.Members[0]) != "a" {
		t.Fatalf("last pop: %q", p.Members)
	}
	x.expect("EXISTS z2", ":0\r\n")
}

// TestZSetStoreDeterministic: two stores given the same ops agree on the
// stored results, encoding and bytes.
func TestZSetStoreDeterministic(t *testing.T) {
	var dumps [2]string
	for i := range dumps {
		x := newTester(t)
		for _, line := range []string{"ZADD a 1 x 2 y 3 z", "ZADD b 0.5 y 4 w", "SADD s x w",
			"ZUNIONSTORE u 3 a b s WEIGHTS 1 2 3", "ZINTERSTORE i 2 a b AGGREGATE MAX", "ZDIFFSTORE d 2 a s",
			"ZRANGESTORE r u 1 -1", "ZRANGESTORE r2 u (1 +inf BYSCORE LIMIT 1 2"} {
			x.do(line)
		}
		for _, k := range []string{"u", "i", "d", "r", "r2"} {
			x.node.ks.RLock()
			e, _ := x.node.ks.DB(0).Lookup([]byte(k), x.node.now, keyspace.KindZSet)
			dumps[i] += k + ":" + e.Encoding().String() + ":" + string(e.Object().AppendSnapshot(nil)) + ";"
			x.node.ks.RUnlock()
		}
	}
	if dumps[0] != dumps[1] {
		t.Fatalf("two stores differ:\n%q\n%q", dumps[0], dumps[1])
	}
}
