package commands

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/hll"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// eventRecorder records keyspace events as "event key".
type eventRecorder struct{ events []string }

func (r *eventRecorder) Wants(keyspace.EventClass) bool { return true }
func (r *eventRecorder) Notify(db int, class keyspace.EventClass, event string, key []byte) {
	r.events = append(r.events, event+" "+string(key))
}

func (r *eventRecorder) take() string {
	s := strings.Join(r.events, ",")
	r.events = nil
	return s
}

// proposalNode counts proposals by type, and fails them when down (a
// node that cannot propose: a READONLY follower, a lost leader).
type proposalNode struct {
	*fakeNode
	proposed map[op.Type]int
	down     bool
}

func (n *proposalNode) Propose(o *op.Op) (any, error) {
	if n.down {
		return nil, ErrNoLeader
	}
	n.proposed[o.Type]++
	return n.fakeNode.Propose(o)
}

func newHLLTester(t *testing.T) (*tester, *proposalNode, *eventRecorder) {
	x := newTester(t)
	n := &proposalNode{fakeNode: x.node, proposed: map[op.Type]int{}}
	x.ctx.Node = n
	rec := &eventRecorder{}
	x.node.ks.SetNotifier(rec)
	return x, n, rec
}

func bulk(b []byte) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(b), b) }

func TestHLLAddCountBytes(t *testing.T) {
	x, n, rec := newHLLTester(t)
	x.expect("PFCOUNT h", ":0\r\n")
	x.expect("PFADD h a b c", ":1\r\n")
	if got := rec.take(); got != "keymiss h,new h,pfadd h" {
		t.Fatalf("events of PFADD creating the key: %q", got)
	}
	want, _, _ := hll.Add(hll.New(), [][]byte{[]byte("a"), []byte("b"), []byte("c")}, 3000)
	hll.Invalidate(want)
	x.expect("GET h", bulk(want))
	x.expect("PFADD h a b c", ":0\r\n")
	if got := rec.take(); got != "" {
		t.Fatalf("PFADD that changed nothing notified %q", got)
	}
	x.expect("OBJECT ENCODING h", "$3\r\nraw\r\n")

	// The first PFCOUNT stores the count in the header, through an op.
	x.expect("PFCOUNT h", ":3\r\n")
	x.expect("PFCOUNT h", ":3\r\n")
	if n.proposed[op.PFCache] != 1 {
		t.Fatalf("PFCOUNT proposed %d PFCACHE ops, want 1 (the second reads the cache)", n.proposed[op.PFCache])
	}
	if got := rec.take(); got != "" {
		t.Fatalf("PFCOUNT notified %q", got)
	}
	hll.SetCache(want, 3)
	x.expect("GET h", bulk(want))
	x.expect("GETRANGE h 15 15", "$1\r\n\x00\r\n")
	x.expect("PFADD h d", ":1\r\n")
	x.expect("GETRANGE h 15 15", "$1\r\n\x80\r\n")
	if got := rec.take(); got != "pfadd h" {
		t.Fatalf("events of PFADD: %q", got)
	}
}

func TestHLLCountWithoutProposing(t *testing.T) {
	x, n, _ := newHLLTester(t)
	x.expect("PFADD h a b c d e", ":1\r\n")
	before := x.do("GET h")
	n.down = true
	x.expect("PFCOUNT h", ":5\r\n") // the count read stands
	n.down = false
	if x.do("GET h") != before {
		t.Fatal("PFCOUNT that could not propose changed the value")
	}
	x.expect("PFCOUNT h", ":5\r\n")
	if x.do("GET h") == before {
		t.Fatal("PFCOUNT did not cache the count")
	}
}

func TestHLLMerge(t *testing.T) {
	x, _, rec := newHLLTester(t)
	x.expect("PFADD a 1 2 3", ":1\r\n")
	x.expect("PFADD b 3 4 5", ":1\r\n")
	x.expect("PFDEBUG TODENSE b", ":1\r\n")
	rec.take()
	x.expect("PFMERGE m a b", "+OK\r\n")
	if got := rec.take(); got != "keymiss m,new m,pfadd m" {
		t.Fatalf("events of PFMERGE: %q", got)
	}
	x.expect("PFDEBUG ENCODING m", "+dense\r\n") // a dense source
	x.expect("PFCOUNT m", ":5\r\n")
	x.expect("PFCOUNT a b nosuch", ":5\r\n")
	x.expect("PFMERGE a nosuch", "+OK\r\n")
	x.expect("PFDEBUG ENCODING a", "+sparse\r\n")
	x.expect("PFCOUNT a", ":3\r\n")
	x.expect("SET s x", "+OK\r\n")
	x.expect("PFMERGE m s", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n")
	x.expect("LPUSH l x", ":1\r\n")
	x.expect("PFMERGE l a", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
	x.expect("PFCOUNT a l", "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
}

// TestHLLReplies: the deadline stays through PFADD, PFCOUNT and PFMERGE;
// corrupt and invalid values get Redis's errors.
func TestHLLReplies(t *testing.T) {
	x, _, _ := newHLLTester(t)
	for _, step := range [][2]string{
		{"PFADD h a", ":1\r\n"},
		{"PEXPIRE h 100000", ":1\r\n"},
		{"PFADD h b c", ":1\r\n"},
		{"PFCOUNT h", ":3\r\n"},
		{"PFMERGE h", "+OK\r\n"},
		{"PTTL h", ":100000\r\n"},
		{"APPEND h hello", ":32\r\n"},
		{"PFCOUNT h", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{"PFCOUNT h h", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{"PFMERGE m h", "-INVALIDOBJ Corrupted HLL object detected\r\n"},
		{"SET s HYLL", "+OK\r\n"},
		{"PFADD s a", "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n"},
		{"PFDEBUG GETREG nosuch", "-ERR The specified key does not exist\r\n"},
	} {
		x.expect(step[0], step[1])
	}
}

// TestHLLSparseLimit follows hll-sparse-max-bytes, read at apply time.
func TestHLLSparseLimit(t *testing.T) {
	x, _, _ := newHLLTester(t)
	lim := keyspace.DefaultEncodingLimits()
	lim.HllSparseMaxBytes = 40
	x.node.ks.SetEncodingLimits(lim)
	for i := range 20 {
		x.do(fmt.Sprintf("PFADD h e%d", i))
	}
	x.expect("PFDEBUG ENCODING h", "+dense\r\n")
	x.expect("STRLEN h", fmt.Sprintf(":%d\r\n", hll.DenseSize))
}

func TestHLLDebug(t *testing.T) {
	x, _, _ := newHLLTester(t)
	x.expect("PFADD h a", ":1\r\n")
	x.expect("PFDEBUG NOPE h", "-ERR Unknown PFDEBUG subcommand 'NOPE'\r\n")
	x.expect("PFDEBUG DECODE h", "$20\r\nZ:12711 v:2,1 Z:3672\r\n")
	if !errors.Is(hll.Validate([]byte("HYLL")), hll.ErrNotHLL) {
		t.Fatal("a 4-byte value is an HLL")
	}
}
