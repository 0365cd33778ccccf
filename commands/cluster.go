package commands

import (
	"strconv"
	"strings"
)

// The cluster admin commands, named as RedisRaft names them: RAFT.INFO
// describes this node's view of its Raft group; RAFT.NODE ADD and REMOVE
// change the membership and RAFT.TRANSFER hands the leadership to another
// voter (run on any node, executed by the leader).
// READONLY lets a connection to a follower read that follower's own state,
// possibly stale, instead of forwarding reads to the leader, as Redis
// Cluster lets replicas serve reads; READWRITE turns it off.

// Cluster is what the cluster admin commands need of the server; a
// server without it answers them with an error.
type Cluster interface {
	// RaftInfo appends RAFT.INFO's text.
	RaftInfo(dst []byte) []byte
	// AddNode adds the voter id, reached at the cluster address addr,
	// and returns once the change is committed.
	AddNode(id, addr string) error
	// RemoveNode removes the node id and returns once it is committed.
	RemoveNode(id string) error
	// TransferLeader hands the leadership to the voter id (empty: the
	// most up-to-date one) and returns once the leader stepped down.
	TransferLeader(id string) error
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
		&Command{Name: "raft.transfer", Arity: -1, Flags: admin, Group: "cluster", Since: "0.1.0",
			Complexity: "O(N) where N is the number of nodes",
			Summary:    "Hand the Raft leadership to another voter, or to the most up-to-date one",
			Args:       []Arg{argString("node-id").optional()}, Handler: cmdRaftTransfer},
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

func cmdRaftNodeAdd(c *Ctx) {
	cl, ok := c.cluster()
	if !ok {
		return
	}
	if err := cl.AddNode(string(c.Args[2]), string(c.Args[3])); err != nil {
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
	if err := cl.RemoveNode(string(c.Args[2])); err != nil {
		c.W.Error(clusterError(err))
		return
	}
	c.W.OK()
}

func cmdRaftTransfer(c *Ctx) {
	if len(c.Args) > 2 {
		c.W.Error(errSyntax.Error())
		return
	}
	cl, ok := c.cluster()
	if !ok {
		return
	}
	id := ""
	if len(c.Args) == 2 {
		id = string(c.Args[1])
	}
	if err := cl.TransferLeader(id); err != nil {
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
