package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
)

// The server's side of the cluster admin commands (commands.Cluster) and
// of --join.

var _ commands.Cluster = (*Server)(nil)

// RaftInfo appends RAFT.INFO's text (docs/cluster.md lists the fields).
func (s *Server) RaftInfo(b []byte) []byte {
	n := s.openNode()
	if n == nil { // RAFT.INFO is refused until it is open: not reached
		return append(b, "# Raft\r\n"...)
	}
	st := n.Stats()
	leaderID, leaderAddr := n.Leader()
	members, _ := n.Members()
	b = append(b, "# Raft\r\n"...)
	b = infoField(b, "node_id", st.ID)
	b = infoField(b, "node_addr", n.Advertise())
	b = infoField(b, "role", strings.ToLower(st.State))
	b = infoField(b, "leader_id", leaderID)
	b = infoField(b, "leader_addr", leaderAddr)
	b = infoUint(b, "current_term", st.Term)
	b = infoUint(b, "commit_index", st.CommitIndex)
	b = infoUint(b, "last_applied_index", st.AppliedIndex)
	b = infoUint(b, "last_log_index", st.LastLogIndex)
	b = infoUint(b, "last_snapshot_index", st.LastSnapshotIndex)
	b = infoInt(b, "reads_ready", boolInt(st.ReadsReady))
	// held: the leader serves reads locally under its lease; none: a
	// read first confirms leadership with a quorum round (or, off the
	// leader, is forwarded).
	lease := "none"
	if st.LeaseHeld {
		lease = "held"
	}
	b = infoField(b, "lease_state", lease)
	voters := 0
	for _, m := range members {
		if m.Voter {
			voters++
		}
	}
	b = infoInt(b, "num_nodes", int64(len(members)))
	b = infoInt(b, "num_voting_nodes", int64(voters))
	for i, m := range members {
		b = infoField(b, fmt.Sprintf("node%d", i), memberLine(m, st.ID, leaderID))
	}
	if len(s.groups) > 1 {
		// The fields above are partition 0's; one line per partition.
		b = infoInt(b, "partitions", int64(len(s.groups)))
		for p, g := range s.groups {
			b = infoField(b, "partition"+strconv.Itoa(p), partitionLine(g))
		}
	}
	return b
}

// partitionLine describes a partition's group as RAFT.INFO lists it:
// role=leader,leader=n2,term=3,commit_index=9,applied_index=9,last_log_index=9,snapshot_index=0.
func partitionLine(g *raftfsm.Node) string {
	st := g.Stats()
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	return "role=" + strings.ToLower(st.State) + ",leader=" + st.Leader + ",term=" + u(st.Term) +
		",commit_index=" + u(st.CommitIndex) + ",applied_index=" + u(st.AppliedIndex) +
		",last_log_index=" + u(st.LastLogIndex) + ",snapshot_index=" + u(st.LastSnapshotIndex)
}

// memberLine describes a member as RAFT.INFO and INFO replication list
// them: id=n2,addr=host:port,voting=yes,leader=no,self=no.
func memberLine(m raftfsm.MemberInfo, self, leader string) string {
	return "id=" + m.ID + ",addr=" + m.Addr + ",voting=" + yesNo(m.Voter) +
		",leader=" + yesNo(m.ID == leader) + ",self=" + yesNo(m.ID == self)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// infoReplicationRaft appends INFO replication's Raft lines: this node's
// Raft role, the leader, and one line per peer. role:master stays, as
// every node accepts reads and writes.
func (s *Server) infoReplicationRaft(b []byte) []byte {
	n := s.openNode()
	if n == nil { // restoring the snapshot: nothing known yet
		b = infoField(b, "raft_role", "loading")
		b = infoField(b, "raft_leader_id", "")
		b = infoField(b, "raft_leader_addr", "")
		return infoInt(b, "raft_peers", 0)
	}
	st := n.Stats()
	leaderID, leaderAddr := n.Leader()
	members, _ := n.Members()
	b = infoField(b, "raft_role", strings.ToLower(st.State))
	b = infoField(b, "raft_leader_id", leaderID)
	b = infoField(b, "raft_leader_addr", leaderAddr)
	peers := 0
	for _, m := range members {
		if m.ID == st.ID {
			continue
		}
		b = infoField(b, fmt.Sprintf("raft_peer%d", peers), memberLine(m, st.ID, leaderID))
		peers++
	}
	return infoInt(b, "raft_peers", int64(peers))
}

// AddNode adds a voter to every partition's group; the groups this node
// does not lead have their leaders do it.
func (s *Server) AddNode(via commands.Node, id, addr string) error {
	return s.eachGroup(via, func(g *raftfsm.Node) error { return g.AddVoter(id, addr) }, "RAFT.NODE", "ADD", id, addr)
}

// RemoveNode removes a node from every partition's group, as AddNode.
func (s *Server) RemoveNode(via commands.Node, id string) error {
	return s.eachGroup(via, func(g *raftfsm.Node) error { return g.RemoveServer(id) }, "RAFT.NODE", "REMOVE", id)
}

// TransferLeader hands the leadership of a partition's group to the
// voter id (empty: the most up-to-date one); a node that does not lead it
// has its leader do it. A forwarded request is for via's group.
func (s *Server) TransferLeader(via commands.Node, id string, partition int) error {
	if partition < 0 || partition >= len(s.groups) {
		return fmt.Errorf("ERR partition %d out of range: there are %d", partition, len(s.groups))
	}
	g := s.groups[partition]
	if cn, ok := via.(*conn); ok && cn.pinned {
		g = cn.n
	}
	err := g.TransferLeadership(id)
	if errors.Is(err, raftfsm.ErrNoLeader) && !g.IsLeader() {
		args := []string{"RAFT.TRANSFER"}
		if id != "" {
			args = append(args, id)
		}
		return s.forwardAdmin(g, args...)
	}
	return translate(err)
}

// eachGroup makes a membership change in every partition's group, in
// partition order, or only in the group of a forwarded request (via is
// its pinned conn). A group this node does not lead gets the command
// args forwarded to its leader. It stops at the first failure: the
// changes are idempotent, so the caller repeats the command.
func (s *Server) eachGroup(via commands.Node, change func(*raftfsm.Node) error, args ...string) error {
	groups := s.groups
	if cn, ok := via.(*conn); ok && cn.pinned {
		groups = []*raftfsm.Node{cn.n}
	}
	for _, g := range groups {
		err := change(g)
		if errors.Is(err, raftfsm.ErrNoLeader) && !g.IsLeader() {
			err = s.forwardAdmin(g, args...)
		} else {
			err = translate(err)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// forwardAdmin runs an admin command on the leader of g and turns its +OK
// or -error reply back into an error.
func (s *Server) forwardAdmin(g *raftfsm.Node, args ...string) error {
	req := op.Op{Type: op.Forward, Int: 2}
	for _, a := range args {
		req.Args = append(req.Args, []byte(a))
	}
	reply, err := g.Forward(&req, true)
	if err != nil {
		return translate(err)
	}
	return replyError(reply)
}

// replyError is nil for a +status reply and the error of an -error reply.
func replyError(reply []byte) error {
	line := strings.TrimSuffix(string(reply), "\r\n")
	switch {
	case strings.HasPrefix(line, "+"):
		return nil
	case strings.HasPrefix(line, "-"):
		return errors.New(line[1:])
	}
	return fmt.Errorf("ERR unexpected reply %q", line)
}

// Joining: a node started with --join and no Raft state of its own asks
// a member (by its RESP address) to add it, with RAFT.NODE ADD, until one
// accepts; the leader then brings it up to date like any follower.
const (
	joinFirstWait = 100 * time.Millisecond
	joinMaxWait   = 2 * time.Second
)

// needsJoin reports whether this node should join a cluster: --join was
// given and it has no configuration yet (a restarted member has one).
func (s *Server) needsJoin() bool {
	if s.cfg.Join == "" {
		return false
	}
	members, err := s.node.Members()
	return err == nil && len(members) == 0
}

// startJoin starts joining when the node needs it (cluster.go) and
// returns a function that stops the attempt and waits for it.
func (s *Server) startJoin(ctx context.Context) (stop func()) {
	if !s.needsJoin() {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.join(ctx)
	}()
	return func() { cancel(); <-done }
}

// join asks the member at s.cfg.Join to add this node, retrying with
// backoff until it accepts or ctx ends.
func (s *Server) join(ctx context.Context) {
	wait := joinFirstWait
	for {
		err := askToJoin(ctx, s.cfg.Join, s.cfg.ID, s.node.Advertise())
		if err == nil {
			s.log.Printf("node %s joined the cluster through %s", s.cfg.ID, s.cfg.Join)
			return
		}
		s.log.Printf("join through %s: %v; retrying in %v", s.cfg.Join, err, wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, joinMaxWait)
	}
}

// askToJoin sends RAFT.NODE ADD id raftAddr to the RESP address addr and
// reads the reply.
func askToJoin(ctx context.Context, addr, id, raftAddr string) error {
	var d net.Dialer
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	nc, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer nc.Close()
	// Adding a voter waits for the change to commit: allow for an
	// election and the forwarding to the leader.
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	args := []string{"RAFT.NODE", "ADD", id, raftAddr}
	req := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		req += fmt.Sprintf("$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := nc.Write([]byte(req)); err != nil {
		return err
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return err
	}
	return replyError([]byte(line))
}

// Partitions describes each partition's group for RAFT.PARTITIONS.
func (s *Server) Partitions() []commands.PartitionInfo {
	if s.openNode() == nil {
		return nil
	}
	out := make([]commands.PartitionInfo, 0, len(s.groups))
	for p, g := range s.groups {
		st := g.Stats()
		id, raftAddr := g.Leader()
		info := commands.PartitionInfo{Partition: p, Leader: id, Term: st.Term, CommitIndex: st.CommitIndex, AppliedIndex: st.AppliedIndex}
		if id != "" {
			info.LeaderAddr = s.host.ClientAddr(id, raftAddr)
		}
		members, _ := g.Members()
		for _, m := range members {
			if m.Voter {
				info.Voters = append(info.Voters, m.ID)
				info.VoterAddrs = append(info.VoterAddrs, s.host.ClientAddr(m.ID, m.Addr))
			}
		}
		out = append(out, info)
	}
	return out
}

// clientAdvertise is the RESP address other nodes give clients for this
// node: the plain listener's, with the cluster port's host when it is
// bound to every interface. Empty without a plain listener.
func (s *Server) clientAdvertise() string {
	if s.ln == nil {
		return ""
	}
	host, port, err := net.SplitHostPort(s.ln.Addr().String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		raft := s.cfg.RaftAdvertise
		if raft == "" {
			raft = s.cfg.RaftAddr
		}
		if h, _, err := net.SplitHostPort(raft); err == nil && h != "" {
			host = h
		}
	}
	return net.JoinHostPort(host, port)
}
