package commands

import (
	"math"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func registerStrings(t *Table) {
	rangeKey := []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1}}
	t.add(
		&Command{Name: "get", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatString,
			Keys: rangeKey, Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Returns the string value of a key.", Handler: cmdGet},
		&Command{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, Categories: CatString,
			Keys: []KeySpec{{Notes: "RW and ACCESS due to the optional `GET` argument",
				Flags: KeyRW | KeyAccess | KeyUpdate | KeyVariableFlags, Index: 1, LastKey: 0, KeyStep: 1}},
			Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
			Handler: cmdSet},
	)
	t.applier(op.Set, applySet)
}

func cmdGet(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		v := db.Get(c.Args[1], c.Now())
		switch {
		case v == nil:
			c.W.Null()
		case v.Kind() != keyspace.KindString:
			c.W.Error(errWrongType.Error())
		default:
			v.Touch(c.Now())
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
			o.flags&(op.FlagKeepTTL|op.FlagPersist) == 0 && !hasTime && next != nil:
			o.unitMs = a[1] == 'X' || a[1] == 'x'
			o.absolute = len(a) == 4
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

func applySet(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	key := o.Args[0]
	old := db.GetForWrite(key, o.Now)
	var reply any = ok
	if o.Flags&op.FlagGet != 0 {
		if old != nil && old.Kind() != keyspace.KindString {
			return errWrongType
		}
		reply = nil
		if old != nil {
			reply = clone(old.Bytes())
		}
	}
	if (o.Flags&op.FlagNX != 0 && old != nil) || (o.Flags&op.FlagXX != 0 && old == nil) {
		if o.Flags&op.FlagGet != 0 {
			return reply
		}
		return nil
	}
	deadline := o.Int
	if o.Flags&op.FlagKeepTTL != 0 && old != nil {
		deadline = db.Deadline(key)
	}
	db.Set(key, keyspace.NewString(o.Args[1]), deadline)
	return reply
}

func clone(b []byte) []byte { return append([]byte{}, b...) }
