package server_test

import (
	"bufio"
	"bytes"
	bin "encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
)

// forwardScript is a client session whose replies do not depend on the
// node it talks to. %s is replaced by a per-client prefix of fixed length
// so every client works on its own keys; skip marks requests whose reply
// is node-specific (HELLO names the server's client id).
var forwardScript = []struct {
	args []string
	skip bool
}{
	{args: []string{"SET", "%s:s", "hello"}},
	{args: []string{"GET", "%s:s"}},
	{args: []string{"GET", "%s:missing"}},
	{args: []string{"INCR", "%s:n"}},
	{args: []string{"INCRBY", "%s:n", "41"}},
	{args: []string{"INCR", "%s:s"}}, // an error, from the leader
	{args: []string{"APPEND", "%s:s", " world"}},
	{args: []string{"MGET", "%s:s", "%s:n", "%s:missing"}},
	{args: []string{"SET", "%s:t", "v", "EX", "100"}},
	{args: []string{"TTL", "%s:t"}},
	{args: []string{"SET", "%s:s", "x", "BADOPT"}},
	{args: []string{"GET"}}, // arity: answered locally, same bytes
	{args: []string{"NOSUCHCOMMAND", "arg"}},
	{args: []string{"OBJECT", "ENCODING", "%s:n"}},
	{args: []string{"SELECT", "3"}},
	{args: []string{"GET", "%s:s"}}, // db 3: absent
	{args: []string{"SET", "%s:s", "db3"}},
	{args: []string{"GET", "%s:s"}},
	{args: []string{"HELLO", "3"}, skip: true},
	{args: []string{"GET", "%s:missing"}}, // RESP3 null
	{args: []string{"MGET", "%s:s", "%s:missing"}},
	{args: []string{"EXISTS", "%s:s", "%s:n"}},
	{args: []string{"DEL", "%s:s", "%s:t"}},
	{args: []string{"PING"}},
}

func scriptRequests(prefix string) [][]string {
	out := make([][]string, len(forwardScript))
	for i, s := range forwardScript {
		for _, a := range s.args {
			out[i] = append(out[i], strings.ReplaceAll(a, "%s", prefix))
		}
	}
	return out
}

// TestClusterAnyNodeServes: a client of a follower gets, byte for byte,
// the replies a client of the leader gets, one request at a time and
// pipelined, and every node sees the writes made through the others.
func TestClusterAnyNodeServes(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	want := oneByOne(t, leader.Addr().String(), scriptRequests("c0"))
	for i, n := range c.Followers() {
		for _, mode := range []string{"one by one", "pipelined"} {
			prefix := fmt.Sprintf("%c%d", mode[0], i)
			var got [][]byte
			if mode == "pipelined" {
				got = pipelined(t, n.Addr().String(), scriptRequests(prefix))
			} else {
				got = oneByOne(t, n.Addr().String(), scriptRequests(prefix))
			}
			for k, s := range forwardScript {
				if !s.skip && !bytes.Equal(got[k], want[k]) {
					t.Errorf("%s via %s, %q: %q, leader sent %q", mode, n.Cfg.ID, s.args, got[k], want[k])
				}
			}
		}
	}
	// Writes through one follower are read through the other.
	f := c.Followers()
	oneByOne(t, f[0].Addr().String(), [][]string{{"SET", "shared", "from " + f[0].Cfg.ID}})
	got := oneByOne(t, f[1].Addr().String(), [][]string{{"GET", "shared"}})
	if w := "$7\r\nfrom " + f[0].Cfg.ID + "\r\n"; string(got[0]) != w {
		t.Errorf("GET through %s: %q, want %q", f[1].Cfg.ID, got[0], w)
	}
}

// TestClusterPipelineThroughFollower: a pipeline of mixed writes, reads
// and errors sent to a follower gets exactly the replies of the same
// requests sent to it one at a time, and goes to the leader in far fewer
// forwarding requests than it has commands (a batch per run of commands
// between those the follower answers itself).
func TestClusterPipelineThroughFollower(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	f := c.Followers()[0]
	addr := f.Addr().String()
	forwarded := func() (requests, commands uint64) {
		st := f.Node().Stats()
		return st.ForwardRequests, st.ForwardCommands
	}
	for _, seed := range []int64{1, 2} {
		reqs := mixedRequests(1000, seed)
		flushAll(t, addr, 6)
		serial := oneByOne(t, addr, reqs)
		flushAll(t, addr, 6)
		r0, c0 := forwarded()
		piped := pipelined(t, addr, reqs)
		r1, c1 := forwarded()
		compareReplies(t, fmt.Sprintf("seed %d, pipelined vs one by one through a follower", seed), reqs, piped, serial)
		t.Logf("seed %d: %d commands forwarded in %d requests", seed, c1-c0, r1-r0)
		if c1-c0 < 800 || (r1-r0)*4 > c1-c0 {
			t.Errorf("seed %d: %d commands forwarded in %d requests; want most of the 1000, at least 4 a request", seed, c1-c0, r1-r0)
		}
	}
}

// forwardFrame is a request on the forwarding channel, as a follower
// sends it: frame id, length, an op.Forward op.
func forwardFrame(id uint64, o *op.Op) []byte {
	enc := o.Encode(nil)
	b := bin.AppendUvarint(nil, id)
	b = bin.AppendUvarint(b, uint64(len(enc)))
	return append(b, enc...)
}

// readForwardReply reads a response frame: id, status, reply bytes.
func readForwardReply(t *testing.T, br *bufio.Reader) (uint64, byte, string) {
	t.Helper()
	id, err := bin.ReadUvarint(br)
	if err != nil {
		t.Fatal(err)
	}
	status, err := br.ReadByte()
	if err != nil {
		t.Fatal(err)
	}
	n, err := bin.ReadUvarint(br)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		t.Fatal(err)
	}
	return id, status, string(b)
}

// TestClusterForwardRetryAppliesOnce: the same forwarded INCR sent twice
// with one request id (as a follower retries it after losing its leader)
// is applied once and answered with the first reply both times, on the
// leader and, after a snapshot, still not applied again. A follower that
// receives a forwarded request says it does not lead.
func TestClusterForwardRetryAppliesOnce(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	nc, err := raftfsm.DialCluster(leader.Cfg.RaftAddr, raftfsm.ChannelForward, "test", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(nc)
	incr := func(seq uint64) *op.Op {
		return &op.Op{Type: op.Forward, Int: 2, Args: [][]byte{[]byte("INCR"), []byte("n")}, Req: op.ReqID{Origin: "client-x", Seq: seq}}
	}
	steps := []struct {
		frame, seq uint64
		want       string
	}{
		{1, 42, ":1\r\n"},
		{2, 42, ":1\r\n"}, // the retry: not applied, the first reply
		{3, 43, ":2\r\n"},
		{4, 42, ":1\r\n"},
	}
	for _, s := range steps {
		nc.Write(forwardFrame(s.frame, incr(s.seq)))
		id, status, reply := readForwardReply(t, br)
		if id != s.frame || status != 0 || reply != s.want {
			t.Errorf("frame %d seq %d: id %d status %d %q, want %q", s.frame, s.seq, id, status, reply, s.want)
		}
	}
	if got := oneByOne(t, leader.Addr().String(), [][]string{{"GET", "n"}}); string(got[0]) != "$1\r\n2\r\n" {
		t.Errorf("n = %q after two distinct INCRs", got[0])
	}

	// After a snapshot the id is still known (its reply is not).
	if err := leader.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	nc.Write(forwardFrame(5, incr(43)))
	if _, _, reply := readForwardReply(t, br); reply != ":2\r\n" {
		t.Errorf("retry after snapshot: %q", reply)
	}

	// A follower refuses: status 1, not leader.
	f := c.Followers()[0]
	fc, err := raftfsm.DialCluster(f.Cfg.RaftAddr, raftfsm.ChannelForward, "test", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	fc.SetDeadline(time.Now().Add(30 * time.Second))
	fc.Write(forwardFrame(9, incr(44)))
	if id, status, reply := readForwardReply(t, bufio.NewReader(fc)); id != 9 || status != 1 || reply != "" {
		t.Errorf("follower: id %d status %d %q", id, status, reply)
	}
	if got := oneByOne(t, leader.Addr().String(), [][]string{{"GET", "n"}}); string(got[0]) != "$1\r\n2\r\n" {
		t.Errorf("n = %q", got[0])
	}
}

// TestClusterDown: with the leader and one follower stopped, the last
// node answers commands that need a leader with -CLUSTERDOWN (in bounded
// time: the connection deadline would fail a hang), and keeps answering
// the connection's own commands.
func TestClusterDown(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	last := c.Followers()[0]
	for _, n := range c.Nodes {
		if n != last {
			n.Stop()
		}
	}
	got := oneByOne(t, last.Addr().String(), [][]string{{"GET", "k"}, {"SET", "k", "v"}, {"PING"}, {"SELECT", "1"}})
	const down = "-CLUSTERDOWN no leader available, the command was not applied; retry\r\n"
	want := []string{down, down, "+PONG\r\n", "+OK\r\n"}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("reply %d: %q, want %q", i, got[i], want[i])
		}
	}
}

// TestClusterFailover: after the leader stops, a client of a follower
// keeps writing (the remaining two elect a new leader) and no write it
// was told succeeded is lost.
func TestClusterFailover(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	f := c.Followers()[0]
	conn, br := dial(t, f.Addr().String())
	acked := 0
	incr := func() string {
		var buf bytes.Buffer
		encode(&buf, "INCR", "counter")
		conn.Write(buf.Bytes())
		rep, err := readReply(br)
		if err != nil {
			t.Fatal(err)
		}
		return string(rep)
	}
	for i := 0; i < 10; i++ {
		if r := incr(); r != fmt.Sprintf(":%d\r\n", i+1) {
			t.Fatalf("INCR %d: %q", i, r)
		}
		acked++
	}
	c.Leader().Stop()
	// Retry until the new leader answers; CLUSTERDOWN means not applied.
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := incr()
		if r == fmt.Sprintf(":%d\r\n", acked+1) {
			acked++
			break
		}
		if !strings.HasPrefix(r, "-CLUSTERDOWN") || time.Now().After(deadline) {
			t.Fatalf("INCR after the leader stopped: %q (acked %d)", r, acked)
		}
	}
	got := oneByOne(t, f.Addr().String(), [][]string{{"GET", "counter"}})
	if want := fmt.Sprintf("$%d\r\n%d\r\n", len(fmt.Sprint(acked)), acked); string(got[0]) != want {
		t.Errorf("counter = %q, want %q", got[0], want)
	}
}
