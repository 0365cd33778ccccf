package commands

// The blocking pops: BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP (lists) and
// BZPOPMIN BZPOPMAX BZMPOP (sorted sets). Each parses as Redis does, then
// runs as a blockingPop (blocking.go) whose tries propose the family's
// own pop op (LMPOP's, LMOVE's, ZMPOP's) with the blocking command's reply
// shape.

func registerBlocking(t *Table) {
	keysThenTimeout := []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, LastKey: -2, KeyStep: 1}}
	numkeys := []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 2, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}}
	move := []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1},
		{Flags: KeyRW | KeyInsert, Index: 2, LastKey: 0, KeyStep: 1}}
	doubleTimeout := [][2]string{{"6.0.0", "`timeout` is interpreted as a double instead of an integer."}}
	keysArgs := []Arg{argKey("key", 0).multiple(), argDouble("timeout")}
	side := func(name string) Arg {
		return argOneof(name, argToken("left", "LEFT"), argToken("right", "RIGHT"))
	}
	const (
		nKeys = "O(N) where N is the number of provided keys."
		zlogN = "O(log(N)) with N being the number of elements in the sorted set."
	)
	t.add(
		&Command{Name: "blpop", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking, Categories: CatList,
			Keys: keysThenTimeout, Group: "list", Since: "2.0.0", Complexity: nKeys,
			Summary: "Remove and get the first element in a list, or block until one is available",
			Handler: cmdBLPop, History: doubleTimeout, Args: keysArgs},
		&Command{Name: "brpop", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking, Categories: CatList,
			Keys: keysThenTimeout, Group: "list", Since: "2.0.0", Complexity: nKeys,
			Summary: "Remove and get the last element in a list, or block until one is available",
			Handler: cmdBRPop, History: doubleTimeout, Args: keysArgs},
		&Command{Name: "blmove", Arity: 6, Flags: FlagWrite | FlagDenyOOM | FlagNoScript | FlagBlocking, Categories: CatList,
			Keys: move, Group: "list", Since: "6.2.0", Complexity: "O(1)",
			Summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
			Handler: cmdBLMove,
			Args: []Arg{argKey("source", 0), argKey("destination", 1), side("wherefrom"), side("whereto"),
				argDouble("timeout")}},
		&Command{Name: "brpoplpush", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagNoScript | FlagBlocking, Categories: CatList,
			Keys: move, Group: "list", Since: "2.2.0", Complexity: "O(1)",
			Summary: "Pop an element from a list, push it to another list and return it; or block until one is available",
			Handler: cmdBRPopLPush, History: doubleTimeout,
			DocFlags: []string{"deprecated"}, DeprecatedSince: "6.2.0", ReplacedBy: "`BLMOVE` with the `RIGHT` and `LEFT` arguments",
			Args: []Arg{argKey("source", 0), argKey("destination", 1), argDouble("timeout")}},
		&Command{Name: "blmpop", Arity: -5, Flags: FlagWrite | FlagBlocking, Categories: CatList,
			Keys: numkeys, Group: "list", Since: "7.0.0",
			Complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
			Summary:    "Pop elements from a list, or block until one is available", Handler: cmdBLMPop,
			Args: []Arg{argDouble("timeout"), argInt("numkeys"), argKey("key", 0).multiple(), side("where"),
				argInt("count").token("COUNT").optional()}},
		&Command{Name: "bzpopmin", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagFast | FlagBlocking, Categories: CatSortedSet,
			Keys: keysThenTimeout, Group: "sorted-set", Since: "5.0.0", Complexity: zlogN,
			Summary: "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available",
			Handler: cmdBZPopMin, History: doubleTimeout, Args: keysArgs},
		&Command{Name: "bzpopmax", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagFast | FlagBlocking, Categories: CatSortedSet,
			Keys: keysThenTimeout, Group: "sorted-set", Since: "5.0.0", Complexity: zlogN,
			Summary: "Remove and return the member with the highest score from one or more sorted sets, or block until one is available",
			Handler: cmdBZPopMax, History: doubleTimeout, Args: keysArgs},
		&Command{Name: "bzmpop", Arity: -5, Flags: FlagWrite | FlagBlocking, Categories: CatSortedSet,
			Keys: numkeys, Group: "sorted-set", Since: "7.0.0",
			Complexity: "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.",
			Summary:    "Remove and return members with scores in a sorted set or block until one is available",
			Handler:    cmdBZMPop,
			Args: []Arg{argDouble("timeout"), argInt("numkeys"), argKey("key", 0).multiple(),
				argOneof("where", argToken("min", "MIN"), argToken("max", "MAX")),
				argInt("count").token("COUNT").optional()}},
	)
}
