package lualibs

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// newBitModule is luaopen_bit (LuaBitOp 1.0.2).
func newBitModule(L *lua.LState) *lua.LTable {
	tb := L.NewTable()
	setFuncs(L, tb, []libFunc{
		{"tobit", func(L *lua.LState) int { return bret(L, barg(L, 1)) }},
		{"bnot", func(L *lua.LState) int { return bret(L, ^barg(L, 1)) }},
		{"band", bitOp(func(a, b uint32) uint32 { return a & b })},
		{"bor", bitOp(func(a, b uint32) uint32 { return a | b })},
		{"bxor", bitOp(func(a, b uint32) uint32 { return a ^ b })},
		{"lshift", bitShift(func(b, n uint32) uint32 { return b << n })},
		{"rshift", bitShift(func(b, n uint32) uint32 { return b >> n })},
		{"arshift", bitShift(func(b, n uint32) uint32 { return uint32(int32(b) >> n) })},
		{"rol", bitShift(func(b, n uint32) uint32 { return b<<n | b>>((32-n)&31) })},
		{"ror", bitShift(func(b, n uint32) uint32 { return b<<((32-n)&31) | b>>n })},
		{"bswap", bitBswap},
		{"tohex", bitTohex},
	})
	return tb
}

// barg is LuaBitOp's barg for Lua 5.1: lua_tonumber, then the low 32 bits
// of the double n + 2^52 + 2^51; a non-number is an error only when those
// bits are 0, as in the C code.
func barg(L *lua.LState, idx int) uint32 {
	n, ok := toNumber(L.Get(idx))
	b := uint32(math.Float64bits(n + 6755399441055744.0))
	if b == 0 && !ok {
		typeError(L, idx, "number")
	}
	return b
}

// bret is BRET: push the result as a signed 32-bit number.
func bret(L *lua.LState, b uint32) int {
	L.Push(lua.LNumber(int32(b)))
	return 1
}

func bitOp(op func(a, b uint32) uint32) lua.LGFunction {
	return func(L *lua.LState) int {
		b := barg(L, 1)
		for i := L.GetTop(); i > 1; i-- {
			b = op(b, barg(L, i))
		}
		return bret(L, b)
	}
}

func bitShift(op func(b, n uint32) uint32) lua.LGFunction {
	return func(L *lua.LState) int {
		b := barg(L, 1)
		n := barg(L, 2) & 31
		return bret(L, op(b, n))
	}
}

func bitBswap(L *lua.LState) int {
	b := barg(L, 1)
	b = b>>24 | (b>>8)&0xff00 | (b&0xff00)<<8 | b<<24
	return bret(L, b)
}

func bitTohex(L *lua.LState) int {
	b := barg(L, 1)
	n := int32(8)
	if L.GetTop() >= 2 {
		n = int32(barg(L, 2))
	}
	hexdigits := "0123456789abcdef"
	if n < 0 {
		n = -n
		hexdigits = "0123456789ABCDEF"
	}
	if n < 0 || n > 8 { // -INT_MIN stays negative; Redis's build gives 8
		n = 8
	}
	buf := make([]byte, n)
	for i := int(n) - 1; i >= 0; i-- {
		buf[i] = hexdigits[b&15]
		b >>= 4
	}
	L.Push(lua.LString(buf))
	return 1
}
