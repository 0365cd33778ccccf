package commands

import "github.com/loomcache/loomcache/pubsub"

func registerPubSubIntrospection(t *Table) {
	f := FlagPubsub | FlagLoading | FlagStale
	t.add(&Command{Name: "pubsub", Arity: -2, Group: "pubsub", Since: "2.8.0",
		Complexity: "Depends on subcommand.", Summary: "A container for Pub/Sub commands",
		Subs: []*Command{
			{Name: "pubsub|channels", Arity: -2, Flags: f, Group: "pubsub", Since: "2.8.0",
				Complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
				Summary:    "List active channels", Handler: cmdPubSubChannels,
				Args: []Arg{argPattern("pattern").optional()}},
			{Name: "pubsub|numsub", Arity: -2, Flags: f, Group: "pubsub", Since: "2.8.0",
				Complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
				Summary:    "Get the count of subscribers for channels", Handler: cmdPubSubNumSub,
				Args: []Arg{argString("channel").optional().multiple()}},
			{Name: "pubsub|numpat", Arity: 2, Flags: f, Group: "pubsub", Since: "2.8.0", Complexity: "O(1)",
				Summary: "Get the count of unique patterns pattern subscriptions", Handler: cmdPubSubNumPat},
			{Name: "pubsub|shardchannels", Arity: -2, Flags: f, Group: "pubsub", Since: "7.0.0",
				Complexity: "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).",
				Summary:    "List active shard channels", Handler: cmdPubSubShardChannels,
				Args: []Arg{argPattern("pattern").optional()}},
			{Name: "pubsub|shardnumsub", Arity: -2, Flags: f, Group: "pubsub", Since: "7.0.0",
				Complexity: "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels",
				Summary:    "Get the count of subscribers for shard channels", Handler: cmdPubSubShardNumSub,
				Args: []Arg{argString("shardchannel").optional().multiple()}},
			{Name: "pubsub|help", Arity: 2, Flags: FlagLoading | FlagStale, Group: "pubsub", Since: "6.2.0",
				Complexity: "O(1)", Summary: "Show helpful text about the different subcommands", Handler: cmdPubSubHelp},
		}})
}

// The PUBSUB subcommands answer for this node's subscribers, as a Redis
// Cluster node answers for its own.

func cmdPubSubChannels(c *Ctx)      { pubsubChannels(c, pubsub.Channel) }
func cmdPubSubShardChannels(c *Ctx) { pubsubChannels(c, pubsub.Shard) }
func cmdPubSubNumSub(c *Ctx)        { pubsubNumSub(c, pubsub.Channel) }
func cmdPubSubShardNumSub(c *Ctx)   { pubsubNumSub(c, pubsub.Shard) }

func pubsubChannels(c *Ctx, kind pubsub.Kind) {
	if len(c.Args) > 3 {
		subcommandSyntax(c)
		return
	}
	var pat []byte
	if len(c.Args) == 3 {
		pat = c.Args[2]
	}
	names := c.Table.hub.Names(kind, pat)
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func pubsubNumSub(c *Ctx, kind pubsub.Kind) {
	c.W.Array(2 * (len(c.Args) - 2))
	for _, ch := range c.Args[2:] {
		c.W.Bulk(ch)
		c.W.Int(int64(c.Table.hub.Count(kind, ch)))
	}
}

func cmdPubSubNumPat(c *Ctx) { c.W.Int(int64(c.Table.hub.NumPatterns())) }

var pubsubHelp = []string{
	"CHANNELS [<pattern>]",
	"    Return the currently active channels matching a <pattern> (default: '*').",
	"NUMPAT",
	"    Return number of subscriptions to patterns.",
	"NUMSUB [<channel> ...]",
	"    Return the number of subscribers for the specified channels, excluding",
	"    pattern subscriptions(default: no channels).",
	"SHARDCHANNELS [<pattern>]",
	"    Return the currently active shard level channels matching a <pattern> (default: '*').",
	"SHARDNUMSUB [<shardchannel> ...]",
	"    Return the number of subscribers for the specified shard level channel(s)",
}

func cmdPubSubHelp(c *Ctx) { writeHelp(c, "PUBSUB", pubsubHelp) }
