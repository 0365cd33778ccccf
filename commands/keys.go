package commands

import (
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func registerKeys(t *Table) {
	t.add(
		&Command{Name: "del", Arity: -2, Flags: FlagWrite, Categories: CatKeyspace,
			Keys:  []KeySpec{{Flags: KeyRM | KeyDelete, Index: 1, LastKey: -1, KeyStep: 1}},
			Tips:  []string{"request_policy:multi_shard", "response_policy:agg_sum"},
			Group: "generic", Since: "1.0.0", Complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
			Summary: "Deletes one or more keys.", Handler: cmdDel},
	)
	t.applier(op.Del, applyDel)
	t.applier(op.ExpireKeys, applyExpireKeys)
}

func cmdDel(c *Ctx) {
	c.propose(&op.Op{Type: op.Del, DB: c.S.DB, Args: c.Args[1:]})
}

func applyDel(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	var n int64
	for _, k := range o.Args {
		if db.Delete(k, o.Now) {
			n++
		}
	}
	return n
}

// applyExpireKeys deletes the keys that are expired at the op's time; a
// key given a new deadline since the leader sampled it survives.
func applyExpireKeys(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	var n int64
	for _, k := range o.Args {
		if d := db.Deadline(k); d != 0 && d <= o.Now {
			db.Delete(k, o.Now)
			n++
		}
	}
	return n
}
