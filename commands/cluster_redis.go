package commands

// Redis's CLUSTER command and ASKING, as a standalone Redis 7.0 (cluster
// support disabled) has them: listed in COMMAND with their full docs, and
// answering every call with Redis's "cluster support disabled" error.
// LoomCache's own clustering is Raft's and is driven by the RAFT.*
// commands (cluster.go); it has no hash slots for CLUSTER to describe.
// READONLY and READWRITE keep their LoomCache meaning (follower reads).

// errClusterDisabled is what Redis answers every CLUSTER subcommand with
// when cluster-enabled is no.
const errClusterDisabled = "ERR This instance has cluster support disabled"

func cmdClusterDisabled(c *Ctx) { c.W.Error(errClusterDisabled) }

// registerRedisCluster adds CLUSTER and ASKING; the entries follow Redis
// 7.0's src/commands/cluster-*.json and asking.json.
func registerRedisCluster(t *Table) {
	sub := func(c *Command) *Command {
		c.Group = "cluster"
		c.Handler = cmdClusterDisabled
		return c
	}
	subs := []*Command{
		sub(&Command{Name: "cluster|addslots", Arity: -3, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(N) where N is the total number of hash slot arguments",
			Summary: "Assign new hash slots to receiving node",
			Args:    []Arg{argInt("slot").multiple()}}),
		sub(&Command{Name: "cluster|addslotsrange", Arity: -4, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "7.0.0", Complexity: "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
			Summary: "Assign new hash slots to receiving node",
			Args:    []Arg{argBlock("start-slot_end-slot", argInt("start-slot"), argInt("end-slot")).multiple()}}),
		sub(&Command{Name: "cluster|bumpepoch", Arity: 2, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading, Tips: []string{"nondeterministic_output"},
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Advance the cluster config epoch"}),
		sub(&Command{Name: "cluster|count-failure-reports", Arity: 3, Flags: FlagAdmin | FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "3.0.0", Complexity: "O(N) where N is the number of failure reports",
			Summary: "Return the number of failure reports active for a given node",
			Args:    []Arg{argString("node-id")}}),
		sub(&Command{Name: "cluster|countkeysinslot", Arity: 3, Flags: FlagStale,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Return the number of local keys in the specified hash slot",
			Args:    []Arg{argInt("slot")}}),
		sub(&Command{Name: "cluster|delslots", Arity: -3, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(N) where N is the total number of hash slot arguments",
			Summary: "Set hash slots as unbound in receiving node",
			Args:    []Arg{argInt("slot").multiple()}}),
		sub(&Command{Name: "cluster|delslotsrange", Arity: -4, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "7.0.0", Complexity: "O(N) where N is the total number of the slots between the start slot and end slot arguments.",
			Summary: "Set hash slots as unbound in receiving node",
			Args:    []Arg{argBlock("start-slot_end-slot", argInt("start-slot"), argInt("end-slot")).multiple()}}),
		sub(&Command{Name: "cluster|failover", Arity: -2, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Forces a replica to perform a manual failover of its master.",
			Args:    []Arg{argOneof("options", argToken("force", "FORCE"), argToken("takeover", "TAKEOVER")).optional()}}),
		sub(&Command{Name: "cluster|flushslots", Arity: 2, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Delete a node's own slots information"}),
		sub(&Command{Name: "cluster|forget", Arity: 3, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Remove a node from the nodes table",
			Args:    []Arg{argString("node-id")}}),
		sub(&Command{Name: "cluster|getkeysinslot", Arity: 4, Flags: FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "3.0.0", Complexity: "O(log(N)) where N is the number of requested keys",
			Summary: "Return local key names in the specified hash slot",
			Args:    []Arg{argInt("slot"), argInt("count")}}),
		sub(&Command{Name: "cluster|help", Arity: 2, Flags: FlagLoading | FlagStale,
			Since: "5.0.0", Complexity: "O(1)",
			Summary: "Show helpful text about the different subcommands"}),
		sub(&Command{Name: "cluster|info", Arity: 2, Flags: FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Provides info about Redis Cluster node state"}),
		sub(&Command{Name: "cluster|keyslot", Arity: 3, Flags: FlagStale,
			Since: "3.0.0", Complexity: "O(N) where N is the number of bytes in the key",
			Summary: "Returns the hash slot of the specified key",
			Args:    []Arg{argString("key")}}),
		sub(&Command{Name: "cluster|links", Arity: 2, Flags: FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "7.0.0", Complexity: "O(N) where N is the total number of Cluster nodes",
			Summary: "Returns a list of all TCP links to and from peer nodes in cluster"}),
		sub(&Command{Name: "cluster|meet", Arity: -4, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Force a node cluster to handshake with another node",
			History: [][2]string{{"4.0.0", "Added the optional `cluster_bus_port` argument."}},
			Args:    []Arg{argString("ip"), argInt("port"), argInt("cluster_bus_port").since("4.0.0").optional()}}),
		sub(&Command{Name: "cluster|myid", Arity: 2, Flags: FlagStale,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Return the node id"}),
		sub(&Command{Name: "cluster|nodes", Arity: 2, Flags: FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "3.0.0", Complexity: "O(N) where N is the total number of Cluster nodes",
			Summary: "Get Cluster config for the node"}),
		sub(&Command{Name: "cluster|replicas", Arity: 3, Flags: FlagAdmin | FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "5.0.0", Complexity: "O(1)",
			Summary: "List replica nodes of the specified master node",
			Args:    []Arg{argString("node-id")}}),
		sub(&Command{Name: "cluster|replicate", Arity: 3, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Reconfigure a node as a replica of the specified master node",
			Args:    []Arg{argString("node-id")}}),
		sub(&Command{Name: "cluster|reset", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagStale,
			Since: "3.0.0", Complexity: "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.",
			Summary: "Reset a Redis Cluster node",
			Args:    []Arg{argOneof("hard_soft", argToken("hard", "HARD"), argToken("soft", "SOFT")).optional()}}),
		sub(&Command{Name: "cluster|saveconfig", Arity: 2, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Forces the node to save cluster state on disk"}),
		sub(&Command{Name: "cluster|set-config-epoch", Arity: 3, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Set the configuration epoch in a new node",
			Args:    []Arg{argInt("config-epoch")}}),
		sub(&Command{Name: "cluster|setslot", Arity: -4, Flags: FlagAdmin | FlagStale | FlagNoAsyncLoading,
			Since: "3.0.0", Complexity: "O(1)",
			Summary: "Bind a hash slot to a specific node",
			Args:    []Arg{argInt("slot"), argOneof("subcommand", argString("node-id").token("IMPORTING"), argString("node-id").token("MIGRATING"), argString("node-id").token("NODE"), argToken("stable", "STABLE"))}}),
		sub(&Command{Name: "cluster|shards", Arity: 2, Flags: FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "7.0.0", Complexity: "O(N) where N is the total number of cluster nodes",
			Summary: "Get array of cluster slots to node mappings"}),
		sub(&Command{Name: "cluster|slaves", Arity: 3, Flags: FlagAdmin | FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "3.0.0", Complexity: "O(1)",
			Summary:  "List replica nodes of the specified master node",
			DocFlags: []string{"deprecated"}, DeprecatedSince: "5.0.0", ReplacedBy: "`CLUSTER REPLICAS`",
			Args: []Arg{argString("node-id")}}),
		sub(&Command{Name: "cluster|slots", Arity: 2, Flags: FlagStale, Tips: []string{"nondeterministic_output"},
			Since: "3.0.0", Complexity: "O(N) where N is the total number of Cluster nodes",
			Summary:  "Get array of Cluster slot to node mappings",
			History:  [][2]string{{"4.0.0", "Added node IDs."}, {"7.0.0", "Added additional networking metadata field."}},
			DocFlags: []string{"deprecated"}, DeprecatedSince: "7.0.0", ReplacedBy: "`CLUSTER SHARDS`"}),
	}
	t.add(
		&Command{Name: "cluster", Arity: -2, Group: "cluster", Since: "3.0.0",
			Complexity: "Depends on subcommand.", Summary: "A container for cluster commands", Subs: subs},
		&Command{Name: "asking", Arity: 1, Flags: FlagFast, Categories: CatConnection, Group: "cluster",
			Since: "3.0.0", Complexity: "O(1)", Summary: "Sent by cluster clients after an -ASK redirect",
			Handler: cmdClusterDisabled},
	)
}
