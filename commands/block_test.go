package commands

import (
	"bytes"
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// meddler is a fakeNode that applies another client's write just before
// each of the first n Exec ops it is given: the write lands between the
// block's run and its apply, as a write in flight on the leader would.
type meddler struct {
	*fakeNode
	before *op.Op
	n      int
	execs  int
}

func (m *meddler) Propose(o *op.Op) (any, error) {
	if o.Type == op.Exec {
		m.execs++
		if m.n > 0 {
			m.n--
			if _, err := m.fakeNode.Propose(m.before); err != nil {
				return nil, err
			}
		}
	}
	return m.fakeNode.Propose(o)
}

// transact queues cmds as a client in MULTI would and runs EXEC.
func (x *tester) transact(cmds ...string) string {
	x.t.Helper()
	x.expect("MULTI", "+OK\r\n")
	for _, line := range cmds {
		args, _ := splitLine(line)
		cmd, msg := x.ctx.Table.Resolve(args)
		if cmd == nil {
			x.t.Fatalf("%s: %s", line, msg)
		}
		x.ctx.Args = args
		x.ctx.W.Reset()
		x.ctx.Table.Queue(x.ctx, cmd)
		if got := string(x.ctx.W.Bytes()); got != "+QUEUED\r\n" {
			x.t.Fatalf("%s: %q", line, got)
		}
	}
	return x.do("EXEC")
}

func splitLine(line string) ([][]byte, bool) {
	var args [][]byte
	for _, f := range bytes.Fields([]byte(line)) {
		args = append(args, f)
	}
	return args, len(args) > 0
}

func TestTransactionConflictRunsAgain(t *testing.T) {
	x := newTester(t)
	x.expect("SET n 1", "+OK\r\n")
	m := &meddler{fakeNode: x.node, n: 2, before: &op.Op{Type: op.IncrBy, Now: x.node.now, Int: 10, Args: [][]byte{[]byte("n")}}}
	x.ctx.Node = m
	// The first two runs read n before another client's INCRBY 10 lands
	// ahead of their writes: both conflict and apply nothing; the third
	// sees 21.
	if got, want := x.transact("INCR n", "GET n"), "*2\r\n:22\r\n$2\r\n22\r\n"; got != want {
		t.Fatalf("EXEC: %q, want %q", got, want)
	}
	if m.execs != 3 {
		t.Errorf("%d Exec ops proposed, want 3", m.execs)
	}
	x.expect("GET n", "$2\r\n22\r\n")
}

func TestWatchCheckedInsideApply(t *testing.T) {
	x := newTester(t)
	x.expect("SET w 1", "+OK\r\n")
	x.expect("WATCH w", "+OK\r\n")
	m := &meddler{fakeNode: x.node, n: 1, before: &op.Op{Type: op.Set, Now: x.node.now, Args: [][]byte{[]byte("w"), []byte("2")}}}
	x.ctx.Node = m
	if got := x.transact("SET w 3", "SET other 1"); got != "*-1\r\n" {
		t.Fatalf("EXEC: %q, want a null array", got)
	}
	x.expect("MGET w other", "*2\r\n$1\r\n2\r\n$-1\r\n")
	if m.execs != 1 {
		t.Errorf("%d Exec ops, want 1", m.execs)
	}
}

// A block that reads the whole keyspace requires the store's change
// count: any write in between is a conflict.
func TestWholeKeyspaceReadConflicts(t *testing.T) {
	x := newTester(t)
	x.expect("SET a 1", "+OK\r\n")
	m := &meddler{fakeNode: x.node, n: 1, before: &op.Op{Type: op.Set, Now: x.node.now, Args: [][]byte{[]byte("b"), []byte("2")}}}
	x.ctx.Node = m
	if got, want := x.transact("DBSIZE", "SET c 3"), "*2\r\n:2\r\n+OK\r\n"; got != want {
		t.Fatalf("EXEC: %q, want %q", got, want)
	}
	if m.execs != 2 {
		t.Errorf("%d Exec ops, want 2", m.execs)
	}
}

func TestApplyExecAllOrNothing(t *testing.T) {
	table := NewTable()
	ks := keyspace.New(16)
	ks.DB(0).Set([]byte("k"), keyspace.NewString([]byte("v")), 0)
	v := ks.DB(0).Version([]byte("k"), 0)
	set := (&op.Op{Type: op.Set, Args: [][]byte{[]byte("k"), []byte("new")}}).Encode(nil)
	other := (&op.Op{Type: op.Set, Args: [][]byte{[]byte("o"), []byte("1")}}).Encode(nil)
	exec := func(checks []op.Check, ops ...[]byte) *op.Op {
		return &op.Op{Type: op.Exec, Args: append([][]byte{op.AppendChecks(nil, checks), []byte("+done\r\n")}, ops...)}
	}
	for _, tc := range []struct {
		name string
		o    *op.Op
		want any
	}{
		{"stale read", exec([]op.Check{{Key: []byte("k"), Version: v + 1}}, other, set), conflict{}},
		{"stale watch", exec([]op.Check{{Key: []byte("k"), Version: v + 1, Watch: true}}, other, set), nullArray{}},
		{"store", exec([]op.Check{{Store: true, Version: ks.Version() + 1}}, other), conflict{}},
		{"bad op", exec(nil, other, []byte{9, 9}), errBadOp},
		{"nested", exec(nil, other, exec(nil, set).Encode(nil)), errBadOp},
		{"bad db", exec([]op.Check{{DB: 99, Key: []byte("k")}}, other), errBadOp},
	} {
		if got := table.Apply(ks, tc.o); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if ks.DB(0).Exists([]byte("o"), 0) || string(ks.DB(0).Get([]byte("k"), 0).Bytes()) != "v" {
			t.Fatalf("%s: applied something", tc.name)
		}
	}
	got := table.Apply(ks, exec([]op.Check{{Key: []byte("k"), Version: v}, {Key: []byte("o")}}, other, set))
	if r, ok := got.(RawReply); !ok || string(r) != "+done\r\n" {
		t.Fatalf("apply: %v", got)
	}
	if string(ks.DB(0).Get([]byte("k"), 0).Bytes()) != "new" || !ks.DB(0).Exists([]byte("o"), 0) {
		t.Fatal("writes not applied")
	}
	if u, ok := any(conflict{}).(interface{ Unapplied() bool }); !ok || !u.Unapplied() {
		t.Fatal("a conflict must not be remembered for its request id")
	}
}

func TestTransactionWireRoundTrip(t *testing.T) {
	tx := &transaction{
		watched: []op.Check{{DB: 3, Key: []byte("w"), Version: 12, Watch: true}},
		cmds:    []queuedCmd{{args: [][]byte{[]byte("SET"), []byte("a"), []byte("")}}, {args: [][]byte{[]byte("GET"), []byte("a")}, denied: true}},
	}
	got, err := decodeTransaction(tx.encode())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.encode(), tx.encode()) {
		t.Fatal("round trip changed the transaction")
	}
	for _, bad := range [][]byte{nil, {0}, {1, 0}, append(tx.encode(), 0)} {
		if _, err := decodeTransaction(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

// FuzzDecodeTransaction: a forwarded transaction decodes or fails with an
// error, and what decodes encodes back to something that decodes the same.
func FuzzDecodeTransaction(f *testing.F) {
	f.Add((&transaction{cmds: []queuedCmd{{args: [][]byte{[]byte("PING")}}}}).encode())
	f.Add((&transaction{watched: []op.Check{{Key: []byte("k"), Watch: true}}}).encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := decodeTransaction(b)
		if err != nil {
			return
		}
		again, err := decodeTransaction(tx.encode())
		if err != nil || !bytes.Equal(again.encode(), tx.encode()) {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}

// FuzzApplyExec: an Exec op with any arguments is applied or refused
// identically on two stores, never a panic.
func FuzzApplyExec(f *testing.F) {
	set := (&op.Op{Type: op.Set, Args: [][]byte{[]byte("k"), []byte("v")}}).Encode(nil)
	f.Add(op.AppendChecks(nil, []op.Check{{Key: []byte("k")}}), []byte("+OK\r\n"), set)
	f.Add([]byte{0}, []byte{}, []byte{1})
	f.Fuzz(func(t *testing.T, checks, reply, sub []byte) {
		table := NewTable()
		a, b := keyspace.New(16), keyspace.New(16)
		o := &op.Op{Type: op.Exec, Args: [][]byte{checks, reply, sub}}
		ra, rb := table.Apply(a, o), table.Apply(b, o)
		if fmtResult(ra) != fmtResult(rb) || a.Version() != b.Version() {
			t.Fatalf("two stores disagree: %v / %v", ra, rb)
		}
	})
}

func fmtResult(r any) string {
	w := &bytes.Buffer{}
	switch r := r.(type) {
	case RawReply:
		w.Write(r)
	case error:
		w.WriteString(r.Error())
	case nullArray:
		w.WriteString("null")
	}
	return w.String()
}

// A private store goes back to the pool empty, or not at all.
func TestBlockStoreReuse(t *testing.T) {
	table := NewTable()
	base := keyspace.New(16)
	b := newBlock(table, base, 1)
	base.RLock()
	b.copyKey(0, []byte("named"))
	base.RUnlock()
	b.scratch.DB(0).Set([]byte("named"), keyspace.NewString([]byte("v")), 0)
	b.release()
	again := newBlock(table, base, 1)
	if again.scratch.DB(0).Len() != 0 {
		t.Fatal("a reused store holds keys")
	}
	again.scratch.DB(3).Set([]byte("unnamed"), keyspace.NewString([]byte("v")), 0)
	s := again.scratch
	again.release()
	for i := 0; i < 5; i++ {
		if next := newBlock(table, base, 1); next.scratch == s {
			t.Fatal("a store holding a key no block named was reused")
		}
	}
}

// A command whose op is not a keyspace op is refused inside a
// transaction with one clear error, and the rest of it runs.
func TestNotInBlock(t *testing.T) {
	x := newTester(t)
	if got, want := x.transact("ACL SETUSER zed on", "SET a 1"), "*2\r\n-ERR this command cannot run inside a transaction or a script on LoomCache\r\n+OK\r\n"; got != want {
		t.Fatalf("EXEC: %q, want %q", got, want)
	}
	x.expect("GET a", "$1\r\n1\r\n")
}
