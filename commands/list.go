package commands

// The lists family: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LLEN LRANGE
// LINDEX LSET LINSERT LREM LTRIM LPOS LMOVE RPOPLPUSH LMPOP. Reads go
// through c.read; every write is one op (op codes 170-189) whose applier
// is in list_apply.go. The blocking forms propose the same ops: ListPop
// (its result a listPop) and LMove (the element moved, or nil).

import (
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func registerLists(t *Table) {
	one := func(flags KeyFlag) []KeySpec {
		return []KeySpec{{Flags: flags, Index: 1, LastKey: 0, KeyStep: 1}}
	}
	move := []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1},
		{Flags: KeyRW | KeyInsert, Index: 2, LastKey: 0, KeyStep: 1}}
	const pushComplexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments."
	elems := []Arg{argKey("key", 0), argString("element").multiple()}
	side := func(name string) Arg {
		return argOneof(name, argToken("left", "LEFT"), argToken("right", "RIGHT"))
	}
	push := func(name, since, summary, history string) *Command {
		return &Command{Name: name, Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatList,
			Keys: one(KeyRW | KeyInsert), Group: "list", Since: since, Complexity: pushComplexity,
			Summary: summary, Handler: cmdPush, History: [][2]string{{history, "Accepts multiple `element` arguments."}},
			Args: elems}
	}
	pop := func(name, summary string) *Command {
		return &Command{Name: name, Arity: -2, Flags: FlagWrite | FlagFast, Categories: CatList,
			Keys: one(KeyRW | KeyAccess | KeyDelete), Group: "list", Since: "1.0.0",
			Complexity: "O(N) where N is the number of elements returned", Summary: summary, Handler: cmdPop,
			History: [][2]string{{"6.2.0", "Added the `count` argument."}},
			Args:    []Arg{argKey("key", 0), argInt("count").since("6.2.0").optional()}}
	}
	t.add(
		push("lpush", "1.0.0", "Prepend one or multiple elements to a list", "2.4.0"),
		push("rpush", "1.0.0", "Append one or multiple elements to a list", "2.4.0"),
		push("lpushx", "2.2.0", "Prepend an element to a list, only if the list exists", "4.0.0"),
		push("rpushx", "2.2.0", "Append an element to a list, only if the list exists", "4.0.0"),
		pop("lpop", "Remove and get the first elements in a list"),
		pop("rpop", "Remove and get the last elements in a list"),
		&Command{Name: "llen", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatList,
			Keys: one(KeyRO), Group: "list", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Get the length of a list", Handler: cmdLLen, Args: []Arg{argKey("key", 0)}},
		&Command{Name: "lrange", Arity: 4, Flags: FlagReadonly, Categories: CatList,
			Keys: one(KeyRO | KeyAccess), Group: "list", Since: "1.0.0",
			Complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
			Summary:    "Get a range of elements from a list", Handler: cmdLRange,
			Args: []Arg{argKey("key", 0), argInt("start"), argInt("stop")}},
		&Command{Name: "lindex", Arity: 3, Flags: FlagReadonly, Categories: CatList,
			Keys: one(KeyRO | KeyAccess), Group: "list", Since: "1.0.0",
			Complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
			Summary:    "Get an element from a list by its index", Handler: cmdLIndex,
			Args: []Arg{argKey("key", 0), argInt("index")}},
		&Command{Name: "lset", Arity: 4, Flags: FlagWrite | FlagDenyOOM, Categories: CatList,
			Keys: one(KeyRW | KeyUpdate), Group: "list", Since: "1.0.0",
			Complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
			Summary:    "Set the value of an element in a list by its index", Handler: cmdLSet,
			Args: []Arg{argKey("key", 0), argInt("index"), argString("element")}},
		&Command{Name: "linsert", Arity: 5, Flags: FlagWrite | FlagDenyOOM, Categories: CatList,
			Keys: one(KeyRW | KeyInsert), Group: "list", Since: "2.2.0",
			Complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
			Summary:    "Insert an element before or after another element in a list", Handler: cmdLInsert,
			Args: []Arg{argKey("key", 0), argOneof("where", argToken("before", "BEFORE"), argToken("after", "AFTER")),
				argString("pivot"), argString("element")}},
		&Command{Name: "lrem", Arity: 4, Flags: FlagWrite, Categories: CatList,
			Keys: one(KeyRW | KeyDelete), Group: "list", Since: "1.0.0",
			Complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
			Summary:    "Remove elements from a list", Handler: cmdLRem,
			Args: []Arg{argKey("key", 0), argInt("count"), argString("element")}},
		&Command{Name: "ltrim", Arity: 4, Flags: FlagWrite, Categories: CatList,
			Keys: one(KeyRW | KeyDelete), Group: "list", Since: "1.0.0",
			Complexity: "O(N) where N is the number of elements to be removed by the operation.",
			Summary:    "Trim a list to the specified range", Handler: cmdLTrim,
			Args: []Arg{argKey("key", 0), argInt("start"), argInt("stop")}},
		&Command{Name: "lpos", Arity: -3, Flags: FlagReadonly, Categories: CatList,
			Keys: one(KeyRO | KeyAccess), Group: "list", Since: "6.0.6",
			Complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
			Summary:    "Return the index of matching elements on a list", Handler: cmdLPos,
			Args: []Arg{argKey("key", 0), argString("element"), argInt("rank").token("RANK").optional(),
				argInt("num-matches").token("COUNT").optional(), argInt("len").token("MAXLEN").optional()}},
		&Command{Name: "lmove", Arity: 5, Flags: FlagWrite | FlagDenyOOM, Categories: CatList,
			Keys: move, Group: "list", Since: "6.2.0", Complexity: "O(1)",
			Summary: "Pop an element from a list, push it to another list and return it", Handler: cmdLMove,
			Args: []Arg{argKey("source", 0), argKey("destination", 1), side("wherefrom"), side("whereto")}},
		&Command{Name: "rpoplpush", Arity: 3, Flags: FlagWrite | FlagDenyOOM, Categories: CatList,
			Keys: move, Group: "list", Since: "1.2.0", Complexity: "O(1)",
			Summary: "Remove the last element in a list, prepend it to another list and return it", Handler: cmdRPopLPush,
			DocFlags: []string{"deprecated"}, DeprecatedSince: "6.2.0", ReplacedBy: "`LMOVE` with the `RIGHT` and `LEFT` arguments",
			Args: []Arg{argKey("source", 0), argKey("destination", 1)}},
		&Command{Name: "lmpop", Arity: -4, Flags: FlagWrite, Categories: CatList,
			Keys:  []KeySpec{{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "list", Since: "7.0.0",
			Complexity: "O(N+M) where N is the number of provided keys and M is the number of elements returned.",
			Summary:    "Pop elements from a list", Handler: cmdLMPop,
			Args: []Arg{argInt("numkeys"), argKey("key", 0).multiple(), side("where"),
				argInt("count").token("COUNT").optional()}},
	)
	t.applier(op.ListPush, applyListPush)
	t.applier(op.ListPop, applyListPop)
	t.applier(op.LSet, applyLSet)
	t.applier(op.LInsert, applyLInsert)
	t.applier(op.LRem, applyLRem)
	t.applier(op.LTrim, applyLTrim)
	t.applier(op.LMove, applyLMove)
}

// readList runs fn with key's list (nil if absent), or replies WRONGTYPE.
func (c *Ctx) readList(key []byte, fn func(l *keyspace.List)) {
	readObject(c, key, keyspace.KindList, fn)
}

// side parses LEFT or RIGHT: true for RIGHT.
func side(arg []byte) (right, ok bool) {
	switch {
	case eq(arg, "LEFT"):
		return false, true
	case eq(arg, "RIGHT"):
		return true, true
	}
	return false, false
}

// atTail reports whether the command works on the tail: RPUSH, RPOP...
func (c *Ctx) atTail() bool { return c.Cmd.Name[0] == 'r' }

func cmdPush(c *Ctx) {
	o := &op.Op{Type: op.ListPush, DB: c.S.DB, Args: c.Args[1:]}
	if c.atTail() {
		o.Flags |= op.FlagRight
	}
	if c.Cmd.Name[len(c.Cmd.Name)-1] == 'x' {
		o.Flags |= op.FlagXX
	}
	c.propose(o)
}

func cmdLLen(c *Ctx) {
	c.readList(c.Args[1], func(l *keyspace.List) {
		if l == nil {
			c.W.Int(0)
			return
		}
		c.W.Int(int64(l.Len()))
	})
}

// listRange converts LRANGE's and LTRIM's start and stop (negative: from
// the end) for a list of n elements into the first index and the number
// of elements, 0 when the range is empty, as Redis does.
func listRange(start, stop int64, n int) (from, count int) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if stop < 0 {
		stop += ln
	}
	start = max(start, 0)
	if start > stop || start >= ln {
		return 0, 0
	}
	stop = min(stop, ln-1)
	return int(start), int(stop - start + 1)
}

func cmdLRange(c *Ctx) {
	start, ok1 := parseInt(c.Args[2])
	stop, ok2 := parseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Error(errNotInt.Error())
		return
	}
	c.readList(c.Args[1], func(l *keyspace.List) {
		if l == nil {
			c.W.Array(0)
			return
		}
		from, n := listRange(start, stop, l.Len())
		c.W.Array(n)
		for it := l.Iter(from, false); n > 0; n-- {
			e, _ := it.Next()
			c.W.Bulk(e)
		}
	})
}

// cmdLIndex looks the key up before it parses the index, as Redis does.
func cmdLIndex(c *Ctx) {
	c.readList(c.Args[1], func(l *keyspace.List) {
		if l == nil {
			c.W.Null()
			return
		}
		i, ok := parseInt(c.Args[2])
		if !ok {
			c.W.Error(errNotInt.Error())
			return
		}
		if e, found := l.Index(clampIndex(i)); found {
			c.W.Bulk(e)
			return
		}
		c.W.Null()
	})
}

// clampIndex keeps an index of 64 bits within int on any platform
// without changing whether it is in range.
func clampIndex(i int64) int {
	const lim = 1 << 40
	return int(max(min(i, lim), -lim))
}

func cmdLSet(c *Ctx) {
	c.propose(&op.Op{Type: op.LSet, DB: c.S.DB, Args: c.Args[1:4]})
}

func cmdLInsert(c *Ctx) {
	o := &op.Op{Type: op.LInsert, DB: c.S.DB, Args: [][]byte{c.Args[1], c.Args[3], c.Args[4]}}
	switch {
	case eq(c.Args[2], "AFTER"):
		o.Flags = op.FlagRight
	case !eq(c.Args[2], "BEFORE"):
		c.W.Error(errSyntax.Error())
		return
	}
	c.propose(o)
}

func cmdLRem(c *Ctx) {
	n, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt.Error())
		return
	}
	c.propose(&op.Op{Type: op.LRem, DB: c.S.DB, Int: n, Args: [][]byte{c.Args[1], c.Args[3]}})
}

func cmdLTrim(c *Ctx) {
	_, ok1 := parseInt(c.Args[2])
	_, ok2 := parseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Error(errNotInt.Error())
		return
	}
	c.propose(&op.Op{Type: op.LTrim, DB: c.S.DB, Args: c.Args[1:4]})
}

func cmdLMove(c *Ctx) {
	from, ok1 := side(c.Args[3])
	to, ok2 := side(c.Args[4])
	if !ok1 || !ok2 {
		c.W.Error(errSyntax.Error())
		return
	}
	c.propose(lmoveOp(c, from, to))
}

func cmdRPopLPush(c *Ctx) { c.propose(lmoveOp(c, true, false)) }

// lmoveOp is the LMove op of c's source and destination (Args 1 and 2).
func lmoveOp(c *Ctx, fromRight, toRight bool) *op.Op {
	o := &op.Op{Type: op.LMove, DB: c.S.DB, Args: c.Args[1:3]}
	if fromRight {
		o.Flags |= op.FlagRight
	}
	if toRight {
		o.Flags |= op.FlagToRight
	}
	return o
}
