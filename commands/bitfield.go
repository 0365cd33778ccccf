package commands

import (
	"errors"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// BITFIELD and BITFIELD_RO. A BITFIELD with only GETs is a read; one that
// writes is one BitField op carrying its arguments, which the applier
// parses again and runs in order against the string as it is then.

var errBitfieldType = errors.New("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.")

func registerBitfield(t *Table) {
	encOffset := func(extra ...Arg) []Arg { return append([]Arg{argString("encoding"), argInt("offset")}, extra...) }
	t.add(
		&Command{Name: "bitfield", Arity: -2, Flags: FlagWrite | FlagDenyOOM, Categories: CatBitmap,
			Keys: []KeySpec{{Notes: "This command allows both access and modification of the key",
				Flags: KeyRW | KeyAccess | KeyUpdate | KeyVariableFlags, Index: 1, LastKey: 0, KeyStep: 1}},
			Group: "bitmap", Since: "3.2.0", Complexity: "O(1) for each subcommand specified",
			Summary: "Perform arbitrary bitfield integer operations on strings", Handler: cmdBitfield,
			KeyFlags: bitfieldKeyFlags,
			Args: []Arg{
				argKey("key", 0),
				argOneof("operation",
					argBlock("encoding_offset", encOffset()...).token("GET"),
					argBlock("write",
						argOneof("wrap_sat_fail", argToken("wrap", "WRAP"), argToken("sat", "SAT"), argToken("fail", "FAIL")).
							token("OVERFLOW").optional(),
						argOneof("write_operation",
							argBlock("encoding_offset_value", encOffset(argInt("value"))...).token("SET"),
							argBlock("encoding_offset_increment", encOffset(argInt("increment"))...).token("INCRBY"))),
				).multiple().optional(),
			}},
		&Command{Name: "bitfield_ro", Arity: -2, Flags: FlagReadonly | FlagFast, Categories: CatBitmap,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, LastKey: 0, KeyStep: 1}},
			Group: "bitmap", Since: "6.0.0", Complexity: "O(1) for each subcommand specified",
			Summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD",
			Handler: cmdBitfield,
			Args: []Arg{
				argKey("key", 0),
				argBlock("encoding_offset", encOffset()...).token("GET").optional().multiple().multipleToken(),
			}},
	)
	t.applier(op.BitField, applyBitfield)
}

// Overflow behaviours of SET and INCRBY.
const (
	overflowWrap = iota
	overflowSat
	overflowFail
)

// Subcommands.
const (
	fieldGet = iota
	fieldSet
	fieldIncrBy
)

// bitfieldOp is one GET, SET or INCRBY.
type bitfieldOp struct {
	offset   int64 // in bits
	value    int64 // SET's value, INCRBY's increment
	code     int8  // fieldGet, fieldSet, fieldIncrBy
	overflow int8
	bits     int8
	signed   bool
}

// bitfieldPlan is a parsed BITFIELD.
type bitfieldPlan struct {
	ops      []bitfieldOp
	readonly bool  // only GETs
	size     int64 // bytes the writes need the string to have
}

// parseBitfield parses BITFIELD's subcommands (the arguments after the
// key) as Redis's bitfieldGeneric, with its errors in its order.
func parseBitfield(args [][]byte) (bitfieldPlan, error) {
	p := bitfieldPlan{readonly: true}
	overflow := int8(overflowWrap)
	for j := 0; j < len(args); j++ {
		rest := len(args) - j - 1
		var code int8
		switch sub := cstr(args[j]); {
		case eq(sub, "GET") && rest >= 2:
			code = fieldGet
		case eq(sub, "SET") && rest >= 3:
			code = fieldSet
		case eq(sub, "INCRBY") && rest >= 3:
			code = fieldIncrBy
		case eq(sub, "OVERFLOW") && rest >= 1:
			j++
			switch kind := cstr(args[j]); {
			case eq(kind, "WRAP"):
				overflow = overflowWrap
			case eq(kind, "SAT"):
				overflow = overflowSat
			case eq(kind, "FAIL"):
				overflow = overflowFail
			default:
				return p, errors.New("ERR Invalid OVERFLOW type specified")
			}
			continue
		default:
			return p, errSyntax
		}
		signed, width, err := bitfieldType(args[j+1])
		if err != nil {
			return p, err
		}
		off, err := bitOffset(args[j+2], true, width)
		if err != nil {
			return p, err
		}
		o := bitfieldOp{offset: off, code: code, overflow: overflow, bits: int8(width), signed: signed}
		if code != fieldGet {
			p.readonly = false
			p.size = max(p.size, (off+int64(width)-1)>>3+1)
			var ok bool
			if o.value, ok = parseInt(args[j+3]); !ok {
				return p, errNotInt
			}
			j++
		}
		p.ops = append(p.ops, o)
		j += 2
	}
	return p, nil
}

// bitfieldType parses a type, i1..i64 or u1..u63.
func bitfieldType(arg []byte) (signed bool, width int, err error) {
	arg = cstr(arg)
	if len(arg) == 0 || (arg[0] != 'i' && arg[0] != 'u') {
		return false, 0, errBitfieldType
	}
	signed = arg[0] == 'i'
	n, ok := parseInt(arg[1:])
	if !ok || n < 1 || (signed && n > 64) || (!signed && n > 63) {
		return false, 0, errBitfieldType
	}
	return signed, int(n), nil
}

// bitfieldKeyFlags is Redis's bitfieldGetKeys: the key is only read when
// no subcommand before the first unparsable one writes.
func bitfieldKeyFlags(args [][]byte) KeyFlag {
	for i := 2; i < len(args); i++ {
		rest := len(args) - i - 1
		switch a := cstr(args[i]); {
		case eq(a, "GET") && rest >= 2:
			i += 2
		case eq(a, "OVERFLOW") && rest >= 1:
			i++
		default: // SET, INCRBY, or a syntax error: assume a write
			return KeyRW | KeyAccess | KeyUpdate
		}
	}
	return KeyRO | KeyAccess
}

func cmdBitfield(c *Ctx) {
	p, err := parseBitfield(c.Args[2:])
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	if p.readonly {
		c.read(func(db *keyspace.DB) {
			v, err := stringValue(c, db, c.Args[1])
			if err != nil {
				c.W.Error(err.Error())
				return
			}
			var cur []byte
			if v != nil {
				cur = v.Bytes()
			}
			c.W.Array(len(p.ops))
			for _, o := range p.ops {
				c.W.Int(o.get(cur))
			}
		})
		return
	}
	if c.Cmd.Name == "bitfield_ro" {
		c.W.Error("ERR BITFIELD_RO only supports the GET subcommand")
		return
	}
	if answerIfNoChange(c, c.Args[1], func(v *keyspace.Entry) bool {
		b := v.Bytes()
		if int64(len(b)) < p.size {
			return false
		}
		reply, changed, _ := p.run(func() []byte { return b }, nil)
		if changed {
			return false
		}
		writeResult(c.W, reply)
		return true
	}) {
		return
	}
	c.propose(&op.Op{Type: op.BitField, DB: c.S.DB, Args: c.Args[1:]})
}

// applyBitfield runs a BITFIELD that writes. As Redis's, it first grows
// the string (or creates it) to the farthest bit written, then runs the
// subcommands in order; a SET or INCRBY that fails under OVERFLOW FAIL
// writes nothing and replies a null. "setbit" is notified when a write
// changed a field, or succeeded on a string created or grown.
func applyBitfield(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) < 1 {
		return errBadOp
	}
	p, err := parseBitfield(o.Args[1:])
	if err != nil {
		return err
	}
	db := ks.DB(o.DB)
	key := o.Args[0]
	v := db.GetForWrite(key, o.Now)
	if v != nil && v.Kind() != keyspace.KindString {
		return errWrongType
	}
	grown := false
	switch {
	case p.readonly:
	case v == nil:
		db.Set(key, keyspace.NewRawString(make([]byte, p.size)), 0)
		grown = true
	case int64(len(v.Bytes())) < p.size:
		db.SetRange(key, int(p.size-1), []byte{0}) // zero-pads to the size
		grown = true
	}
	cur := func() []byte {
		if e := db.Get(key, o.Now); e != nil {
			return e.Bytes()
		}
		return nil
	}
	reply, changed, wrote := p.run(cur, func(at int64, b []byte) { db.SetRange(key, int(at), b) })
	if changed || grown && wrote {
		db.Notify(keyspace.EventString, "setbit", key)
	}
	return reply
}

// run runs the subcommands in order on the string cur returns (nil:
// absent), and returns the replies, whether a write changed a field, and
// whether one succeeded. put writes the bytes b at byte at, for each field
// changed; with put nil, run is a dry run that stops at the first change.
func (p *bitfieldPlan) run(cur func() []byte, put func(at int64, b []byte)) (reply []any, changed, wrote bool) {
	reply = make([]any, len(p.ops))
	for i, f := range p.ops {
		b := cur()
		if f.code == fieldGet {
			reply[i] = f.get(b)
			continue
		}
		old := f.get(b)
		stored, ret, ok := f.write(old)
		if !ok {
			continue // a null: OVERFLOW FAIL
		}
		reply[i], wrote = ret, true
		if stored == old {
			continue
		}
		if put == nil {
			return nil, true, true
		}
		changed = true
		first, last := f.offset>>3, (f.offset+int64(f.bits)-1)>>3
		win := append([]byte(nil), b[first:last+1]...)
		putBits(win, uint64(f.offset&7), uint64(f.bits), uint64(stored))
		put(first, win)
	}
	return reply, changed, wrote
}

// get reads the field from p, which reads as followed by zeros.
func (f bitfieldOp) get(p []byte) int64 {
	var win [9]byte // a field of up to 64 bits spans at most 9 bytes
	first := f.offset >> 3
	if first < int64(len(p)) {
		copy(win[:], p[first:])
	}
	v := getBits(win[:], uint64(f.offset&7), uint64(f.bits))
	if f.signed && f.bits < 64 && v&(1<<(f.bits-1)) != 0 {
		v |= ^uint64(0) << f.bits // sign-extend
	}
	return int64(v)
}

// write computes a SET or INCRBY on the field's current value old: the
// value to store, the reply, and false when OVERFLOW FAIL refuses it.
func (f bitfieldOp) write(old int64) (stored, reply int64, ok bool) {
	if f.code == fieldIncrBy {
		stored, over := f.overflowed(old, f.value)
		if over && f.overflow == overflowFail {
			return 0, 0, false
		}
		return stored, stored, true
	}
	stored, over := f.overflowed(f.value, 0)
	if over && f.overflow == overflowFail {
		return 0, 0, false
	}
	return stored, old, true
}

// overflowed returns value+incr as the field would hold it under its
// overflow behaviour, and whether it overflowed, as Redis's
// check{Signed,Unsigned}BitfieldOverflow decide (their comparisons kept,
// with C's wrapping arithmetic).
func (f bitfieldOp) overflowed(value, incr int64) (int64, bool) {
	w := uint64(f.bits)
	if !f.signed {
		uv := uint64(value)
		limit := uint64(1)<<w - 1
		maxIncr, minIncr := int64(limit-uv), int64(-uv)
		var sat uint64
		switch {
		case uv > limit || (incr > 0 && incr > maxIncr):
			sat = limit
		case incr < 0 && incr < minIncr:
			sat = 0
		default:
			return int64(uv + uint64(incr)), false
		}
		if f.overflow == overflowSat {
			return int64(sat), true
		}
		return int64((uv + uint64(incr)) &^ (^uint64(0) << w)), true
	}
	hi := int64(1)<<(w-1) - 1
	if w == 64 {
		hi = 1<<63 - 1
	}
	lo := -hi - 1
	maxIncr, minIncr := int64(uint64(hi)-uint64(value)), lo-value
	var sat int64
	switch {
	case value > hi || (w != 64 && incr > maxIncr) || (value >= 0 && incr > 0 && incr > maxIncr):
		sat = hi
	case value < lo || (w != 64 && incr < minIncr) || (value < 0 && incr < 0 && incr < minIncr):
		sat = lo
	default:
		return value + incr, false
	}
	if f.overflow == overflowSat {
		return sat, true
	}
	c := uint64(value) + uint64(incr)
	if w < 64 {
		if c&(1<<(w-1)) != 0 {
			c |= ^uint64(0) << w
		} else {
			c &^= ^uint64(0) << w
		}
	}
	return int64(c), true
}

// getBits reads n bits from bit off of p, the first the most significant.
func getBits(p []byte, off, n uint64) uint64 {
	var v uint64
	for i := off; i < off+n; i++ {
		v = v<<1 | uint64(p[i>>3]>>(7-i&7))&1
	}
	return v
}

// putBits writes the low n bits of v at bit off of p.
func putBits(p []byte, off, n, v uint64) {
	for j := uint64(0); j < n; j++ {
		i := off + j
		mask := byte(0x80) >> (i & 7)
		if v>>(n-1-j)&1 != 0 {
			p[i>>3] |= mask
		} else {
			p[i>>3] &^= mask
		}
	}
}
