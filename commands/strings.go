package commands

import (
	"errors"
	"math"

	"github.com/loomcache/loomcache/internal/memcopy"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// maxBulkLen is Redis's default proto-max-bulk-len, the largest string
// APPEND and SETRANGE may build.
const maxBulkLen = 512 << 20

var (
	errStringTooLong = errors.New("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
	errBadOp         = errors.New("ERR malformed operation")
)

func registerStrings(t *Table) {
	one := func(flags KeyFlag) []KeySpec {
		return []KeySpec{{Flags: flags, Index: 1, LastKey: 0, KeyStep: 1}}
	}
	all := func(flags KeyFlag, step int) []KeySpec {
		return []KeySpec{{Flags: flags, Index: 1, LastKey: -1, KeyStep: step}}
	}
	const rangeComplexity = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings."
	t.add(
		&Command{Name: "get", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatString,
			Keys: one(KeyRO | KeyAccess), Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Get the value of a key", Handler: cmdGet,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, Categories: CatString,
			Keys: []KeySpec{{Notes: "RW and ACCESS due to the optional `GET` argument",
				Flags: KeyRW | KeyAccess | KeyUpdate | KeyVariableFlags, Index: 1, LastKey: 0, KeyStep: 1}},
			Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Set the string value of a key", Handler: cmdSet, KeyFlags: setKeyFlags,
			History: [][2]string{
				{"2.6.12", "Added the `EX`, `PX`, `NX` and `XX` options."},
				{"6.0.0", "Added the `KEEPTTL` option."},
				{"6.2.0", "Added the `GET`, `EXAT` and `PXAT` option."},
				{"7.0.0", "Allowed the `NX` and `GET` options to be used together."},
			},
			Args: []Arg{
				argKey("key", 0),
				argString("value"),
				argOneof("condition", argToken("nx", "NX"), argToken("xx", "XX")).since("2.6.12").optional(),
				argToken("get", "GET").since("6.2.0").optional(),
				argOneof("expiration",
					argInt("seconds").token("EX").since("2.6.12"),
					argInt("milliseconds").token("PX").since("2.6.12"),
					argUnixTime("unix-time-seconds").token("EXAT").since("6.2.0"),
					argUnixTime("unix-time-milliseconds").token("PXAT").since("6.2.0"),
					argToken("keepttl", "KEEPTTL").since("6.0.0")).optional(),
			}},
		&Command{Name: "setnx", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys: one(KeyOW | KeyInsert), Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Set the value of a key, only if the key does not exist", Handler: cmdSetNX,
			Args: []Arg{argKey("key", 0), argString("value")}},
		&Command{Name: "setex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, Categories: CatString,
			Keys: one(KeyOW | KeyUpdate), Group: "string", Since: "2.0.0", Complexity: "O(1)",
			Summary: "Set the value and expiration of a key", Handler: cmdSetEx,
			Args: []Arg{argKey("key", 0), argInt("seconds"), argString("value")}},
		&Command{Name: "psetex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, Categories: CatString,
			Keys: one(KeyOW | KeyUpdate), Group: "string", Since: "2.6.0", Complexity: "O(1)",
			Summary: "Set the value and expiration in milliseconds of a key", Handler: cmdSetEx,
			Args: []Arg{argKey("key", 0), argInt("milliseconds"), argString("value")}},
		&Command{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Set the string value of a key and return its old value", Handler: cmdGetSet,
			DocFlags: []string{"deprecated"}, DeprecatedSince: "6.2.0", ReplacedBy: "`SET` with the `!GET` argument",
			Args: []Arg{argKey("key", 0), argString("value")}},
		&Command{Name: "mget", Arity: -2, Flags: FlagReadonly | FlagFast, Categories: CatString,
			Keys: all(KeyRO|KeyAccess, 1), Tips: []string{"request_policy:multi_shard"},
			Group: "string", Since: "1.0.0", Complexity: "O(N) where N is the number of keys to retrieve.",
			Summary: "Get the values of all the given keys", Handler: cmdMGet,
			Args: []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "mset", Arity: -3, Flags: FlagWrite | FlagDenyOOM, Categories: CatString,
			Keys: all(KeyOW|KeyUpdate, 2), Tips: []string{"request_policy:multi_shard", "response_policy:all_succeeded"},
			Group: "string", Since: "1.0.1", Complexity: "O(N) where N is the number of keys to set.",
			Summary: "Set multiple keys to multiple values", Handler: cmdMSet,
			Args: []Arg{argBlock("key_value", argKey("key", 0), argString("value")).multiple()}},
		&Command{Name: "msetnx", Arity: -3, Flags: FlagWrite | FlagDenyOOM, Categories: CatString,
			Keys: all(KeyOW|KeyInsert, 2), Tips: []string{"request_policy:multi_shard", "response_policy:agg_min"},
			Group: "string", Since: "1.0.1", Complexity: "O(N) where N is the number of keys to set.",
			Summary: "Set multiple keys to multiple values, only if none of the keys exist", Handler: cmdMSet,
			Args: []Arg{argBlock("key_value", argKey("key", 0), argString("value")).multiple()}},
		&Command{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, Categories: CatString,
			Keys: one(KeyRW | KeyAccess | KeyDelete), Group: "string", Since: "6.2.0", Complexity: "O(1)",
			Summary: "Get the value of a key and delete the key", Handler: cmdGetDel,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, Categories: CatString,
			Keys: []KeySpec{{Notes: "RW and UPDATE because it changes the TTL",
				Flags: KeyRW | KeyAccess | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1}},
			Group: "string", Since: "6.2.0", Complexity: "O(1)",
			Summary: "Get the value of a key and optionally set its expiration", Handler: cmdGetEx,
			Args: []Arg{
				argKey("key", 0),
				argOneof("expiration",
					argInt("seconds").token("EX"),
					argInt("milliseconds").token("PX"),
					argUnixTime("unix-time-seconds").token("EXAT"),
					argUnixTime("unix-time-milliseconds").token("PXAT"),
					argToken("persist", "PERSIST")).optional(),
			}},
		&Command{Name: "append", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys: one(KeyRW | KeyInsert), Group: "string", Since: "2.0.0",
			Complexity: "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.",
			Summary:    "Append a value to a key", Handler: cmdAppend,
			Args: []Arg{argKey("key", 0), argString("value")}},
		&Command{Name: "strlen", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatString,
			Keys: one(KeyRO), Group: "string", Since: "2.2.0", Complexity: "O(1)",
			Summary: "Get the length of the value stored in a key", Handler: cmdStrlen,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Increment the integer value of a key by one", Handler: cmdIncrDecr,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "decr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Decrement the integer value of a key by one", Handler: cmdIncrDecr,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "incrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Increment the integer value of a key by the given amount", Handler: cmdIncrDecr,
			Args: []Arg{argKey("key", 0), argInt("increment")}},
		&Command{Name: "decrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Decrement the integer value of a key by the given number", Handler: cmdIncrDecr,
			Args: []Arg{argKey("key", 0), argInt("decrement")}},
		&Command{Name: "incrbyfloat", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "string", Since: "2.6.0", Complexity: "O(1)",
			Summary: "Increment the float value of a key by the given amount", Handler: cmdIncrByFloat,
			Args: []Arg{argKey("key", 0), argDouble("increment")}},
		&Command{Name: "getrange", Arity: 4, Flags: FlagReadonly, Categories: CatString,
			Keys: one(KeyRO | KeyAccess), Group: "string", Since: "2.4.0", Complexity: rangeComplexity,
			Summary: "Get a substring of the string stored at a key", Handler: cmdGetRange,
			Args: []Arg{argKey("key", 0), argInt("start"), argInt("end")}},
		&Command{Name: "setrange", Arity: 4, Flags: FlagWrite | FlagDenyOOM, Categories: CatString,
			Keys: one(KeyRW | KeyUpdate), Group: "string", Since: "2.2.0",
			Complexity: "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.",
			Summary:    "Overwrite part of a string at key starting at the specified offset", Handler: cmdSetRange,
			Args: []Arg{argKey("key", 0), argInt("offset"), argString("value")}},
		&Command{Name: "substr", Arity: 4, Flags: FlagReadonly, Categories: CatString,
			Keys: one(KeyRO | KeyAccess), Group: "string", Since: "1.0.0", Complexity: rangeComplexity,
			Summary: "Get a substring of the string stored at a key", Handler: cmdGetRange,
			DocFlags: []string{"deprecated"}, DeprecatedSince: "2.0.0", ReplacedBy: "`GETRANGE`",
			Args: []Arg{argKey("key", 0), argInt("start"), argInt("end")}},
		&Command{Name: "lcs", Arity: -3, Flags: FlagReadonly, Categories: CatString,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 1, KeyStep: 1}},
			Group: "string", Since: "7.0.0", Complexity: "O(N*M) where N and M are the lengths of s1 and s2, respectively",
			Summary: "Find longest common substring", Handler: cmdLCS,
			Args: []Arg{
				argKey("key1", 0),
				argKey("key2", 0),
				argToken("len", "LEN").optional(),
				argToken("idx", "IDX").optional(),
				argInt("len").token("MINMATCHLEN").optional(),
				argToken("withmatchlen", "WITHMATCHLEN").optional(),
			}},
	)
	t.applier(op.Set, applySet)
	t.applier(op.MSet, applyMSet)
	t.applier(op.GetDel, applyGetDel)
	t.applier(op.GetEx, applyGetEx)
	t.applier(op.Append, applyAppend)
	t.applier(op.SetRange, applySetRange)
	t.applier(op.IncrBy, applyIncrBy)
	t.applier(op.IncrByFloat, applyIncrByFloat)
}

// stringValue looks key up for a read: the value (nil if absent) or
// WRONGTYPE. It records the access, as Redis's lookupKeyRead does.
func stringValue(c *Ctx, db *keyspace.DB, key []byte) (*keyspace.Entry, error) {
	v := db.GetRead(key, c.Now())
	if v == nil {
		return nil, nil
	}
	if v.Kind() != keyspace.KindString {
		return nil, errWrongType
	}
	db.Touch(v, c.Now())
	return v, nil
}

// replyAfterLookup answers a command whose bad argument Redis reports only
// after looking the key up: WRONGTYPE for a key of another type, a null
// for a missing key if nullIfMissing, err otherwise. Nothing is proposed.
func replyAfterLookup(c *Ctx, nullIfMissing bool, err error) {
	c.read(func(db *keyspace.DB) {
		v, terr := stringValue(c, db, c.Args[1])
		switch {
		case terr != nil:
			c.W.Error(terr.Error())
		case v == nil && nullIfMissing:
			c.W.Null()
		default:
			c.W.Error(err.Error())
		}
	})
}

func cmdGet(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		v, err := stringValue(c, db, c.Args[1])
		switch {
		case err != nil:
			c.W.Error(err.Error())
		case v == nil:
			c.W.Null()
		default:
			if b, fixed := v.FixedBytes(); fixed {
				// Bytes that never change go to the client from where
				// they are: copying a 200 MB value into the reply held
				// every apply up, and took as much memory again.
				c.W.BulkRef(b)
				return
			}
			c.W.Bulk(v.Bytes())
		}
	})
}

// expireOpts are SET's and GETEX's expiry arguments, parsed as Redis's
// parseExtendedStringArgumentsOrReply does.
type expireOpts struct {
	flags    uint32 // op.FlagNX, FlagXX, FlagGet, FlagKeepTTL, FlagPersist
	unitMs   bool   // PX/PXAT
	absolute bool   // EXAT/PXAT
	expire   []byte // the time argument, nil if none
}

const (
	forSet   = 1
	forGetEx = 2
)

func parseExpireOpts(args [][]byte, kind int) (expireOpts, error) {
	var o expireOpts
	for j := 0; j < len(args); j++ {
		a := args[j]
		var next []byte
		if j+1 < len(args) {
			next = args[j+1]
		}
		hasTime := o.expire != nil
		unitMs, absolute := a[0] == 'P' || a[0] == 'p', len(a) == 4
		switch {
		case kind == forSet && eq(a, "NX") && o.flags&op.FlagXX == 0:
			o.flags |= op.FlagNX
		case kind == forSet && eq(a, "XX") && o.flags&op.FlagNX == 0:
			o.flags |= op.FlagXX
		case kind == forSet && eq(a, "GET"):
			o.flags |= op.FlagGet
		case kind == forSet && eq(a, "KEEPTTL") && !hasTime:
			o.flags |= op.FlagKeepTTL
		case kind == forGetEx && eq(a, "PERSIST") && !hasTime:
			o.flags |= op.FlagPersist
		case (eq(a, "EX") || eq(a, "PX") || eq(a, "EXAT") || eq(a, "PXAT")) &&
			o.flags&(op.FlagKeepTTL|op.FlagPersist) == 0 && next != nil &&
			(!hasTime || (o.unitMs == unitMs && o.absolute == absolute)):
			// Repeating the same option is allowed (the last wins); mixing
			// two kinds of expiry is not.
			o.unitMs, o.absolute = unitMs, absolute
			o.expire = next
			j++
		default:
			return o, errSyntax
		}
	}
	return o, nil
}

// deadline converts the parsed expiry to absolute unix ms at now, with
// Redis's errors (cmd names the command in the message).
func (o *expireOpts) deadline(now int64, cmd string) (int64, error) {
	ms, ok := parseInt(o.expire)
	if !ok {
		return 0, errNotInt
	}
	if ms <= 0 || (!o.unitMs && ms > math.MaxInt64/1000) {
		return 0, errorf(errInvalidExpire, cmd)
	}
	if !o.unitMs {
		ms *= 1000
	}
	if !o.absolute {
		if ms > math.MaxInt64-now {
			return 0, errorf(errInvalidExpire, cmd)
		}
		ms += now
	}
	return ms, nil
}

func cmdSet(c *Ctx) {
	o, err := parseExpireOpts(c.Args[3:], forSet)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	var deadline int64
	if o.expire != nil {
		if deadline, err = o.deadline(c.Now(), "set"); err != nil {
			c.W.Error(err.Error())
			return
		}
	}
	c.propose(&op.Op{Type: op.Set, DB: c.S.DB, Flags: o.flags, Int: deadline, Args: c.Args[1:3]})
}

func cmdSetNX(c *Ctx) {
	c.propose(&op.Op{Type: op.Set, DB: c.S.DB, Flags: op.FlagNX | op.FlagIntReply, Args: c.Args[1:3]})
}

// cmdSetEx serves SETEX key seconds value and PSETEX key ms value.
func cmdSetEx(c *Ctx) {
	o := expireOpts{unitMs: c.Cmd.Name == "psetex", expire: c.Args[2]}
	deadline, err := o.deadline(c.Now(), c.Cmd.Name)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.propose(&op.Op{Type: op.Set, DB: c.S.DB, Int: deadline, Args: [][]byte{c.Args[1], c.Args[3]}})
}

func cmdGetSet(c *Ctx) {
	c.propose(&op.Op{Type: op.Set, DB: c.S.DB, Flags: op.FlagGet, Args: c.Args[1:3]})
}

func applySet(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 2 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	key := o.Args[0]
	old := db.GetForWrite(key, o.Now)
	get := o.Flags&op.FlagGet != 0
	var prev any // GET's reply: the old value or nil
	if get {
		if old != nil && old.Kind() != keyspace.KindString {
			return errWrongType
		}
		if old != nil {
			prev = clone(old.Bytes())
		}
	}
	if (o.Flags&op.FlagNX != 0 && old != nil) || (o.Flags&op.FlagXX != 0 && old == nil) {
		switch {
		case get:
			return prev
		case o.Flags&op.FlagIntReply != 0:
			return int64(0)
		}
		return nil
	}
	deadline := o.Int
	if o.Flags&op.FlagKeepTTL != 0 && old != nil {
		deadline = db.Deadline(key)
	}
	v := keyspace.NewString(o.Args[1])
	if o.Owned {
		v = keyspace.AdoptString(o.Args[1])
	}
	db.Set(key, v, deadline)
	db.Notify(keyspace.EventString, "set", key)
	if o.Int != 0 && o.Flags&op.FlagKeepTTL == 0 {
		db.Notify(keyspace.EventGeneric, "expire", key)
	}
	switch {
	case get:
		return prev
	case o.Flags&op.FlagIntReply != 0:
		return int64(1)
	}
	return ok
}

func cmdAppend(c *Ctx) {
	c.propose(&op.Op{Type: op.Append, DB: c.S.DB, Args: c.Args[1:3]})
}

func applyAppend(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 2 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	key, add := o.Args[0], o.Args[1]
	v := db.GetForWrite(key, o.Now)
	switch {
	case v == nil:
		db.Set(key, keyspace.NewString(add), 0)
		db.Notify(keyspace.EventString, "append", key)
		return int64(len(add))
	case v.Kind() != keyspace.KindString:
		return errWrongType
	case len(v.Bytes()) > maxBulkLen-len(add):
		return errStringTooLong
	}
	n := db.Append(key, add) // in place: amortized O(1), keeps the TTL
	db.Notify(keyspace.EventString, "append", key)
	return int64(n)
}

func cmdStrlen(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		v, err := stringValue(c, db, c.Args[1])
		switch {
		case err != nil:
			c.W.Error(err.Error())
		case v == nil:
			c.W.Int(0)
		default:
			c.W.Int(int64(len(v.Bytes())))
		}
	})
}

// cmdGetRange serves GETRANGE and SUBSTR.
func cmdGetRange(c *Ctx) {
	start, ok1 := parseInt(c.Args[2])
	end, ok2 := parseInt(c.Args[3])
	if !ok1 || !ok2 {
		c.W.Error(errNotInt.Error())
		return
	}
	c.read(func(db *keyspace.DB) {
		v, err := stringValue(c, db, c.Args[1])
		switch {
		case err != nil:
			c.W.Error(err.Error())
		case v == nil:
			c.W.Bulk(nil)
		default:
			c.W.Bulk(substr(v.Bytes(), start, end))
		}
	})
}

// substr applies GETRANGE's index rules; the arithmetic wraps exactly as
// Redis's mix of size_t and long long does.
func substr(s []byte, start, end int64) []byte {
	n := int64(len(s))
	if start < 0 && end < 0 && start > end {
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return nil
	}
	return s[start : end+1]
}

func cmdSetRange(c *Ctx) {
	off, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt.Error())
		return
	}
	if off < 0 {
		c.W.Error("ERR offset is out of range")
		return
	}
	val := c.Args[3]
	if len(val) > 0 && off > int64(maxBulkLen-len(val)) {
		replyAfterLookup(c, false, errStringTooLong)
		return
	}
	c.propose(&op.Op{Type: op.SetRange, DB: c.S.DB, Int: off, Args: [][]byte{c.Args[1], val}})
}

func applySetRange(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 2 || o.Int < 0 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	key, val, off := o.Args[0], o.Args[1], o.Int
	v := db.GetForWrite(key, o.Now)
	switch {
	case v != nil && v.Kind() != keyspace.KindString:
		return errWrongType
	case len(val) == 0 && v == nil:
		return int64(0)
	case len(val) == 0:
		return int64(len(v.Bytes()))
	case off > int64(maxBulkLen-len(val)):
		return errStringTooLong
	case v == nil:
		b := make([]byte, int(off)+len(val))
		copy(b[off:], val)
		db.Set(key, keyspace.NewRawString(b), 0)
		db.Notify(keyspace.EventString, "setrange", key)
		return int64(len(b))
	}
	n := db.SetRange(key, int(off), val)
	db.Notify(keyspace.EventString, "setrange", key)
	return int64(n)
}

// clone copies a value for a reply (in pieces, as a 200 MB one would be
// one memmove no goroutine could be preempted in).
func clone(b []byte) []byte { return memcopy.Append([]byte{}, b) }

// setKeyFlags is Redis's setGetKeys: SET reads its key only with GET.
func setKeyFlags(args [][]byte) KeyFlag {
	for _, a := range args[min(3, len(args)):] {
		if eq(a, "GET") {
			return KeyRW | KeyAccess | KeyUpdate
		}
	}
	return KeyOW | KeyUpdate
}
