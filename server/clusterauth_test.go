package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/internal/testcert"
	"github.com/loomcache/loomcache/server"
)

// TestStrangerOnUnauthenticatedCluster is the control of the intruder
// test: on a cluster without credentials, the stranger's requests work.
// It reads data through the forwarding channel, and a heartbeat of a
// higher term makes a follower adopt that term.
func TestStrangerOnUnauthenticatedCluster(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	if got := text(t, leader.Addr().String(), "SET", "k", "the data"); got != "+OK\r\n" {
		t.Fatalf("SET: %q", got)
	}
	reply, err := nodetest.StrangerForward(leader.Cfg.RaftAddr, nodetest.NoCredentials, "GET", "k")
	if err != nil || !strings.Contains(string(reply), "$8\r\nthe data\r\n") {
		t.Fatalf("stranger's GET: %q, %v; want the data", reply, err)
	}
	f := c.Followers()[0]
	term := f.Node().Stats().Term
	resp, err := nodetest.StrangerAppendEntries(f.Cfg.RaftAddr, nodetest.NoCredentials, term+100)
	if err != nil {
		t.Fatalf("stranger's AppendEntries: %v", err)
	}
	if resp.Term != term+100 {
		t.Errorf("the follower answered at term %d, want %d", resp.Term, term+100)
	}
	eventually(t, "the follower to adopt the stranger's term", func() bool { return f.Node().Stats().Term >= term+100 })
}

// TestClusterAuthInProcess: nodes configured through server.Config with
// a secret and mutual TLS serve as a cluster (writes through a follower
// are forwarded over TLS); RAFT.NODE ADD of a node with another secret is
// refused with an error and changes nothing; a node with the cluster's
// credentials joins and catches up.
func TestClusterAuthInProcess(t *testing.T) {
	ca := testcert.NewCA(t, "cluster CA")
	secret := []byte("in-process cluster secret, 32 by")
	creds := func(cfg *server.Config) {
		cfg.ClusterSecret = secret
		cfg.ClusterTLS = ca.NodeTLS(t, cfg.ID, "127.0.0.1")
	}
	c := nodetest.StartCluster(t, 3, func(i int, cfg *server.Config) { creds(cfg) })
	f := c.Followers()[0]
	if got := text(t, f.Addr().String(), "SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET through a follower: %q", got)
	}

	stranger := c.Join(func(cfg *server.Config) {
		creds(cfg)
		cfg.ClusterSecret = []byte("not the secret of this cluster!!")
	})
	got := text(t, f.Addr().String(), "RAFT.NODE", "ADD", stranger.Cfg.ID, stranger.Cfg.RaftAddr)
	if !strings.HasPrefix(got, "-ERR node not added") {
		t.Errorf("RAFT.NODE ADD of a node with another secret: %q", got)
	}
	if n := infoField(text(t, c.Leader().Addr().String(), "RAFT.INFO"), "num_nodes"); n != "3" {
		t.Errorf("members after the refusal: %s", n)
	}

	n5 := c.Join(creds)
	eventually(t, "n5 to join and catch up", func() bool {
		v, _, _ := lookupLocal(n5, "k")
		return v == "v"
	})
	if got := infoField(text(t, c.Leader().Addr().String(), "RAFT.INFO"), "num_voting_nodes"); got != "4" {
		t.Errorf("voters: %s", got)
	}
	if got := text(t, n5.Addr().String(), "INCR", "c"); got != ":1\r\n" {
		t.Errorf("INCR through n5: %q", got)
	}
}

// lookupLocal reads key from db 0 of n's own keyspace.
func lookupLocal(n *nodetest.InProcess, key string) (string, bool, error) {
	ks := n.Node().Store()
	ks.RLock()
	defer ks.RUnlock()
	v := ks.DB(0).Get([]byte(key), 0)
	if v == nil {
		return "", false, nil
	}
	return string(v.Bytes()), true, nil
}

// keysOf returns the db0 key count in INFO keyspace at addr (0: none).
func keysOf(t *testing.T, addr string) int {
	t.Helper()
	line := infoField(text(t, addr, "INFO", "keyspace"), "db0")
	v, _, _ := strings.Cut(strings.TrimPrefix(line, "keys="), ",")
	n, _ := strconv.Atoi(v)
	return n
}
