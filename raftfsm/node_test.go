package raftfsm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// testApply is a minimal applier for the ops these tests propose, so
// raftfsm is tested without the command table.
func testApply(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	switch o.Type {
	case op.Set:
		db.Set(o.Args[0], keyspace.NewString(o.Args[1]), o.Int)
		return "OK"
	case op.IncrBy:
		var n int64
		if v := db.GetForWrite(o.Args[0], o.Now); v != nil {
			fmt.Sscan(string(v.Bytes()), &n)
		}
		n += o.Int
		db.Replace(o.Args[0], keyspace.NewInt(n))
		return n
	case op.ExpireKeys:
		var n int64
		for _, k := range o.Args {
			if d := db.Deadline(k); d != 0 && d <= o.Now {
				db.Delete(k, o.Now)
				n++
			}
		}
		return n
	}
	return errors.New("ERR unsupported in test")
}

// testClock is a settable clock for Config.Now.
type testClock struct{ ms atomic.Int64 }

func newClock() *testClock {
	c := &testClock{}
	c.ms.Store(time.Now().UnixMilli())
	return c
}

func (c *testClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func testConfig(t testing.TB, dir string) Config {
	return Config{
		ID:        "n1",
		RaftAddr:  freeAddr(t),
		DataDir:   dir,
		Fsync:     true,
		Apply:     testApply,
		LogOutput: io.Discard,
		LogLevel:  "error",
	}
}

// openLeader opens a single node and waits until it serves reads.
func openLeader(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := Open(cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := n.WaitLeader(ctx); err != nil {
		n.Close()
		t.Fatalf("never led: %v", err)
	}
	return n
}

func set(t testing.TB, n *Node, key, val string, deadline int64) {
	t.Helper()
	res, err := n.Propose(&op.Op{Type: op.Set, Now: n.Now(), Int: deadline, Args: [][]byte{[]byte(key), []byte(val)}})
	if err != nil || res != "OK" {
		t.Fatalf("SET %s: %v, %v", key, res, err)
	}
}

// lookup reads key from db under the read lock, ignoring deadlines.
func lookup(n *Node, db int, key string) (string, bool) {
	ks := n.Store()
	ks.RLock()
	defer ks.RUnlock()
	v := ks.DB(db).Get([]byte(key), 0)
	if v == nil {
		return "", false
	}
	return string(v.Bytes()), true
}

// waitFor polls cond until it holds, failing after a generous bound (a
// hang detector, not a timing assertion).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenCloseRepeatedly reopens a node on the same directory, writing
// each time, and checks that all earlier writes come back, that Close is
// idempotent and that a closed node refuses work without panicking.
func TestOpenCloseRepeatedly(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	const cycles = 4
	for i := 0; i < cycles; i++ {
		n := openLeader(t, cfg)
		for j := 0; j < i; j++ {
			if v, ok := lookup(n, 0, fmt.Sprint("k", j)); !ok || v != fmt.Sprint("v", j) {
				t.Fatalf("cycle %d: k%d = %q, %v", i, j, v, ok)
			}
		}
		set(t, n, fmt.Sprint("k", i), fmt.Sprint("v", i), 0)
		if err := n.Close(); err != nil {
			t.Fatalf("cycle %d: close: %v", i, err)
		}
		if err := n.Close(); err != nil {
			t.Fatalf("cycle %d: second close: %v", i, err)
		}
		if _, err := n.Propose(&op.Op{Type: op.Set, Args: [][]byte{[]byte("x"), []byte("y")}}); !errors.Is(err, ErrNoLeader) {
			t.Fatalf("Propose after Close: %v, want ErrNoLeader", err)
		}
		if err := n.ReadBarrier(); !errors.Is(err, ErrNoLeader) {
			t.Fatalf("ReadBarrier after Close: %v, want ErrNoLeader", err)
		}
		if st := n.Stats(); st.LastLogIndex == 0 || st.ReadsReady {
			t.Fatalf("Stats after Close: %+v", st)
		}
	}
}

// TestCloseWithProposalsInFlight closes a node while many proposers are
// writing: every proposer must get an answer (no hang), every failure must
// be ErrNoLeader or ErrUnknownOutcome, and every acknowledged write must be
// there after a reopen.
func TestCloseWithProposalsInFlight(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	n := openLeader(t, cfg)
	const writers = 16
	var (
		mu    sync.Mutex
		acked []string
		fails = map[string]int{}
		wg    sync.WaitGroup
		total atomic.Int64
	)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				_, err := n.Propose(&op.Op{Type: op.Set, Now: n.Now(), Args: [][]byte{[]byte(key), []byte("v")}})
				mu.Lock()
				if err != nil {
					kind := "other: " + err.Error()
					switch {
					case errors.Is(err, ErrNoLeader):
						kind = "no leader"
					case errors.Is(err, ErrUnknownOutcome):
						kind = "unknown outcome"
					}
					fails[kind]++
					mu.Unlock()
					return
				}
				acked = append(acked, key)
				mu.Unlock()
				total.Add(1)
			}
		}()
	}
	waitFor(t, "writes", func() bool { return total.Load() >= 200 })
	closed := make(chan error, 1)
	go func() { closed <- n.Close() }()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for _, ch := range []<-chan struct{}{done, chanOf(closed)} {
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("Close or a proposer hung:\n%s", buf[:runtime.Stack(buf, true)])
		}
	}
	t.Logf("acknowledged %d writes; failures at close: %v", len(acked), fails)
	for kind := range fails {
		if kind != "no leader" && kind != "unknown outcome" {
			t.Errorf("proposal failed with %s", kind)
		}
	}
	n = openLeader(t, cfg)
	defer n.Close()
	for _, k := range acked {
		if _, ok := lookup(n, 0, k); !ok {
			t.Fatalf("acknowledged write %s lost after reopen", k)
		}
	}
}

func chanOf(errc <-chan error) <-chan struct{} {
	c := make(chan struct{})
	go func() { <-errc; close(c) }()
	return c
}

// TestExpireLoopDeletes: on a leader, keys whose deadline has passed are
// deleted by proposals of the expire loop, in every database, including
// more keys than one sample; keys without a deadline or with a later one
// stay.
func TestExpireLoopDeletes(t *testing.T) {
	clock := newClock()
	cfg := testConfig(t, t.TempDir())
	cfg.Now = clock.Now
	n := openLeader(t, cfg)
	defer n.Close()
	soon := clock.Now().Add(time.Second).UnixMilli()
	later := clock.Now().Add(time.Hour).UnixMilli()
	const many = 3*expireSample + 7
	for i := 0; i < many; i++ {
		set(t, n, fmt.Sprint("soon", i), "v", soon)
	}
	for _, db := range []int{5, 15} {
		if _, err := n.Propose(&op.Op{Type: op.Set, DB: db, Now: n.Now(), Int: soon, Args: [][]byte{[]byte("soon"), []byte("v")}}); err != nil {
			t.Fatal(err)
		}
	}
	set(t, n, "forever", "v", 0)
	set(t, n, "later", "v", later)
	before := n.Stats().WAL.Entries

	clock.Advance(2 * time.Second)
	waitFor(t, "expired keys deleted", func() bool {
		ks := n.Store()
		ks.RLock()
		defer ks.RUnlock()
		return ks.DB(0).Len() == 2 && ks.DB(5).Len() == 0 && ks.DB(15).Len() == 0
	})
	for _, k := range []string{"forever", "later"} {
		if _, ok := lookup(n, 0, k); !ok {
			t.Errorf("%s was deleted", k)
		}
	}
	// The deletions went through the log: at least one op per database,
	// and more than one for database 0.
	if got := n.Stats().WAL.Entries - before; got < 4 {
		t.Errorf("%d entries written for expiry, want at least 4", got)
	}
}

// TestFollowerNeverExpires: a node that is not the leader (here: one of two
// voters, the other never started, so it never wins an election) leaves
// expired keys alone and proposes nothing.
func TestFollowerNeverExpires(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Members = []Member{{ID: "n1", RaftAddr: cfg.RaftAddr}, {ID: "n2", RaftAddr: freeAddr(t)}}
	n, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	ks := n.Store()
	ks.Lock()
	for i := 0; i < 10; i++ {
		ks.DB(0).Set([]byte(fmt.Sprint("k", i)), keyspace.NewString([]byte("v")), 1) // expired since 1970
	}
	ks.Unlock()
	before := n.Stats().WAL.Entries
	// Several expiry rounds; nothing may happen in them, so there is
	// nothing to wait for but time.
	time.Sleep(8 * expireEvery)
	if n.IsLeader() {
		t.Fatal("a lone voter of two became leader")
	}
	ks.RLock()
	left := ks.DB(0).Len()
	ks.RUnlock()
	if left != 10 {
		t.Errorf("%d of 10 expired keys left on a follower", left)
	}
	if after := n.Stats().WAL.Entries; after != before {
		t.Errorf("follower wrote %d log entries", after-before)
	}
	if err := n.ReadBarrier(); !errors.Is(err, ErrNoLeader) {
		t.Errorf("ReadBarrier on a follower: %v", err)
	}
	if _, err := n.Propose(&op.Op{Type: op.Noop}); !errors.Is(err, ErrNoLeader) {
		t.Errorf("Propose on a follower: %v", err)
	}
}

// TestReadyNeedsCurrentTerm: a barrier of an earlier term does not make a
// leader ready.
func TestReadyNeedsCurrentTerm(t *testing.T) {
	n := openLeader(t, testConfig(t, t.TempDir()))
	defer n.Close()
	if err := n.ReadBarrier(); err != nil {
		t.Fatalf("ready leader: %v", err)
	}
	term := n.readyTerm.Load()
	n.readyTerm.Store(term - 1)
	if err := n.ReadBarrier(); !errors.Is(err, ErrNoLeader) {
		t.Errorf("leader with a stale barrier term: ReadBarrier = %v, want ErrNoLeader", err)
	}
	n.readyTerm.Store(term)
	if err := n.ReadBarrier(); err != nil {
		t.Errorf("after restoring the term: %v", err)
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{raft.ErrNotLeader, ErrNoLeader},
		{raft.ErrLeadershipTransferInProgress, ErrNoLeader},
		{raft.ErrEnqueueTimeout, ErrNoLeader},
		{raft.ErrRaftShutdown, ErrUnknownOutcome},
		{raft.ErrLeadershipLost, ErrUnknownOutcome},
		{errors.New("commit wal batch: disk full"), ErrUnknownOutcome},
	}
	for _, c := range cases {
		if got := classify(c.err); !errors.Is(got, c.want) {
			t.Errorf("classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestSnapshotRestoreReplay takes a snapshot, writes a tail after it and
// reopens: the snapshot is restored, only the tail is replayed, and the
// counters say so.
func TestSnapshotRestoreReplay(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	n := openLeader(t, cfg)
	for i := 0; i < 300; i++ {
		set(t, n, fmt.Sprint("k", i), "v", 0)
	}
	if err := n.Snapshot(); err != nil {
		t.Fatal(err)
	}
	snap := n.Stats().LastSnapshotIndex
	const tail = 50
	for i := 300; i < 300+tail; i++ {
		set(t, n, fmt.Sprint("k", i), "v", 0)
	}
	last := n.Stats().LastLogIndex
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n = openLeader(t, cfg)
	defer n.Close()
	st := n.Stats()
	t.Logf("snapshot %d, last log %d at close; after reopen: %+v", snap, last, st)
	if st.RestoredSnapshot != snap || st.Restores != 1 {
		t.Errorf("restored snapshot %d (%d restores), want %d", st.RestoredSnapshot, st.Restores, snap)
	}
	// Close's last barrier may add an entry after the one seen.
	if st.StartLogIndex < last || st.StartLogIndex > last+1 {
		t.Errorf("start log index %d, want %d or %d", st.StartLogIndex, last, last+1)
	}
	if st.ReplayedEntries != tail {
		t.Errorf("replayed %d entries, want the %d after the snapshot", st.ReplayedEntries, tail)
	}
	for i := 0; i < 300+tail; i++ {
		if _, ok := lookup(n, 0, fmt.Sprint("k", i)); !ok {
			t.Fatalf("k%d missing after restore and replay", i)
		}
	}
}

func TestGate(t *testing.T) {
	g := newGate()
	if !g.enter() || !g.enter() {
		t.Fatal("open gate refused a call")
	}
	idle := g.close()
	if g.enter() {
		t.Fatal("closed gate admitted a call")
	}
	g.leave()
	select {
	case <-idle:
		t.Fatal("idle with a call still admitted")
	default:
	}
	g.leave()
	select {
	case <-idle:
	default:
		t.Fatal("not idle after the last call left")
	}
	if idle := newGate().close(); idle == nil {
		t.Fatal("nil channel")
	} else {
		<-idle // an unused gate is idle at once
	}
}

// TestCloseWithAsyncFuturesQueued closes a node while futures of
// ProposeAsync are queued and unread: Close must not hang, every future
// must be answered afterwards, and those acknowledged must survive.
func TestCloseWithAsyncFuturesQueued(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	n := openLeader(t, cfg)
	const total = 3000
	futures := make(chan Future, total)
	var issued atomic.Int64
	go func() {
		defer close(futures)
		for i := 0; i < total; i++ {
			futures <- n.ProposeAsync(&op.Op{Type: op.Set, Now: n.Now(), Args: [][]byte{[]byte(fmt.Sprint("a", i)), []byte("v")}})
			issued.Add(1)
		}
	}()
	waitFor(t, "proposals issued", func() bool { return issued.Load() >= 500 })
	closed := make(chan error, 1)
	go func() { closed <- n.Close() }()
	answered := make(chan map[string]int, 1)
	var acked []int
	go func() {
		kinds := map[string]int{}
		i := 0
		for f := range futures {
			res, err := f.Result()
			switch {
			case err == nil && res == "OK":
				kinds["ok"]++
				acked = append(acked, i)
			case errors.Is(err, ErrNoLeader):
				kinds["no leader"]++
			case errors.Is(err, ErrUnknownOutcome):
				kinds["unknown outcome"]++
			default:
				kinds[fmt.Sprintf("other: %v %v", res, err)]++
			}
			i++
		}
		answered <- kinds
	}()
	var kinds map[string]int
	select {
	case kinds = <-answered:
	case <-time.After(60 * time.Second):
		buf := make([]byte, 1<<20)
		t.Fatalf("a future was never answered:\n%s", buf[:runtime.Stack(buf, true)])
	}
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	t.Logf("futures: %v", kinds)
	for k := range kinds {
		if k != "ok" && k != "no leader" && k != "unknown outcome" {
			t.Errorf("future answered %s", k)
		}
	}
	n = openLeader(t, cfg)
	defer n.Close()
	for _, i := range acked {
		if _, ok := lookup(n, 0, fmt.Sprint("a", i)); !ok {
			t.Fatalf("acknowledged a%d lost", i)
		}
	}
}

// A node that has just started has no leader yet: a write or read that
// arrives then waits for the election instead of failing.
func TestRequestsWaitForFirstElection(t *testing.T) {
	n, err := Open(testConfig(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.ready() {
		t.Fatal("node led before its first election timeout could pass")
	}
	if _, err := n.Propose(&op.Op{Type: op.Set, Now: 1, Args: [][]byte{[]byte("k"), []byte("v")}}); err != nil {
		t.Fatalf("first write: %v", err)
	}
	if err := n.ReadBarrier(); err != nil {
		t.Fatalf("first read: %v", err)
	}
}
