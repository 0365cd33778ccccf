package commands

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

// fakeNode applies proposals directly, with the same encode/decode round
// trip Raft would do, and a settable clock.
type fakeNode struct {
	mu    sync.Mutex
	ks    *keyspace.Store
	table *Table
	now   int64
}

func (n *fakeNode) Propose(o *op.Op) (any, error) {
	var dec op.Op
	if err := op.Decode(o.Encode(nil), &dec); err != nil {
		return nil, err
	}
	n.ks.Lock()
	defer n.ks.Unlock()
	return n.table.Apply(n.ks, &dec), nil
}

func (n *fakeNode) ReadBarrier() error     { return nil }
func (n *fakeNode) Store() *keyspace.Store { return n.ks }
func (n *fakeNode) Now() int64             { return n.now }

// tester runs commands on one session against a fakeNode.
type tester struct {
	t    testing.TB
	node *fakeNode
	ctx  *Ctx
}

func newTester(t testing.TB) *tester {
	table := NewTable()
	node := &fakeNode{ks: keyspace.New(16), table: table, now: 1_700_000_000_000}
	ctx := &Ctx{W: resp.NewWriter(), S: NewSession(1, "127.0.0.1:1", "127.0.0.1:2", time.Now()), Node: node, Table: table}
	table.ACL().Admit(ctx.S)
	return &tester{t: t, node: node, ctx: ctx}
}

// do runs one command (split like an inline request) and returns the raw
// reply.
func (x *tester) do(line string) string {
	x.t.Helper()
	args, ok := resp.SplitArgs([]byte(line), nil)
	if !ok || len(args) == 0 {
		x.t.Fatalf("bad command line %q", line)
	}
	x.ctx.Args = args
	x.ctx.W.Reset()
	x.ctx.Table.Dispatch(x.ctx)
	return string(x.ctx.W.Bytes())
}

// expect runs line and checks the raw reply.
func (x *tester) expect(line, want string) {
	x.t.Helper()
	if got := x.do(line); got != want {
		x.t.Errorf("%s\n got %q\nwant %q", line, got, want)
	}
}

func TestHarnessSetGet(t *testing.T) {
	x := newTester(t)
	x.expect("SET foo bar", "+OK\r\n")
	x.expect("GET foo", "$3\r\nbar\r\n")
	x.expect("SET foo baz GET", "$3\r\nbar\r\n")
	x.expect("SET foo x NX", "$-1\r\n")
	x.expect("SET foo x XX NX", "-ERR syntax error\r\n")
	x.expect("SET foo x EX 0", "-ERR invalid expire time in 'set' command\r\n")
	x.expect("SET foo x EX abc", "-ERR value is not an integer or out of range\r\n")
	x.expect("SET k v PX 100", "+OK\r\n")
	x.node.now += 100
	x.expect("GET k", "$-1\r\n")
	x.expect("GET", "-ERR wrong number of arguments for 'get' command\r\n")
	if !strings.HasPrefix(x.do("NOSUCH a"), "-ERR unknown command 'NOSUCH'") {
		t.Error("unknown command reply")
	}
}

// Expected replies recorded from redis-server 7.0.15.
func TestUnknownCommandFormatting(t *testing.T) {
	x := newTester(t)
	long := strings.Repeat("x", 200)
	x.ctx.Args = [][]byte{[]byte("foo"), []byte("a\x00b"), []byte(long)}
	x.ctx.W.Reset()
	x.ctx.Table.Dispatch(x.ctx)
	want := "-ERR unknown command 'foo', with args beginning with: 'a' '" + strings.Repeat("x", 124) + "' \r\n"
	if got := string(x.ctx.W.Bytes()); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	x.ctx.Args = [][]byte{[]byte("client"), []byte("f\x00o")}
	x.ctx.W.Reset()
	x.ctx.Table.Dispatch(x.ctx)
	if got, want := string(x.ctx.W.Bytes()), "-ERR unknown subcommand 'f'. Try CLIENT HELP.\r\n"; got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// A value counts as accessed when it is written, so OBJECT IDLETIME grows
// from the write on, as in Redis.
func TestIdleTimeCountsFromWrite(t *testing.T) {
	x := newTester(t)
	x.expect("SET k v", "+OK\r\n")
	x.node.now += 5000
	x.expect("OBJECT IDLETIME k", ":5\r\n")
	x.expect("APPEND k w", ":2\r\n")
	x.expect("OBJECT IDLETIME k", ":0\r\n")
}
