package nodetest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/server"
)

// Cluster is a Raft group of in-process nodes.
type Cluster struct {
	t     testing.TB
	Nodes []*InProcess
}

// StartCluster runs n in-process nodes (ids n1..nn) on free ports, all
// started with the same member list as --cluster gives, and waits until
// one of them leads with reads ready. tweak, if not nil, may change each
// node's configuration before it starts. Nodes stop at cleanup.
func StartCluster(t testing.TB, n int, tweak func(i int, cfg *server.Config)) *Cluster {
	t.Helper()
	// A port found free may be taken (by any outgoing connection) before
	// the node binds it; then the whole cluster starts again on new ones.
	for attempt := 1; ; attempt++ {
		c, err := tryStartCluster(t, n, tweak)
		if err == nil {
			c.Leader()
			return c
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == 3 {
			t.Fatalf("start cluster: %v", err)
		}
	}
}

func tryStartCluster(t testing.TB, n int, tweak func(i int, cfg *server.Config)) (*Cluster, error) {
	cfgs := make([]server.Config, n)
	var members []raftfsm.Member
	for i := range cfgs {
		cfgs[i] = server.Config{
			ID: fmt.Sprintf("n%d", i+1), Addr: FreeAddr(t), RaftAddr: FreeAddr(t),
			DataDir: t.TempDir(), LogOutput: io.Discard, MaxBulk: 512 << 20, LogLevel: "error",
		}
		members = append(members, raftfsm.Member{ID: cfgs[i].ID, RaftAddr: cfgs[i].RaftAddr})
	}
	c := &Cluster{t: t}
	for i := range cfgs {
		cfgs[i].Members = members
		if tweak != nil {
			tweak(i, &cfgs[i])
		}
		n, err := startNode(t, cfgs[i])
		if err != nil {
			for _, m := range c.Nodes {
				m.Stop()
			}
			return nil, fmt.Errorf("node %s: %w", cfgs[i].ID, err)
		}
		c.Nodes = append(c.Nodes, n)
	}
	return c, nil
}

// startNode runs a node in-process without waiting for it to lead; it
// stops at cleanup.
func startNode(t testing.TB, cfg server.Config) (*InProcess, error) {
	s, err := server.New(cfg)
	if err != nil {
		return nil, err
	}
	n := runInProcess(s, cfg)
	t.Cleanup(func() { n.Stop() })
	return n, nil
}

// Leader waits until a running node leads with reads ready and returns
// it; the test fails if none does within a generous bound.
func (c *Cluster) Leader() *InProcess {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, n := range c.Nodes {
			if !n.Running() {
				continue // stopped
			}
			if n.Node().Stats().ReadsReady && !n.Loading() {
				return n
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatal("no node of the cluster became leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Followers returns the running nodes other than the current leader.
func (c *Cluster) Followers() []*InProcess {
	c.t.Helper()
	leader := c.Leader()
	var out []*InProcess
	for _, n := range c.Nodes {
		if n != leader && n.Running() {
			out = append(out, n)
		}
	}
	return out
}

// ProcessCluster configures StartProcessCluster.
type ProcessCluster struct {
	N int // nodes, ids n1..nN
	// Advertise, if set, gives node i's advertised cluster address
	// (--raft-advertise) from the address it binds; the --cluster list
	// names the advertised addresses. Tests put a proxy there.
	Advertise func(i int, raftAddr string) string
	// Args are extra arguments for every node; NodeArgs for node i.
	Args     []string
	NodeArgs func(i int) []string
}

// StartProcessCluster starts pc.N loomcache processes on free ports, with
// data in temp dirs and one --cluster list, and waits until each serves
// writes (through the leader, once one is elected). They are killed at
// cleanup. Process i has id "n<i+1>" and keeps its ports across Start.
func StartProcessCluster(t testing.TB, pc ProcessCluster) []*Process {
	t.Helper()
	bin := Binary(t)
	ps := make([]*Process, pc.N)
	adv := make([]string, pc.N)
	var list []string
	for i := range ps {
		ps[i] = &Process{t: t, Bin: bin, Addr: FreeAddr(t), RaftAdr: FreeAddr(t), DataDir: t.TempDir()}
		adv[i] = ps[i].RaftAdr
		if pc.Advertise != nil {
			adv[i] = pc.Advertise(i, ps[i].RaftAdr)
		}
		list = append(list, fmt.Sprintf("n%d=%s", i+1, adv[i]))
	}
	for i, p := range ps {
		p.Args = []string{"--id", fmt.Sprintf("n%d", i+1), "--cluster", strings.Join(list, ",")}
		if adv[i] != p.RaftAdr {
			p.Args = append(p.Args, "--raft-advertise", adv[i])
		}
		p.Args = append(p.Args, pc.Args...)
		if pc.NodeArgs != nil {
			p.Args = append(p.Args, pc.NodeArgs(i)...)
		}
		p.launch()
		t.Cleanup(p.Kill)
	}
	for _, p := range ps {
		if err := WaitReady(p.Addr, 60*time.Second); err != nil {
			t.Fatalf("loomcache at %s not ready: %v\nlog:\n%s", p.Addr, err, p.Output())
		}
	}
	return ps
}

// Join starts one more in-process node (id n<k>, k its position) with no
// data and --join pointing at the RESP address of the first running node,
// and returns it without waiting: it serves once the leader has added it.
func (c *Cluster) Join(tweak func(cfg *server.Config)) *InProcess {
	c.t.Helper()
	var via string
	for _, n := range c.Nodes {
		if n.cancel != nil {
			via = n.Addr().String()
			break
		}
	}
	cfg := server.Config{
		ID: fmt.Sprintf("n%d", len(c.Nodes)+1), Addr: FreeAddr(c.t), RaftAddr: FreeAddr(c.t),
		DataDir: c.t.TempDir(), LogOutput: io.Discard, MaxBulk: 512 << 20, LogLevel: "error", Join: via,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	n, err := startNode(c.t, cfg)
	if err != nil {
		c.t.Fatalf("start node %s: %v", cfg.ID, err)
	}
	c.Nodes = append(c.Nodes, n)
	return n
}

// RestartAll starts every process of a cluster again (after they were
// all stopped) and waits until each serves writes: they must start
// together, as none serves before a quorum is up.
func RestartAll(t testing.TB, ps []*Process) {
	t.Helper()
	for _, p := range ps {
		p.launch()
	}
	for _, p := range ps {
		if err := WaitReady(p.Addr, 60*time.Second); err != nil {
			t.Fatalf("loomcache at %s not ready after a restart: %v\nlog:\n%s", p.Addr, err, p.Output())
		}
	}
}

// Restart starts node i again, stopped before, with its configuration
// (its ports and data directory), and returns it without waiting.
func (c *Cluster) Restart(i int) *InProcess {
	c.t.Helper()
	c.Nodes[i].Stop()
	n, err := startNode(c.t, c.Nodes[i].Cfg)
	if err != nil {
		c.t.Fatalf("restart %s: %v", c.Nodes[i].Cfg.ID, err)
	}
	c.Nodes[i] = n
	return n
}
