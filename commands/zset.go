package commands

// The sorted sets family: ZADD ZINCRBY ZREM ZCARD ZCOUNT ZSCORE ZMSCORE
// ZRANK ZREVRANK ZRANGE ZRANGESTORE ZREVRANGE Z[REV]RANGEBYSCORE
// Z[REV]RANGEBYLEX ZLEXCOUNT ZREMRANGEBY{RANK,SCORE,LEX} ZPOPMIN ZPOPMAX
// ZMPOP ZRANDMEMBER ZUNION[STORE] ZINTER[STORE] ZINTERCARD ZDIFF[STORE]
// ZSCAN. Reads go through c.read (zset_read.go); every write is one op
// (op codes 210-239) whose applier is in zset_apply.go.

import (
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func registerZSets(t *Table) {
	t.add(
		&Command{Name: "zadd", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.2.0",
			Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
			Summary:    "Add one or more members to a sorted set, or update its score if it already exists", Handler: cmdZAdd,
			History: [][2]string{{"2.4.0", "Accepts multiple elements."}, {"3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."}, {"6.2.0", "Added the `GT` and `LT` options."}},
			Args:    []Arg{argKey("key", 0), argOneof("condition", argToken("nx", "NX"), argToken("xx", "XX")).since("3.0.2").optional(), argOneof("comparison", argToken("gt", "GT"), argToken("lt", "LT")).since("6.2.0").optional(), argToken("change", "CH").since("3.0.2").optional(), argToken("increment", "INCR").since("3.0.2").optional(), argBlock("score_member", argDouble("score"), argString("member")).multiple()}},
		&Command{Name: "zincrby", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyAccess | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.2.0",
			Complexity: "O(log(N)) where N is the number of elements in the sorted set.",
			Summary:    "Increment the score of a member in a sorted set", Handler: cmdZIncrBy,
			Args: []Arg{argKey("key", 0), argInt("increment"), argString("member")}},
		&Command{Name: "zrem", Arity: -3, Flags: FlagWrite | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.2.0",
			Complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
			Summary:    "Remove one or more members from a sorted set", Handler: cmdZRem,
			History: [][2]string{{"2.4.0", "Accepts multiple elements."}},
			Args:    []Arg{argKey("key", 0), argString("member").multiple()}},
		&Command{Name: "zcard", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.2.0",
			Complexity: "O(1)",
			Summary:    "Get the number of members in a sorted set", Handler: cmdZCard,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "zcount", Arity: 4, Flags: FlagReadonly | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.0.0",
			Complexity: "O(log(N)) with N being the number of elements in the sorted set.",
			Summary:    "Count the members in a sorted set with scores within the given values", Handler: cmdZCount,
			Args: []Arg{argKey("key", 0), argDouble("min"), argDouble("max")}},
		&Command{Name: "zscore", Arity: 3, Flags: FlagReadonly | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.2.0",
			Complexity: "O(1)",
			Summary:    "Get the score associated with the given member in a sorted set", Handler: cmdZScore,
			Args: []Arg{argKey("key", 0), argString("member")}},
		&Command{Name: "zmscore", Arity: -3, Flags: FlagReadonly | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "6.2.0",
			Complexity: "O(N) where N is the number of members being requested.",
			Summary:    "Get the score associated with the given members in a sorted set", Handler: cmdZMScore,
			Args: []Arg{argKey("key", 0), argString("member").multiple()}},
		&Command{Name: "zrank", Arity: 3, Flags: FlagReadonly | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.0.0",
			Complexity: "O(log(N))",
			Summary:    "Determine the index of a member in a sorted set", Handler: cmdZRank,
			Args: []Arg{argKey("key", 0), argString("member")}},
		&Command{Name: "zrevrank", Arity: 3, Flags: FlagReadonly | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.0.0",
			Complexity: "O(log(N))",
			Summary:    "Determine the index of a member in a sorted set, with scores ordered from high to low", Handler: cmdZRank,
			Args: []Arg{argKey("key", 0), argString("member")}},
		&Command{Name: "zrange", Arity: -4, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.2.0",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
			Summary:    "Return a range of members in a sorted set", Handler: cmdZRange,
			History: [][2]string{{"6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options."}},
			Args:    []Arg{argKey("key", 0), argString("start"), argString("stop"), argOneof("sortby", argToken("byscore", "BYSCORE"), argToken("bylex", "BYLEX")).since("6.2.0").optional(), argToken("rev", "REV").since("6.2.0").optional(), argBlock("offset_count", argInt("offset"), argInt("count")).token("LIMIT").since("6.2.0").optional(), argToken("withscores", "WITHSCORES").optional()}},
		&Command{Name: "zrangestore", Arity: -5, Flags: FlagWrite | FlagDenyOOM, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyOW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}, {Flags: KeyRO | KeyAccess, Index: 2, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "6.2.0",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
			Summary:    "Store a range of members from sorted set into another key", Handler: cmdZRangeStore,
			Args: []Arg{argKey("dst", 0), argKey("src", 1), argString("min"), argString("max"), argOneof("sortby", argToken("byscore", "BYSCORE"), argToken("bylex", "BYLEX")).optional(), argToken("rev", "REV").optional(), argBlock("offset_count", argInt("offset"), argInt("count")).token("LIMIT").optional()}},
		&Command{Name: "zrevrange", Arity: -4, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.2.0",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.",
			Summary:    "Return a range of members in a sorted set, by index, with scores ordered from high to low", Handler: cmdZRange,
			DocFlags:        []string{"deprecated"},
			DeprecatedSince: "6.2.0",
			ReplacedBy:      "`ZRANGE` with the `REV` argument",
			Args:            []Arg{argKey("key", 0), argInt("start"), argInt("stop"), argToken("withscores", "WITHSCORES").optional()}},
		&Command{Name: "zrangebyscore", Arity: -4, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.0.5",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
			Summary:    "Return a range of members in a sorted set, by score", Handler: cmdZRange,
			History:         [][2]string{{"2.0.0", "Added the `WITHSCORES` modifier."}},
			DocFlags:        []string{"deprecated"},
			DeprecatedSince: "6.2.0",
			ReplacedBy:      "`ZRANGE` with the `BYSCORE` argument",
			Args:            []Arg{argKey("key", 0), argDouble("min"), argDouble("max"), argToken("withscores", "WITHSCORES").since("2.0.0").optional(), argBlock("offset_count", argInt("offset"), argInt("count")).token("LIMIT").optional()}},
		&Command{Name: "zrevrangebyscore", Arity: -4, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.2.0",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
			Summary:    "Return a range of members in a sorted set, by score, with scores ordered from high to low", Handler: cmdZRange,
			History:         [][2]string{{"2.1.6", "`min` and `max` can be exclusive."}},
			DocFlags:        []string{"deprecated"},
			DeprecatedSince: "6.2.0",
			ReplacedBy:      "`ZRANGE` with the `REV` and `BYSCORE` arguments",
			Args:            []Arg{argKey("key", 0), argDouble("max"), argDouble("min"), argToken("withscores", "WITHSCORES").optional(), argBlock("offset_count", argInt("offset"), argInt("count")).token("LIMIT").optional()}},
		&Command{Name: "zrangebylex", Arity: -4, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.8.9",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
			Summary:    "Return a range of members in a sorted set, by lexicographical range", Handler: cmdZRange,
			DocFlags:        []string{"deprecated"},
			DeprecatedSince: "6.2.0",
			ReplacedBy:      "`ZRANGE` with the `BYLEX` argument",
			Args:            []Arg{argKey("key", 0), argString("min"), argString("max"), argBlock("offset_count", argInt("offset"), argInt("count")).token("LIMIT").optional()}},
		&Command{Name: "zrevrangebylex", Arity: -4, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.8.9",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).",
			Summary:    "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.", Handler: cmdZRange,
			DocFlags:        []string{"deprecated"},
			DeprecatedSince: "6.2.0",
			ReplacedBy:      "`ZRANGE` with the `REV` and `BYLEX` arguments",
			Args:            []Arg{argKey("key", 0), argString("max"), argString("min"), argBlock("offset_count", argInt("offset"), argInt("count")).token("LIMIT").optional()}},
		&Command{Name: "zlexcount", Arity: 4, Flags: FlagReadonly | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.8.9",
			Complexity: "O(log(N)) with N being the number of elements in the sorted set.",
			Summary:    "Count the number of members in a sorted set between a given lexicographical range", Handler: cmdZCount,
			Args: []Arg{argKey("key", 0), argString("min"), argString("max")}},
		&Command{Name: "zremrangebyrank", Arity: 4, Flags: FlagWrite, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.0.0",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
			Summary:    "Remove all members in a sorted set within the given indexes", Handler: cmdZRemRange,
			Args: []Arg{argKey("key", 0), argInt("start"), argInt("stop")}},
		&Command{Name: "zremrangebyscore", Arity: 4, Flags: FlagWrite, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "1.2.0",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
			Summary:    "Remove all members in a sorted set within the given scores", Handler: cmdZRemRange,
			Args: []Arg{argKey("key", 0), argDouble("min"), argDouble("max")}},
		&Command{Name: "zremrangebylex", Arity: 4, Flags: FlagWrite, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "2.8.9",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
			Summary:    "Remove all members in a sorted set between the given lexicographical range", Handler: cmdZRemRange,
			Args: []Arg{argKey("key", 0), argString("min"), argString("max")}},
		&Command{Name: "zpopmin", Arity: -2, Flags: FlagWrite | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "5.0.0",
			Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
			Summary:    "Remove and return members with the lowest scores in a sorted set", Handler: cmdZPopMinMax,
			Args: []Arg{argKey("key", 0), argInt("count").optional()}},
		&Command{Name: "zpopmax", Arity: -2, Flags: FlagWrite | FlagFast, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Group: "sorted-set", Since: "5.0.0",
			Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
			Summary:    "Remove and return members with the highest scores in a sorted set", Handler: cmdZPopMinMax,
			Args: []Arg{argKey("key", 0), argInt("count").optional()}},
		&Command{Name: "zmpop", Arity: -4, Flags: FlagWrite, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "sorted-set", Since: "7.0.0",
			Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
			Summary:    "Remove and return members with scores in a sorted set", Handler: cmdZMPop,
			Args: []Arg{argInt("numkeys"), argKey("key", 0).multiple(), argOneof("where", argToken("min", "MIN"), argToken("max", "MAX")), argInt("count").token("COUNT").optional()}},
		&Command{Name: "zrandmember", Arity: -2, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Tips:  []string{"nondeterministic_output"},
			Group: "sorted-set", Since: "6.2.0",
			Complexity: "O(N) where N is the number of elements returned",
			Summary:    "Get one or multiple random elements from a sorted set", Handler: cmdZRandMember,
			Args: []Arg{argKey("key", 0), argBlock("options", argInt("count"), argToken("withscores", "WITHSCORES").optional()).optional()}},
		&Command{Name: "zunion", Arity: -3, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "sorted-set", Since: "6.2.0",
			Complexity: "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
			Summary:    "Add multiple sorted sets", Handler: cmdZSetAlgebra,
			Args: []Arg{argInt("numkeys"), argKey("key", 0).multiple(), argInt("weight").token("WEIGHTS").optional().multiple(), argOneof("aggregate", argToken("sum", "SUM"), argToken("min", "MIN"), argToken("max", "MAX")).token("AGGREGATE").optional(), argToken("withscores", "WITHSCORES").optional()}},
		&Command{Name: "zunionstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyOW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}, {Flags: KeyRO | KeyAccess, Index: 2, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "sorted-set", Since: "2.0.0",
			Complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
			Summary:    "Add multiple sorted sets and store the resulting sorted set in a new key", Handler: cmdZSetStore,
			Args: []Arg{argKey("destination", 0), argInt("numkeys"), argKey("key", 1).multiple(), argInt("weight").token("WEIGHTS").optional().multiple(), argOneof("aggregate", argToken("sum", "SUM"), argToken("min", "MIN"), argToken("max", "MAX")).token("AGGREGATE").optional()}},
		&Command{Name: "zinter", Arity: -3, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "sorted-set", Since: "6.2.0",
			Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
			Summary:    "Intersect multiple sorted sets", Handler: cmdZSetAlgebra,
			Args: []Arg{argInt("numkeys"), argKey("key", 0).multiple(), argInt("weight").token("WEIGHTS").optional().multiple(), argOneof("aggregate", argToken("sum", "SUM"), argToken("min", "MIN"), argToken("max", "MAX")).token("AGGREGATE").optional(), argToken("withscores", "WITHSCORES").optional()}},
		&Command{Name: "zinterstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyOW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}, {Flags: KeyRO | KeyAccess, Index: 2, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "sorted-set", Since: "2.0.0",
			Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
			Summary:    "Intersect multiple sorted sets and store the resulting sorted set in a new key", Handler: cmdZSetStore,
			Args: []Arg{argKey("destination", 0), argInt("numkeys"), argKey("key", 1).multiple(), argInt("weight").token("WEIGHTS").optional().multiple(), argOneof("aggregate", argToken("sum", "SUM"), argToken("min", "MIN"), argToken("max", "MAX")).token("AGGREGATE").optional()}},
		&Command{Name: "zintercard", Arity: -3, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "sorted-set", Since: "7.0.0",
			Complexity: "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.",
			Summary:    "Intersect multiple sorted sets and return the cardinality of the result", Handler: cmdZSetAlgebra,
			Args: []Arg{argInt("numkeys"), argKey("key", 0).multiple(), argInt("limit").token("LIMIT").optional()}},
		&Command{Name: "zdiff", Arity: -3, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "sorted-set", Since: "6.2.0",
			Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
			Summary:    "Subtract multiple sorted sets", Handler: cmdZSetAlgebra,
			Args: []Arg{argInt("numkeys"), argKey("key", 0).multiple(), argToken("withscores", "WITHSCORES").optional()}},
		&Command{Name: "zdiffstore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyOW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}, {Flags: KeyRO | KeyAccess, Index: 2, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "sorted-set", Since: "6.2.0",
			Complexity: "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.",
			Summary:    "Subtract multiple sorted sets and store the resulting sorted set in a new key", Handler: cmdZSetStore,
			Args: []Arg{argKey("destination", 0), argInt("numkeys"), argKey("key", 1).multiple()}},
		&Command{Name: "zscan", Arity: -3, Flags: FlagReadonly, Categories: CatSortedSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1, Limit: 0}},
			Tips:  []string{"nondeterministic_output"},
			Group: "sorted-set", Since: "2.8.0",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
			Summary:    "Incrementally iterate sorted sets elements and associated scores", Handler: cmdZScan,
			Args: []Arg{argKey("key", 0), argInt("cursor"), argPattern("pattern").token("MATCH").optional(), argInt("count").token("COUNT").optional()}},
	)
	t.applier(op.ZAdd, applyZAdd)
	t.applier(op.ZRem, applyZRem)
	t.applier(op.ZRemRange, applyZRemRange)
	t.applier(op.ZPop, applyZPop)
	t.applier(op.ZRangeStore, applyZRangeStore)
	t.applier(op.ZStore, applyZStore)
}

// lookupZSet returns key's sorted set, nil if it is absent, or WRONGTYPE;
// one found counts as accessed, as Redis's lookupKeyRead does.
func lookupZSet(c *Ctx, db *keyspace.DB, key []byte) (*keyspace.ZSet, error) {
	e, err := db.Lookup(key, c.Now(), keyspace.KindZSet)
	if e == nil || err != nil {
		return nil, err
	}
	db.Touch(e, c.Now())
	return e.Object().(*keyspace.ZSet), nil
}

// readZSet runs fn with key's sorted set (nil if absent), or replies
// WRONGTYPE.
func (c *Ctx) readZSet(key []byte, fn func(z *keyspace.ZSet)) {
	c.read(func(db *keyspace.DB) {
		z, err := lookupZSet(c, db, key)
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		fn(z)
	})
}

// existingZSet returns key's sorted set for an applier (nil if absent),
// or WRONGTYPE, so an applier can leave a key it would not change alone.
func existingZSet(db *keyspace.DB, key []byte, now int64) (*keyspace.ZSet, error) {
	e := db.GetForWrite(key, now)
	switch {
	case e == nil:
		return nil, nil
	case e.Kind() != keyspace.KindZSet:
		return nil, errWrongType
	}
	return e.Object().(*keyspace.ZSet), nil
}
