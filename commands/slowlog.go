package commands

// SLOWLOG reads this node's slow log (latency.go says what is timed).

func registerSlowlog(t *Table) {
	admin := FlagAdmin | FlagLoading | FlagStale
	t.add(&Command{Name: "slowlog", Arity: -2, Group: "server", Since: "2.2.12",
		Complexity: "Depends on subcommand.", Summary: "A container for slow log commands",
		Subs: []*Command{
			{Name: "slowlog|help", Arity: 2, Flags: FlagLoading | FlagStale, Group: "server", Since: "6.2.0",
				Complexity: "O(1)", Summary: "Show helpful text about the different subcommands", Handler: cmdSlowlogHelp},
			{Name: "slowlog|len", Arity: 2, Flags: admin,
				Tips:  []string{"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"},
				Group: "server", Since: "2.2.12", Complexity: "O(1)", Summary: "Get the slow log's length",
				Handler: func(c *Ctx) { c.W.Int(int64(c.Table.lat.slow.Len())) }},
			{Name: "slowlog|reset", Arity: 2, Flags: admin,
				Tips:  []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
				Group: "server", Since: "2.2.12", Complexity: "O(N) where N is the number of entries in the slowlog",
				Summary: "Clear all entries from the slow log",
				Handler: func(c *Ctx) { c.Table.lat.slow.Reset(); c.W.OK() }},
			{Name: "slowlog|get", Arity: -2, Flags: admin,
				Tips:  []string{"request_policy:all_nodes", "nondeterministic_output"},
				Group: "server", Since: "2.2.12", Complexity: "O(N) where N is the number of entries returned",
				Summary: "Get the slow log's entries",
				History: [][2]string{{"4.0.0", "Added client IP address, port and name to the reply."}},
				Handler: cmdSlowlogGet, Args: []Arg{argInt("count").optional()}},
		}})
}

var slowlogHelp = []string{
	"GET [<count>]",
	"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
	"    Entries are made of:",
	"    id, timestamp, time in microseconds, arguments array, client IP and port,",
	"    client name",
	"LEN",
	"    Return the length of the slowlog.",
	"RESET",
	"    Reset the slowlog.",
}

func cmdSlowlogHelp(c *Ctx) { writeHelp(c, "SLOWLOG", slowlogHelp) }

// cmdSlowlogGet is SLOWLOG GET [count]: the newest count entries (10 by
// default, -1 for all).
func cmdSlowlogGet(c *Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntax(c)
		return
	}
	count := int64(10)
	if len(c.Args) == 3 {
		// Redis's getRangeLongFromObjectOrReply gives its one message
		// for a number out of range and for no number at all.
		n, ok := parseInt(c.Args[2])
		if !ok || n < -1 {
			c.W.Error("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	}
	entries := c.Table.lat.slow.Get(count)
	c.W.Array(len(entries))
	for _, e := range entries {
		c.W.Array(6)
		c.W.Int(e.ID)
		c.W.Int(e.Time)
		c.W.Int(e.Usec)
		c.W.Array(len(e.Args))
		for _, a := range e.Args {
			c.W.BulkString(a)
		}
		c.W.BulkString(e.Peer)
		c.W.BulkString(e.Name)
	}
}
