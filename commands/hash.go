package commands

// The hash family: every Redis 7.0 hash command. The writes are one op
// each (op types 150-169), applied by the functions below; the reads,
// HRANDFIELD and HSCAN are in hash_read.go.

import (
	"errors"
	"math"
	"strconv"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

var (
	errHashNotInt   = errors.New("ERR hash value is not an integer")
	errHashNotFloat = errors.New("ERR hash value is not a float")
	errNaNOrInfArg  = errors.New("ERR value is NaN or Infinity")
)

func registerHash(t *Table) {
	one := func(flags KeyFlag) []KeySpec {
		return []KeySpec{{Flags: flags, Index: 1, LastKey: 0, KeyStep: 1}}
	}
	key := argKey("key", 0)
	field := argString("field")
	pairs := argBlock("field_value", argString("field"), argString("value")).multiple()
	const allComplexity = "O(N) where N is the size of the hash."
	t.add(
		&Command{Name: "hset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatHash,
			Keys: one(KeyRW | KeyUpdate), Group: "hash", Since: "2.0.0",
			Complexity: "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
			Summary:    "Set the string value of a hash field", Handler: cmdHSet,
			History: [][2]string{{"4.0.0", "Accepts multiple `field` and `value` arguments."}},
			Args:    []Arg{key, pairs}},
		&Command{Name: "hsetnx", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatHash,
			Keys: one(KeyRW | KeyInsert), Group: "hash", Since: "2.0.0", Complexity: "O(1)",
			Summary: "Set the value of a hash field, only if the field does not exist", Handler: cmdHSetNX,
			Args: []Arg{key, field, argString("value")}},
		&Command{Name: "hmset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatHash,
			Keys: one(KeyRW | KeyUpdate), Group: "hash", Since: "2.0.0",
			Complexity: "O(N) where N is the number of fields being set.",
			Summary:    "Set multiple hash fields to multiple values", Handler: cmdHSet,
			DocFlags: []string{"deprecated"}, DeprecatedSince: "4.0.0", ReplacedBy: "`HSET` with multiple field-value pairs",
			Args: []Arg{key, pairs}},
		&Command{Name: "hdel", Arity: -3, Flags: FlagWrite | FlagFast, Categories: CatHash,
			Keys: one(KeyRW | KeyDelete), Group: "hash", Since: "2.0.0",
			Complexity: "O(N) where N is the number of fields to be removed.",
			Summary:    "Delete one or more hash fields", Handler: cmdHDel,
			History: [][2]string{{"2.4.0", "Accepts multiple `field` arguments."}},
			Args:    []Arg{key, field.multiple()}},
		&Command{Name: "hincrby", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatHash,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "hash", Since: "2.0.0", Complexity: "O(1)",
			Summary: "Increment the integer value of a hash field by the given number", Handler: cmdHIncrBy,
			Args: []Arg{key, field, argInt("increment")}},
		&Command{Name: "hincrbyfloat", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatHash,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "hash", Since: "2.6.0", Complexity: "O(1)",
			Summary: "Increment the float value of a hash field by the given amount", Handler: cmdHIncrByFloat,
			Args: []Arg{key, field, argDouble("increment")}},
		&Command{Name: "hget", Arity: 3, Flags: FlagReadonly | FlagFast, Categories: CatHash,
			Keys: one(KeyRO | KeyAccess), Group: "hash", Since: "2.0.0", Complexity: "O(1)",
			Summary: "Get the value of a hash field", Handler: cmdHGet,
			Args: []Arg{key, field}},
		&Command{Name: "hmget", Arity: -3, Flags: FlagReadonly | FlagFast, Categories: CatHash,
			Keys: one(KeyRO | KeyAccess), Group: "hash", Since: "2.0.0",
			Complexity: "O(N) where N is the number of fields being requested.",
			Summary:    "Get the values of all the given hash fields", Handler: cmdHMGet,
			Args: []Arg{key, field.multiple()}},
		&Command{Name: "hlen", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatHash,
			Keys: one(KeyRO), Group: "hash", Since: "2.0.0", Complexity: "O(1)",
			Summary: "Get the number of fields in a hash", Handler: cmdHLen,
			Args: []Arg{key}},
		&Command{Name: "hstrlen", Arity: 3, Flags: FlagReadonly | FlagFast, Categories: CatHash,
			Keys: one(KeyRO), Group: "hash", Since: "3.2.0", Complexity: "O(1)",
			Summary: "Get the length of the value of a hash field", Handler: cmdHStrlen,
			Args: []Arg{key, field}},
		&Command{Name: "hexists", Arity: 3, Flags: FlagReadonly | FlagFast, Categories: CatHash,
			Keys: one(KeyRO), Group: "hash", Since: "2.0.0", Complexity: "O(1)",
			Summary: "Determine if a hash field exists", Handler: cmdHExists,
			Args: []Arg{key, field}},
		&Command{Name: "hkeys", Arity: 2, Flags: FlagReadonly, Categories: CatHash,
			Keys: one(KeyRO | KeyAccess), Tips: []string{"nondeterministic_output_order"},
			Group: "hash", Since: "2.0.0", Complexity: allComplexity,
			Summary: "Get all the fields in a hash", Handler: cmdHGetAll,
			Args: []Arg{key}},
		&Command{Name: "hvals", Arity: 2, Flags: FlagReadonly, Categories: CatHash,
			Keys: one(KeyRO | KeyAccess), Tips: []string{"nondeterministic_output_order"},
			Group: "hash", Since: "2.0.0", Complexity: allComplexity,
			Summary: "Get all the values in a hash", Handler: cmdHGetAll,
			Args: []Arg{key}},
		&Command{Name: "hgetall", Arity: 2, Flags: FlagReadonly, Categories: CatHash,
			Keys: one(KeyRO | KeyAccess), Tips: []string{"nondeterministic_output_order"},
			Group: "hash", Since: "2.0.0", Complexity: allComplexity,
			Summary: "Get all the fields and values in a hash", Handler: cmdHGetAll,
			Args: []Arg{key}},
		&Command{Name: "hrandfield", Arity: -2, Flags: FlagReadonly, Categories: CatHash,
			Keys: one(KeyRO | KeyAccess), Tips: []string{"nondeterministic_output"},
			Group: "hash", Since: "6.2.0", Complexity: "O(N) where N is the number of fields returned",
			Summary: "Get one or multiple random fields from a hash", Handler: cmdHRandField,
			Args: []Arg{key, argBlock("options", argInt("count"),
				argToken("withvalues", "WITHVALUES").optional()).optional()}},
		&Command{Name: "hscan", Arity: -3, Flags: FlagReadonly, Categories: CatHash,
			Keys: one(KeyRO | KeyAccess), Tips: []string{"nondeterministic_output"},
			Group: "hash", Since: "2.8.0",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..",
			Summary:    "Incrementally iterate hash fields and associated values", Handler: cmdHScan,
			Args: []Arg{key, argInt("cursor"),
				argPattern("pattern").token("MATCH").optional(),
				argInt("count").token("COUNT").optional()}},
	)
	t.applier(op.HSet, applyHSet)
	t.applier(op.HMSet, applyHSet)
	t.applier(op.HSetNX, applyHSetNX)
	t.applier(op.HDel, applyHDel)
	t.applier(op.HIncrBy, applyHIncrBy)
	t.applier(op.HIncrByFloat, applyHIncrByFloat)
}

func newHash() keyspace.Object { return keyspace.NewHash() }

// writableHash returns key's hash for an applier (nil if absent), after
// deleting it if expired; WRONGTYPE for another kind.
func writableHash(db *keyspace.DB, key []byte, now int64) (*keyspace.Hash, error) {
	e := db.GetForWrite(key, now)
	if e == nil {
		return nil, nil
	}
	h, ok := e.Object().(*keyspace.Hash)
	if !ok {
		return nil, errWrongType
	}
	return h, nil
}

// cmdHSet serves HSET and HMSET.
func cmdHSet(c *Ctx) {
	if len(c.Args)%2 == 1 {
		c.W.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	t := op.HSet
	if c.Cmd.Name == "hmset" {
		t = op.HMSet
	}
	c.propose(&op.Op{Type: t, DB: c.S.DB, Args: c.Args[1:]})
}

func applyHSet(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) < 3 || len(o.Args)%2 == 0 {
		return errBadOp
	}
	lim := ks.EncodingLimits()
	var added int64
	_, err := ks.DB(o.DB).Update(o.Args[0], o.Now, keyspace.KindHash, newHash, func(obj keyspace.Object) {
		h := obj.(*keyspace.Hash)
		h.ConvertIfLong(o.Args[1:], lim)
		for i := 1; i < len(o.Args); i += 2 {
			if h.Set(o.Args[i], o.Args[i+1], lim, o.Now) {
				added++
			}
		}
	})
	if err != nil {
		return err
	}
	ks.DB(o.DB).Notify(keyspace.EventHash, "hset", o.Args[0])
	if o.Type == op.HMSet {
		return ok
	}
	return added
}

func cmdHSetNX(c *Ctx) {
	c.propose(&op.Op{Type: op.HSetNX, DB: c.S.DB, Args: c.Args[1:4]})
}

func applyHSetNX(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 3 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	h, err := writableHash(db, o.Args[0], o.Now)
	if err != nil {
		return err
	}
	if h != nil {
		if _, found := h.Get(o.Args[1], o.Now); found {
			return int64(0) // nothing changes, so no new version
		}
	}
	lim := ks.EncodingLimits()
	db.Update(o.Args[0], o.Now, keyspace.KindHash, newHash, func(obj keyspace.Object) {
		obj.(*keyspace.Hash).Set(o.Args[1], o.Args[2], lim, o.Now)
	})
	db.Notify(keyspace.EventHash, "hset", o.Args[0])
	return int64(1)
}

func cmdHDel(c *Ctx) {
	c.propose(&op.Op{Type: op.HDel, DB: c.S.DB, Args: c.Args[1:]})
}

func applyHDel(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) < 2 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	h, err := writableHash(db, o.Args[0], o.Now)
	if err != nil || h == nil {
		if err != nil {
			return err
		}
		return int64(0)
	}
	hit := false
	for _, f := range o.Args[1:] {
		if _, found := h.Get(f, o.Now); found {
			hit = true
			break
		}
	}
	if !hit {
		return int64(0) // nothing removed: the key's version stays
	}
	var removed int64
	db.Update(o.Args[0], o.Now, keyspace.KindHash, nil, func(obj keyspace.Object) {
		for _, f := range o.Args[1:] {
			if obj.(*keyspace.Hash).Delete(f, o.Now) {
				removed++
			}
		}
	})
	db.Notify(keyspace.EventHash, "hdel", o.Args[0])
	db.NotifyGone(o.Args[0], o.Now)
	return removed
}

func cmdHIncrBy(c *Ctx) {
	delta, valid := parseInt(c.Args[3])
	if !valid {
		c.W.Error(errNotInt.Error())
		return
	}
	c.propose(&op.Op{Type: op.HIncrBy, DB: c.S.DB, Int: delta, Args: c.Args[1:3]})
}

func applyHIncrBy(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 2 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	h, err := writableHash(db, o.Args[0], o.Now)
	if err != nil {
		return err
	}
	var cur int64
	if h != nil {
		if v, found := h.Get(o.Args[1], o.Now); found {
			var valid bool
			if cur, valid = parseInt([]byte(v)); !valid {
				return errHashNotInt
			}
		}
	}
	delta := o.Int
	if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) || (delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
		return errOverflow
	}
	cur += delta
	text := strconv.AppendInt(nil, cur, 10)
	lim := ks.EncodingLimits()
	db.Update(o.Args[0], o.Now, keyspace.KindHash, newHash, func(obj keyspace.Object) {
		obj.(*keyspace.Hash).SetKeepTTL(o.Args[1], text, lim, o.Now)
	})
	db.Notify(keyspace.EventHash, "hincrby", o.Args[0])
	return cur
}

func cmdHIncrByFloat(c *Ctx) {
	incr, valid := parseLongDouble(c.Args[3])
	switch {
	case !valid:
		c.W.Error(errNotFloat.Error())
		return
	case incr.IsInf():
		c.W.Error(errNaNOrInfArg.Error())
		return
	}
	c.propose(&op.Op{Type: op.HIncrByFloat, DB: c.S.DB, Args: c.Args[1:4]})
}

// applyHIncrByFloat computes the sum as INCRBYFLOAT does (emulated long
// double, strings_float.go), so every node stores the same text.
func applyHIncrByFloat(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 3 {
		return errBadOp
	}
	incr, valid := parseLongDouble(o.Args[2])
	if !valid || incr.IsInf() {
		return errNotFloat
	}
	db := ks.DB(o.DB)
	h, err := writableHash(db, o.Args[0], o.Now)
	if err != nil {
		return err
	}
	cur := newLongDouble()
	if h != nil {
		if v, found := h.Get(o.Args[1], o.Now); found {
			if cur, valid = parseLongDouble([]byte(v)); !valid {
				return errHashNotFloat
			}
		}
	}
	sum, valid := addLongDouble(cur, incr)
	if !valid {
		return errNaNOrInf
	}
	text := formatLongDouble(sum)
	lim := ks.EncodingLimits()
	db.Update(o.Args[0], o.Now, keyspace.KindHash, newHash, func(obj keyspace.Object) {
		obj.(*keyspace.Hash).SetKeepTTL(o.Args[1], text, lim, o.Now)
	})
	db.Notify(keyspace.EventHash, "hincrbyfloat", o.Args[0])
	return text
}
