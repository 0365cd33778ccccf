package commands

import (
	"errors"

	"github.com/loomcache/loomcache/internal/hll"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// HyperLogLogs are string values holding Redis's own HLL bytes
// (internal/hll), so GET, SET, DUMP and the rest see what Redis holds.
// PFADD and PFMERGE are ops whose appliers hash and merge at apply time.
// PFCOUNT of one key rewrites the cached cardinality in the value's
// header, as Redis does: when the cache is stale the node proposes a
// PFCACHE op that counts and stores it, so every node holds the same
// bytes; a node that cannot propose (a READONLY follower, a lost leader)
// replies the count it read and leaves the cache stale.

var errNoHLLKey = errors.New("ERR The specified key does not exist")

func registerHLL(t *Table) {
	one := func(flags KeyFlag, at int) KeySpec {
		return KeySpec{Flags: flags, Index: at, LastKey: 0, KeyStep: 1}
	}
	t.add(
		&Command{Name: "pfadd", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatHyperLogLog,
			Keys: []KeySpec{one(KeyRW|KeyInsert, 1)}, Group: "hyperloglog", Since: "2.8.9", Complexity: "O(1) to add every element.",
			Summary: "Adds the specified elements to the specified HyperLogLog.", Handler: cmdPFAdd,
			Args: []Arg{argKey("key", 0), argString("element").optional().multiple()}},
		&Command{Name: "pfcount", Arity: -2, Flags: FlagReadonly | FlagMayReplicate, Categories: CatHyperLogLog,
			Keys: []KeySpec{{Notes: "RW because it may change the internal representation of the key, and propagate to replicas",
				Flags: KeyRW | KeyAccess, Index: 1, LastKey: -1, KeyStep: 1}},
			Group: "hyperloglog", Since: "2.8.9",
			Complexity: "O(1) with a very small average constant time when called with a single key. O(N) with N being the number of keys, and much bigger constant times, when called with multiple keys.",
			Summary:    "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", Handler: cmdPFCount,
			Args: []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "pfmerge", Arity: -2, Flags: FlagWrite | FlagDenyOOM, Categories: CatHyperLogLog,
			Keys:  []KeySpec{one(KeyRW|KeyAccess|KeyInsert, 1), {Flags: KeyRO | KeyAccess, Index: 2, LastKey: -1, KeyStep: 1}},
			Group: "hyperloglog", Since: "2.8.9", Complexity: "O(N) to merge N HyperLogLogs, but with high constant times.",
			Summary: "Merge N different HyperLogLogs into a single one.", Handler: cmdPFMerge,
			Args: []Arg{argKey("destkey", 0), argKey("sourcekey", 1).multiple()}},
		&Command{Name: "pfdebug", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagAdmin, Categories: CatHyperLogLog,
			Keys: []KeySpec{one(KeyRW|KeyAccess, 2)}, Group: "hyperloglog", Since: "2.8.9", Complexity: "N/A",
			Summary: "Internal commands for debugging HyperLogLog values", Handler: cmdPFDebug, DocFlags: []string{"syscmd"},
			Args: []Arg{argString("subcommand"), argKey("key", 0)}},
		&Command{Name: "pfselftest", Arity: 1, Flags: FlagAdmin, Categories: CatHyperLogLog,
			Group: "hyperloglog", Since: "2.8.9", Complexity: "N/A",
			Summary: "An internal command for testing HyperLogLog values", Handler: cmdPFSelfTest, DocFlags: []string{"syscmd"}},
	)
	t.applier(op.PFAdd, applyPFAdd)
	t.applier(op.PFMerge, applyPFMerge)
	t.applier(op.PFCache, applyPFCache)
	t.applier(op.PFDebug, applyPFDebug)
}

func sparseMax(ks *keyspace.Store) int64 { return ks.EncodingLimits().HllSparseMaxBytes }

// hllValue is key's HLL bytes for an applier (nil if the key is absent):
// WRONGTYPE for another kind, Redis's HLL errors for a string that is not
// a valid HLL.
func hllValue(e *keyspace.Entry) ([]byte, error) {
	if e.Kind() != keyspace.KindString {
		return nil, errWrongType
	}
	b := e.Bytes()
	return b, hll.Validate(b)
}

func cmdPFAdd(c *Ctx) {
	c.propose(&op.Op{Type: op.PFAdd, DB: c.S.DB, Args: c.Args[1:]})
}

func applyPFAdd(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	key, elems := o.Args[0], o.Args[1:]
	e := db.GetForWrite(key, o.Now)
	if e == nil {
		b, _, _ := hll.Add(hll.New(), elems, sparseMax(ks))
		hll.Invalidate(b)
		db.Set(key, keyspace.NewRawString(b), 0)
		db.Notify(keyspace.EventString, "pfadd", key)
		return int64(1)
	}
	b, err := hllValue(e)
	if err != nil {
		return err
	}
	if !hll.WouldChange(b, elems) {
		return int64(0)
	}
	var updated int
	db.EditString(key, func(b []byte) []byte {
		b, updated, err = hll.Add(b, elems, sparseMax(ks))
		if err == nil && updated > 0 {
			hll.Invalidate(b)
		}
		return b
	})
	switch {
	case err != nil:
		return err // what changed before the corruption was found stays, as in Redis
	case updated == 0: // WouldChange rules this out
		return int64(0)
	}
	db.Notify(keyspace.EventString, "pfadd", key)
	return int64(1)
}

func cmdPFCount(c *Ctx) {
	keys := c.Args[1:]
	if len(keys) > 1 {
		c.read(func(db *keyspace.DB) {
			var regs [hll.Registers]uint8
			for _, k := range keys {
				e, err := stringValue(c, db, k)
				if err == nil && e != nil {
					b := e.Bytes()
					if err = hll.Validate(b); err == nil {
						err = hll.MergeInto(&regs, b)
					}
				}
				if err != nil {
					c.W.Error(err.Error())
					return
				}
			}
			c.W.Int(int64(hll.CountRegisters(&regs)))
		})
		return
	}
	var card uint64
	stale := false
	c.read(func(db *keyspace.DB) {
		e, err := stringValue(c, db, keys[0])
		var b []byte
		if err == nil && e != nil {
			b = e.Bytes()
			err = hll.Validate(b)
		}
		switch {
		case err != nil:
			c.W.Error(err.Error())
			return
		case e == nil:
			c.W.Int(0)
			return
		}
		if n, ok := hll.Cached(b); ok {
			c.W.Int(int64(n))
			return
		}
		if card, err = hll.Count(b); err != nil {
			c.W.Error(err.Error())
			return
		}
		stale = true
	})
	if !stale {
		return
	}
	res, err := c.Node.Propose(&op.Op{Type: op.PFCache, DB: c.S.DB, Now: c.Now(), Args: keys})
	c.takeEarly()
	if err != nil {
		c.W.Int(int64(card)) // the count read stands; the cache stays stale
		return
	}
	writeResult(c.W, res)
}

func applyPFCache(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	key := o.Args[0]
	e := db.GetForWrite(key, o.Now)
	if e == nil {
		return int64(0)
	}
	b, err := hllValue(e)
	if err != nil {
		return err
	}
	if n, ok := hll.Cached(b); ok {
		return int64(n)
	}
	n, err := hll.Count(b)
	if err != nil {
		return err
	}
	db.EditString(key, func(b []byte) []byte { hll.SetCache(b, n); return b })
	return int64(n)
}

func cmdPFMerge(c *Ctx) {
	c.propose(&op.Op{Type: op.PFMerge, DB: c.S.DB, Args: c.Args[1:]})
}

func applyPFMerge(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	var regs [hll.Registers]uint8
	dense := false
	for _, k := range o.Args { // the destination merges too, as in Redis
		e := db.GetRead(k, o.Now)
		if e == nil {
			continue
		}
		db.Touch(e, o.Now)
		b, err := hllValue(e)
		if err == nil {
			dense = dense || !hll.IsSparse(b)
			err = hll.MergeInto(&regs, b)
		}
		if err != nil {
			return err
		}
	}
	dest := o.Args[0]
	var err error
	if db.GetForWrite(dest, o.Now) == nil {
		var b []byte
		b, err = hll.Store(hll.New(), &regs, dense, sparseMax(ks))
		db.Set(dest, keyspace.NewRawString(b), 0)
	} else {
		db.EditString(dest, func(b []byte) []byte {
			b, err = hll.Store(b, &regs, dense, sparseMax(ks))
			return b
		})
	}
	if err != nil {
		return err
	}
	db.Notify(keyspace.EventString, "pfadd", dest)
	return ok
}
