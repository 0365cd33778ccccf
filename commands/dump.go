package commands

import (
	"bytes"
	"errors"
	"strconv"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/rdb"
)

// DUMP and RESTORE in Redis 7.0's payload format (package rdb). RESTORE
// is one op carrying the payload: the proposer checks it (so a bad one is
// refused before anything is proposed) and every node decodes it alike
// on apply, with the deadline made absolute on the proposer.

func registerDump(t *Table) {
	t.add(
		&Command{Name: "dump", Arity: 2, Flags: FlagReadonly, Categories: CatKeyspace,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1}},
			Tips:  []string{"nondeterministic_output"},
			Group: "generic", Since: "2.6.0",
			Complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
			Summary:    "Return a serialized version of the value stored at the specified key.", Handler: cmdDump,
			Args: []Arg{argKey("key", 0)}},
		&Command{Name: "restore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, Categories: CatKeyspace | CatDangerous,
			Keys:  []KeySpec{{Flags: KeyOW | KeyUpdate, Index: 1, LastKey: 0, KeyStep: 1}},
			Group: "generic", Since: "2.6.0",
			Complexity: "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
			Summary:    "Create a key using the provided serialized value, previously obtained using DUMP.",
			History: [][2]string{
				{"3.0.0", "Added the `REPLACE` modifier."},
				{"5.0.0", "Added the `ABSTTL` modifier."},
				{"5.0.0", "Added the `IDLETIME` and `FREQ` options."},
			},
			Handler: cmdRestore,
			Args: []Arg{
				argKey("key", 0),
				argInt("ttl"),
				argString("serialized-value"),
				argToken("replace", "REPLACE").since("3.0.0").optional(),
				argToken("absttl", "ABSTTL").since("5.0.0").optional(),
				argInt("seconds").token("IDLETIME").since("5.0.0").optional(),
				argInt("frequency").token("FREQ").since("5.0.0").optional(),
			}},
	)
	t.applier(op.Restore, applyRestore)
}

var (
	errBusyKey     = errors.New("BUSYKEY Target key name already exists.")
	errRestoreTTL  = errors.New("ERR Invalid TTL value, must be >= 0")
	errRestoreIdle = errors.New("ERR Invalid IDLETIME value, must be >= 0")
	errRestoreFreq = errors.New("ERR Invalid FREQ value, must be >= 0 and <= 255")
)

func cmdDump(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		e := db.Get(c.Args[1], c.Now())
		if e == nil {
			c.W.Null()
			return
		}
		c.W.Bulk(rdb.Payload(dumpBody(e, c.Now())))
	})
}

// cmdRestore checks in restoreCommand's order: the options, the key's
// absence (unless REPLACE), the TTL, the payload's footer, its contents.
// The apply checks the key again, where it counts.
func cmdRestore(c *Ctx) {
	var flags uint32
	absTTL := false
	access := ""
	idleSet, freqSet := false, false
	for j := 4; j < len(c.Args); j++ {
		more := j+1 < len(c.Args)
		switch a := c.Args[j]; {
		case eq(a, "REPLACE"):
			flags |= op.FlagReplace
		case eq(a, "ABSTTL"):
			absTTL = true
		case eq(a, "IDLETIME") && more && !freqSet:
			n, ok := parseInt(c.Args[j+1])
			if !ok {
				c.W.Error(errNotInt.Error())
				return
			}
			if n < 0 {
				c.W.Error(errRestoreIdle.Error())
				return
			}
			access, idleSet = "idle:"+strconv.FormatInt(n, 10), true
			j++
		case eq(a, "FREQ") && more && !idleSet:
			n, ok := parseInt(c.Args[j+1])
			if !ok {
				c.W.Error(errNotInt.Error())
				return
			}
			if n < 0 || n > 255 {
				c.W.Error(errRestoreFreq.Error())
				return
			}
			access, freqSet = "freq:"+strconv.FormatInt(n, 10), true
			j++
		default:
			c.W.Error(errSyntax.Error())
			return
		}
	}
	// Redis answers BUSYKEY before looking at the TTL and the payload.
	// The apply decides BUSYKEY for a RESTORE that is proposed, so that a
	// retry of one already applied is answered by the request id's
	// memory (raftfsm's dedup), not refused by a look at the keyspace;
	// the keyspace is looked at here only to order the errors of a
	// RESTORE that proposes nothing.
	ttl, err := restoreTTL(c.Args[2], c.Args[3])
	if err != nil {
		if flags&op.FlagReplace == 0 && c.keyExists(c.Args[1]) {
			err = errBusyKey
		}
		c.W.Error(err.Error())
		return
	}
	now := c.Now()
	deadline := ttl
	if ttl != 0 && !absTTL {
		deadline = ttl + now
	}
	limits := strconv.FormatInt(nodeLimits(c), 10)
	c.propose(&op.Op{Type: op.Restore, DB: c.S.DB, Now: now, Flags: flags, Int: deadline,
		Args: [][]byte{c.Args[1], c.Args[3], []byte(access), []byte(limits)}})
}

// restoreTTL checks RESTORE's TTL and payload, in Redis's order.
func restoreTTL(arg, payload []byte) (int64, error) {
	ttl, ok := parseInt(arg)
	if !ok {
		return 0, errNotInt
	}
	if ttl < 0 {
		return 0, errRestoreTTL
	}
	if _, err := rdb.DecodePayload(payload); err != nil {
		return 0, err
	}
	return ttl, nil
}

// keyExists reports whether the key is present now, for the order of
// RESTORE's errors only: the apply decides.
func (c *Ctx) keyExists(key []byte) bool {
	ks := c.Node.Store()
	ks.RLock()
	defer ks.RUnlock()
	return ks.DB(c.S.DB).Exists(key, c.Now())
}

// applyRestore stores the payload's value. An already expired deadline
// stores nothing (and REPLACE's delete of the old value stands), as
// Redis's checkAlreadyExpired.
func applyRestore(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	key := o.Args[0]
	exists := db.GetForWrite(key, o.Now) != nil
	if exists && o.Flags&op.FlagReplace == 0 {
		return errBusyKey
	}
	v, err := rdb.DecodePayload(o.Args[1])
	if err != nil {
		return err
	}
	packed, _ := strconv.ParseInt(string(o.Args[3]), 10, 64)
	lim := opLimits(ks, &op.Op{Int: packed})
	val, err := restoreValue(v, lim, o.Now)
	if err != nil {
		return err
	}
	if exists {
		db.Delete(key, o.Now)
	}
	if o.Int != 0 && o.Int <= o.Now {
		if exists {
			db.Notify(keyspace.EventGeneric, "del", key)
		}
		return ok
	}
	db.Set(key, val, o.Int)
	if e := db.GetForWrite(key, o.Now); e != nil {
		idle, freq := int64(-1), -1
		if a, found := bytes.CutPrefix(o.Args[2], []byte("idle:")); found {
			idle, _ = strconv.ParseInt(string(a), 10, 64)
		} else if a, found := bytes.CutPrefix(o.Args[2], []byte("freq:")); found {
			f, _ := strconv.Atoi(string(a))
			freq = f
		}
		db.SetAccess(e, o.Now, idle, freq)
	}
	db.Notify(keyspace.EventGeneric, "restore", key)
	return ok
}
