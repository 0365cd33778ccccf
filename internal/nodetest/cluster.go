package nodetest

import (
	"context"
	"fmt"
	"io"
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
		c.Nodes = append(c.Nodes, startNoWait(t, cfgs[i]))
	}
	c.Leader()
	return c
}

// startNoWait runs a node in-process without waiting for it to lead.
func startNoWait(t testing.TB, cfg server.Config) *InProcess {
	t.Helper()
	s, err := server.New(cfg)
	if err != nil {
		t.Fatalf("start node %s: %v", cfg.ID, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &InProcess{Server: s, Cfg: cfg, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- s.Run(ctx) }()
	t.Cleanup(func() { n.Stop() })
	return n
}

// Leader waits until a running node leads with reads ready and returns
// it; the test fails if none does within a generous bound.
func (c *Cluster) Leader() *InProcess {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, n := range c.Nodes {
			if n.cancel == nil {
				continue // stopped
			}
			if n.Node().Stats().ReadsReady {
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
		if n != leader && n.cancel != nil {
			out = append(out, n)
		}
	}
	return out
}
