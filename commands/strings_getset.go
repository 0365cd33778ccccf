package commands

// The strings family's multi-key and get-and-change commands: MGET, MSET,
// MSETNX, GETDEL, GETEX (their table entries are in strings.go).

import (
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func cmdMGet(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		c.W.Array(len(c.Args) - 1)
		for _, k := range c.Args[1:] {
			// A key of another type reads as missing here, not WRONGTYPE.
			if v, _ := stringValue(c, db, k); v != nil {
				c.W.Bulk(v.Bytes())
			} else {
				c.W.Null()
			}
		}
	})
}

// cmdMSet serves MSET and MSETNX.
func cmdMSet(c *Ctx) {
	if len(c.Args)%2 == 0 {
		c.W.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	var flags uint32
	if c.Cmd.Name == "msetnx" {
		flags = op.FlagNX
	}
	c.propose(&op.Op{Type: op.MSet, DB: c.S.DB, Flags: flags, Args: c.Args[1:]})
}

func applyMSet(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args)%2 != 0 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	nx := o.Flags&op.FlagNX != 0
	if nx {
		for i := 0; i < len(o.Args); i += 2 {
			if db.GetForWrite(o.Args[i], o.Now) != nil {
				return int64(0)
			}
		}
	}
	for i := 0; i < len(o.Args); i += 2 {
		db.Set(o.Args[i], keyspace.NewString(o.Args[i+1]), 0)
		db.Notify(keyspace.EventString, "set", o.Args[i])
	}
	if nx {
		return int64(1)
	}
	return ok
}

func cmdGetDel(c *Ctx) {
	c.propose(&op.Op{Type: op.GetDel, DB: c.S.DB, Args: c.Args[1:2]})
}

func applyGetDel(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 1 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	v := db.GetForWrite(o.Args[0], o.Now)
	switch {
	case v == nil:
		return nil
	case v.Kind() != keyspace.KindString:
		return errWrongType
	}
	old := clone(v.Bytes())
	db.Delete(o.Args[0], o.Now)
	db.Notify(keyspace.EventGeneric, "del", o.Args[0])
	return old
}

// cmdGetEx is GET when it has no options; with an expiry or PERSIST it
// replies the value and then changes the deadline, in one op.
func cmdGetEx(c *Ctx) {
	o, err := parseExpireOpts(c.Args[2:], forGetEx)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	var deadline int64
	flags := o.flags
	switch {
	case o.expire != nil:
		// Redis reports a bad time only for an existing string key.
		if deadline, err = o.deadline(c.Now(), "getex"); err != nil {
			replyAfterLookup(c, true, err)
			return
		}
		flags |= op.FlagSetTTL
	case flags&op.FlagPersist == 0:
		cmdGet(c)
		return
	}
	c.propose(&op.Op{Type: op.GetEx, DB: c.S.DB, Flags: flags, Int: deadline, Args: c.Args[1:2]})
}

func applyGetEx(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 1 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	key := o.Args[0]
	v := db.GetForWrite(key, o.Now)
	switch {
	case v == nil:
		return nil
	case v.Kind() != keyspace.KindString:
		return errWrongType
	}
	val := clone(v.Bytes())
	switch {
	case o.Flags&op.FlagSetTTL != 0 && o.Int <= o.Now:
		db.Delete(key, o.Now) // EXAT/PXAT in the past
		db.Notify(keyspace.EventGeneric, "del", key)
	case o.Flags&op.FlagSetTTL != 0:
		db.SetDeadline(key, o.Int)
		db.Notify(keyspace.EventGeneric, "expire", key)
	case o.Flags&op.FlagPersist != 0 && db.Deadline(key) != 0:
		db.SetDeadline(key, 0)
		db.Notify(keyspace.EventGeneric, "persist", key)
	}
	return val
}
