package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loomcache/loomcache/cluster/faultproxy"
	"github.com/loomcache/loomcache/internal/nodetest"
)

// node is one loomcache process of a test cluster. Its ports and data
// directory survive restarts; its output goes to a log file in the
// cluster's artifact directory.
type node struct {
	id        string
	addr      string // RESP
	raftAddr  string // the cluster port it binds
	advertise string // its proxy, which every other node dials
	dataDir   string
	logPath   string
	proxy     *faultproxy.Proxy
	// join is the RESP address a spare joins through (--join) instead of
	// the --cluster list: it is no initial member.
	join string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	paused bool
}

// launched reports whether the process was ever started (a spare is not
// until its scenario starts it).
func (n *node) launched() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// running reports whether the process is alive (paused counts).
func (n *node) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return false
	}
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// serving reports whether the process is alive and not paused.
func (n *node) serving() bool {
	n.mu.Lock()
	p := n.paused
	n.mu.Unlock()
	return !p && n.running()
}

// cluster is a Raft group of loomcache processes, each behind a fault
// proxy on its cluster port, and the artifact directory of the test.
type cluster struct {
	t     testing.TB
	bin   string
	dir   string // node data and logs, histories; kept when the test fails
	net   *faultproxy.Net
	nodes []*node
	args  []string // the arguments every node gets besides its own
	// members is the --cluster list of the initial members.
	members string
	// partitions is the number of partitions (1 or more).
	partitions int
	// h and work are the run's history and workload, for scenarios that
	// make calls of their own (set by runScenario).
	h    *history
	work workload
}

// shape is what a test cluster is made of.
type shape struct {
	nodes int // initial members, n1..n<nodes>
	// spares are further nodes (n<nodes+1>...), each with its ports,
	// proxy and data directory but not started: a scenario starts one
	// (startSpare) to be added to the cluster.
	spares int
	// partitions is the number of Raft groups the keyspace is split into
	// (--partitions, passed only when above 1; 0 means 1).
	partitions int
	args       []string // extra arguments for every node
}

// faultSuiteSecret is the cluster secret of every fault suite cluster.
const faultSuiteSecret = "the fault suite's cluster secret"

// startCluster starts the nodes of sh with one --cluster list of proxy
// addresses and a cluster secret, and waits until every node serves a
// write. Spares get their ports and proxies but are not started.
func startCluster(t testing.TB, sh shape) *cluster {
	t.Helper()
	dir, err := os.MkdirTemp("", "loomcache-faults-*")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: nodetest.Binary(t), dir: dir, net: faultproxy.New(), partitions: max(sh.partitions, 1)}
	var list []string
	for i := range sh.nodes + sh.spares {
		n := &node{
			id: fmt.Sprintf("n%d", i+1), addr: nodetest.FreeAddr(t), raftAddr: nodetest.FreeAddr(t),
			dataDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
		}
		n.logPath = n.dataDir + ".log"
		p, err := c.net.Add(n.id, n.raftAddr)
		if err != nil {
			t.Fatal(err)
		}
		n.proxy, n.advertise = p, p.Addr()
		c.nodes = append(c.nodes, n)
		if i < sh.nodes {
			list = append(list, n.id+"="+n.advertise)
		}
	}
	c.members = strings.Join(list, ",")
	// The cluster port authenticated as it should be in production: the
	// handshake crosses the proxies, and faults hit it too.
	c.args = []string{"--cluster-secret", faultSuiteSecret}
	c.args = append(c.args, evictionArgs()...) // evict_test.go
	c.args = append(c.args, probeArgs()...)    // pubsub_probe_test.go
	if sh.partitions > 1 {
		c.args = append(c.args, "--partitions", strconv.Itoa(sh.partitions))
	}
	c.args = append(c.args, sh.args...)
	t.Cleanup(c.close)
	for _, n := range c.nodes[:sh.nodes] {
		c.start(n, true)
	}
	c.waitServing()
	return c
}

// errPortInUse: the process could not bind one of its ports, taken since
// nodetest.FreeAddr found it free (by a proxy, or a client's local port).
var errPortInUse = errors.New("port in use")

// start launches n and waits until it answers PING. If a port of its
// was taken meanwhile, it moves the cluster port (only n's proxy dials
// it) and, when newAddr allows (no client knows the node yet), the RESP
// port, and tries again.
func (c *cluster) start(n *node, newAddr bool) {
	c.t.Helper()
	var err error
	for range 20 {
		if err = c.launch(n); err != nil {
			break
		}
		if err = started(n); !errors.Is(err, errPortInUse) {
			break
		}
		n.raftAddr = nodetest.FreeAddr(c.t)
		n.proxy.SetTarget(n.raftAddr)
		if newAddr {
			n.addr = nodetest.FreeAddr(c.t)
		} else {
			time.Sleep(250 * time.Millisecond) // a client's port is freed soon
		}
	}
	if err != nil {
		c.t.Fatalf("start %s: %v", n.id, err)
	}
}

// started waits until n's process answers PING, or reports why it exited.
// LOADING counts as an answer: a node of a cluster restarted whole loads
// until a quorum of its peers is up to elect a leader, which commits what
// it replays.
func started(n *node) error {
	deadline := time.Now().Add(leaderBound)
	for {
		if !n.running() {
			b, _ := os.ReadFile(n.logPath)
			out := string(b)
			out = out[max(0, strings.LastIndex(out, "=== start")):]
			if strings.Contains(out, "address already in use") {
				return fmt.Errorf("%w: %s", errPortInUse, out)
			}
			return fmt.Errorf("%s exited: %s", n.id, out)
		}
		if cn, err := dial(n.addr, 200*time.Millisecond); err == nil {
			r, err := cn.do(time.Second, "PING")
			cn.Close()
			loading := false
			if e, ok := r.(errorReply); ok {
				loading = strings.HasPrefix(string(e), "LOADING")
			}
			if err == nil && (r == "PONG" || loading) && n.running() {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not answer PING on %s", n.id, n.addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// close kills every node and stops the proxies; it keeps the artifact
// directory if the test failed, and says where.
func (c *cluster) close() {
	for _, n := range c.nodes {
		c.kill(n)
	}
	c.net.Close()
	if c.t.Failed() {
		c.t.Logf("node logs, data and histories kept in %s", c.dir)
		return
	}
	os.RemoveAll(c.dir)
}

// launch starts n's process without waiting for it to serve.
func (c *cluster) launch(n *node) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== start %s\n", time.Now().Format(time.RFC3339Nano))
	args := []string{"--id", n.id, "--addr", n.addr, "--raft-addr", n.raftAddr,
		"--raft-advertise", n.advertise, "--data-dir", n.dataDir}
	if n.join != "" {
		args = append(args, "--join", n.join)
	} else {
		args = append(args, "--cluster", c.members)
	}
	args = append(args, c.args...)
	cmd := exec.Command(c.bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", n.id, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	n.cmd, n.exited, n.paused = cmd, exited, false
	return nil
}

// kill sends SIGKILL (to a paused process too) and waits for the exit.
func (c *cluster) kill(n *node) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
}

// startSpare starts a spare, which asks the member at via (its RESP
// address) to add it, as `--join` does, until one does.
func (c *cluster) startSpare(n *node, via string) {
	c.t.Helper()
	if n.launched() {
		c.t.Fatalf("start spare %s: started before", n.id)
	}
	n.join = via
	c.start(n, false)
}

// spare returns a node never started, or nil.
func (c *cluster) spare() *node {
	for _, n := range c.nodes {
		if !n.launched() {
			return n
		}
	}
	return nil
}

// launchedNodes are the nodes started at least once: every node but the
// spares no scenario started.
func (c *cluster) launchedNodes() []*node {
	var out []*node
	for _, n := range c.nodes {
		if n.launched() {
			out = append(out, n)
		}
	}
	return out
}

// restart starts a killed node again on its ports and data.
func (c *cluster) restart(n *node) {
	c.t.Helper()
	if n.running() {
		c.t.Fatalf("restart %s: still running", n.id)
	}
	c.start(n, false)
}

// pause stops n with SIGSTOP: its sockets stay open, nothing answers.
func (c *cluster) pause(n *node) { c.signal(n, syscall.SIGSTOP, true) }

// resume continues a paused node with SIGCONT.
func (c *cluster) resume(n *node) { c.signal(n, syscall.SIGCONT, false) }

func (c *cluster) signal(n *node, sig syscall.Signal, paused bool) {
	c.t.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		c.t.Fatalf("signal %s: never started", n.id)
	}
	if err := n.cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signal %v to %s: %v", sig, n.id, err)
	}
	n.paused = paused
}

// raftInfo returns the fields of n's RAFT.INFO.
func raftInfo(n *node) (map[string]string, error) {
	cn, err := dial(n.addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	r, err := cn.do(2*time.Second, "RAFT.INFO")
	if err != nil {
		return nil, err
	}
	text, ok := r.(string)
	if !ok {
		return nil, fmt.Errorf("RAFT.INFO replied %v", r)
	}
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			fields[k] = v
		}
	}
	return fields, nil
}

// leaderBound only turns a cluster that never recovers into a failure.
const leaderBound = 60 * time.Second

// leader waits until a serving node leads with reads ready and returns
// the one with the highest term.
func (c *cluster) leader() *node {
	c.t.Helper()
	deadline := time.Now().Add(leaderBound)
	for {
		var best *node
		var bestTerm uint64
		for _, n := range c.nodes {
			if !n.serving() {
				continue
			}
			f, err := raftInfo(n)
			if err != nil || f["role"] != "leader" || f["reads_ready"] != "1" {
				continue
			}
			if term, _ := strconv.ParseUint(f["current_term"], 10, 64); best == nil || term > bestTerm {
				best, bestTerm = n, term
			}
		}
		if best != nil {
			return best
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no leader within %v", leaderBound)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// followers returns the serving nodes other than the leader.
func (c *cluster) followers() []*node {
	c.t.Helper()
	l := c.leader()
	var out []*node
	for _, n := range c.nodes {
		if n != l && n.serving() {
			out = append(out, n)
		}
	}
	return out
}

// waitServing waits until every node answers a write (a DEL of a key
// that never exists, forwarded to the leader by followers).
func (c *cluster) waitServing() {
	c.t.Helper()
	deadline := time.Now().Add(leaderBound)
	for _, n := range c.launchedNodes() {
		for {
			err := probeWrite(n.addr)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("%s does not serve writes: %v", n.id, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func probeWrite(addr string) error {
	cn, err := dial(addr, time.Second)
	if err != nil {
		return err
	}
	defer cn.Close()
	r, err := cn.do(5*time.Second, "DEL", "__faults_never_a_key__")
	if err != nil {
		return err
	}
	if r != int64(0) {
		return fmt.Errorf("DEL replied %v", r)
	}
	return nil
}

// waitConverged waits until every node has applied the same index, so
// the final reads see everything the cluster will ever apply of the run.
func (c *cluster) waitConverged() error {
	deadline := time.Now().Add(leaderBound)
	nodes := c.launchedNodes()
	for {
		var idx, views []string
		for _, n := range nodes {
			f, err := raftInfo(n)
			if err != nil {
				idx = nil
				views = append(views, n.id+": "+err.Error())
				break
			}
			idx = append(idx, appliedIndexes(f))
			views = append(views, raftView(n.id, f))
		}
		if same(idx) && len(idx) == len(nodes) && idx[0] != "" {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("applied indexes never converged: " + strings.Join(idx, ",") +
				"\n" + strings.Join(views, "\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// raftView is what a node's RAFT.INFO says of its log and its groups,
// for a failure's message.
func raftView(id string, f map[string]string) string {
	v := id + ": role=" + f["role"] + ",commit_index=" + f["commit_index"] +
		",last_applied_index=" + f["last_applied_index"] + ",last_log_index=" + f["last_log_index"]
	for i := 0; ; i++ {
		line, ok := f["partition"+strconv.Itoa(i)]
		if !ok {
			return v
		}
		v += "; partition" + strconv.Itoa(i) + ": " + line
	}
}

// appliedIndexes is a node's applied index, and with several partitions
// each partition's (RAFT.INFO's partition<i> lines), as one string.
func appliedIndexes(f map[string]string) string {
	out := f["last_applied_index"]
	for i := 0; ; i++ {
		line, ok := f["partition"+strconv.Itoa(i)]
		if !ok {
			return out
		}
		for _, kv := range strings.Split(line, ",") {
			if v, ok := strings.CutPrefix(kv, "applied_index="); ok {
				out += "/" + v
			}
		}
	}
}

func same(xs []string) bool {
	for _, x := range xs {
		if x != xs[0] {
			return false
		}
	}
	return true
}
