package scripting

import (
	"context"

	lua "github.com/yuin/gopher-lua"
)

// luaEnv is one Lua state set up as Redis sets up its own: the EVAL state
// (shared by every script, as Redis's single lua_State) or the FUNCTION
// state (shared by every library, as in 7.0).
type luaEnv struct {
	L         *lua.LState
	e         *Engine
	functions bool // the FUNCTION state (else EVAL)
	source    string

	globals *lua.LTable // the real globals, reachable only through views
	env     *lua.LTable // what compiled chunks see as their globals
	envMeta *lua.LTable // env's metatable; FUNCTION LOAD points its __index at libAPI
	libAPI  *lua.LTable // globals while a library loads: only redis.register_function & co.

	roFn    *lua.LFunction // __newindex of every read-only table
	views   map[*lua.LTable]lua.LValue
	handler *lua.LFunction

	run  *Run     // the run in progress, nil between runs
	load *loadCtx // the library being loaded, nil otherwise
}

// Globals each group may define, as Redis's allow lists: anything else a
// library opens is dropped, as luaNewIndexAllowList refuses it.
var allowedGlobals = map[string]bool{
	// libraries
	"string": true, "cjson": true, "bit": true, "cmsgpack": true, "math": true, "table": true, "struct": true,
	// Redis API
	"redis": true, "__redis__err__handler": true,
	// Lua builtins Redis keeps
	"xpcall": true, "tostring": true, "setmetatable": true, "next": true, "assert": true,
	"tonumber": true, "rawequal": true, "collectgarbage": true, "getmetatable": true, "rawset": true,
	"pcall": true, "coroutine": true, "type": true, "_G": true, "select": true, "unpack": true,
	"gcinfo": true, "pairs": true, "rawget": true, "loadstring": true, "ipairs": true, "_VERSION": true,
	"load": true, "error": true,
	// getfenv, setfenv and newproxy are on 7.0.15's list, but the
	// redis-server 7.0.15 this engine is checked against (Debian's, with
	// the 2025 Lua sandbox fixes) no longer has them.
}

func newLuaEnv(e *Engine, functions bool) *luaEnv {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       luaMaxCalls,
		MinimizeStackMemory: true,
		RegistrySize:        1024,
		RegistryMaxSize:     luaMaxStack,
	})
	le := &luaEnv{L: L, e: e, functions: functions, views: map[*lua.LTable]lua.LValue{}}
	le.source = "user_script"
	if functions {
		le.source = "user_function"
	}
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{"", lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath}, {lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	if e.opts.OpenLibs != nil {
		e.opts.OpenLibs(L)
	}
	le.globals = L.G.Global
	var drop []lua.LValue
	le.globals.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); !ok || !allowedGlobals[string(s)] {
			drop = append(drop, k)
		}
	})
	for _, k := range drop {
		le.globals.RawSet(k, lua.LNil)
	}
	le.roFn = L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("Attempt to modify a readonly table") // VM assignment: with the caller's position
		return 0
	})
	le.installBase()
	le.globals.RawSetString("redis", le.redisTable(false))
	le.handler = L.NewFunction(le.errHandler)
	if !functions {
		le.globals.RawSetString("__redis__err__handler", le.handler)
	}

	// Lock everything reachable from the globals, as
	// luaSetTableProtectionRecursively does.
	gmt := L.NewTable()
	gmt.RawSetString("__index", L.NewFunction(nonexistentGlobal))
	le.globals.Metatable = gmt
	le.protectMembers(le.globals)
	if mt, ok := L.GetMetatable(lua.LString("")).(*lua.LTable); ok {
		mt.RawSetString("__index", le.globals.RawGetString("string"))
	}
	gview := le.newView(le.globals, le.newView(gmt, lua.LNil))
	le.globals.RawSetString("_G", gview)
	le.env = gview

	if functions {
		// FUNCTION LOAD sees only redis.register_function, redis.log and
		// the constants; runs see the real globals. Closures keep the env
		// of the chunk that made them, so both go through one table whose
		// metatable is switched, as function_lua.c does.
		api := L.NewTable()
		api.RawSetString("redis", le.newView(le.redisTable(true), lua.LNil))
		amt := L.NewTable()
		amt.RawSetString("__index", L.NewFunction(nonexistentGlobal))
		api.Metatable = amt
		le.libAPI = api
		img := L.NewTable()
		img.RawSetString("__index", gview)
		le.env = le.newView(le.globals, le.newView(img, lua.LNil))
		le.envMeta = le.env.Metatable.(*lua.LTable)
	}
	L.Env = le.env
	return le
}

// Limits of Redis's Lua: LUAI_MAXCALLS nested calls, and a stack we let
// grow to 4M slots (C Lua's is bounded by memory only).
const (
	luaMaxCalls = 20000
	luaMaxStack = 1 << 22
)

// nonexistentGlobal is the globals' __index: Redis's luaProtectedTableError.
func nonexistentGlobal(L *lua.LState) int {
	name := L.Get(2)
	if name.Type() != lua.LTString && name.Type() != lua.LTNumber {
		luaLError(L, "Second argument to luaProtectedTableError must be a string or number")
	}
	luaLError(L, "Script attempted to access nonexistent global variable '"+cstr(luaToString(name))+"'")
	return 0
}

// close releases the state. A run in progress must have ended.
func (le *luaEnv) close() { le.L.Close() }

// setRun installs the run whose commands redis.call sends, and its context
// so that Kill interrupts even a tight loop.
func (le *luaEnv) setRun(r *Run, ctx context.Context) {
	le.run = r
	if ctx != nil {
		le.L.SetContext(ctx)
	}
}

func (le *luaEnv) clearRun() {
	le.run = nil
	le.L.RemoveContext()
}
