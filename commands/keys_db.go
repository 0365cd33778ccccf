package commands

import (
	"bytes"
	"errors"
	"math"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// The commands that work across databases: COPY, MOVE, SWAPDB, FLUSHDB,
// FLUSHALL.

func registerKeysDB(t *Table) {
	flushHistory := [][2]string{
		{"4.0.0", "Added the `ASYNC` flushing mode modifier."},
		{"6.2.0", "Added the `SYNC` flushing mode modifier."},
	}
	t.add(
		&Command{Name: "copy", Arity: -3, Flags: FlagWrite | FlagDenyOOM, Categories: CatKeyspace,
			Keys: []KeySpec{
				{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1},
				{Flags: KeyOW | KeyUpdate, Index: 2, LastKey: 0, KeyStep: 1},
			},
			Group: "generic", Since: "6.2.0",
			Complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
			Summary:    "Copy a key", Handler: cmdCopy,
			Args: []Arg{
				argKey("source", 0),
				argKey("destination", 1),
				argInt("destination-db").token("DB").optional(),
				argToken("replace", "REPLACE").optional(),
			}},
		&Command{Name: "move", Arity: 3, Flags: FlagWrite | FlagFast, Categories: CatKeyspace,
			Keys:  []KeySpec{{Flags: KeyRW | KeyAccess | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1}},
			Group: "generic", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Move a key to another database", Handler: cmdMove,
			Args: []Arg{argKey("key", 0), argInt("db")}},
		&Command{Name: "swapdb", Arity: 3, Flags: FlagWrite | FlagFast, Categories: CatKeyspace | CatDangerous,
			Group: "server", Since: "4.0.0",
			Complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.",
			Summary:    "Swaps two Redis databases", Handler: cmdSwapDB,
			Args: []Arg{argInt("index1"), argInt("index2")}},
		&Command{Name: "flushdb", Arity: -1, Flags: FlagWrite, Categories: CatKeyspace | CatDangerous,
			Tips:  []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			Group: "server", Since: "1.0.0",
			Complexity: "O(N) where N is the number of keys in the selected database",
			Summary:    "Remove all keys from the current database", History: flushHistory, Handler: cmdFlush,
			Args: []Arg{
				argOneof("async",
					argToken("async", "ASYNC").since("4.0.0"),
					argToken("sync", "SYNC").since("6.2.0")).optional(),
			}},
		&Command{Name: "flushall", Arity: -1, Flags: FlagWrite, Categories: CatKeyspace | CatDangerous,
			Tips:  []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			Group: "server", Since: "1.0.0",
			Complexity: "O(N) where N is the total number of keys in all databases",
			Summary:    "Remove all keys from all databases", History: flushHistory, Handler: cmdFlush,
			Args: []Arg{
				argOneof("async",
					argToken("async", "ASYNC").since("4.0.0"),
					argToken("sync", "SYNC").since("6.2.0")).optional(),
			}},
	)
	t.applier(op.Copy, applyCopy)
	t.applier(op.Move, applyMove)
	t.applier(op.SwapDB, applySwapDB)
	t.applier(op.FlushDB, applyFlushDB)
	t.applier(op.FlushAll, applyFlushAll)
}

var errIntRange = errors.New("ERR value is out of range, value must between -2147483648 and 2147483647")

// parseIntArg is Redis's getIntFromObjectOrReply: a long long that must
// fit an int. msg, when not empty, replaces both errors.
func parseIntArg(b []byte, msg string) (int, error) {
	n, ok := parseInt(b)
	switch {
	case ok && n >= math.MinInt32 && n <= math.MaxInt32:
		return int(n), nil
	case msg != "":
		return 0, errors.New(msg)
	case !ok:
		return 0, errNotInt
	}
	return 0, errIntRange
}

// dbIndex parses a database index and checks that it exists.
func (c *Ctx) dbIndex(b []byte) (int, error) {
	i, err := parseIntArg(b, "")
	if err != nil {
		return 0, err
	}
	if i < 0 || i >= c.Node.Store().NumDBs() {
		return 0, errDBIndex
	}
	return i, nil
}

// cmdCopy checks its options in order, as copyCommand does, so the first
// bad one decides the error.
func cmdCopy(c *Ctx) {
	dst := c.S.DB
	var flags uint32
	for j := 3; j < len(c.Args); j++ {
		switch a := c.Args[j]; {
		case eq(a, "REPLACE"):
			flags |= op.FlagReplace
		case eq(a, "DB") && j+1 < len(c.Args):
			i, err := c.dbIndex(c.Args[j+1])
			if err != nil {
				c.W.Error(err.Error())
				return
			}
			dst = i
			j++
		default:
			c.W.Error(errSyntax.Error())
			return
		}
	}
	if dst == c.S.DB && bytes.Equal(c.Args[1], c.Args[2]) {
		c.W.Error(errSameObject.Error())
		return
	}
	c.propose(&op.Op{Type: op.Copy, DB: c.S.DB, Flags: flags, Int: int64(dst), Args: c.Args[1:3]})
}

// validDB reports whether an op's database index exists; appliers check
// the ones handlers validated so a damaged op cannot crash a node.
func validDB(ks *keyspace.Store, i int64) bool { return i >= 0 && i < int64(ks.NumDBs()) }

// applyCopy duplicates the value with its deadline; REPLACE drops the
// destination's value and deadline.
func applyCopy(ks *keyspace.Store, o *op.Op) any {
	if !validDB(ks, o.Int) {
		return errDBIndex
	}
	src, dst := ks.DB(o.DB), ks.DB(int(o.Int))
	v := src.GetForWrite(o.Args[0], o.Now)
	if v == nil {
		return int64(0)
	}
	if dst.GetForWrite(o.Args[1], o.Now) != nil {
		if o.Flags&op.FlagReplace == 0 {
			return int64(0)
		}
		dst.Delete(o.Args[1], o.Now) // as Redis: the copy is a "new" key
	}
	dst.Set(o.Args[1], v.Clone(), src.Deadline(o.Args[0]))
	dst.Notify(keyspace.EventGeneric, "copy_to", o.Args[1])
	return int64(1)
}

func cmdMove(c *Ctx) {
	dst, err := c.dbIndex(c.Args[2])
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	if dst == c.S.DB {
		c.W.Error(errSameObject.Error())
		return
	}
	c.propose(&op.Op{Type: op.Move, DB: c.S.DB, Int: int64(dst), Args: c.Args[1:2]})
}

// applyMove moves the value with its deadline unless the destination
// database has the key.
func applyMove(ks *keyspace.Store, o *op.Op) any {
	if !validDB(ks, o.Int) || o.Int == int64(o.DB) {
		return errDBIndex
	}
	src, dst := ks.DB(o.DB), ks.DB(int(o.Int))
	key := o.Args[0]
	v := src.GetForWrite(key, o.Now)
	if v == nil {
		return int64(0)
	}
	if dst.GetForWrite(key, o.Now) != nil {
		return int64(0)
	}
	dst.Set(key, v.Value(), src.Deadline(key))
	src.Delete(key, o.Now)
	src.Notify(keyspace.EventGeneric, "move_from", key)
	dst.Notify(keyspace.EventGeneric, "move_to", key)
	return int64(1)
}

func cmdSwapDB(c *Ctx) {
	a, err := parseIntArg(c.Args[1], "ERR invalid first DB index")
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	b, err := parseIntArg(c.Args[2], "ERR invalid second DB index")
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	if n := c.Node.Store().NumDBs(); a < 0 || a >= n || b < 0 || b >= n {
		c.W.Error(errDBIndex.Error())
		return
	}
	c.propose(&op.Op{Type: op.SwapDB, DB: a, Int: int64(b)})
}

func applySwapDB(ks *keyspace.Store, o *op.Op) any {
	if !validDB(ks, o.Int) {
		return errDBIndex
	}
	ks.Swap(o.DB, int(o.Int))
	return ok
}

// cmdFlush serves FLUSHDB and FLUSHALL. ASYNC and SYNC are accepted and
// mean the same: the op empties the databases at once either way.
func cmdFlush(c *Ctx) {
	if len(c.Args) > 2 || (len(c.Args) == 2 && !eq(c.Args[1], "ASYNC") && !eq(c.Args[1], "SYNC")) {
		c.W.Error(errSyntax.Error())
		return
	}
	typ := op.FlushDB
	if c.Cmd.Name == "flushall" {
		typ = op.FlushAll
	}
	c.propose(&op.Op{Type: typ, DB: c.S.DB})
}

func applyFlushDB(ks *keyspace.Store, o *op.Op) any {
	ks.FlushDB(o.DB)
	return ok
}

func applyFlushAll(ks *keyspace.Store, _ *op.Op) any {
	ks.FlushAll()
	return ok
}
