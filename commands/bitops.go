package commands

import (
	"errors"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// The bitmap family: SETBIT GETBIT BITCOUNT BITPOS BITOP here, BITFIELD
// and BITFIELD_RO in bitfield.go, the appliers and bit arithmetic in
// bitops_apply.go. A bitmap is a string; bit 0 is the most significant
// bit of the first byte, as in Redis.

var (
	errBitOffset = errors.New("ERR bit offset is not an integer or out of range")
	errBitValue  = errors.New("ERR bit is not an integer or out of range")
)

func registerBitops(t *Table) {
	one := func(flags KeyFlag) []KeySpec {
		return []KeySpec{{Flags: flags, Index: 1, LastKey: 0, KeyStep: 1}}
	}
	unit := argOneof("index_unit", argToken("byte", "BYTE"), argToken("bit", "BIT")).optional().since("7.0.0")
	unitHistory := [][2]string{{"7.0.0", "Added the `BYTE|BIT` option."}}
	t.add(
		&Command{Name: "setbit", Arity: 4, Flags: FlagWrite | FlagDenyOOM, Categories: CatBitmap,
			Keys: one(KeyRW | KeyAccess | KeyUpdate), Group: "bitmap", Since: "2.2.0", Complexity: "O(1)",
			Summary: "Sets or clears the bit at offset in the string value stored at key", Handler: cmdSetBit,
			Args: []Arg{argKey("key", 0), argInt("offset"), argInt("value")}},
		&Command{Name: "getbit", Arity: 3, Flags: FlagReadonly | FlagFast, Categories: CatBitmap,
			Keys: one(KeyRO | KeyAccess), Group: "bitmap", Since: "2.2.0", Complexity: "O(1)",
			Summary: "Returns the bit value at offset in the string value stored at key", Handler: cmdGetBit,
			Args: []Arg{argKey("key", 0), argInt("offset")}},
		&Command{Name: "bitcount", Arity: -2, Flags: FlagReadonly, Categories: CatBitmap,
			Keys: one(KeyRO | KeyAccess), Group: "bitmap", Since: "2.6.0", Complexity: "O(N)",
			Summary: "Count set bits in a string", Handler: cmdBitCount, History: unitHistory,
			Args: []Arg{argKey("key", 0), argBlock("index", argInt("start"), argInt("end"), unit).optional()}},
		&Command{Name: "bitpos", Arity: -3, Flags: FlagReadonly, Categories: CatBitmap,
			Keys: one(KeyRO | KeyAccess), Group: "bitmap", Since: "2.8.7", Complexity: "O(N)",
			Summary: "Find first bit set or clear in a string", Handler: cmdBitPos, History: unitHistory,
			Args: []Arg{argKey("key", 0), argInt("bit"),
				argBlock("index", argInt("start"), argBlock("end_index", argInt("end"), unit).optional()).optional()}},
		&Command{Name: "bitop", Arity: -4, Flags: FlagWrite | FlagDenyOOM, Categories: CatBitmap,
			Keys: []KeySpec{
				{Flags: KeyOW | KeyUpdate, Index: 2, LastKey: 0, KeyStep: 1},
				{Flags: KeyRO | KeyAccess, Index: 3, LastKey: -1, KeyStep: 1},
			},
			Group: "bitmap", Since: "2.6.0", Complexity: "O(N)",
			Summary: "Perform bitwise operations between strings", Handler: cmdBitOp,
			Args: []Arg{argString("operation"), argKey("destkey", 0), argKey("key", 1).multiple()}},
	)
	registerBitfield(t)
	t.applier(op.SetBit, applySetBit)
	t.applier(op.BitOp, applyBitOp)
}

// bitOffset parses a bit offset as Redis's getBitOffsetFromArgument:
// with hash, "#n" is the n-th field of width bits. An offset must address
// a byte below proto-max-bulk-len.
func bitOffset(arg []byte, hash bool, bits int) (int64, error) {
	useHash := hash && bits > 0 && len(arg) > 0 && arg[0] == '#'
	if useHash {
		arg = arg[1:]
	}
	n, ok := parseInt(arg)
	if !ok {
		return 0, errBitOffset
	}
	if useHash {
		n *= int64(bits) // may wrap, as Redis's does; the check below catches it
	}
	if n < 0 || n>>3 >= maxBulkLen {
		return 0, errBitOffset
	}
	return n, nil
}

func cmdSetBit(c *Ctx) {
	off, err := bitOffset(c.Args[2], false, 0)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	on, ok := parseInt(c.Args[3])
	if !ok || on&^1 != 0 {
		c.W.Error(errBitValue.Error())
		return
	}
	if answerIfNoChange(c, c.Args[1], func(v *keyspace.Entry) bool {
		b := v.Bytes()
		if off>>3 >= int64(len(b)) || bitAt(b, off) != on {
			return false
		}
		c.W.Int(on)
		return true
	}) {
		return
	}
	bit := []byte{'0' + byte(on)}
	c.propose(&op.Op{Type: op.SetBit, DB: c.S.DB, Int: off, Args: [][]byte{c.Args[1], bit}})
}

func cmdGetBit(c *Ctx) {
	off, err := bitOffset(c.Args[2], false, 0)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	readBitmap(c, 0, func(p []byte) (int64, error) { return bitAt(p, off), nil })
}

// readBitmap serves a read of the string at Args[1] whose reply is an
// integer: WRONGTYPE for another kind, missing for an absent key (before
// any other argument is looked at, as Redis's lookupKeyReadOrReply), fn's
// answer for a string.
func readBitmap(c *Ctx, missing int64, fn func(p []byte) (int64, error)) {
	c.read(func(db *keyspace.DB) {
		v, err := stringValue(c, db, c.Args[1])
		n := missing
		if err == nil && v != nil {
			n, err = fn(v.Bytes())
		}
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		c.W.Int(n)
	})
}

// answerIfNoChange serves a bit write as a read when the key's string,
// as the leader has it, would not change (a bit set as it is): fn replies
// and reports true then. Redis counts no change for such a write (no
// dirty, WATCH or tracking change), so it takes no place in the log. A
// key of another kind is WRONGTYPE; a missing one is left to the op.
// While the connection pipelines (c.Defer set) it always leaves the write
// to the op, which decides the same: the read would wait for the writes
// in flight.
func answerIfNoChange(c *Ctx, key []byte, fn func(v *keyspace.Entry) bool) bool {
	if c.Defer != nil {
		return false
	}
	answered := true
	if !c.read(func(db *keyspace.DB) {
		v := db.Get(key, c.Now()) // as lookupKeyWrite: no keymiss event
		switch {
		case v == nil:
			answered = false
		case v.Kind() != keyspace.KindString:
			c.W.Error(errWrongType.Error())
		case fn(v):
			db.Touch(v, c.Now())
		default:
			answered = false
		}
	}) {
		return true // the read's error is the reply
	}
	return answered
}

// bitAt is the bit at off of p, 0 past its end.
func bitAt(p []byte, off int64) int64 {
	if off>>3 >= int64(len(p)) {
		return 0
	}
	return int64(p[off>>3]>>(7-off&7)) & 1
}

// cmdBitCount serves BITCOUNT key [start end [BYTE|BIT]]; a missing key
// is 0 whatever the arguments.
func cmdBitCount(c *Ctx) {
	readBitmap(c, 0, func(p []byte) (int64, error) { return bitCount(p, c.Args[2:]) })
}

// cmdBitPos serves BITPOS key bit [start [end [BYTE|BIT]]]. A missing
// key is an endless run of zeros, whatever the range.
func cmdBitPos(c *Ctx) {
	bit, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt.Error())
		return
	}
	if bit != 0 && bit != 1 {
		c.W.Error("ERR The bit argument must be 1 or 0.")
		return
	}
	readBitmap(c, -bit, func(p []byte) (int64, error) { return bitPos(p, bit, c.Args[3:]) })
}

func cmdBitOp(c *Ctx) {
	var kind int64
	switch name := cstr(c.Args[1]); {
	case eq(name, "AND"):
		kind = op.BitAnd
	case eq(name, "OR"):
		kind = op.BitOr
	case eq(name, "XOR"):
		kind = op.BitXor
	case eq(name, "NOT"):
		kind = op.BitNot
	default:
		c.W.Error(errSyntax.Error())
		return
	}
	if kind == op.BitNot && len(c.Args) != 4 {
		c.W.Error("ERR BITOP NOT must be called with a single source key.")
		return
	}
	c.propose(&op.Op{Type: op.BitOp, DB: c.S.DB, Int: kind, Args: c.Args[2:]})
}

// indexUnit parses BYTE or BIT (as C strings, as Redis compares them):
// true for BIT.
func indexUnit(arg []byte) (isBit bool, err error) {
	switch arg = cstr(arg); {
	case eq(arg, "BIT"):
		return true, nil
	case eq(arg, "BYTE"):
		return false, nil
	}
	return false, errSyntax
}
