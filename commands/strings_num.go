package commands

import (
	"errors"
	"math"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

var errNaNOrInf = errors.New("ERR increment would produce NaN or Infinity")

// cmdIncrDecr serves INCR, DECR, INCRBY and DECRBY as one IncrBy op.
func cmdIncrDecr(c *Ctx) {
	delta := int64(1)
	if len(c.Args) == 3 {
		var ok bool
		if delta, ok = parseInt(c.Args[2]); !ok {
			c.W.Error(errNotInt.Error())
			return
		}
	}
	if c.Cmd.Name[0] == 'd' {
		if delta == math.MinInt64 {
			c.W.Error("ERR decrement would overflow")
			return
		}
		delta = -delta
	}
	c.propose(&op.Op{Type: op.IncrBy, DB: c.S.DB, Int: delta, Args: c.Args[1:2]})
}

func applyIncrBy(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 1 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	key, delta := o.Args[0], o.Int
	v := db.GetForWrite(key, o.Now)
	var cur int64
	if v != nil {
		if v.Kind() != keyspace.KindString {
			return errWrongType
		}
		var ok bool
		if cur, ok = parseInt(v.Bytes()); !ok {
			return errNotInt
		}
	}
	if (delta < 0 && cur < 0 && delta < math.MinInt64-cur) ||
		(delta > 0 && cur > 0 && delta > math.MaxInt64-cur) {
		return errOverflow
	}
	cur += delta
	if v == nil {
		db.Set(key, keyspace.NewInt(cur), 0)
	} else {
		db.Replace(key, keyspace.NewInt(cur)) // keeps the TTL
	}
	db.Notify(keyspace.EventString, "incrby", key)
	return cur
}

func cmdIncrByFloat(c *Ctx) {
	if _, ok := parseLongDouble(c.Args[2]); !ok {
		// Redis checks the key's type before it parses the increment.
		replyAfterLookup(c, false, errNotFloat)
		return
	}
	c.propose(&op.Op{Type: op.IncrByFloat, DB: c.S.DB, Args: c.Args[1:3]})
}

func applyIncrByFloat(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 2 {
		return errBadOp
	}
	db := ks.DB(o.DB)
	key := o.Args[0]
	v := db.GetForWrite(key, o.Now)
	cur := newLongDouble() // a missing key counts as 0
	if v != nil {
		if v.Kind() != keyspace.KindString {
			return errWrongType
		}
		var ok bool
		if cur, ok = parseLongDouble(v.Bytes()); !ok {
			return errNotFloat
		}
	}
	incr, ok := parseLongDouble(o.Args[1])
	if !ok {
		return errNotFloat
	}
	sum, ok := addLongDouble(cur, incr)
	if !ok {
		return errNaNOrInf
	}
	text := formatLongDouble(sum)
	// Stored as createStringObject leaves it: "3" is embstr, not int.
	if v == nil {
		db.Set(key, keyspace.NewStringObject(text), 0)
	} else {
		db.Replace(key, keyspace.NewStringObject(text))
	}
	db.Notify(keyspace.EventString, "incrbyfloat", key)
	return text
}
