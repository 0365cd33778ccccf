package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// scanStep is one SCAN call: its cursor and the keys it returned.
type scanStep struct {
	cursor string
	keys   []string
}

// scanFrom runs SCAN from cursor until it ends (or steps calls were
// made, steps > 0), COUNT count, returning each call's keys and the
// cursor after the last.
func scanFrom(t *testing.T, c *rawConn, cursor string, count, steps int) ([]scanStep, string) {
	t.Helper()
	var out []scanStep
	for i := 0; steps == 0 || i < steps; i++ {
		r, ok := c.do("SCAN", cursor, "COUNT", fmt.Sprint(count)).([]any)
		if !ok || len(r) != 2 {
			t.Fatalf("SCAN %s: %v", cursor, r)
		}
		var keys []string
		for _, k := range r[1].([]any) {
			keys = append(keys, k.(string))
		}
		cursor = r[0].(string)
		out = append(out, scanStep{cursor: cursor, keys: keys})
		if cursor == "0" {
			break
		}
	}
	return out, cursor
}

// joinFromSnapshot snapshots the leader and joins a node to c, which
// must install the snapshot (the cluster keeps a short log after one).
func joinFromSnapshot(t *testing.T, c *nodetest.Cluster, leader *nodetest.InProcess) *nodetest.InProcess {
	t.Helper()
	if err := leader.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	joined := c.Join(nil)
	eventually(t, "the joined node to install a snapshot and catch up", func() bool {
		return joined.Node().Stats().Restores > 0 && joined.Node().Stats().AppliedIndex >= leader.Node().Stats().AppliedIndex
	})
	return joined
}

// caughtUpReaders returns a READONLY connection to each node of c but
// the leader, once that node has applied every write the leader has.
func caughtUpReaders(t *testing.T, c *nodetest.Cluster, leader *nodetest.InProcess) []*rawConn {
	t.Helper()
	var out []*rawConn
	for _, node := range c.Nodes {
		if node == leader {
			continue
		}
		rc := dialRaw(t, node.Addr().String())
		if r := rc.do("READONLY"); r != "OK" {
			t.Fatal(r)
		}
		eventually(t, node.Cfg.ID+" to apply every write", func() bool {
			return node.Node().Stats().AppliedIndex >= leader.Node().Stats().AppliedIndex
		})
		out = append(out, rc)
	}
	return out
}

// TestScanCursorAcrossNodes: a SCAN cursor means the same thing on every
// node, on one that caught up from a snapshot (InstallSnapshot) too, and
// a scan begun on one leader and finished on the next, after a failover,
// returns every key that was present for the whole scan, exactly once,
// while keys come and go around it.
func TestScanCursorAcrossNodes(t *testing.T) {
	c := nodetest.StartCluster(t, 3, func(_ int, cfg *server.Config) {
		cfg.SnapshotThreshold = 500
		cfg.TrailingLogs = 10
	})
	leader := c.Leader()
	lc := dialRaw(t, leader.Addr().String())
	// Keys with free slots among them, so new keys take old keys' places.
	const n = 3000
	for i := 0; i < n; i += 100 {
		args := []string{"MSET"}
		for j := i; j < i+100; j++ {
			args = append(args, fmt.Sprintf("k%d", j), "v")
		}
		if r := lc.do(args...); r != "OK" {
			t.Fatalf("MSET: %v", r)
		}
	}
	for i := 0; i < n; i += 3 {
		lc.do("DEL", fmt.Sprintf("k%d", i))
	}
	for i := 0; i < 300; i++ {
		lc.do("SET", fmt.Sprintf("new%d", i), "v")
	}
	joinFromSnapshot(t, c, leader)

	// The same scan, call for call, on every node's own state.
	want, _ := scanFrom(t, lc, "0", 97, 0)
	for i, rc := range caughtUpReaders(t, c, leader) {
		got, _ := scanFrom(t, rc, "0", 97, 0)
		if !slices.EqualFunc(got, want, func(a, b scanStep) bool { return a.cursor == b.cursor && slices.Equal(a.keys, b.keys) }) {
			t.Fatalf("follower %d scans differently from the leader (%d calls, leader %d)", i+1, len(got), len(want))
		}
	}

	// Half a scan on the leader, churn, a failover, the rest elsewhere.
	stable := map[string]bool{}
	for i := 0; i < n; i++ {
		if i%3 != 0 && i%7 != 0 {
			stable[fmt.Sprintf("k%d", i)] = true
		}
	}
	seen := map[string]int{}
	first, cursor := scanFrom(t, lc, "0", 50, 10)
	for _, s := range first {
		for _, k := range s.keys {
			seen[k]++
		}
	}
	if cursor == "0" {
		t.Fatal("the scan ended in ten calls")
	}
	for i := 0; i < n; i += 7 {
		lc.do("DEL", fmt.Sprintf("k%d", i)) // not stable: may or may not come back
		lc.do("SET", fmt.Sprintf("late%d", i), "v")
	}
	leader.Stop()
	var other *nodetest.InProcess
	for _, node := range c.Nodes {
		if node != leader {
			other = node
			break
		}
	}
	oc := dialRaw(t, other.Addr().String())
	eventually(t, "a new leader", func() bool { return !strings.HasPrefix(fmt.Sprint(oc.do("SET", "probe", "v")), "-") })
	rest, _ := scanFrom(t, oc, cursor, 50, 0)
	for _, s := range rest {
		for _, k := range s.keys {
			seen[k]++
		}
	}
	for k := range stable {
		if seen[k] != 1 {
			t.Errorf("key %s, present for the whole scan, returned %d times", k, seen[k])
		}
	}
	for k, times := range seen {
		if times > 1 {
			t.Errorf("key %s returned %d times", k, times)
		}
	}
}

// TestScanCursorAcrossRestart: a node restarted (its snapshot restored,
// the log after it replayed) scans call for call as it did before, so a
// cursor taken before the restart goes on where it was.
func TestScanCursorAcrossRestart(t *testing.T) {
	cfg := server.Config{SnapshotThreshold: 400, DataDir: t.TempDir()}
	node := nodetest.Start(t, cfg)
	c := dialRaw(t, node.Addr().String())
	for i := 0; i < 2000; i++ {
		c.do("SET", fmt.Sprintf("k%d", i), "v")
		if i%3 == 0 {
			c.do("DEL", fmt.Sprintf("k%d", i/2))
		}
	}
	if err := node.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ { // after the snapshot: replayed from the log
		c.do("SET", fmt.Sprintf("after%d", i), "v")
		c.do("DEL", fmt.Sprintf("k%d", 3*i+1))
	}
	before, _ := scanFrom(t, c, "0", 61, 0)
	cfg.Addr, cfg.RaftAddr = node.Cfg.Addr, node.Cfg.RaftAddr
	node.Stop()
	again := nodetest.Start(t, cfg)
	if again.Node().Stats().Restores == 0 {
		t.Fatal("the restart restored no snapshot")
	}
	after, _ := scanFrom(t, dialRaw(t, again.Addr().String()), "0", 61, 0)
	if !slices.EqualFunc(after, before, func(a, b scanStep) bool { return a.cursor == b.cursor && slices.Equal(a.keys, b.keys) }) {
		t.Fatalf("after a restart the scan differs (%d calls, %d before)", len(after), len(before))
	}
}
