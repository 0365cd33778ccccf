package commands

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/loomcache/loomcache/glob"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// The generic key commands (Redis's "generic" group, plus the database
// commands of the "server" group): this file holds the table entries and
// the commands on keys by name; keys_expire.go the TTL commands,
// keys_db.go those that cross databases, keys_object.go OBJECT.

// errSameObject is Redis's shared.sameobjecterr.
var errSameObject = errors.New("ERR source and destination objects are the same")

func registerKeys(t *Table) {
	specAllRM := []KeySpec{{Flags: KeyRM | KeyDelete, Index: 1, LastKey: -1, KeyStep: 1}}
	specAllRO := []KeySpec{{Flags: KeyRO, Index: 1, LastKey: -1, KeyStep: 1}}
	tipsMultiSum := []string{"request_policy:multi_shard", "response_policy:agg_sum"}
	t.add(
		&Command{Name: "del", Arity: -2, Flags: FlagWrite, Categories: CatKeyspace,
			Keys: specAllRM, Tips: tipsMultiSum, Group: "generic", Since: "1.0.0",
			Complexity: "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
			Summary:    "Delete a key", Handler: cmdDel,
			Args: []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "unlink", Arity: -2, Flags: FlagWrite | FlagFast, Categories: CatKeyspace,
			Keys: specAllRM, Tips: tipsMultiSum, Group: "generic", Since: "4.0.0",
			Complexity: "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
			Summary:    "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
			Handler:    cmdDel,
			Args:       []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "exists", Arity: -2, Flags: FlagReadonly | FlagFast, Categories: CatKeyspace,
			Keys: specAllRO, Tips: tipsMultiSum, Group: "generic", Since: "1.0.0",
			Complexity: "O(N) where N is the number of keys to check.",
			Summary:    "Determine if a key exists",
			History:    [][2]string{{"3.0.3", "Accepts multiple `key` arguments."}},
			Handler:    cmdExists,
			Args:       []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "type", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatKeyspace,
			Keys: []KeySpec{{Flags: KeyRO, Index: 1, LastKey: 0, KeyStep: 1}}, Group: "generic", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Determine the type stored at key", Handler: cmdType,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "rename", Arity: 3, Flags: FlagWrite, Categories: CatKeyspace,
			Keys: []KeySpec{
				{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1},
				{Flags: KeyOW | KeyUpdate, Index: 2, LastKey: 0, KeyStep: 1},
			},
			Group: "generic", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Rename a key", Handler: cmdRename,
			Args: []Arg{argKey("key", 0), argKey("newkey", 1)}},
		&Command{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, Categories: CatKeyspace,
			Keys: []KeySpec{
				{Flags: KeyRW | KeyAccess | KeyDelete, Index: 1, LastKey: 0, KeyStep: 1},
				{Flags: KeyOW | KeyInsert, Index: 2, LastKey: 0, KeyStep: 1},
			},
			Group: "generic", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Rename a key, only if the new key does not exist",
			History: [][2]string{{"3.2.0", "The command no longer returns an error when source and destination names are the same."}},
			Handler: cmdRename,
			Args:    []Arg{argKey("key", 0), argKey("newkey", 1)}},
		&Command{Name: "keys", Arity: 2, Flags: FlagReadonly, Categories: CatKeyspace | CatDangerous,
			Tips:  []string{"request_policy:all_shards", "nondeterministic_output_order"},
			Group: "generic", Since: "1.0.0",
			Complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
			Summary:    "Find all keys matching the given pattern", Handler: cmdKeys,
			Args: []Arg{argPattern("pattern")}},
		&Command{Name: "scan", Arity: -2, Flags: FlagReadonly, Categories: CatKeyspace,
			Tips:  []string{"nondeterministic_output", "request_policy:special"},
			Group: "generic", Since: "2.8.0",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
			Summary:    "Incrementally iterate the keys space",
			History:    [][2]string{{"6.0.0", "Added the `TYPE` subcommand."}},
			Handler:    cmdScan,
			Args: []Arg{
				argInt("cursor"),
				argPattern("pattern").token("MATCH").optional(),
				argInt("count").token("COUNT").optional(),
				argString("type").token("TYPE").since("6.0.0").optional(),
			}},
		&Command{Name: "randomkey", Arity: 1, Flags: FlagReadonly, Categories: CatKeyspace,
			Tips:  []string{"request_policy:all_shards", "nondeterministic_output"},
			Group: "generic", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Return a random key from the keyspace", Handler: cmdRandomKey},
		&Command{Name: "touch", Arity: -2, Flags: FlagReadonly | FlagFast, Categories: CatKeyspace,
			Keys: specAllRO, Tips: tipsMultiSum, Group: "generic", Since: "3.2.1",
			Complexity: "O(N) where N is the number of keys that will be touched.",
			Summary:    "Alters the last access time of a key(s). Returns the number of existing keys specified.",
			Handler:    cmdTouch,
			Args:       []Arg{argKey("key", 0).multiple()}},
	)
	registerExpire(t)
	registerKeysDB(t)
	registerObject(t)
	t.applier(op.Del, applyDel)
	t.applier(op.Rename, applyRename)
	t.applier(op.ExpireKeys, t.applyExpireKeys)
}

// cmdDel serves DEL and UNLINK: freeing memory in the background is the
// Go runtime's business either way.
func cmdDel(c *Ctx) {
	c.propose(&op.Op{Type: op.Del, DB: c.S.DB, Args: c.Args[1:]})
}

func applyDel(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	var n int64
	for _, k := range o.Args {
		if db.Delete(k, o.Now) {
			db.Notify(keyspace.EventGeneric, "del", k)
			n++
		}
	}
	return n
}

// applyExpireKeys deletes the keys that are expired at the op's time,
// and counts them; a key given a new deadline since the leader sampled
// it survives.
func (t *Table) applyExpireKeys(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	var n int64
	for _, k := range o.Args {
		if d := db.Deadline(k); d != 0 && d <= o.Now {
			db.Delete(k, o.Now)
			n++
		}
	}
	t.evict.expired.Add(n)
	return n
}

// cmdExists counts a key named twice twice, as Redis does. Like Redis's
// LOOKUP_NOTOUCH lookups, it leaves the access time alone.
func cmdExists(c *Ctx) {
	var n int64
	ok := c.read(func(db *keyspace.DB) {
		for _, k := range c.Args[1:] {
			if db.GetRead(k, c.Now()) != nil {
				n++
			}
		}
	})
	if ok {
		c.W.Int(n)
	}
}

func cmdType(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		if v := db.GetRead(c.Args[1], c.Now()); v != nil {
			c.W.Status(v.Kind().String())
			return
		}
		c.W.Status("none")
	})
}

// cmdTouch updates the access time OBJECT IDLETIME reports, on this node
// only: access times are local, as they are on a Redis replica.
func cmdTouch(c *Ctx) {
	var n int64
	ok := c.read(func(db *keyspace.DB) {
		for _, k := range c.Args[1:] {
			if v := db.GetRead(k, c.Now()); v != nil {
				db.Touch(v, c.Now())
				n++
			}
		}
	})
	if ok {
		c.W.Int(n)
	}
}

func cmdRename(c *Ctx) {
	var flags uint32
	if c.Cmd.Name == "renamenx" {
		flags = op.FlagNX
	}
	c.propose(&op.Op{Type: op.Rename, DB: c.S.DB, Flags: flags, Args: c.Args[1:3]})
}

// applyRename follows renameGenericCommand: the value moves with its
// deadline; a destination's own deadline goes with its old value.
func applyRename(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	src, dst := o.Args[0], o.Args[1]
	nx := o.Flags&op.FlagNX != 0
	v := db.GetForWrite(src, o.Now)
	if v == nil {
		return errNoSuchKey
	}
	if bytes.Equal(src, dst) {
		if nx {
			return int64(0)
		}
		return ok
	}
	if db.GetForWrite(dst, o.Now) != nil {
		if nx {
			return int64(0)
		}
		// As Redis: the old key goes first, so the new one is "new".
		db.Delete(dst, o.Now)
	}
	db.Set(dst, v.Value(), db.Deadline(src))
	db.Delete(src, o.Now)
	db.Notify(keyspace.EventGeneric, "rename_from", src)
	db.Notify(keyspace.EventGeneric, "rename_to", dst)
	if nx {
		return int64(1)
	}
	return ok
}

func cmdKeys(c *Ctx) {
	pattern := string(c.Args[1])
	all := pattern == "*" // as Redis, "*" matches without the matcher (and so matches "")
	var keys []string
	ok := c.read(func(db *keyspace.DB) {
		db.Each(c.Now(), func(k string, _ *keyspace.Entry) bool {
			if all || glob.MatchString(pattern, k, false) {
				keys = append(keys, k)
			}
			return true
		})
	})
	if !ok {
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
	}
}

// parseCursor reads a SCAN cursor as Redis's parseScanCursorOrReply does
// with strtoul: an optional sign ("-1" wraps around), decimal digits, no
// leading space, nothing after; the empty string is cursor 0.
func parseCursor(b []byte) (uint64, bool) {
	s := cstr(b)
	if len(s) == 0 {
		return 0, true
	}
	neg := false
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		neg, s = true, s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// cstr is b as a C string sees it: up to the first NUL byte.
func cstr(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// scanOptions are SCAN's and its kin's COUNT, MATCH and (SCAN's) TYPE.
type scanOptions struct {
	count               int64
	pattern, typeName   string
	usePattern, useType bool
}

// parseScanOptions reads the options after the cursor as Redis's
// scanGenericCommand does, returning the error reply when they are wrong.
func parseScanOptions(args [][]byte, typeAllowed bool) (o scanOptions, msg string) {
	o.count = 10
	for i := 0; i < len(args); i += 2 {
		a, more := args[i], len(args)-i-1
		switch {
		case eq(a, "COUNT") && more >= 1:
			n, ok := parseInt(args[i+1])
			if !ok {
				return o, errNotInt.Error()
			}
			if n < 1 {
				return o, errSyntax.Error()
			}
			o.count = n
		case eq(a, "MATCH") && more >= 1:
			o.pattern = string(args[i+1])
			o.usePattern = o.pattern != "*"
		case typeAllowed && eq(a, "TYPE") && more >= 1:
			o.typeName, o.useType = string(cstr(args[i+1])), true
		default:
			return o, errSyntax.Error()
		}
	}
	return o, ""
}

// writeScan writes a collection scan's reply (SSCAN, HSCAN, ZSCAN): the
// cursor to go on from and the items.
func writeScan(c *Ctx, next uint64, items [][]byte) {
	c.W.Array(2)
	c.W.Bulk(strconv.AppendUint(nil, next, 10))
	c.W.Array(len(items))
	for _, b := range items {
		c.W.Bulk(b)
	}
}

func cmdScan(c *Ctx) {
	cursor, valid := parseCursor(c.Args[1])
	if !valid {
		c.W.Error("ERR invalid cursor")
		return
	}
	o, msg := parseScanOptions(c.Args[2:], true)
	if msg != "" {
		c.W.Error(msg)
		return
	}
	count, usePattern, useType := o.count, o.usePattern, o.useType
	pat, typ := o.pattern, o.typeName
	var keys []string
	var next uint64
	ok := c.read(func(db *keyspace.DB) {
		n := int(min(count, int64(db.Len())+1))
		next = db.Scan(cursor, n, c.Now(), func(k string, v *keyspace.Entry) {
			if usePattern && !glob.MatchString(pat, k, false) {
				return
			}
			if useType && !strings.EqualFold(typ, v.Kind().String()) {
				return
			}
			keys = append(keys, k)
		})
	})
	if !ok {
		return
	}
	c.W.Array(2)
	var buf [20]byte
	c.W.Bulk(strconv.AppendUint(buf[:0], next, 10))
	c.W.Array(len(keys))
	for _, k := range keys {
		c.W.BulkString(k)
	}
}

func cmdRandomKey(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		if k, ok := db.RandomKey(c.Now()); ok {
			c.W.BulkString(k)
			return
		}
		c.W.Null()
	})
}
