package server_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// text sends one command and returns its reply as text: a bulk's
// contents, or the raw line of anything else.
func text(t *testing.T, addr string, args ...string) string {
	t.Helper()
	r := string(oneByOne(t, addr, [][]string{args})[0])
	if strings.HasPrefix(r, "$") {
		if _, body, ok := strings.Cut(r, "\r\n"); ok {
			return strings.TrimSuffix(body, "\r\n")
		}
	}
	return r
}

// eventually polls cond until it holds (a hang detector, not a timing
// assertion).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRaftInfo: RAFT.INFO and INFO replication describe the node's view
// of the cluster, on the leader and on a follower.
func TestRaftInfo(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	f := c.Followers()[0]
	oneByOne(t, leader.Addr().String(), [][]string{{"SET", "k", "v"}})
	for _, n := range []*nodetest.InProcess{leader, f} {
		// A follower learns the commit index with the leader's next
		// message: the indexes are read once they have all moved.
		var info string
		eventually(t, n.Cfg.ID+"'s indexes", func() bool {
			info = text(t, n.Addr().String(), "RAFT.INFO")
			for _, k := range []string{"commit_index", "last_applied_index"} {
				if v, err := strconv.ParseUint(infoField(info, k), 10, 64); err != nil || v == 0 {
					return false
				}
			}
			return true
		})
		role := "follower"
		if n == leader {
			role = "leader"
		}
		want := map[string]string{
			"node_id": n.Cfg.ID, "node_addr": n.Cfg.RaftAddr, "role": role,
			"leader_id": leader.Cfg.ID, "leader_addr": leader.Cfg.RaftAddr,
			"num_nodes": "3", "num_voting_nodes": "3",
		}
		for k, v := range want {
			if got := infoField(info, k); got != v {
				t.Errorf("%s RAFT.INFO %s = %q, want %q\n%s", n.Cfg.ID, k, got, v, info)
			}
		}
		for _, k := range []string{"current_term", "commit_index", "last_applied_index", "last_log_index"} {
			if v, err := strconv.ParseUint(infoField(info, k), 10, 64); err != nil || v == 0 {
				t.Errorf("%s RAFT.INFO %s = %q", n.Cfg.ID, k, infoField(info, k))
			}
		}
		if l := infoField(info, "lease_state"); l != "held" && l != "none" {
			t.Errorf("lease_state %q", l)
		}
		self := 0
		for i, m := range c.Nodes {
			line := infoField(info, fmt.Sprintf("node%d", i))
			wantLine := fmt.Sprintf("id=%s,addr=%s,voting=yes,leader=%s,self=%s", m.Cfg.ID, m.Cfg.RaftAddr,
				yesNo(m == leader), yesNo(m == n))
			if line != wantLine {
				t.Errorf("%s RAFT.INFO node%d = %q, want %q", n.Cfg.ID, i, line, wantLine)
			}
			if strings.Contains(line, "self=yes") {
				self++
			}
		}
		if self != 1 {
			t.Errorf("%d members marked self", self)
		}

		// The leader lists a follower once it has answered a request of
		// this term, and while it answers; a follower's link is up while
		// the leader's messages arrive: under load either may lag.
		var repl string
		eventually(t, n.Cfg.ID+"'s links", func() bool {
			repl = text(t, n.Addr().String(), "INFO", "replication")
			if n == leader {
				return infoField(repl, "connected_slaves") == "2"
			}
			return infoField(repl, "master_link_status") == "up"
		})
		redisRole := "slave"
		if n == leader {
			redisRole = "master"
		}
		wantRepl := map[string]string{
			"role": redisRole, "raft_role": role, "raft_leader_id": leader.Cfg.ID,
			"raft_leader_addr": leader.Cfg.RaftAddr, "raft_peers": "2",
		}
		// As Redis's replica: the leader's RESP address and a live link;
		// the leader lists both followers.
		if n == leader {
			wantRepl["connected_slaves"] = "2"
		} else {
			host, port, _ := net.SplitHostPort(leader.Addr().String())
			wantRepl["master_host"], wantRepl["master_port"], wantRepl["master_link_status"] = host, port, "up"
		}
		for k, v := range wantRepl {
			if got := infoField(repl, k); got != v {
				t.Errorf("%s INFO replication %s = %q, want %q", n.Cfg.ID, k, got, v)
			}
		}
		if n == leader && !strings.HasPrefix(infoField(repl, "slave0"), "ip=127.0.0.1,port=") {
			t.Errorf("leader's slave0 = %q", infoField(repl, "slave0"))
		}
		if p := infoField(repl, "raft_peer1"); !strings.HasPrefix(p, "id=n") || strings.Contains(p, "self=yes") {
			t.Errorf("raft_peer1 = %q", p)
		}
	}
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// TestClusterJoinAndRemove (in-process): a node started with --join is
// added by the leader, catches up with the data written before, and
// serves; RAFT.NODE REMOVE, sent to a follower, takes it out again.
//
// The cluster has taken more writes than the snapshot threshold (10,000
// ops, the default), snapshotted on its own and compacted its log, so the
// new node can only catch up by installing the leader's snapshot. (The
// compaction keeps 5 entries instead of raft's 10,240: pipelined writes
// share entries, so 12,000 of them make far fewer than 10,240. They go in
// 12 pipelines, each of which makes entries of its own.)
func TestClusterJoinAndRemove(t *testing.T) {
	c := nodetest.StartCluster(t, 3, func(i int, cfg *server.Config) { cfg.TrailingLogs = 5 })
	leader := c.Leader()
	const keys, rounds = 12000, 12
	for r := 0; r < rounds; r++ {
		var reqs [][]string
		for i := r * keys / rounds; i < (r+1)*keys/rounds; i++ {
			reqs = append(reqs, []string{"SET", fmt.Sprint("k", i), fmt.Sprint("v", i)})
		}
		pipelined(t, leader.Addr().String(), reqs)
	}
	eventually(t, "the leader to snapshot and compact its log", func() bool {
		return leader.Node().Stats().FirstLogIndex > 1
	})

	n4 := c.Join(nil)
	eventually(t, "n4 to hold the data written before it joined", func() bool {
		ks := n4.Node().Store()
		ks.RLock()
		defer ks.RUnlock()
		return ks.DB(0).Len() == keys
	})
	if n4.Node().Stats().Restores == 0 {
		t.Error("n4 caught up without installing a snapshot")
	}
	if got := infoField(text(t, leader.Addr().String(), "RAFT.INFO"), "num_voting_nodes"); got != "4" {
		t.Errorf("voters after the join: %s", got)
	}
	if got := text(t, n4.Addr().String(), "GET", "k11999"); got != "v11999" {
		t.Errorf("GET through the new node: %q", got)
	}
	if got := text(t, n4.Addr().String(), "SET", "new", "x"); got != "+OK\r\n" {
		t.Errorf("SET through the new node: %q", got)
	}

	f := c.Followers()[0]
	if f == n4 {
		f = c.Followers()[1]
	}
	if got := text(t, f.Addr().String(), "RAFT.NODE", "REMOVE", "n4"); got != "+OK\r\n" {
		t.Fatalf("RAFT.NODE REMOVE through %s: %q", f.Cfg.ID, got)
	}
	info := text(t, c.Leader().Addr().String(), "RAFT.INFO")
	if infoField(info, "num_nodes") != "3" || strings.Contains(info, "id=n4") {
		t.Errorf("after removing n4:\n%s", info)
	}
	if got := text(t, f.Addr().String(), "INCR", "after"); got != ":1\r\n" {
		t.Errorf("INCR after the removal: %q", got)
	}
}

// TestClusterJoinProcess: real processes. A fourth node joins a running
// three-node cluster through a follower's RESP address, catches up, and
// serves reads and writes; then it and one original member are removed
// and the remaining two go on serving.
func TestClusterJoinProcess(t *testing.T) {
	ps := nodetest.StartProcessCluster(t, nodetest.ProcessCluster{N: 3})
	var reqs [][]string
	for i := 0; i < 500; i++ {
		reqs = append(reqs, []string{"SET", fmt.Sprint("k", i), fmt.Sprint("v", i)})
	}
	pipelined(t, ps[0].Addr, reqs)
	leaderID := infoField(text(t, ps[0].Addr, "RAFT.INFO"), "leader_id")
	via := ps[0]
	if leaderID == "n1" {
		via = ps[1]
	}

	n4 := nodetest.StartProcess(t, "", "--id", "n4", "--join", via.Addr)
	eventually(t, "n4 to apply the earlier writes", func() bool {
		return strings.Contains(text(t, n4.Addr, "INFO", "keyspace"), "db0:keys=500,")
	})
	info := text(t, n4.Addr, "RAFT.INFO")
	if infoField(info, "num_voting_nodes") != "4" || infoField(info, "role") != "follower" || infoField(info, "node_addr") != n4.RaftAdr {
		t.Errorf("n4 RAFT.INFO:\n%s", info)
	}
	if got := text(t, n4.Addr, "GET", "k499"); got != "v499" {
		t.Errorf("GET through n4: %q", got)
	}
	if got := text(t, n4.Addr, "INCR", "c"); got != ":1\r\n" {
		t.Errorf("INCR through n4: %q", got)
	}

	// Remove n4 (asking n4 itself) and n3 (asking n1).
	if got := text(t, n4.Addr, "RAFT.NODE", "REMOVE", "n4"); got != "+OK\r\n" {
		t.Fatalf("RAFT.NODE REMOVE n4: %q", got)
	}
	if got := text(t, ps[0].Addr, "RAFT.NODE", "REMOVE", "n3"); got != "+OK\r\n" {
		t.Fatalf("RAFT.NODE REMOVE n3: %q", got)
	}
	eventually(t, "n1 to see two members", func() bool {
		return infoField(text(t, ps[0].Addr, "RAFT.INFO"), "num_nodes") == "2"
	})
	for _, p := range ps[:2] {
		if got := text(t, p.Addr, "INCR", "c"); !strings.HasPrefix(got, ":") {
			t.Errorf("INCR through %s after the removals: %q", p.Addr, got)
		}
	}
	if got := text(t, ps[1].Addr, "GET", "c"); got != "3" {
		t.Errorf("c = %q, want 3", got)
	}
}

// TestRaftTransfer: RAFT.TRANSFER, sent to a follower, has the leader hand
// its leadership to the voter named; without a name, to another voter;
// naming the leader itself changes nothing; an unknown id is refused; the
// data and writes go on through each new leader; with no leader the
// command is refused with -CLUSTERDOWN.
func TestRaftTransfer(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	if got := text(t, leader.Addr().String(), "INCR", "c"); got != ":1\r\n" {
		t.Fatalf("INCR: %q", got)
	}
	fs := c.Followers()
	target, via := fs[0], fs[1]
	if got := text(t, via.Addr().String(), "RAFT.TRANSFER", target.Cfg.ID); got != "+OK\r\n" {
		t.Fatalf("RAFT.TRANSFER %s through %s: %q", target.Cfg.ID, via.Cfg.ID, got)
	}
	eventually(t, target.Cfg.ID+" to lead", func() bool { return c.Leader() == target })
	if got := text(t, leader.Addr().String(), "INCR", "c"); got != ":2\r\n" {
		t.Errorf("INCR through the old leader: %q", got)
	}

	if got := text(t, target.Addr().String(), "RAFT.TRANSFER", target.Cfg.ID); got != "+OK\r\n" {
		t.Errorf("RAFT.TRANSFER to the leader itself: %q", got)
	}
	if l := c.Leader(); l != target {
		t.Errorf("%s leads after a transfer to the leader itself", l.Cfg.ID)
	}
	if got := text(t, via.Addr().String(), "RAFT.TRANSFER", "n9"); got != "-ERR unknown node id 'n9'\r\n" {
		t.Errorf("RAFT.TRANSFER n9: %q", got)
	}

	if got := text(t, target.Addr().String(), "RAFT.TRANSFER"); got != "+OK\r\n" {
		t.Fatalf("RAFT.TRANSFER without an id: %q", got)
	}
	eventually(t, "another node to lead", func() bool { return c.Leader() != target })
	next := c.Leader()
	if got := text(t, target.Addr().String(), "INCR", "c"); got != ":3\r\n" {
		t.Errorf("INCR after the second transfer: %q", got)
	}
	eventually(t, next.Cfg.ID+"'s lease", func() bool {
		return infoField(text(t, next.Addr().String(), "RAFT.INFO"), "lease_state") == "held"
	})

	for _, n := range c.Nodes {
		if n != via {
			n.Stop()
		}
	}
	// If via led, it steps down once it misses its quorum.
	eventually(t, via.Cfg.ID+" not to lead", func() bool {
		return infoField(text(t, via.Addr().String(), "RAFT.INFO"), "role") != "leader"
	})
	want := "-CLUSTERDOWN no leader available, the command was not applied; retry\r\n"
	if got := text(t, via.Addr().String(), "RAFT.TRANSFER"); got != want {
		t.Errorf("RAFT.TRANSFER with no leader: %q", got)
	}
}

// TestRaftTransferFailed: a transfer to a voter that is down fails with an
// error and the leader leads on, without its lease for the rest of the
// term (a transfer makes voters vote despite a leader), serving reads
// after quorum rounds instead.
func TestRaftTransferFailed(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	addr := leader.Addr().String()
	if got := text(t, addr, "SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET: %q", got)
	}
	eventually(t, "the leader's lease", func() bool {
		return infoField(text(t, addr, "RAFT.INFO"), "lease_state") == "held"
	})
	down := c.Followers()[0]
	down.Stop()
	term := infoField(text(t, addr, "RAFT.INFO"), "current_term")
	got := text(t, addr, "RAFT.TRANSFER", down.Cfg.ID)
	if !strings.HasPrefix(got, "-ERR leadership transfer failed: ") {
		t.Fatalf("RAFT.TRANSFER to a stopped node: %q", got)
	}
	// Many lease renewals later, still the same leader and term, and no
	// lease.
	for range 20 {
		info := text(t, addr, "RAFT.INFO")
		if infoField(info, "current_term") != term || infoField(info, "role") != "leader" {
			t.Fatalf("leadership changed after a failed transfer:\n%s", info)
		}
		if l := infoField(info, "lease_state"); l != "none" {
			t.Fatalf("lease_state %q after a transfer began in this term", l)
		}
		if got := text(t, addr, "GET", "k"); got != "v" {
			t.Fatalf("GET after the failed transfer: %q", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
