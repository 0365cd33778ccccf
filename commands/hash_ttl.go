package commands

// Hash-field expiry, Redis 7.4's HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT
// HTTL HPTTL HEXPIRETIME HPEXPIRETIME HPERSIST, on the hashes of
// hash.go. The handler makes a deadline absolute (o.Now is the leader's
// clock) and carries it in one op; the leader's active expiry proposes
// HExpireFields for the fields past their deadline.

import (
	"errors"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// hfeMaxMillis is Redis 7.4's HFE_MAX_ABS_TIME_MSEC, EB_EXPIRE_TIME_MAX >> 2:
// the latest deadline a field may be given.
const hfeMaxMillis = (1<<48 - 1) >> 2

var (
	errHFieldsMissing  = errors.New("ERR Mandatory argument FIELDS is missing or not at the right position")
	errHNumFieldsMatch = errors.New("ERR The `numfields` parameter must match the number of arguments")
	errHNumFieldsSet   = errors.New("ERR Parameter `numFields` should be greater than 0")
	errHNumFieldsRead  = errors.New("ERR Number of fields must be a positive integer")
	errHExpireNegative = errors.New("ERR invalid expire time, must be >= 0")
)

// Replies per field (Redis 7.4's HFE_* and HSETEX_* codes).
const (
	hfeNoField  = int64(-2)
	hfeNoTTL    = int64(-1)
	hfeNoCond   = int64(0)
	hfeSet      = int64(1)
	hfeDeleted  = int64(2)
	hfePersists = int64(1)
)

func registerHashTTL(t *Table) {
	key := argKey("key", 0)
	fields := argBlock("fields", argInt("numfields"), argString("field").multiple()).token("FIELDS")
	condition := argOneof("condition", argToken("nx", "NX"), argToken("xx", "XX"),
		argToken("gt", "GT"), argToken("lt", "LT")).optional()
	const complexity = "O(N) where N is the number of specified fields"
	rw := []KeySpec{{Flags: KeyRW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1}}
	ro := []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1}}
	expire := func(name string, when Arg, summary string) *Command {
		return &Command{Name: name, Arity: -6, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatHash,
			Keys: rw, Group: "hash", Since: "7.4.0", Complexity: complexity,
			Summary: summary, Handler: cmdHExpire, Args: []Arg{key, when, condition, fields}}
	}
	ttl := func(name, summary string) *Command {
		return &Command{Name: name, Arity: -5, Flags: FlagReadonly | FlagFast, Categories: CatHash,
			Keys: ro, Group: "hash", Since: "7.4.0", Complexity: complexity,
			Summary: summary, Handler: cmdHTTL, Args: []Arg{key, fields}}
	}
	t.add(
		expire("hexpire", argInt("seconds"), "Set expiry for hash field using relative time to expire (seconds)"),
		expire("hpexpire", argInt("milliseconds"), "Set expiry for hash field using relative time to expire (milliseconds)"),
		expire("hexpireat", argUnixTime("unix-time-seconds"), "Set expiry for hash field using an absolute Unix timestamp (seconds)"),
		expire("hpexpireat", argUnixTime("unix-time-milliseconds"), "Set expiry for hash field using an absolute Unix timestamp (milliseconds)"),
		ttl("httl", "Returns the TTL in seconds of a hash field."),
		ttl("hpttl", "Returns the TTL in milliseconds of a hash field."),
		ttl("hexpiretime", "Returns the expiration time of a hash field as a Unix timestamp, in seconds."),
		ttl("hpexpiretime", "Returns the expiration time of a hash field as a Unix timestamp, in msec."),
		&Command{Name: "hpersist", Arity: -5, Flags: FlagWrite | FlagFast, Categories: CatHash,
			Keys: rw, Group: "hash", Since: "7.4.0", Complexity: complexity,
			Summary: "Removes the expiration time for each specified field", Handler: cmdHPersist,
			Args: []Arg{key, fields}},
	)
	t.applier(op.HPExpireAt, applyHPExpireAt)
	t.applier(op.HPersist, applyHPersist)
	t.applier(op.HExpireFields, applyHExpireFields)
}

// parseHFields reads "FIELDS numfields field..." from args[at-1] on, as
// Redis 7.4 checks it: the token, the count (badCount when not a
// positive integer), the count against the arguments.
func parseHFields(args [][]byte, at int, badCount error) ([][]byte, error) {
	if !eq(args[at-1], "FIELDS") {
		return nil, errHFieldsMissing
	}
	n, valid := parseInt(args[at])
	if !valid || n < 1 {
		return nil, badCount
	}
	if n != int64(len(args)-at-1) {
		return nil, errHNumFieldsMatch
	}
	return args[at+1:], nil
}

// replyHashArgError replies err, unless the key holds another kind: Redis
// looks the key up before it reads the arguments.
func replyHashArgError(c *Ctx, err error) {
	readHash(c, c.Args[1], func(*keyspace.Hash) { c.W.Error(err.Error()) })
}

// cmdHExpire serves HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT
// (hexpireGenericCommand): the deadline becomes absolute unix ms here.
func cmdHExpire(c *Ctx) {
	name := c.Cmd.Name
	seconds := name == "hexpire" || name == "hexpireat"
	var base int64
	if name == "hexpire" || name == "hpexpire" {
		base = c.Now()
	}
	deadline, cond, fields, err := parseHExpire(c.Args, seconds, base, name)
	if err != nil {
		replyHashArgError(c, err)
		return
	}
	args := append([][]byte{c.Args[1]}, fields...)
	c.propose(&op.Op{Type: op.HPExpireAt, DB: c.S.DB, Int: deadline, Flags: cond, Args: args})
}

// parseHExpire reads HEXPIRE's arguments in Redis 7.4's order: the time
// (made absolute from base, and bounded as 7.4 bounds it), the optional
// condition, then the fields.
func parseHExpire(args [][]byte, seconds bool, base int64, name string) (deadline int64, cond uint32, fields [][]byte, err error) {
	when, valid := parseInt(args[2])
	switch {
	case !valid:
		return 0, 0, nil, errNotInt
	case when < 0:
		return 0, 0, nil, errHExpireNegative
	}
	if seconds {
		if when > hfeMaxMillis/1000 {
			return 0, 0, nil, errorf(errInvalidExpire, name)
		}
		when *= 1000
	}
	if when > hfeMaxMillis-base {
		return 0, 0, nil, errorf(errInvalidExpire, name)
	}
	at := 4
	for i, tok := range []string{"NX", "XX", "GT", "LT"} {
		if eq(args[3], tok) {
			cond, at = op.HFieldNX+uint32(i), 5
		}
	}
	fields, err = parseHFields(args, at, errHNumFieldsSet)
	return when + base, cond, fields, err
}

// hexpireOutcome is what HPEXPIREAT does to one field (hashTypeSetEx).
func hexpireOutcome(h *keyspace.Hash, field []byte, deadline int64, cond uint32, now int64) int64 {
	prev, found := h.FieldDeadline(field, now)
	switch {
	case !found:
		return hfeNoField
	case prev == 0 && (cond == op.HFieldXX || cond == op.HFieldGT):
		return hfeNoCond // no deadline: LT and NX hold, XX and GT do not
	case prev != 0 && (cond == op.HFieldNX || cond == op.HFieldGT && prev >= deadline ||
		cond == op.HFieldLT && prev <= deadline):
		return hfeNoCond
	case deadline <= now:
		return hfeDeleted
	}
	return hfeSet
}

func applyHPExpireAt(ks *keyspace.Store, o *op.Op) any {
	return applyHFields(ks, o, "hexpire", func(h *keyspace.Hash, f []byte, apply bool) int64 {
		r := hexpireOutcome(h, f, o.Int, o.Flags, o.Now)
		if apply {
			switch r {
			case hfeDeleted:
				h.Delete(f, o.Now)
			case hfeSet:
				h.SetFieldDeadline(f, o.Int, o.Now)
			}
		}
		return r
	})
}

func cmdHPersist(c *Ctx) {
	fields, err := parseHFields(c.Args, 3, errHNumFieldsRead)
	if err != nil {
		replyHashArgError(c, err)
		return
	}
	args := append([][]byte{c.Args[1]}, fields...)
	c.propose(&op.Op{Type: op.HPersist, DB: c.S.DB, Args: args})
}

func applyHPersist(ks *keyspace.Store, o *op.Op) any {
	return applyHFields(ks, o, "hpersist", func(h *keyspace.Hash, f []byte, apply bool) int64 {
		prev, found := h.FieldDeadline(f, o.Now)
		switch {
		case !found:
			return hfeNoField
		case prev == 0:
			return hfeNoTTL
		}
		if apply {
			h.SetFieldDeadline(f, 0, o.Now)
		}
		return hfePersists
	})
}

// applyHFields runs each for the fields Args[1:] of hash Args[0] and
// replies its results. It runs them first without applying (apply
// false): when none would change anything (a positive result), the key
// is not touched and keeps its version. The key's events are Redis 7.4's:
// "hdel" for fields deleted, event for the others changed.
func applyHFields(ks *keyspace.Store, o *op.Op, event string, each func(h *keyspace.Hash, f []byte, apply bool) int64) any {
	db := ks.DB(o.DB)
	h, err := writableHash(db, o.Args[0], o.Now)
	if err != nil {
		return err
	}
	fields := o.Args[1:]
	out := make([]any, len(fields))
	changes := false
	for i, f := range fields {
		r := hfeNoField
		if h != nil {
			r = each(h, f, false)
		}
		out[i] = r
		changes = changes || r > 0
	}
	if !changes {
		return out
	}
	db.Update(o.Args[0], o.Now, keyspace.KindHash, nil, func(obj keyspace.Object) {
		for i, f := range fields {
			out[i] = each(obj.(*keyspace.Hash), f, true)
		}
	})
	if db.Wants(keyspace.EventHash) {
		deleted, changed := false, false
		for _, r := range out {
			deleted = deleted || (event == "hexpire" && r == hfeDeleted)
			changed = changed || (r.(int64) > 0 && !(event == "hexpire" && r == hfeDeleted))
		}
		if deleted {
			db.Notify(keyspace.EventHash, "hdel", o.Args[0])
		}
		if changed {
			db.Notify(keyspace.EventHash, event, o.Args[0])
		}
	}
	db.NotifyGone(o.Args[0], o.Now)
	return out
}

// cmdHTTL serves HTTL HPTTL HEXPIRETIME HPEXPIRETIME (httlGenericCommand).
func cmdHTTL(c *Ctx) {
	name := c.Cmd.Name
	seconds := name == "httl" || name == "hexpiretime"
	relative := name == "httl" || name == "hpttl"
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		fields, err := parseHFields(c.Args, 3, errHNumFieldsRead)
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		now := c.Now()
		var base int64
		if relative {
			base = now
		}
		c.W.Array(len(fields))
		for _, f := range fields {
			var d int64
			found := false
			if h != nil {
				d, found = h.FieldDeadline(f, now)
			}
			switch {
			case !found:
				c.W.Int(hfeNoField)
			case d == 0:
				c.W.Int(hfeNoTTL)
			case seconds:
				c.W.Int((d + 999 - base) / 1000)
			default:
				c.W.Int(d - base)
			}
		}
	})
}

// applyHExpireFields deletes the fields the leader found expired, those
// still expired at the op's time (a field given a new deadline or set
// again since stays).
func applyHExpireFields(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	var n int64
	for args := o.Args; len(args) > 0; {
		if len(args) < 2 {
			return errBadOp
		}
		count, valid := parseInt(args[1])
		if !valid || count < 1 || count > int64(len(args)-2) {
			return errBadOp
		}
		key, fields := args[0], args[2:2+count]
		args = args[2+count:]
		h, err := writableHash(db, key, o.Now)
		if err != nil || h == nil {
			continue // gone or replaced since the leader looked
		}
		hit := false
		for _, f := range fields {
			hit = hit || h.FieldExpired(f, o.Now)
		}
		if !hit {
			continue
		}
		db.Update(key, o.Now, keyspace.KindHash, nil, func(obj keyspace.Object) {
			for _, f := range fields {
				if h := obj.(*keyspace.Hash); h.FieldExpired(f, o.Now) {
					h.Delete(f, o.Now)
					n++
				}
			}
		})
		db.Notify(keyspace.EventHash, "hexpired", key)
		db.NotifyGone(key, o.Now)
	}
	return n
}
