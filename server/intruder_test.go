package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
)

// TestIntruderOnClusterPort: real processes, a three-node cluster with a
// secret, and a stranger on its cluster port while a client keeps
// writing and reading through every node. The stranger's Raft heartbeat
// of a higher term is refused by every node (term and leader unchanged);
// its forwarded GET gets no reply; a fourth process with another secret
// (or none) asking to --join is refused and never holds the data. A
// fourth node given the secret through LOOMCACHE_CLUSTER_SECRET joins and
// catches up. TestStrangerOnUnauthenticatedCluster shows the same
// requests succeed on a cluster without a secret.
func TestIntruderOnClusterPort(t *testing.T) {
	const secret = "intruder-test: the cluster's own secret"
	ps := nodetest.StartProcessCluster(t, nodetest.ProcessCluster{N: 3, Args: []string{"--cluster-secret", secret}})
	addrs := []string{ps[0].Addr, ps[1].Addr, ps[2].Addr}
	w := startWriter(t, addrs)
	w.waitProgress(t, 20)

	term, leader := stableView(t, addrs)
	raftAddrs := map[string]string{} // node id -> cluster address
	for _, p := range ps {
		info := text(t, p.Addr, "RAFT.INFO")
		raftAddrs[infoField(info, "node_id")] = infoField(info, "node_addr")
	}

	// (a) Raft: a heartbeat of a much higher term, to every node.
	for id, ra := range raftAddrs {
		for name, approach := range map[string]nodetest.Approach{"no credentials": nodetest.NoCredentials, "a made-up proof": nodetest.MadeUpProof} {
			if resp, err := nodetest.StrangerAppendEntries(ra, approach, term+1000); err == nil {
				t.Errorf("%s answered the stranger's AppendEntries with %s: %+v", id, name, resp)
			}
		}
		d := raftfsm.Dialer{ID: nodetest.StrangerID, Secret: []byte("intruder-test: a guess at the secret")}
		if nc, err := d.Dial(ra, raftfsm.ChannelRaft, ""); err == nil {
			nc.Close()
			t.Errorf("%s authenticated a dialer with another secret", id)
		}
	}
	// Give any effect time to show: the cluster commits more writes,
	// which needs the leader's heartbeats to be taken.
	w.waitProgress(t, 20)
	checkView(t, addrs, term, leader)
	for _, a := range addrs {
		if n, _ := strconv.Atoi(infoField(text(t, a, "INFO", "raft"), "raft_refused_connections")); n < 3 {
			t.Errorf("%s counted %d refused connections, want at least 3", a, n)
		}
	}

	// (b) Forwarding: a GET of a key the writer wrote, to the leader.
	for name, approach := range map[string]nodetest.Approach{"no credentials": nodetest.NoCredentials, "a made-up proof": nodetest.MadeUpProof} {
		reply, err := nodetest.StrangerForward(raftAddrs[leader], approach, "GET", "w:1")
		if err != nil || len(reply) != 0 {
			t.Errorf("stranger's GET with %s: reply %q, %v; want the connection closed and nothing sent", name, reply, err)
		}
	}
	// The same request with the secret is answered: the stranger's
	// request was a valid one.
	if reply := authForward(t, raftAddrs[leader], []byte(secret), "GET", "w:1"); !bytes.Contains(reply, []byte("$1\r\n1\r\n")) {
		t.Errorf("GET w:1 with the secret: %q", reply)
	}

	// (c) Joining: processes with another secret, or none, ask to join.
	via := ps[0]
	if leader == "n1" {
		via = ps[1]
	}
	for _, args := range [][]string{{"--cluster-secret", "intruder-test: not the cluster's secret"}, nil} {
		x := nodetest.NewProcess(t, "", append([]string{"--id", "x4", "--join", via.Addr}, args...)...)
		x.Launch()
		eventually(t, "x4's join to be refused twice", func() bool {
			return strings.Count(x.Output(), "node not added") >= 2
		})
		if got := text(t, via.Addr, "RAFT.NODE", "ADD", "x4", x.RaftAdr); !strings.HasPrefix(got, "-ERR node not added") {
			t.Errorf("RAFT.NODE ADD x4 (%q): %q", args, got)
		}
		for _, a := range addrs {
			if info := text(t, a, "RAFT.INFO"); infoField(info, "num_nodes") != "3" || strings.Contains(info, "x4") {
				t.Errorf("%s after refusing x4:\n%s", a, info)
			}
		}
		if n := keysOf(t, x.Addr); n != 0 {
			t.Errorf("x4 (%q) holds %d keys", args, n)
		}
		if got := infoField(text(t, x.Addr, "RAFT.INFO"), "num_nodes"); got != "0" {
			t.Errorf("x4 (%q) knows %s members", args, got)
		}
		x.Kill()
	}
	w.waitProgress(t, 20)
	checkView(t, addrs, term, leader)

	// The right secret, from the environment.
	n4 := nodetest.NewProcess(t, "", "--id", "n4", "--join", via.Addr)
	n4.Env = []string{"LOOMCACHE_CLUSTER_SECRET=" + secret}
	n4.Start()
	w.waitProgress(t, 20)
	ops := w.stop(t)
	t.Logf("the client wrote and read back %d keys through the cluster", ops)
	for _, a := range append(addrs, n4.Addr) {
		eventually(t, a+" to hold every key written", func() bool { return keysOf(t, a) == int(ops) })
	}
	if got := infoField(text(t, n4.Addr, "RAFT.INFO"), "num_voting_nodes"); got != "4" {
		t.Errorf("n4 sees %s voters", got)
	}
	if got := text(t, n4.Addr, "GET", "w:1"); got != "1" {
		t.Errorf("GET w:1 through n4: %q", got)
	}
}

// stableView waits until the three nodes agree on the leader and term.
func stableView(t *testing.T, addrs []string) (term uint64, leader string) {
	t.Helper()
	eventually(t, "the nodes to agree on leader and term", func() bool {
		term, leader = 0, ""
		for i, a := range addrs {
			info := text(t, a, "RAFT.INFO")
			tm, _ := strconv.ParseUint(infoField(info, "current_term"), 10, 64)
			l := infoField(info, "leader_id")
			if l == "" || i > 0 && (tm != term || l != leader) {
				return false
			}
			term, leader = tm, l
		}
		return true
	})
	return term, leader
}

// checkView fails the test unless every node is at term with leader.
func checkView(t *testing.T, addrs []string, term uint64, leader string) {
	t.Helper()
	for _, a := range addrs {
		info := text(t, a, "RAFT.INFO")
		if got := infoField(info, "current_term"); got != fmt.Sprint(term) {
			t.Errorf("%s: term %s, want %d", a, got, term)
		}
		if got := infoField(info, "leader_id"); got != leader {
			t.Errorf("%s: leader %q, want %q", a, got, leader)
		}
	}
}

// authForward sends one command on the forwarding channel with the
// cluster's secret and returns the response frame.
func authForward(t *testing.T, addr string, secret []byte, args ...string) []byte {
	t.Helper()
	d := raftfsm.Dialer{ID: "test", Secret: secret, Timeout: 5 * time.Second}
	nc, err := d.Dial(addr, raftfsm.ChannelForward, "")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	o := op.Op{Type: op.Forward, Int: 2, Req: op.ReqID{Origin: "test", Seq: uint64(time.Now().UnixNano())}}
	for _, a := range args {
		o.Args = append(o.Args, []byte(a))
	}
	nc.Write(forwardFrame(1, &o))
	_, _, reply := readForwardReply(t, bufio.NewReader(nc))
	return []byte(reply)
}

// writer is a client that keeps writing keys through one node and reading
// each back through another, round the cluster, until stopped. Any
// failure is kept and fails the test.
type writer struct {
	ops  atomic.Int64
	halt chan struct{}
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	err  error
}

func startWriter(t *testing.T, addrs []string) *writer {
	w := &writer{halt: make(chan struct{}), done: make(chan struct{})}
	go w.run(addrs)
	t.Cleanup(w.halted)
	return w
}

func (w *writer) run(addrs []string) {
	defer close(w.done)
	var conns []net.Conn
	var readers []*bufio.Reader
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for _, a := range addrs {
		c, err := net.DialTimeout("tcp", a, 5*time.Second)
		if err != nil {
			w.fail(err)
			return
		}
		conns, readers = append(conns, c), append(readers, bufio.NewReader(c))
	}
	do := func(i int, args ...string) (string, error) {
		var buf bytes.Buffer
		encode(&buf, args...)
		conns[i].SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := conns[i].Write(buf.Bytes()); err != nil {
			return "", err
		}
		r, err := readReply(readers[i])
		return string(r), err
	}
	for i := 1; ; i++ {
		select {
		case <-w.halt:
			return
		default:
		}
		k, v := fmt.Sprint("w:", i), fmt.Sprint(i)
		if r, err := do(i%len(addrs), "SET", k, v); err != nil || r != "+OK\r\n" {
			w.fail(fmt.Errorf("SET %s: %q, %v", k, r, err))
			return
		}
		want := fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)
		if r, err := do((i+1)%len(addrs), "GET", k); err != nil || r != want {
			w.fail(fmt.Errorf("GET %s: %q, %v; want %q", k, r, err, want))
			return
		}
		w.ops.Add(1)
	}
}

// halted stops the client and waits for it.
func (w *writer) halted() {
	w.once.Do(func() { close(w.halt) })
	<-w.done
}

func (w *writer) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *writer) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// waitProgress waits until the client has done n more writes and reads.
func (w *writer) waitProgress(t *testing.T, n int64) {
	t.Helper()
	target := w.ops.Load() + n
	eventually(t, "the client to make progress", func() bool {
		if err := w.failure(); err != nil {
			t.Fatalf("the client failed: %v", err)
		}
		return w.ops.Load() >= target
	})
}

// stop stops the client, waits for it and returns how many keys it wrote
// and read back; a failure fails the test.
func (w *writer) stop(t *testing.T) int64 {
	t.Helper()
	w.halted()
	if err := w.failure(); err != nil {
		t.Errorf("the client failed: %v", err)
	}
	return w.ops.Load()
}
