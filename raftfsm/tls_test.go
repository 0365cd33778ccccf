package raftfsm

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/testcert"
)

// TestClusterTLS: under mutual TLS, a connection reaches its channel only
// from a dialer with a certificate of the cluster's CA, to a node whose
// certificate it can verify, and, with a secret too, only with the secret.
func TestClusterTLS(t *testing.T) {
	ca, other := testcert.NewCA(t, "cluster CA"), testcert.NewCA(t, "another CA")
	node := ca.NodeTLS(t, "n1", "127.0.0.1")
	good := ca.NodeTLS(t, "n2", "127.0.0.1")
	cases := []struct {
		name   string
		tls    *tls.Config // the dialer's; nil: plain TCP
		secret []byte      // the dialer's, when the node has testSecret
		host   string      // dialled instead of 127.0.0.1
		ok     bool
	}{
		{"a node of the cluster", good, testSecret, "", true},
		{"no client certificate", &tls.Config{RootCAs: ca.Pool}, testSecret, "", false},
		{"a certificate of another CA", &tls.Config{Certificates: other.NodeTLS(t, "x", "127.0.0.1").Certificates, RootCAs: ca.Pool}, testSecret, "", false},
		{"trusting another CA", &tls.Config{Certificates: good.Certificates, RootCAs: other.Pool}, testSecret, "", false},
		{"the node's certificate is for another host", good, testSecret, "localhost", false},
		{"plain TCP", nil, testSecret, "", false},
		{"the right certificate and another secret", good, otherSecret, "", false},
	}
	for _, withSecret := range []bool{true, false} {
		for _, c := range cases {
			if !withSecret && !bytesEqual(c.secret, testSecret) {
				continue
			}
			t.Run(fmt.Sprintf("secret=%v/%s", withSecret, c.name), func(t *testing.T) {
				ld := Dialer{ID: "n1", TLS: node}
				dd := Dialer{ID: "n2", TLS: c.tls, Timeout: 5 * time.Second}
				if withSecret {
					ld.Secret, dd.Secret = testSecret, c.secret
				}
				m := startEchoMux(t, ld)
				addr := m.addr()
				if c.host != "" {
					addr = strings.Replace(addr, "127.0.0.1", c.host, 1)
				}
				nc, err := dd.Dial(addr, ChannelForward, "")
				served := err == nil && echoes(nc)
				if nc != nil {
					nc.Close()
				}
				if served != c.ok {
					t.Fatalf("served %v (dial: %v), want %v", served, err, c.ok)
				}
				if c.ok {
					if n := m.refused.count.Load(); n != 0 {
						t.Errorf("%d connections refused", n)
					}
					return
				}
				// Under TLS 1.3 a client learns that its certificate
				// was refused only when it reads; either way the node
				// refused before the channel (a dialer that cannot
				// verify the node aborts the node's TLS handshake).
				if m.served.Load() != 0 {
					t.Error("the channel was served")
				}
				waitFor(t, "the refusal to be counted", func() bool { return m.refused.count.Load() == 1 })
			})
		}
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }

// TestClusterOverTLSWithSecret: three nodes with mutual TLS and a secret
// elect a leader, replicate, forward; a node is added only when it
// answers with the cluster's certificate and secret, and the
// configuration is unchanged when it does not.
func TestClusterOverTLSWithSecret(t *testing.T) {
	ca, other := testcert.NewCA(t, "cluster CA"), testcert.NewCA(t, "another CA")
	nodes := openCluster(t, 3, func(i int, cfg *Config) {
		cfg.ClusterSecret = testSecret
		cfg.ClusterTLS = ca.NodeTLS(t, cfg.ID, "127.0.0.1")
	})
	for _, n := range nodes {
		n.SetForwardHandler(incrHandler(n))
	}
	leader := leaderOf(t, nodes)
	set(t, leader, "k", "v", 0)
	for _, n := range nodes {
		waitFor(t, n.cfg.ID+" to apply", func() bool { v, ok := lookup(n, 0, "k"); return ok && v == "v" })
		if reply, err := n.Forward(forwardIncr("c"), true); err != nil || !strings.HasPrefix(string(reply), ":") {
			t.Errorf("INCR via %s: %q, %v", n.cfg.ID, reply, err)
		}
	}

	// Candidates for n4, none of which may join.
	strangers := []struct {
		name string
		cfg  func(cfg *Config)
	}{
		{"another secret", func(cfg *Config) {
			cfg.ClusterSecret, cfg.ClusterTLS = otherSecret, ca.NodeTLS(t, "n4", "127.0.0.1")
		}},
		{"no secret", func(cfg *Config) { cfg.ClusterTLS = ca.NodeTLS(t, "n4", "127.0.0.1") }},
		{"no TLS", func(cfg *Config) { cfg.ClusterSecret = testSecret }},
		{"a certificate of another CA", func(cfg *Config) {
			cfg.ClusterSecret, cfg.ClusterTLS = testSecret, other.NodeTLS(t, "n4", "127.0.0.1")
		}},
	}
	for _, s := range strangers {
		n4 := openJoiner(t, "n4", s.cfg)
		err := leader.AddVoter("n4", n4.cfg.RaftAddr)
		if !errors.Is(err, ErrProbe) {
			t.Errorf("adding n4 with %s: %v, want ErrProbe", s.name, err)
		}
		if m, _ := leader.Members(); len(m) != 3 {
			t.Errorf("after refusing n4 with %s: %d members", s.name, len(m))
		}
		n4.Close()
	}
	// A live node of the cluster, asked for as another id, is refused too.
	if err := leader.AddVoter("n9", nodes[0].cfg.RaftAddr); !errors.Is(err, ErrProbe) {
		t.Errorf("adding n9 at n1's address: %v, want ErrProbe", err)
	}

	n4 := openJoiner(t, "n4", func(cfg *Config) {
		cfg.ClusterSecret, cfg.ClusterTLS = testSecret, ca.NodeTLS(t, "n4", "127.0.0.1")
	})
	if err := leader.AddVoter("n4", n4.cfg.RaftAddr); err != nil {
		t.Fatalf("adding n4 with the cluster's credentials: %v", err)
	}
	waitFor(t, "n4 to catch up", func() bool { v, ok := lookup(n4, 0, "k"); return ok && v == "v" })
}

// openJoiner opens a node with no state that waits to be added (as
// --join leaves it); it closes at cleanup.
func openJoiner(t *testing.T, id string, tweak func(cfg *Config)) *Node {
	t.Helper()
	cfg := testConfig(t, t.TempDir())
	cfg.ID, cfg.NoBootstrap = id, true
	tweak(&cfg)
	n, err := Open(cfg)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}
