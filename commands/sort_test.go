package commands

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/loomcache/loomcache/keyspace"
)

// TestPqsortRange: whatever the data, the partial sort puts in [lo, hi]
// exactly what a full sort puts there (ties are told apart here, so the
// range is unique).
func TestPqsortRange(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := &sorter{alpha: true, byPattern: true}
	for _, n := range []int{0, 1, 6, 7, 8, 40, 41, 200} {
		for range 20 {
			vec := make([]sortItem, n)
			for i := range vec {
				vec[i] = sortItem{cmp: []byte(strconv.Itoa(r.IntN(1000)) + "/" + strconv.Itoa(i))}
			}
			full := slices.Clone(vec)
			slices.SortStableFunc(full, func(a, b sortItem) int { return s.compare(&a, &b) })
			if n == 0 {
				continue
			}
			lo := r.IntN(n)
			hi := lo + r.IntN(n-lo)
			pqsort(vec, s.compare, lo, hi)
			for i := lo; i <= hi; i++ {
				if string(vec[i].cmp) != string(full[i].cmp) {
					t.Fatalf("n=%d [%d,%d]: at %d %q, full sort has %q", n, lo, hi, i, vec[i].cmp, full[i].cmp)
				}
			}
		}
	}
}

func TestLookupByPattern(t *testing.T) {
	x := newTester(t)
	for _, line := range []string{"SET w_a 5", "SET w_a-> str", "HSET h_a f 7 ->g 8", "RPUSH l_a x", "SET pre_a_post 9"} {
		x.do(line)
	}
	db := x.node.ks.DB(0)
	for _, c := range []struct {
		pattern string
		want    string // "<nil>" for nothing
	}{
		{"#", "a"}, {"w_*", "5"}, {"w_*->f", "<nil>"}, {"w_*->", "str"}, {"h_*->f", "7"},
		{"h_*->nope", "<nil>"}, {"h_*->->g", "8"}, {"h_*", "<nil>"}, {"l_*", "<nil>"},
		{"pre_*_post", "9"}, {"nostar", "<nil>"}, {"#x", "<nil>"}, {"#\x00x", "a"},
		{"w\x00_*", "<nil>"}, {"nokey_*", "<nil>"},
	} {
		got := lookupByPattern(db, x.node.now, []byte(c.pattern), []byte("a"))
		s := string(got)
		if got == nil {
			s = "<nil>"
		}
		if s != c.want {
			t.Errorf("pattern %q: got %q, want %q", c.pattern, s, c.want)
		}
	}
}

// TestSortGetKeys: the source, and the last STORE's destination found as
// Redis's sortGetKeys skips the options' arguments.
func TestSortGetKeys(t *testing.T) {
	table := NewTable()
	for _, c := range []struct {
		line string
		want []int
	}{
		{"SORT k", []int{1}},
		{"SORT k STORE d", []int{1, 3}},
		{"SORT k STORE d STORE e", []int{1, 5}},
		{"SORT k GET STORE d", []int{1}},
		{"SORT k LIMIT STORE x STORE d", []int{1, 6}},
		{"SORT k STORE", []int{1}},
		{"SORT_RO k STORE d", []int{1}},
	} {
		args, _ := splitLine(c.line)
		if got := table.Lookup(args[0]).KeyPositions(args); !slices.Equal(got, c.want) {
			t.Errorf("%s: keys at %v, want %v", c.line, got, c.want)
		}
	}
}

// TestSortStoreDeterministic: the applier sorts again from the keyspace,
// so two stores given the same ops store the same list; the op is the
// command's arguments only.
func TestSortStoreDeterministic(t *testing.T) {
	var dumps [2]string
	for i := range dumps {
		x := newTester(t)
		for _, line := range []string{"SADD s c 10 b a 2", "RPUSH l 3 1 2", "MSET w_1 z w_2 y w_3 y",
			"SORT s BY nosort STORE d1", "SORT l BY w_* ALPHA GET # GET nokey_* STORE d2", "SORT l BY w_* ALPHA LIMIT 1 1 STORE d3"} {
			x.do(line)
		}
		for _, k := range []string{"d1", "d2", "d3"} {
			x.node.ks.RLock()
			e, _ := x.node.ks.DB(0).Lookup([]byte(k), x.node.now, keyspace.KindList)
			dumps[i] += k + ":" + string(e.Object().AppendSnapshot(nil)) + ";"
			x.node.ks.RUnlock()
		}
	}
	if dumps[0] != dumps[1] {
		t.Fatalf("two stores differ:\n%q\n%q", dumps[0], dumps[1])
	}
	runSteps(t, newTester(t), []step{
		{"SADD s c 10 b a 2", ":5\r\n"},
		{"SORT s BY nosort STORE d", ":5\r\n"},
		{"LRANGE d 0 -1", "*5\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{"SORT s ALPHA LIMIT 0 0 STORE d", ":0\r\n"},
		{"EXISTS d", ":0\r\n"},
		{"SORT s STORE d", "-ERR One or more scores can't be converted into double\r\n"},
		{"SET str x", "+OK\r\n"},
		{"SORT str STORE d", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"SORT_RO s STORE d", "-ERR syntax error\r\n"},
	})
}

// TestSortScoreRange: glibc's strtod reports ERANGE for an inexact
// subnormal too (what redis-server 7.0.15 answers on a fresh connection).
func TestSortScoreRange(t *testing.T) {
	for _, c := range []struct {
		v   string
		bad bool
	}{
		{"0x1p-1074", false}, {"+0x1p-1074", false}, {"0x1.8p-1030", false}, {"2.2250738585072014e-308", false},
		{"2.2250738585072011e-308", true}, {"1e-310", true}, {" 1e-315", true}, {"4.9406564584124654e-324", true},
		{"1e400", true}, {"1e-400", true}, {"1.5", false}, {"0", false},
	} {
		f, ok, _, erange := strtod([]byte(c.v))
		if bad := !ok || erange || inexactSubnormal([]byte(c.v), f); bad != c.bad {
			t.Errorf("%q: out of range %v, want %v", c.v, bad, c.bad)
		}
	}
}
