package commands

import (
	"strings"
	"time"

	"github.com/loomcache/loomcache/keyspace"
)

func registerServer(t *Table) {
	t.add(
		&Command{Name: "dbsize", Arity: 1, Flags: FlagReadonly | FlagFast, Categories: CatKeyspace,
			Tips:  []string{"request_policy:all_shards", "response_policy:agg_sum"},
			Group: "server", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Return the number of keys in the selected database", Handler: cmdDBSize},
		&Command{Name: "info", Arity: -1, Flags: FlagLoading | FlagStale, Categories: CatDangerous,
			Tips:  []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
			Group: "server", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Get information and statistics about the server",
			History: [][2]string{{"7.0.0", "Added support for taking multiple section arguments."}},
			Handler: cmdInfo,
			Args:    []Arg{argString("section").optional().multiple()}},
		&Command{Name: "time", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast,
			Tips:  []string{"nondeterministic_output"},
			Group: "server", Since: "2.6.0", Complexity: "O(1)",
			Summary: "Return the current server time", Handler: cmdTime},
		&Command{Name: "lastsave", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Categories: CatAdmin | CatDangerous,
			Tips:  []string{"nondeterministic_output"},
			Group: "server", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Get the UNIX time stamp of the last successful save to disk", Handler: cmdLastSave},
	)
	registerConfig(t)
	registerMonitor(t)
	registerLatency(t)
	registerSlowlog(t)
	registerIntrospect(t)
	registerMemory(t)
}

func cmdDBSize(c *Ctx) {
	var n int
	if c.read(func(db *keyspace.DB) { n = db.Len() }) {
		c.W.Int(int64(n))
	}
}

func cmdInfo(c *Ctx) {
	sections := make([]string, 0, len(c.Args)-1)
	for _, a := range c.Args[1:] {
		sections = append(sections, strings.ToLower(string(a)))
	}
	c.W.Verbatim("txt", c.Server.Info(nil, sections, c.S))
}

func cmdTime(c *Ctx) {
	now := time.Now()
	c.W.Array(2)
	c.W.BulkInt(now.Unix())
	c.W.BulkInt(int64(now.Nanosecond() / 1000))
}

func cmdLastSave(c *Ctx) { c.W.Int(c.Server.LastSave()) }

func registerConfig(t *Table) {
	admin := FlagAdmin | FlagNoScript | FlagLoading | FlagStale
	perParam := "O(N) when N is the number of configuration parameters provided"
	t.add(&Command{Name: "config", Arity: -2, Group: "server", Since: "2.0.0",
		Complexity: "Depends on subcommand.", Summary: "A container for server configuration commands",
		Subs: []*Command{
			{Name: "config|get", Arity: -3, Flags: admin, Group: "server", Since: "2.0.0", Complexity: perParam,
				Summary: "Get the values of configuration parameters",
				History: [][2]string{{"7.0.0", "Added the ability to pass multiple pattern parameters in one call"}},
				Handler: cmdConfigGet,
				Args:    []Arg{argBlock("parameter", argString("parameter")).multiple()}},
			{Name: "config|set", Arity: -4, Flags: admin, Group: "server", Since: "2.0.0", Complexity: perParam,
				Tips:    []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
				Summary: "Set configuration parameters to the given values",
				History: [][2]string{{"7.0.0", "Added the ability to set multiple parameters in one call."}},
				Handler: cmdConfigSet,
				Args: []Arg{
					argBlock("parameter_value", argString("parameter"), argString("value")).multiple(),
				}},
			{Name: "config|resetstat", Arity: 2, Flags: admin, Group: "server", Since: "2.0.0", Complexity: "O(1)",
				Summary: "Reset the stats returned by INFO", Handler: cmdConfigResetStat},
			{Name: "config|rewrite", Arity: 2, Flags: admin, Group: "server", Since: "2.8.0", Complexity: "O(1)",
				Summary: "Rewrite the configuration file with the in memory configuration", Handler: cmdConfigRewrite},
			{Name: "config|help", Arity: 2, Flags: FlagLoading | FlagStale, Group: "server", Since: "5.0.0",
				Complexity: "O(1)", Summary: "Show helpful text about the different subcommands", Handler: cmdConfigHelp},
		}})
}

// cmdConfigGet replies with every setting any pattern matches, each once
// (names compare case-insensitively, as in Redis's dictionary).
func cmdConfigGet(c *Ctx) {
	seen := make(map[string]bool)
	var pairs [][2]string
	for _, p := range c.Args[2:] {
		for _, kv := range c.Server.ConfigGet(string(p)) {
			k := strings.ToLower(kv[0])
			if !seen[k] {
				seen[k] = true
				pairs = append(pairs, kv)
			}
		}
	}
	c.W.Map(len(pairs))
	for _, kv := range pairs {
		c.W.BulkString(kv[0])
		c.W.BulkString(kv[1])
	}
}

func cmdConfigSet(c *Ctx) {
	if len(c.Args)%2 != 0 {
		c.W.Error(errSyntax.Error())
		return
	}
	pairs := make([][2]string, 0, (len(c.Args)-2)/2)
	for i := 2; i < len(c.Args); i += 2 {
		pairs = append(pairs, [2]string{string(c.Args[i]), string(c.Args[i+1])})
	}
	if err := c.Server.ConfigSet(pairs); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.OK()
}

func cmdConfigRewrite(c *Ctx) {
	if err := c.Server.ConfigRewrite(); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.OK()
}

func cmdConfigResetStat(c *Ctx) {
	c.Server.ResetStats()
	c.W.OK()
}

var configHelp = []string{
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
}

func cmdConfigHelp(c *Ctx) { writeHelp(c, "CONFIG", configHelp) }
