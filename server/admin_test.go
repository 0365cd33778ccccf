package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// waitExited fails the test unless the node's Run returns (bounded
// generously: the assertion is that it happens, not how fast).
func waitExited(t *testing.T, n *nodetest.InProcess) {
	t.Helper()
	select {
	case <-n.Exited():
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not stop after SHUTDOWN")
	}
	if n.Running() {
		t.Fatal("the harness still sees the node running")
	}
}

// shutdown sends SHUTDOWN args... and checks that no reply comes: the
// connection closes.
func shutdown(t *testing.T, c *rawConn, args ...string) {
	t.Helper()
	c.send(append([]string{"SHUTDOWN"}, args...)...)
	if r, err := c.read(); err == nil {
		t.Fatalf("SHUTDOWN replied %q; want the connection closed", r)
	}
}

// TestShutdownStopsTheNode: SHUTDOWN SAVE closes the client's
// connection without a reply, takes a snapshot, logs one line saying
// what it did, and the node stops; restarted on its data it has it all.
func TestShutdownStopsTheNode(t *testing.T) {
	logs := &logBuf{}
	dir := t.TempDir()
	n := nodetest.Start(t, server.Config{DataDir: dir, LogOutput: logs})
	c := dialRaw(t, n.Addr().String())
	c.do("SET", "k", "v")
	saves := infoInt(t, c, "persistence", "rdb_saves")
	if saves != 0 {
		t.Fatalf("rdb_saves %d before any save", saves)
	}
	for _, bad := range [][]string{{"SAVE", "NOSAVE"}, {"ABORT", "NOW"}, {"BOGUS"}} {
		if r := c.do(append([]string{"SHUTDOWN"}, bad...)...); r != "-ERR syntax error" {
			t.Fatalf("SHUTDOWN %v: %q", bad, r)
		}
	}
	if r := c.do("SHUTDOWN", "ABORT"); r != "-ERR No shutdown in progress." {
		t.Fatalf("SHUTDOWN ABORT: %q", r)
	}
	shutdown(t, c, "SAVE")
	waitExited(t, n)
	if err := n.Stop(); err != nil {
		t.Fatalf("Run returned %v after SHUTDOWN", err)
	}
	var lines []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "SHUTDOWN") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.Contains(lines[0], "snapshot saved") || !strings.Contains(lines[0], "exiting") {
		t.Fatalf("SHUTDOWN's log lines: %q", lines)
	}
	n2 := nodetest.Start(t, server.Config{DataDir: dir})
	c2 := dialRaw(t, n2.Addr().String())
	if r := c2.do("GET", "k"); r != "v" {
		t.Fatalf("after the restart GET k = %q", r)
	}
	if st := n2.Node().Stats(); st.RestoredSnapshot == 0 {
		t.Fatal("the restart restored no snapshot: SHUTDOWN SAVE took none")
	}
}

// TestShutdownExitsTheProcess: after SHUTDOWN (or SIGTERM) the
// loomcache process exits by itself with code 0, having logged what it
// did.
func TestShutdownExitsTheProcess(t *testing.T) {
	p := nodetest.StartProcess(t, "")
	shutdown(t, dialRaw(t, p.Addr), "NOSAVE")
	select {
	case <-p.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the process did not exit after SHUTDOWN")
	}
	if code := p.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SHUTDOWN; output:\n%s", code, p.Output())
	}
	if !strings.Contains(p.Output(), "SHUTDOWN: ") {
		t.Fatalf("no SHUTDOWN line in the log:\n%s", p.Output())
	}
	// SIGTERM goes the same way, as in Redis.
	p2 := nodetest.StartProcess(t, "")
	p2.Stop()
	if code := p2.ExitCode(); code != 0 || !strings.Contains(p2.Output(), "SIGTERM: ") {
		t.Fatalf("after SIGTERM: exit code %d, output:\n%s", code, p2.Output())
	}
}

// TestShutdownLeaderHandsOver: a leader's SHUTDOWN hands its leadership
// to a follower before the node goes. Order of events, not time: when
// the old leader's Run returns, the new term has already begun on the
// others (without a handover they would still be in the old term, until
// their election timeout); exactly one election happens (term + 1); the
// cluster then takes writes. The time to a new leader with and without
// the handover is logged for the issue note.
func TestShutdownLeaderHandsOver(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	old := c.Leader()
	term := old.Node().Stats().Term
	lc := dialRaw(t, old.Addr().String())
	lc.do("SET", "before", "1")
	start := time.Now()
	shutdown(t, lc)
	waitExited(t, old)
	var others []*nodetest.InProcess
	for _, n := range c.Nodes {
		if n != old {
			others = append(others, n)
		}
	}
	begun := false
	for _, n := range others {
		begun = begun || n.Node().Stats().Term > term
	}
	if !begun {
		t.Fatalf("the old leader (term %d) exited before any other node began a new term: no handover", term)
	}
	leader := c.Leader()
	withHandover := time.Since(start)
	if got := leader.Node().Stats().Term; got != term+1 {
		t.Fatalf("new leader's term %d; want %d (one election)", got, term+1)
	}
	nc := dialRaw(t, leader.Addr().String())
	if r := nc.do("SET", "after", "2"); r != "OK" {
		t.Fatalf("write after the handover: %q", r)
	}
	if r := nc.do("GET", "before"); r != "1" {
		t.Fatalf("GET before = %q", r)
	}

	// The same without a handover: the old node back, the leader stopped
	// as a crash would (Close hands nothing over).
	i := 0
	for j, n := range c.Nodes {
		if n == old {
			i = j
		}
	}
	back := c.Restart(i)
	waitApplied(t, back, leader)
	term = leader.Node().Stats().Term
	start = time.Now()
	leader.Stop()
	next := c.Leader()
	without := time.Since(start)
	if got := next.Node().Stats().Term; got <= term {
		t.Fatalf("term %d after the leader stopped, was %d", got, term)
	}
	t.Logf("time to a new leader: %v with SHUTDOWN's handover, %v when the leader just stops", withHandover, without)
}

// TestSaveAndBGSave: SAVE replies once a snapshot holds every change
// (rdb_changes_since_last_save back to 0, rdb_saves up, LASTSAVE not
// older); BGSAVE starts one and INFO shows it done and ok.
func TestSaveAndBGSave(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	c := dialRaw(t, n.Addr().String())
	for i := range 10 {
		c.do("SET", fmt.Sprint("k", i), "v")
	}
	if infoInt(t, c, "persistence", "rdb_changes_since_last_save") == 0 {
		t.Fatal("no changes since the last save after 10 writes")
	}
	before := infoInt(t, c, "persistence", "rdb_saves")
	if r := c.do("SAVE"); r != "OK" {
		t.Fatalf("SAVE: %q", r)
	}
	if got := infoInt(t, c, "persistence", "rdb_changes_since_last_save"); got != 0 {
		t.Fatalf("rdb_changes_since_last_save %d after SAVE", got)
	}
	if got := infoInt(t, c, "persistence", "rdb_saves"); got != before+1 {
		t.Fatalf("rdb_saves %d after SAVE, was %d", got, before)
	}
	c.do("SET", "more", "v")
	if r := c.do("BGSAVE"); r != "Background saving started" {
		t.Fatalf("BGSAVE: %q", r)
	}
	if r := c.do("BGSAVE", "NOW"); r != "-ERR syntax error" {
		t.Fatalf("BGSAVE NOW: %q", r)
	}
	deadline := time.Now().Add(20 * time.Second)
	for infoInt(t, c, "persistence", "rdb_bgsave_in_progress") == 1 {
		if time.Now().After(deadline) {
			t.Fatal("BGSAVE never finished")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := infoField(c.str("INFO", "persistence"), "rdb_last_bgsave_status"); st != "ok" {
		t.Fatalf("rdb_last_bgsave_status %q", st)
	}
	if got := infoInt(t, c, "persistence", "rdb_saves"); got != before+2 {
		t.Fatalf("rdb_saves %d after BGSAVE, was %d", got, before)
	}
	if got := infoInt(t, c, "persistence", "rdb_changes_since_last_save"); got != 0 {
		t.Fatalf("rdb_changes_since_last_save %d after BGSAVE", got)
	}
}

// TestWait: WAIT counts the other members holding the connection's
// writes: both followers on a healthy three-node cluster, one when the
// other is down (WAIT then times out short of two), none on a single
// node; on a follower, the majority a committed write is sure to be on;
// CLIENT KILL ends a WAIT.
func TestWait(t *testing.T) {
	single := nodetest.Start(t, server.Config{})
	sc := dialRaw(t, single.Addr().String())
	sc.do("SET", "k", "v")
	if r := sc.do("WAIT", "1", "20"); r != "0" {
		t.Fatalf("single node WAIT 1 20 = %q", r)
	}
	for _, tc := range [][3]string{{"x", "0", "-ERR value is not an integer or out of range"},
		{"1", "x", "-ERR timeout is not an integer or out of range"}, {"1", "-1", "-ERR timeout is negative"}} {
		if r := sc.do("WAIT", tc[0], tc[1]); r != tc[2] {
			t.Fatalf("WAIT %s %s = %q", tc[0], tc[1], r)
		}
	}

	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	lc := dialRaw(t, leader.Addr().String())
	lc.do("SET", "k", "v")
	if r := lc.do("WAIT", "2", "0"); r != "2" {
		t.Fatalf("WAIT 2 0 on a healthy cluster = %q", r)
	}
	fs := c.Followers()
	fc := dialRaw(t, fs[0].Addr().String())
	fc.do("SET", "f", "v")
	if r := fc.do("WAIT", "1", "100"); r != "1" {
		t.Fatalf("WAIT 1 100 through a follower = %q", r)
	}
	fs[1].Stop()
	lc.do("SET", "k2", "v")
	if r := lc.do("WAIT", "2", "100"); r != "1" {
		t.Fatalf("WAIT 2 100 with a follower down = %q", r)
	}
	if r := lc.do("WAIT", "1", "0"); r != "1" {
		t.Fatalf("WAIT 1 0 with a follower down = %q", r)
	}
	// A WAIT that can never be met (no timeout) ends when its client is
	// killed.
	id := lc.do("CLIENT", "ID").(string)
	lc.send("WAIT", "2", "0")
	if r := dialRaw(t, leader.Addr().String()).do("CLIENT", "KILL", "ID", id); r != "1" {
		t.Fatalf("CLIENT KILL ID %s: %q", id, r)
	}
	if r, err := lc.read(); err == nil {
		t.Fatalf("the killed WAIT replied %q", r)
	}
}
