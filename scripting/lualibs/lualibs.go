package lualibs

import (
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// luaiMaxCStack is LUAI_MAXCSTACK of Redis's Lua 5.1: lua_checkstack fails
// when a C function would hold more than this many stack slots.
const luaiMaxCStack = 8000

// Open sets the globals cjson, cmsgpack, bit and struct in L, as Redis's
// scriptingInit does with luaopen_cjson, luaopen_struct, luaopen_cmsgpack and
// luaopen_bit. Each call creates fresh tables and a fresh cjson
// configuration, private to L.
func Open(L *lua.LState) {
	null := L.NewUserData()
	null.Value = nullMarker{}
	L.SetGlobal("cjson", newCjsonModule(L, null))
	L.SetGlobal("struct", newStructModule(L))
	L.SetGlobal("cmsgpack", newCmsgpackModule(L))
	L.SetGlobal("bit", newBitModule(L))
}

// nullMarker is the Value of the userdata that stands for cjson.null (a NULL
// lightuserdata in C Lua).
type nullMarker struct{}

// IsNull reports whether v is cjson.null, the value cjson.decode gives JSON
// null.
func IsNull(v lua.LValue) bool {
	ud, ok := v.(*lua.LUserData)
	if !ok {
		return false
	}
	_, ok = ud.Value.(nullMarker)
	return ok
}

// libFunc is one function of a library table.
type libFunc struct {
	name string
	fn   lua.LGFunction
}

// setFuncs registers fns in tb in order, each wrapped by protect.
func setFuncs(L *lua.LState, tb *lua.LTable, fns []libFunc) {
	for _, f := range fns {
		tb.RawSetString(f.name, L.NewFunction(protect(f.fn)))
	}
}

// protect turns a Go panic inside fn into a Lua error. Lua errors raised by
// gopher-lua (*lua.ApiError) pass through untouched.
func protect(fn lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) (n int) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(*lua.ApiError); ok {
					panic(r)
				}
				raise(L, fmt.Sprintf("internal error: %v", r))
			}
		}()
		return fn(L)
	}
}

// where returns what luaL_where(L, 1) gives: "chunk:line: " when the caller
// of the running Go function is a Lua function, "" otherwise.
func where(L *lua.LState) string {
	dbg, ok := L.GetStack(1)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
		return ""
	}
	if dbg.What == "G" || dbg.CurrentLine <= 0 {
		return ""
	}
	src := dbg.Source
	if strings.HasPrefix(src, "@") || strings.HasPrefix(src, "=") {
		src = src[1:]
	}
	return fmt.Sprintf("%s:%d: ", src, dbg.CurrentLine)
}

// raise is luaL_error: it raises msg with the caller's position prepended.
func raise(L *lua.LState, msg string) {
	L.Error(lua.LString(where(L)+msg), 0)
}

// raisef is raise with formatting.
func raisef(L *lua.LState, format string, args ...interface{}) {
	raise(L, fmt.Sprintf(format, args...))
}

// funcName is the name Lua 5.1's getfuncname finds for the running Go
// function: the name in the calling Lua instruction, or "?".
func funcName(L *lua.LState) string {
	caller, ok := L.GetStack(1)
	if !ok {
		return "?"
	}
	if _, err := L.GetInfo("S", caller, lua.LNil); err != nil || caller.What == "G" {
		return "?"
	}
	dbg, ok := L.GetStack(0)
	if !ok {
		return "?"
	}
	if _, err := L.GetInfo("n", dbg, lua.LNil); err != nil {
		return "?"
	}
	switch dbg.Name {
	case "", "(anonymous)", "main chunk", "corountine":
		return "?"
	}
	return dbg.Name
}

// argError is luaL_argerror.
func argError(L *lua.LState, narg int, msg string) {
	raisef(L, "bad argument #%d to '%s' (%s)", narg, funcName(L), msg)
}

// typeName is luaL_typename: the type of argument n, "no value" past the top.
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// typeError is luaL_typerror.
func typeError(L *lua.LState, narg int, tname string) {
	argError(L, narg, fmt.Sprintf("%s expected, got %s", tname, typeName(L, narg)))
}

// toNumber is lua_tonumber: numbers, and strings that convert.
func toNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		return str2d(string(x))
	}
	return 0, false
}

// checkNumber is luaL_checknumber.
func checkNumber(L *lua.LState, n int) float64 {
	d, ok := toNumber(L.Get(n))
	if !ok {
		typeError(L, n, "number")
	}
	return d
}

// checkInteger is luaL_checkinteger (lua_Integer is 64-bit in Redis).
func checkInteger(L *lua.LState, n int) int64 {
	return cInt64(checkNumber(L, n))
}

// optInteger is luaL_optinteger.
func optInteger(L *lua.LState, n int, def int64) int64 {
	if L.Get(n) == lua.LNil {
		return def
	}
	return checkInteger(L, n)
}

// toLString is lua_tolstring: strings as they are, numbers as "%.14g".
func toLString(v lua.LValue) (string, bool) {
	switch x := v.(type) {
	case lua.LString:
		return string(x), true
	case lua.LNumber:
		return number2str(float64(x)), true
	}
	return "", false
}

// checkLString is luaL_checklstring.
func checkLString(L *lua.LState, n int) string {
	s, ok := toLString(L.Get(n))
	if !ok {
		typeError(L, n, "string")
	}
	return s
}

// checkCString is luaL_checkstring used as a C string: it ends at the first
// NUL byte.
func checkCString(L *lua.LState, n int) string {
	return cString(checkLString(L, n))
}

// cString cuts s at its first NUL byte, as C code reading it would.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// cInt64 converts a double to int64 the way x86-64 does (cvttsd2si):
// truncation, and INT64_MIN for NaN and out-of-range values.
func cInt64(d float64) int64 {
	if d != d || d >= 9223372036854775808.0 || d < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(d)
}

// cInt32 converts a double to a C int on x86-64: INT_MIN when out of range.
func cInt32(d float64) int32 {
	if d != d || d >= 2147483648.0 || d <= -2147483649.0 {
		return math.MinInt32
	}
	return int32(d)
}

// cUint64 converts a double to unsigned long as gcc does on x86-64: values
// below 2^63 go through cvttsd2si, larger ones are reduced by 2^63 first.
func cUint64(d float64) uint64 {
	if d >= 9223372036854775808.0 {
		return uint64(cInt64(d-9223372036854775808.0)) ^ (1 << 63)
	}
	return uint64(cInt64(d))
}
