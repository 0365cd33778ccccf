package raftfsm

import (
	"fmt"
	"testing"
	"time"

	"github.com/loomcache/loomcache/cluster/faultproxy"
)

// Pre-vote: a follower cut off for many election timeouts, then
// reconnected, neither raises the term nor deposes the healthy leader.
func TestRejoinDoesNotDisruptLeader(t *testing.T) {
	net := faultproxy.New()
	defer net.Close()
	nodes := openProxiedCluster(t, net, 3, nil)
	leader := leaderOf(t, nodes)
	var cut *Node
	for _, n := range nodes {
		if n != leader {
			cut = n
			break
		}
	}
	set(t, leader, "k", "1", 0)
	term := leader.raft.CurrentTerm()
	net.Isolate(cut.cfg.ID)
	// Many election timeouts: without pre-vote the cut-off node would
	// campaign again and again, raising its term each time.
	time.Sleep(10 * DefaultHeartbeatTimeout)
	if got := cut.raft.CurrentTerm(); got != term {
		t.Errorf("isolated follower's term went from %d to %d", term, got)
	}
	set(t, leader, "k", "2", 0) // the majority carries on
	net.Heal()
	waitFor(t, "the rejoined follower to catch up", func() bool {
		v, ok := lookup(cut, 0, "k")
		return ok && v == "2"
	})
	if !leader.ready() {
		t.Error("the healthy leader was deposed by the rejoining follower")
	}
	for _, n := range nodes {
		if got := n.raft.CurrentTerm(); got != term {
			t.Errorf("%s: term %d after the rejoin, want %d", n.cfg.ID, got, term)
		}
	}
}

// openProxiedCluster opens n nodes that reach each other only through
// net's proxies: each advertises its proxy, and the members are proxies.
// tweak, if not nil, may change each node's configuration.
func openProxiedCluster(t *testing.T, net *faultproxy.Net, n int, tweak func(cfg *Config)) []*Node {
	t.Helper()
	cfgs := make([]Config, n)
	var members []Member
	for i := range cfgs {
		cfgs[i] = testConfig(t, t.TempDir())
		cfgs[i].ID = fmt.Sprintf("n%d", i+1)
		p, err := net.Add(cfgs[i].ID, cfgs[i].RaftAddr)
		if err != nil {
			t.Fatal(err)
		}
		cfgs[i].RaftAdvertise = p.Addr()
		members = append(members, Member{ID: cfgs[i].ID, RaftAddr: p.Addr()})
	}
	nodes := make([]*Node, n)
	for i := range cfgs {
		cfgs[i].Members = members
		if tweak != nil {
			tweak(&cfgs[i])
		}
		nd, err := Open(cfgs[i])
		if err != nil {
			t.Fatalf("open %s: %v", cfgs[i].ID, err)
		}
		nodes[i] = nd
		t.Cleanup(func() { nd.Close() })
	}
	return nodes
}

// TestSecretThroughFaultProxy: a cluster with a secret works through the
// fault proxy, which reads the hello and copies the handshake: a follower
// cut off and healed reconnects (new handshakes) and catches up, and no
// node was sent a proof the proxy changed. (A handshake the heal cut
// short is refused for its read, which is no fault of the proxy's.)
func TestSecretThroughFaultProxy(t *testing.T) {
	net := faultproxy.New()
	defer net.Close()
	nodes := openProxiedCluster(t, net, 3, func(cfg *Config) { cfg.ClusterSecret = testSecret })
	leader := leaderOf(t, nodes)
	var cut *Node
	for _, n := range nodes {
		if n != leader {
			cut = n
			break
		}
	}
	set(t, leader, "k", "1", 0)
	net.Isolate(cut.cfg.ID)
	set(t, leader, "k", "2", 0)
	net.Heal()
	waitFor(t, "the healed follower to catch up", func() bool {
		v, ok := lookup(cut, 0, "k")
		return ok && v == "2"
	})
	for _, n := range nodes {
		if r := n.mux.refused.wrongProof.Load(); r != 0 {
			t.Errorf("%s refused %d connections for a wrong proof", n.cfg.ID, r)
		}
	}
}
