package commands

import "github.com/loomcache/loomcache/keyspace"

func registerServer(t *Table) {
	t.add(
		&Command{Name: "dbsize", Arity: 1, Flags: FlagReadonly | FlagFast, Categories: CatKeyspace,
			Tips:  []string{"request_policy:all_shards", "response_policy:agg_sum"},
			Group: "server", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Returns the number of keys in the database.", Handler: cmdDBSize},
	)
}

func cmdDBSize(c *Ctx) {
	var n int
	if c.read(func(db *keyspace.DB) { n = db.Len() }) {
		c.W.Int(int64(n))
	}
}
