package commands

import (
	"strconv"
	"strings"

	"github.com/loomcache/loomcache/op"
)

// The cluster admin commands, named as RedisRaft names them: RAFT.INFO
// describes this node's view of its Raft group; RAFT.NODE ADD and REMOVE
// change the membership and RAFT.TRANSFER hands the leadership to another
// voter (run on any node, executed by the leader). RAFT.REQID names the
// next command's request id, so a client may send a write again safely
// (reqid.go).
// READONLY lets a connection to a follower read that follower's own state,
// possibly stale, instead of forwarding reads to the leader, as Redis
// Cluster lets replicas serve reads; READWRITE turns it off.

// Cluster is what the cluster admin commands need of the server; a
// server without it answers them with an error.
type Cluster interface {
	// RaftInfo appends RAFT.INFO's text.
	RaftInfo(dst []byte) []byte
	// AddNode adds the voter id, reached at the cluster address addr, to
	// every partition's group (or to the one a forwarded request is
	// for: via is the command's node), and returns once committed.
	AddNode(via Node, id, addr string) error
	// RemoveNode removes the node id as AddNode adds one.
	RemoveNode(via Node, id string) error
	// TransferLeader hands the leadership of a partition's group to the
	// voter id (empty: the most up-to-date one) and returns once the
	// leader stepped down (a forwarded request: via's group).
	TransferLeader(via Node, id string, partition int) error
	// Partitions describes each partition's group as this node sees it.
	Partitions() []PartitionInfo
	// AppliedIndex is the applied index of via's partition's group on
	// this node.
	AppliedIndex(via Node) uint64
}

// PartitionInfo is one partition's Raft group, as RAFT.PARTITIONS lists it.
type PartitionInfo struct {
	Partition int
	// Leader is the leader's node id and LeaderAddr its RESP address
	// (host:port); empty when not known.
	Leader, LeaderAddr string
	Term               uint64
	CommitIndex        uint64
	AppliedIndex       uint64
	Voters             []string // node ids
	// VoterAddrs are the voters' RESP addresses, in Voters' order (""
	// where not known): where a client goes when a leader is lost.
	VoterAddrs []string
}

// LoomOnly reports whether a command (or subcommand) is LoomCache's own,
// with no Redis command to compare it with: the RAFT.* family.
func LoomOnly(c *Command) bool { return strings.HasPrefix(c.Name, "raft.") }

// ReferenceRedis is the version of Redis LoomCache's replies are compared
// with (Debian's redis-server).
const ReferenceRedis = "7.0.15"

// AfterReference reports whether a command came in a Redis later than
// ReferenceRedis (Redis 7.4's hash-field expiry): the reference server
// lacks it, so its COMMAND INFO and DOCS are checked against the later
// Redis's specs instead (commands/hash_ttl_spec_test.go).
func AfterReference(c *Command) bool {
	return !LoomOnly(c) && versionBefore(ReferenceRedis, c.Since)
}

// versionBefore compares dotted version numbers ("7.0.15" < "7.4.0").
func versionBefore(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

func registerCluster(t *Table) {
	t.applier(op.ReqMark, applyReqMark)
	admin := FlagAdmin | FlagNoScript
	sub := func(name string, arity int, flags Flag, summary string, h Handler) *Command {
		return &Command{Name: "raft.node|" + name, Arity: arity, Flags: flags,
			Group: "cluster", Since: "0.1.0", Complexity: "O(N) where N is the number of nodes",
			Summary: summary, Handler: h}
	}
	add := sub("add", 4, admin, "Add a node to the Raft cluster as a voter", cmdRaftNodeAdd)
	add.Args = []Arg{argString("node-id"), argString("raft-addr")}
	remove := sub("remove", 3, admin, "Remove a node from the Raft cluster", cmdRaftNodeRemove)
	remove.Args = []Arg{argString("node-id")}
	help := sub("help", 2, FlagLoading|FlagStale, "Show helpful text about the different subcommands", cmdRaftNodeHelp)
	help.Complexity = "O(1)"
	t.add(
		&Command{Name: "raft.info", Arity: 1, Flags: FlagLoading | FlagStale, Categories: CatDangerous,
			Tips:  []string{"nondeterministic_output"},
			Group: "cluster", Since: "0.1.0", Complexity: "O(N) where N is the number of nodes",
			Summary: "Get this node's view of its Raft cluster: role, leader, term, indexes, members",
			Handler: cmdRaftInfo},
		&Command{Name: "raft.node", Arity: -2, Group: "cluster", Since: "0.1.0",
			Complexity: "Depends on subcommand.", Summary: "A container for Raft membership commands",
			Subs: []*Command{add, remove, help}},
		&Command{Name: "raft.partitions", Arity: 1, Flags: FlagLoading | FlagStale, Categories: CatSlow,
			Tips:  []string{"nondeterministic_output"},
			Group: "cluster", Since: "0.1.0", Complexity: "O(N) where N is the number of partitions",
			Summary: "Get the partitions: for each, its leader's id and client address, term, indexes and voters",
			Handler: cmdRaftPartitions},
		&Command{Name: "raft.readindex", Arity: 1, Flags: FlagReadonly | FlagFast, Categories: CatFast | CatRead,
			Tips:  []string{"nondeterministic_output"},
			Group: "cluster", Since: "0.1.0", Complexity: "O(1)",
			Summary: "Confirm the leadership of partition 0's leader and get the index it has applied: what a node must apply before its copy of partition 0 is current",
			Handler: cmdRaftReadIndex},
		&Command{Name: "raft.redirect", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast,
			Categories: CatFast | CatConnection, Group: "cluster", Since: "0.1.0", Complexity: "O(1)",
			Summary: "Answer commands for a partition another node leads with -MOVED instead of forwarding them (ON), or forward them (OFF)",
			Args:    []Arg{argOneof("mode", argToken("on", "ON"), argToken("off", "OFF"))},
			Handler: cmdRaftRedirect},
		&Command{Name: "raft.reqid", Arity: 3,
			Flags:      FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagNoMulti | FlagAllowBusy,
			Categories: CatFast | CatConnection, Group: "cluster", Since: "0.1.0", Complexity: "O(1)",
			Summary: "Give the next command on this connection a client request id: a write sent again under the same id is applied at most once",
			Args:    []Arg{argString("origin"), argInt("seq")}, Handler: cmdRaftReqID},
		&Command{Name: "raft.transfer", Arity: -1, Flags: admin, Group: "cluster", Since: "0.1.0",
			Complexity: "O(N) where N is the number of nodes",
			Summary:    "Hand the Raft leadership to another voter, or to the most up-to-date one",
			Args:       []Arg{argString("node-id").optional(), argInt("partition").token("PARTITION").optional()}, Handler: cmdRaftTransfer},
		&Command{Name: "readonly", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast,
			Categories: CatFast | CatConnection, Group: "cluster", Since: "3.0.0", Complexity: "O(1)",
			Summary: "Enables read queries for a connection to a cluster replica node",
			Handler: func(c *Ctx) { c.S.SetReadOnly(true); c.W.OK() }},
		&Command{Name: "readwrite", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast,
			Categories: CatFast | CatConnection, Group: "cluster", Since: "3.0.0", Complexity: "O(1)",
			Summary: "Disables read queries for a connection to a cluster replica node",
			Handler: func(c *Ctx) { c.S.SetReadOnly(false); c.W.OK() }},
	)
}

// cluster returns the server's cluster side, replying with an error if it
// has none.
func (c *Ctx) cluster() (Cluster, bool) {
	cl, ok := c.Server.(Cluster)
	if !ok {
		c.W.Error("ERR this server is not part of a Raft cluster")
	}
	return cl, ok
}

func cmdRaftInfo(c *Ctx) {
	if cl, ok := c.cluster(); ok {
		c.W.Verbatim("txt", cl.RaftInfo(nil))
	}
}

// cmdRaftPartitions answers, per partition, a map (a flat array in
// RESP2) of partition, leader, leader-addr, term, commit-index,
// applied-index, voters and voter-addrs.
// cmdRaftReadIndex runs on partition 0's leader (a follower forwards
// it, as a read): after the read barrier, its applied index covers every
// write acknowledged before the command arrived.
func cmdRaftReadIndex(c *Ctx) {
	cl, ok := c.cluster()
	if !ok || !c.readable() {
		return
	}
	c.W.Int(int64(cl.AppliedIndex(c.Node)))
}

func cmdRaftPartitions(c *Ctx) {
	cl, ok := c.cluster()
	if !ok {
		return
	}
	parts := cl.Partitions()
	c.W.Array(len(parts))
	for _, p := range parts {
		c.W.Map(8)
		c.W.BulkString("partition")
		c.W.Int(int64(p.Partition))
		c.W.BulkString("leader")
		c.W.BulkString(p.Leader)
		c.W.BulkString("leader-addr")
		c.W.BulkString(p.LeaderAddr)
		c.W.BulkString("term")
		c.W.Int(int64(p.Term))
		c.W.BulkString("commit-index")
		c.W.Int(int64(p.CommitIndex))
		c.W.BulkString("applied-index")
		c.W.Int(int64(p.AppliedIndex))
		c.W.BulkString("voters")
		c.W.Array(len(p.Voters))
		for _, v := range p.Voters {
			c.W.BulkString(v)
		}
		c.W.BulkString("voter-addrs")
		c.W.Array(len(p.VoterAddrs))
		for _, a := range p.VoterAddrs {
			c.W.BulkString(a)
		}
	}
}

func cmdRaftRedirect(c *Ctx) {
	switch {
	case strings.EqualFold(string(c.Args[1]), "on"):
		c.S.Redirect = true
	case strings.EqualFold(string(c.Args[1]), "off"):
		c.S.Redirect = false
	default:
		c.W.Error("ERR syntax error")
		return
	}
	c.W.OK()
}

func cmdRaftNodeAdd(c *Ctx) {
	cl, ok := c.cluster()
	if !ok {
		return
	}
	if err := cl.AddNode(c.Node, string(c.Args[2]), string(c.Args[3])); err != nil {
		c.W.Error(clusterError(err))
		return
	}
	c.W.OK()
}

func cmdRaftNodeRemove(c *Ctx) {
	cl, ok := c.cluster()
	if !ok {
		return
	}
	if err := cl.RemoveNode(c.Node, string(c.Args[2])); err != nil {
		c.W.Error(clusterError(err))
		return
	}
	c.W.OK()
}

// cmdRaftTransfer: RAFT.TRANSFER [node-id] [PARTITION p].
func cmdRaftTransfer(c *Ctx) {
	id, partition := "", 0
	args := c.Args[1:]
	if len(args) > 0 && !strings.EqualFold(string(args[0]), "partition") {
		id, args = string(args[0]), args[1:]
	}
	if len(args) > 0 {
		p, err := strconv.Atoi(string(args[len(args)-1]))
		if len(args) != 2 || !strings.EqualFold(string(args[0]), "partition") || err != nil || p < 0 {
			c.W.Error(errSyntax.Error())
			return
		}
		partition = p
	}
	cl, ok := c.cluster()
	if !ok {
		return
	}
	if err := cl.TransferLeader(c.Node, id, partition); err != nil {
		c.W.Error(clusterError(err))
		return
	}
	c.W.OK()
}

// clusterError is the reply for a failed membership change: the node's
// errors as for any write, others as they are (with a code if they have
// none).
func clusterError(err error) string {
	msg := nodeError(err)
	if len(msg) > 4 && msg[:4] == "ERR " {
		if e := err.Error(); hasCode(e) {
			return e
		}
	}
	return msg
}

// hasCode reports whether an error text starts with an upper-case code
// word, as Redis error replies do ("ERR ...", "CLUSTERDOWN ...").
func hasCode(s string) bool {
	i := 0
	for i < len(s) && s[i] >= 'A' && s[i] <= 'Z' {
		i++
	}
	return i > 0 && i < len(s) && s[i] == ' '
}

var raftNodeHelp = []string{
	"ADD <node-id> <raft-addr>",
	"    Add a node, reached at its advertised cluster address, as a voter.",
	"REMOVE <node-id>",
	"    Remove a node from the cluster.",
}

func cmdRaftNodeHelp(c *Ctx) { writeHelp(c, "RAFT.NODE", raftNodeHelp) }
