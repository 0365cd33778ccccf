package server_test

import (
	"strings"
	"testing"

	"github.com/loomcache/loomcache/cluster/faultproxy"
	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/server"
)

// startProxiedCluster runs n in-process nodes that reach each other only
// through net's proxies, so a test can cut links between them.
func startProxiedCluster(t *testing.T, net *faultproxy.Net, n int) *nodetest.Cluster {
	t.Helper()
	var proxied []raftfsm.Member
	return nodetest.StartCluster(t, n, func(i int, cfg *server.Config) {
		if proxied == nil {
			for _, m := range cfg.Members {
				p, err := net.Add(m.ID, m.RaftAddr)
				if err != nil {
					t.Fatal(err)
				}
				proxied = append(proxied, raftfsm.Member{ID: m.ID, RaftAddr: p.Addr()})
			}
		}
		cfg.Members = proxied
		cfg.RaftAdvertise = net.Proxy(cfg.ID).Addr()
	})
}

// READONLY opts a connection into a follower's own, possibly stale, state;
// without it a follower never answers from its own state: its reads go to
// the leader, and fail rather than go stale when the leader is out of
// reach.
func TestReadOnlyStaleReads(t *testing.T) {
	net := faultproxy.New()
	defer net.Close()
	c := startProxiedCluster(t, net, 3)
	leader := c.Leader()
	f := c.Followers()[0]
	lc := dialRaw(t, leader.Addr().String())
	if r := lc.str("SET", "k", "v1"); r != "OK" {
		t.Fatalf("SET: %q", r)
	}
	stale := dialRaw(t, f.Addr().String())
	if r := stale.str("READONLY"); r != "OK" {
		t.Fatalf("READONLY: %q", r)
	}
	eventually(t, "the follower to apply v1", func() bool { return stale.do("GET", "k") == "v1" })
	if info := stale.str("CLIENT", "INFO"); !strings.Contains(info, " flags=r ") {
		t.Errorf("CLIENT INFO of a READONLY connection: %q", info)
	}

	// Cut the follower off: the majority moves on without it.
	net.Isolate(f.Cfg.ID)
	if r := lc.str("SET", "k", "v2"); r != "OK" {
		t.Fatalf("SET on the majority: %q", r)
	}
	if got := stale.do("GET", "k"); got != "v1" {
		t.Errorf("READONLY GET on the cut-off follower = %v, want its own (stale) v1", got)
	}
	if got := stale.do("MGET", "k", "nokey"); len(got.([]any)) != 2 || got.([]any)[0] != "v1" {
		t.Errorf("READONLY MGET = %v", got)
	}
	// Writes are still the leader's: out of reach, they fail (the
	// outcome is unknown if the follower had sent it before noticing).
	if r := stale.str("SET", "k", "local"); !strings.HasPrefix(r, "-CLUSTERDOWN") && !strings.HasPrefix(r, "-UNKNOWN") {
		t.Errorf("SET on a cut-off READONLY connection = %q, want -CLUSTERDOWN or -UNKNOWN", r)
	}
	// The negative case: a default connection never sees v1 now.
	linear := dialRaw(t, f.Addr().String())
	if r := linear.str("GET", "k"); !strings.HasPrefix(r, "-CLUSTERDOWN") {
		t.Errorf("linearizable GET on the cut-off follower = %q, want -CLUSTERDOWN", r)
	}
	if r := stale.str("READWRITE"); r != "OK" {
		t.Fatalf("READWRITE: %q", r)
	}
	if r := stale.str("GET", "k"); !strings.HasPrefix(r, "-CLUSTERDOWN") {
		t.Errorf("GET after READWRITE on the cut-off follower = %q, want -CLUSTERDOWN", r)
	}

	net.Heal()
	eventually(t, "linearizable reads through the follower", func() bool { return linear.do("GET", "k") == "v2" })
	stale.str("READONLY")
	eventually(t, "the follower to catch up", func() bool { return stale.do("GET", "k") == "v2" })
	if r := stale.str("RESET"); r != "RESET" {
		t.Fatalf("RESET: %q", r)
	}
	if info := stale.str("CLIENT", "INFO"); !strings.Contains(info, " flags=N ") {
		t.Errorf("CLIENT INFO after RESET: %q", info)
	}
}
