package lualibs

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

const (
	cmsgpackMaxNesting = 16 // LUACMSGPACK_MAX_NESTING

	// maxPadSlots bounds the nil slots one unpack may make gopher-lua add
	// to tables' array parts. gopher-lua keeps every integer key below
	// lua.MaxArrayIndex in a dense array, so a 7-byte map {[2^26-1]=true}
	// would cost a gigabyte where C Lua puts the key in its hash part.
	maxPadSlots = 1 << 22
)

// newCmsgpackModule is luaopen_cmsgpack.
func newCmsgpackModule(L *lua.LState) *lua.LTable {
	tb := L.NewTable()
	setFuncs(L, tb, []libFunc{
		{"pack", mpPack},
		{"unpack", mpUnpack},
		{"unpack_one", mpUnpackOne},
		{"unpack_limit", mpUnpackLimit},
	})
	tb.RawSetString("_NAME", lua.LString("cmsgpack"))
	tb.RawSetString("_VERSION", lua.LString("lua-cmsgpack 0.4.0"))
	tb.RawSetString("_COPYRIGHT", lua.LString("Copyright (C) 2012, Salvatore Sanfilippo"))
	tb.RawSetString("_DESCRIPTION", lua.LString("MessagePack C implementation for Lua"))
	return tb
}

/* ------------------------------- Encoding ------------------------------- */

type mpEncoder struct {
	L   *lua.LState
	buf []byte
}

func (e *mpEncoder) grow(n int) {
	if len(e.buf)+n > maxEncodeLen {
		raise(e.L, "not enough memory")
	}
}

func (e *mpEncoder) encodeBytes(s string) {
	l := len(s)
	e.grow(l + 5)
	switch {
	case l < 32:
		e.buf = append(e.buf, 0xa0|byte(l))
	case l <= 0xff:
		e.buf = append(e.buf, 0xd9, byte(l))
	case l <= 0xffff:
		e.buf = append(e.buf, 0xda)
		e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(l))
	default:
		e.buf = append(e.buf, 0xdb)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(l))
	}
	e.buf = append(e.buf, s...)
}

func (e *mpEncoder) encodeDouble(d float64) {
	if f := float32(d); float64(f) == d {
		e.buf = append(e.buf, 0xca)
		e.buf = binary.BigEndian.AppendUint32(e.buf, math.Float32bits(f))
	} else {
		e.buf = append(e.buf, 0xcb)
		e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(d))
	}
}

func (e *mpEncoder) encodeInt(n int64) {
	b := e.buf
	switch {
	case n >= 0 && n <= 127:
		b = append(b, byte(n))
	case n >= 0 && n <= 0xff:
		b = append(b, 0xcc, byte(n))
	case n >= 0 && n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n >= 0 && n <= 0xffffffff:
		b = binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n >= 0:
		b = binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= -32:
		b = append(b, byte(int8(n)))
	case n >= -128:
		b = append(b, 0xd0, byte(n))
	case n >= -32768:
		b = binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= -2147483648:
		b = binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
	}
	e.buf = b
}

// encodeHeader writes an array (fix 0x90, 0xdc, 0xdd) or map (fix 0x80,
// 0xde, 0xdf) header.
func (e *mpEncoder) encodeHeader(n uint64, fix, b16, b32 byte) {
	switch {
	case n <= 15:
		e.buf = append(e.buf, fix|byte(n))
	case n <= 65535:
		e.buf = binary.BigEndian.AppendUint16(append(e.buf, b16), uint16(n))
	default:
		e.buf = binary.BigEndian.AppendUint32(append(e.buf, b32), uint32(n))
	}
}

// encodeNumber is mp_encode_lua_number for Lua 5.1's doubles.
func (e *mpEncoder) encodeNumber(n float64) {
	if !math.IsInf(n, 0) && float64(cInt64(n)) == n {
		e.encodeInt(cInt64(n))
	} else {
		e.encodeDouble(n)
	}
}

// tableIsAnArray is table_is_an_array: keys exactly 1..n (n may be 0).
func tableIsAnArray(tb *lua.LTable) (int32, bool) {
	var count, max int32
	for k, _ := tb.Next(lua.LNil); k != lua.LNil; k, _ = tb.Next(k) {
		n, ok := k.(lua.LNumber)
		if !ok || n <= 0 || math.IsInf(float64(n), 0) || float64(cInt32(float64(n))) != float64(n) {
			return 0, false
		}
		if int32(n) > max {
			max = int32(n)
		}
		count++
	}
	return count, max == count
}

func (e *mpEncoder) encodeType(v lua.LValue, level int) {
	if _, ok := v.(*lua.LTable); ok && level == cmsgpackMaxNesting {
		v = lua.LNil
	}
	switch x := v.(type) {
	case lua.LString:
		e.encodeBytes(string(x))
	case lua.LBool:
		if x {
			e.buf = append(e.buf, 0xc3)
		} else {
			e.buf = append(e.buf, 0xc2)
		}
	case lua.LNumber:
		e.grow(9)
		e.encodeNumber(float64(x))
	case *lua.LTable:
		e.grow(5)
		if n, ok := tableIsAnArray(x); ok {
			e.encodeHeader(uint64(n), 0x90, 0xdc, 0xdd)
			for j := int32(1); j <= n; j++ {
				e.encodeType(x.RawGet(lua.LNumber(j)), level+1)
			}
			return
		}
		var n uint64
		for k, _ := x.Next(lua.LNil); k != lua.LNil; k, _ = x.Next(k) {
			n++
		}
		e.encodeHeader(n, 0x80, 0xde, 0xdf)
		for _, k := range luaNextOrder(x) {
			e.encodeType(k, level+1)
			e.encodeType(x.RawGet(k), level+1)
		}
	default:
		e.buf = append(e.buf, 0xc0)
	}
}

// mpPack is cmsgpack.pack(...): every argument encoded, concatenated.
func mpPack(L *lua.LState) int {
	nargs := L.GetTop()
	if nargs == 0 {
		argError(L, 0, "MessagePack pack needs input.")
	}
	if 2*nargs > luaiMaxCStack {
		argError(L, 0, "Too many arguments for MessagePack pack.")
	}
	e := &mpEncoder{L: L}
	for i := 1; i <= nargs; i++ {
		e.encodeType(L.Get(i), 0)
	}
	L.Push(lua.LString(e.buf))
	return 1
}

/* ------------------------------- Decoding ------------------------------- */

const (
	mpErrNone = iota
	mpErrEOF
	mpErrBadFmt
)

// mpDecoder is mp_cur plus what the Go port needs to track.
type mpDecoder struct {
	L    *lua.LState
	s    string
	p    int
	err  int
	pads int
}

func (c *mpDecoder) left() int { return len(c.s) - c.p }

// need is mp_cur_need: false (and EOF) when fewer than n bytes are left.
func (c *mpDecoder) need(n uint64) bool {
	if uint64(c.left()) < n {
		c.err = mpErrEOF
		return false
	}
	return true
}

func (c *mpDecoder) u8(i int) uint64 { return uint64(c.s[c.p+i]) }
func (c *mpDecoder) u16(i int) uint64 {
	return uint64(binary.BigEndian.Uint16([]byte(c.s[c.p+i : c.p+i+2])))
}
func (c *mpDecoder) u32(i int) uint64 {
	return uint64(binary.BigEndian.Uint32([]byte(c.s[c.p+i : c.p+i+4])))
}
func (c *mpDecoder) u64(i int) uint64 { return binary.BigEndian.Uint64([]byte(c.s[c.p+i : c.p+i+8])) }

// stackCheck is luaL_checkstack(L, 1, msg) with slots in use.
func (c *mpDecoder) stackCheck(slots int, msg string) {
	if slots+1 > luaiMaxCStack {
		raise(c.L, "stack overflow ("+msg+")")
	}
}

// set is lua_settable on the fresh table tb of decodeMap, with Lua's
// errors for bad keys. maxKey is the largest integer key tb holds in its
// array part, which gopher-lua grows densely up to any such key: the growth
// one unpack may cause is bounded by maxPadSlots.
func (c *mpDecoder) set(tb *lua.LTable, k, v lua.LValue, maxKey *int) {
	switch x := k.(type) {
	case *lua.LNilType:
		c.L.Error(lua.LString("table index is nil"), 0)
	case lua.LNumber:
		f := float64(x)
		if math.IsNaN(f) {
			c.L.Error(lua.LString("table index is NaN"), 0)
		}
		if v == lua.LNil {
			if tb.RawGet(k) == lua.LNil {
				return // nothing to delete
			}
			break
		}
		if f >= 1 && f < float64(lua.MaxArrayIndex) && f == math.Floor(f) && int(f) > *maxKey {
			c.pads += int(f) - *maxKey - 1
			if c.pads > maxPadSlots {
				raise(c.L, "not enough memory")
			}
			*maxKey = int(f)
		}
	}
	tb.RawSet(k, v)
}

func (c *mpDecoder) decodeArray(n uint64, slots int) lua.LValue {
	tb := c.L.NewTable()
	c.stackCheck(slots+1, "in function mp_decode_to_lua_array")
	for i := uint64(1); i <= n; i++ {
		v := c.decode(slots + 2)
		if c.err != mpErrNone {
			return tb
		}
		if v != lua.LNil {
			tb.RawSet(lua.LNumber(i), v)
		}
	}
	return tb
}

func (c *mpDecoder) decodeMap(n uint64, slots int) lua.LValue {
	tb := c.L.NewTable()
	maxKey := 0
	for ; n > 0; n-- {
		k := c.decode(slots + 1)
		if c.err != mpErrNone {
			return tb
		}
		v := c.decode(slots + 2)
		if c.err != mpErrNone {
			return tb
		}
		c.set(tb, k, v, &maxKey)
	}
	return tb
}

// str pushes a string of n bytes after a header of hdr bytes.
func (c *mpDecoder) str(hdr int, n uint64) lua.LValue {
	if !c.need(uint64(hdr) + n) {
		return lua.LNil
	}
	v := lua.LString(c.s[c.p+hdr : c.p+hdr+int(n)])
	c.p += hdr + int(n)
	return v
}

// fixed decodes a value of n bytes (type byte included) with conv.
func (c *mpDecoder) fixed(n int, conv func() lua.LValue) lua.LValue {
	if !c.need(uint64(n)) {
		return lua.LNil
	}
	v := conv()
	c.p += n
	return v
}

// decode is mp_decode_to_lua_type; slots are the C stack slots in use.
func (c *mpDecoder) decode(slots int) lua.LValue {
	if !c.need(1) {
		return lua.LNil
	}
	c.stackCheck(slots, "too many return values at once; use unpack_one or unpack_limit instead.")
	num := func(f float64) lua.LValue { return lua.LNumber(f) }
	switch t := c.s[c.p]; t {
	case 0xcc:
		return c.fixed(2, func() lua.LValue { return num(float64(c.u8(1))) })
	case 0xd0:
		return c.fixed(2, func() lua.LValue { return num(float64(int8(c.u8(1)))) })
	case 0xcd:
		return c.fixed(3, func() lua.LValue { return num(float64(c.u16(1))) })
	case 0xd1:
		return c.fixed(3, func() lua.LValue { return num(float64(int16(c.u16(1)))) })
	case 0xce:
		return c.fixed(5, func() lua.LValue { return num(float64(c.u32(1))) })
	case 0xd2:
		return c.fixed(5, func() lua.LValue { return num(float64(int32(c.u32(1)))) })
	case 0xcf, 0xd3: // lua_pushinteger of a uint64 is signed, too
		return c.fixed(9, func() lua.LValue { return num(float64(int64(c.u64(1)))) })
	case 0xc0:
		c.p++
		return lua.LNil
	case 0xc3:
		c.p++
		return lua.LTrue
	case 0xc2:
		c.p++
		return lua.LFalse
	case 0xca:
		return c.fixed(5, func() lua.LValue { return num(float64(math.Float32frombits(uint32(c.u32(1))))) })
	case 0xcb:
		return c.fixed(9, func() lua.LValue { return num(math.Float64frombits(c.u64(1))) })
	case 0xd9:
		if !c.need(2) {
			return lua.LNil
		}
		return c.str(2, c.u8(1))
	case 0xda:
		if !c.need(3) {
			return lua.LNil
		}
		return c.str(3, c.u16(1))
	case 0xdb:
		if !c.need(5) {
			return lua.LNil
		}
		return c.str(5, c.u32(1))
	case 0xdc, 0xdd, 0xde, 0xdf:
		hdr := 3
		if t == 0xdd || t == 0xdf {
			hdr = 5
		}
		if !c.need(uint64(hdr)) {
			return lua.LNil
		}
		n := c.u16(1)
		if hdr == 5 {
			n = c.u32(1)
		}
		c.p += hdr
		if t <= 0xdd {
			return c.decodeArray(n, slots)
		}
		return c.decodeMap(n, slots)
	default:
		switch {
		case t&0x80 == 0:
			c.p++
			return num(float64(t))
		case t&0xe0 == 0xe0:
			c.p++
			return num(float64(int8(t)))
		case t&0xe0 == 0xa0:
			return c.str(1, uint64(t&0x1f))
		case t&0xf0 == 0x90:
			c.p++
			return c.decodeArray(uint64(t&0xf), slots)
		case t&0xf0 == 0x80:
			c.p++
			return c.decodeMap(uint64(t&0xf), slots)
		}
		c.err = mpErrBadFmt
		return lua.LNil
	}
}

// mpUnpackFull is mp_unpack_full; limit 0 and offset 0 mean "all values,
// no offset returned".
func mpUnpackFull(L *lua.LState, limit, offset int64) int {
	s := checkLString(L, 1)
	if offset < 0 || limit < 0 {
		raisef(L, "Invalid request to unpack with offset of %d and limit of %d.", int32(offset), int32(len(s)))
	} else if uint64(offset) > uint64(len(s)) {
		raisef(L, "Start offset %d greater than input length %d.", int32(offset), int32(len(s)))
	}
	decodeAll := limit == 0 && offset == 0
	if decodeAll {
		limit = math.MaxInt32
	}
	c := &mpDecoder{L: L, s: s, p: int(offset)}
	var res []lua.LValue
	for cnt := int64(0); c.left() > 0 && cnt < limit; cnt++ {
		v := c.decode(1 + len(res))
		switch c.err {
		case mpErrEOF:
			raise(L, "Missing bytes in input.")
		case mpErrBadFmt:
			raise(L, "Bad data format in input.")
		}
		res = append(res, v)
	}
	if !decodeAll {
		c.stackCheck(1+len(res), "in function mp_unpack_full")
		next := int64(len(s) - c.left())
		if c.left() == 0 {
			next = -1
		}
		L.Push(lua.LNumber(next))
	}
	for _, v := range res {
		L.Push(v)
	}
	if decodeAll {
		return len(res)
	}
	return len(res) + 1
}

// mpUnpack is cmsgpack.unpack(s): every value in s.
func mpUnpack(L *lua.LState) int {
	return mpUnpackFull(L, 0, 0)
}

// mpUnpackOne is cmsgpack.unpack_one(s [, offset]).
func mpUnpackOne(L *lua.LState) int {
	offset := optInteger(L, 2, 0)
	popToOne(L)
	return mpUnpackFull(L, 1, offset)
}

// mpUnpackLimit is cmsgpack.unpack_limit(s, limit [, offset]).
func mpUnpackLimit(L *lua.LState) int {
	limit := checkInteger(L, 2)
	offset := optInteger(L, 3, 0)
	popToOne(L)
	return mpUnpackFull(L, limit, offset)
}

// popToOne is lua_pop(L, lua_gettop(L)-1): it never pushes.
func popToOne(L *lua.LState) {
	if L.GetTop() > 1 {
		L.SetTop(1)
	}
}
