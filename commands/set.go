package commands

// The sets family: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
// SRANDMEMBER SPOP SMOVE SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE
// SDIFF SDIFFSTORE SSCAN. Reads go through c.read; every write is one op
// (op codes 190-209) whose applier is in set_apply.go. SPOP's random
// choice is made here, on the node that received the command, and
// carried in the op as members.

import (
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func registerSets(t *Table) {
	one := func(flags KeyFlag) []KeySpec {
		return []KeySpec{{Flags: flags, Index: 1, LastKey: 0, KeyStep: 1}}
	}
	all := []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: -1, KeyStep: 1}}
	store := func(dst KeyFlag) []KeySpec {
		return []KeySpec{{Flags: dst, Index: 1, LastKey: 0, KeyStep: 1},
			{Flags: KeyRO | KeyAccess, Index: 2, LastKey: -1, KeyStep: 1}}
	}
	const (
		interComplexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets."
		totalComplexity = "O(N) where N is the total number of elements in all given sets."
	)
	members := []Arg{argKey("key", 0), argString("member").multiple()}
	multiHistory := [][2]string{{"2.4.0", "Accepts multiple `member` arguments."}}
	storeArgs := []Arg{argKey("destination", 0), argKey("key", 1).multiple()}
	t.add(
		&Command{Name: "sadd", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatSet,
			Keys: one(KeyRW | KeyInsert), Group: "set", Since: "1.0.0",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Summary:    "Add one or more members to a set", Handler: cmdSAdd, History: multiHistory, Args: members},
		&Command{Name: "srem", Arity: -3, Flags: FlagWrite | FlagFast, Categories: CatSet,
			Keys: one(KeyRW | KeyDelete), Group: "set", Since: "1.0.0",
			Complexity: "O(N) where N is the number of members to be removed.",
			Summary:    "Remove one or more members from a set", Handler: cmdSRem, History: multiHistory, Args: members},
		&Command{Name: "scard", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatSet,
			Keys: one(KeyRO), Group: "set", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Get the number of members in a set", Handler: cmdSCard,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "sismember", Arity: 3, Flags: FlagReadonly | FlagFast, Categories: CatSet,
			Keys: one(KeyRO), Group: "set", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Determine if a given value is a member of a set", Handler: cmdSIsMember,
			Args: []Arg{argKey("key", 0), argString("member")}},
		&Command{Name: "smismember", Arity: -3, Flags: FlagReadonly | FlagFast, Categories: CatSet,
			Keys: one(KeyRO | KeyAccess), Group: "set", Since: "6.2.0",
			Complexity: "O(N) where N is the number of elements being checked for membership",
			Summary:    "Returns the membership associated with the given elements for a set", Handler: cmdSMIsMember,
			Args: members},
		&Command{Name: "smembers", Arity: 2, Flags: FlagReadonly, Categories: CatSet,
			Keys: one(KeyRO | KeyAccess), Tips: []string{"nondeterministic_output_order"},
			Group: "set", Since: "1.0.0", Complexity: "O(N) where N is the set cardinality.",
			Summary: "Get all the members in a set", Handler: cmdSMembers,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "srandmember", Arity: -2, Flags: FlagReadonly, Categories: CatSet,
			Keys: one(KeyRO | KeyAccess), Tips: []string{"nondeterministic_output"},
			Group: "set", Since: "1.0.0",
			Complexity: "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
			Summary:    "Get one or multiple random members from a set", Handler: cmdSRandMember,
			History: [][2]string{{"2.6.0", "Added the optional `count` argument."}},
			Args:    []Arg{argKey("key", 0), argInt("count").since("2.6.0").optional()}},
		&Command{Name: "spop", Arity: -2, Flags: FlagWrite | FlagFast, Categories: CatSet,
			Keys: one(KeyRW | KeyAccess | KeyDelete), Tips: []string{"nondeterministic_output"},
			Group: "set", Since: "1.0.0",
			Complexity: "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
			Summary:    "Remove and return one or multiple random members from a set", Handler: cmdSPop,
			History: [][2]string{{"3.2.0", "Added the `count` argument."}},
			Args:    []Arg{argKey("key", 0), argInt("count").since("3.2.0").optional()}},
		&Command{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, Categories: CatSet,
			Keys: []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1},
				{Flags: KeyRW | KeyInsert, Index: 2, LastKey: 0, KeyStep: 1}},
			Group: "set", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Move a member from one set to another", Handler: cmdSMove,
			Args: []Arg{argKey("source", 0), argKey("destination", 1), argString("member")}},
		&Command{Name: "sinter", Arity: -2, Flags: FlagReadonly, Categories: CatSet,
			Keys: all, Tips: []string{"nondeterministic_output_order"},
			Group: "set", Since: "1.0.0", Complexity: interComplexity,
			Summary: "Intersect multiple sets", Handler: cmdSetRead,
			Args: []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "sintercard", Arity: -3, Flags: FlagReadonly, Categories: CatSet,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "set", Since: "7.0.0", Complexity: interComplexity,
			Summary: "Intersect multiple sets and return the cardinality of the result", Handler: cmdSInterCard,
			Args: []Arg{argInt("numkeys"), argKey("key", 0).multiple(), argInt("limit").token("LIMIT").optional()}},
		&Command{Name: "sinterstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, Categories: CatSet,
			Keys: store(KeyRW | KeyUpdate), Group: "set", Since: "1.0.0", Complexity: interComplexity,
			Summary: "Intersect multiple sets and store the resulting set in a key", Handler: cmdSetStore,
			Args: storeArgs},
		&Command{Name: "sunion", Arity: -2, Flags: FlagReadonly, Categories: CatSet,
			Keys: all, Tips: []string{"nondeterministic_output_order"},
			Group: "set", Since: "1.0.0", Complexity: totalComplexity,
			Summary: "Add multiple sets", Handler: cmdSetRead,
			Args: []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "sunionstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, Categories: CatSet,
			Keys: store(KeyOW | KeyUpdate), Group: "set", Since: "1.0.0", Complexity: totalComplexity,
			Summary: "Add multiple sets and store the resulting set in a key", Handler: cmdSetStore,
			Args: storeArgs},
		&Command{Name: "sdiff", Arity: -2, Flags: FlagReadonly, Categories: CatSet,
			Keys: all, Tips: []string{"nondeterministic_output_order"},
			Group: "set", Since: "1.0.0", Complexity: totalComplexity,
			Summary: "Subtract multiple sets", Handler: cmdSetRead,
			Args: []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "sdiffstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, Categories: CatSet,
			Keys: store(KeyOW | KeyUpdate), Group: "set", Since: "1.0.0", Complexity: totalComplexity,
			Summary: "Subtract multiple sets and store the resulting set in a key", Handler: cmdSetStore,
			Args: storeArgs},
		&Command{Name: "sscan", Arity: -3, Flags: FlagReadonly, Categories: CatSet,
			Keys: one(KeyRO | KeyAccess), Tips: []string{"nondeterministic_output"},
			Group: "set", Since: "2.8.0",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
			Summary:    "Incrementally iterate Set elements", Handler: cmdSScan,
			Args: []Arg{argKey("key", 0), argInt("cursor"), argPattern("pattern").token("MATCH").optional(),
				argInt("count").token("COUNT").optional()}},
	)
	t.applier(op.SAdd, applySAdd)
	t.applier(op.SRem, applySRem)
	t.applier(op.SPop, applySPop)
	t.applier(op.SMove, applySMove)
	t.applier(op.SStore, applySStore)
}

// lookupSet returns key's set, nil if it is absent, or WRONGTYPE; a set
// found counts as accessed, as Redis's lookupKeyRead does.
func lookupSet(c *Ctx, db *keyspace.DB, key []byte) (*keyspace.Set, error) {
	e, err := db.Lookup(key, c.Now(), keyspace.KindSet)
	if e == nil || err != nil {
		return nil, err
	}
	db.Touch(e, c.Now())
	return e.Object().(*keyspace.Set), nil
}

// readSet runs fn with key's set (nil if absent), or replies WRONGTYPE.
func (c *Ctx) readSet(key []byte, fn func(db *keyspace.DB, s *keyspace.Set)) {
	c.read(func(db *keyspace.DB) {
		s, err := lookupSet(c, db, key)
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		fn(db, s)
	})
}

func cmdSAdd(c *Ctx) { c.propose(&op.Op{Type: op.SAdd, DB: c.S.DB, Args: c.Args[1:]}) }
func cmdSRem(c *Ctx) { c.propose(&op.Op{Type: op.SRem, DB: c.S.DB, Args: c.Args[1:]}) }

func cmdSCard(c *Ctx) {
	c.readSet(c.Args[1], func(_ *keyspace.DB, s *keyspace.Set) {
		if s == nil {
			c.W.Int(0)
			return
		}
		c.W.Int(int64(s.Len()))
	})
}

func cmdSIsMember(c *Ctx) {
	c.readSet(c.Args[1], func(_ *keyspace.DB, s *keyspace.Set) {
		c.W.Int(boolInt(s != nil && s.Has(c.Args[2])))
	})
}

func cmdSMIsMember(c *Ctx) {
	c.readSet(c.Args[1], func(_ *keyspace.DB, s *keyspace.Set) {
		c.W.Array(len(c.Args) - 2)
		for _, m := range c.Args[2:] {
			c.W.Int(boolInt(s != nil && s.Has(m)))
		}
	})
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func cmdSMembers(c *Ctx) {
	c.readSet(c.Args[1], func(_ *keyspace.DB, s *keyspace.Set) {
		if s == nil {
			c.W.Set(0)
			return
		}
		c.W.Set(s.Len())
		s.Each(func(m []byte) bool { c.W.Bulk(m); return true })
	})
}

func cmdSMove(c *Ctx) {
	c.propose(&op.Op{Type: op.SMove, DB: c.S.DB, Args: c.Args[1:4]})
}
