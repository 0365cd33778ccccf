package commands

import (
	"math"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func registerExpire(t *Table) {
	optsAdded := [][2]string{{"7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`."}}
	minus2 := [][2]string{{"2.8.0", "Added the -2 reply."}}
	specTTLWrite := []KeySpec{{Flags: KeyRW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1}}
	specTTLRead := []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1}}
	write := func(name, since, summary string) *Command {
		return &Command{Name: name, Arity: -3, Flags: FlagWrite | FlagFast, Categories: CatKeyspace,
			Keys: specTTLWrite, Group: "generic", Since: since, Complexity: "O(1)",
			Summary: summary, History: optsAdded, Handler: cmdExpire}
	}
	read := func(name, since, summary string, h Handler) *Command {
		return &Command{Name: name, Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatKeyspace,
			Keys: specTTLRead, Group: "generic", Since: since, Complexity: "O(1)",
			Summary: summary, Handler: h, Args: []Arg{argKey("key", 0)}}
	}
	ttl := read("ttl", "1.0.0", "Get the time to live for a key in seconds", cmdTTL)
	pttl := read("pttl", "2.6.0", "Get the time to live for a key in milliseconds", cmdTTL)
	for _, c := range []*Command{ttl, pttl} {
		c.Tips, c.History = []string{"nondeterministic_output"}, minus2
	}
	condition := argOneof("condition",
		argToken("nx", "NX"), argToken("xx", "XX"), argToken("gt", "GT"), argToken("lt", "LT")).since("7.0.0").optional()
	t.add(
		write("expire", "1.0.0", "Set a key's time to live in seconds").
			withArgs(argKey("key", 0), argInt("seconds"), condition),
		write("pexpire", "2.6.0", "Set a key's time to live in milliseconds").
			withArgs(argKey("key", 0), argInt("milliseconds"), condition),
		write("expireat", "1.2.0", "Set the expiration for a key as a UNIX timestamp").
			withArgs(argKey("key", 0), argUnixTime("unix-time-seconds"), condition),
		write("pexpireat", "2.6.0", "Set the expiration for a key as a UNIX timestamp specified in milliseconds").
			withArgs(argKey("key", 0), argUnixTime("unix-time-milliseconds"), condition),
		ttl, pttl,
		read("expiretime", "7.0.0", "Get the expiration Unix timestamp for a key", cmdTTL),
		read("pexpiretime", "7.0.0", "Get the expiration Unix timestamp for a key in milliseconds", cmdTTL),
		&Command{Name: "persist", Arity: 2, Flags: FlagWrite | FlagFast, Categories: CatKeyspace,
			Keys: specTTLWrite, Group: "generic", Since: "2.2.0", Complexity: "O(1)",
			Summary: "Remove the expiration from a key", Handler: cmdPersist,
			Args: []Arg{argKey("key", 0)}},
	)
	t.applier(op.Expire, applyExpire)
	t.applier(op.Persist, applyPersist)
}

// parseExpireFlags is parseExtendedExpireArgumentsOrReply: every argument
// is checked before the incompatible combinations are.
func parseExpireFlags(args [][]byte) (uint32, error) {
	var flags uint32
	for _, a := range args {
		switch {
		case eq(a, "NX"):
			flags |= op.FlagNX
		case eq(a, "XX"):
			flags |= op.FlagXX
		case eq(a, "GT"):
			flags |= op.FlagGT
		case eq(a, "LT"):
			flags |= op.FlagLT
		default:
			// %s of a C string: the option ends at a NUL byte.
			return 0, errorf("ERR Unsupported option %s", cstr(a))
		}
	}
	if flags&op.FlagNX != 0 && flags&(op.FlagXX|op.FlagGT|op.FlagLT) != 0 {
		return 0, errorf("ERR NX and XX, GT or LT options at the same time are not compatible")
	}
	if flags&op.FlagGT != 0 && flags&op.FlagLT != 0 {
		return 0, errorf("ERR GT and LT options at the same time are not compatible")
	}
	return flags, nil
}

// cmdExpire serves EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT as Redis's
// expireGenericCommand does, turning the time into an absolute unix-ms
// deadline here so that every node applies the same one. Negative times
// are allowed; only overflow is an error.
func cmdExpire(c *Ctx) {
	name := c.Cmd.Name
	flags, err := parseExpireFlags(c.Args[3:])
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	when, valid := parseInt(c.Args[2])
	if !valid {
		c.W.Error(errNotInt.Error())
		return
	}
	if name == "expire" || name == "expireat" {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.W.Error(errorf(errInvalidExpire, name).Error())
			return
		}
		when *= 1000
	}
	var base int64
	if name == "expire" || name == "pexpire" {
		base = c.Now()
	}
	if when > math.MaxInt64-base {
		c.W.Error(errorf(errInvalidExpire, name).Error())
		return
	}
	when += base
	c.propose(&op.Op{Type: op.Expire, DB: c.S.DB, Flags: flags, Int: when, Args: c.Args[1:2]})
}

// applyExpire sets or refuses the deadline as the flags say (no deadline
// counts as infinite for GT and LT); a deadline already past deletes the
// key and still replies 1, judged by the op's time on every node.
func applyExpire(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	key, when := o.Args[0], o.Int
	v := db.GetForWrite(key, o.Now)
	if v == nil {
		return int64(0)
	}
	cur := db.Deadline(key) // 0: none
	switch {
	case o.Flags&op.FlagNX != 0 && cur != 0,
		o.Flags&op.FlagXX != 0 && cur == 0,
		o.Flags&op.FlagGT != 0 && (cur == 0 || when <= cur),
		o.Flags&op.FlagLT != 0 && cur != 0 && when >= cur:
		return int64(0)
	}
	if when <= o.Now {
		db.Delete(key, o.Now)
		db.Notify(keyspace.EventGeneric, "del", key)
		return int64(1)
	}
	db.SetDeadline(key, when)
	db.Notify(keyspace.EventGeneric, "expire", key)
	return int64(1)
}

// cmdTTL serves TTL, PTTL, EXPIRETIME and PEXPIRETIME as Redis's
// ttlGenericCommand does: -2 for no key, -1 for no deadline, a time left
// never below 0, seconds rounded to the nearest.
func cmdTTL(c *Ctx) {
	name := c.Cmd.Name
	ms := name == "pttl" || name == "pexpiretime"
	abs := name == "expiretime" || name == "pexpiretime"
	var reply int64
	ok := c.read(func(db *keyspace.DB) {
		key := c.Args[1]
		if db.GetRead(key, c.Now()) == nil {
			reply = -2
			return
		}
		d := db.Deadline(key)
		if d == 0 {
			reply = -1
			return
		}
		ttl := d
		if !abs {
			ttl -= c.Now()
		}
		ttl = max(ttl, 0)
		if !ms {
			// Unsigned, as Redis's compiled code behaves: a deadline near
			// the int64 limit must not wrap negative when rounded.
			ttl = int64((uint64(ttl) + 500) / 1000)
		}
		reply = ttl
	})
	if ok {
		c.W.Int(reply)
	}
}

func cmdPersist(c *Ctx) {
	c.propose(&op.Op{Type: op.Persist, DB: c.S.DB, Args: c.Args[1:2]})
}

func applyPersist(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	v := db.GetForWrite(o.Args[0], o.Now)
	if v == nil {
		return int64(0)
	}
	if db.Deadline(o.Args[0]) == 0 {
		return int64(0)
	}
	db.SetDeadline(o.Args[0], 0)
	db.Notify(keyspace.EventGeneric, "persist", o.Args[0])
	return int64(1)
}
