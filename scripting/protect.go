package scripting

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Redis 7.0 patches Lua so that tables can be made read-only and locks
// every table reachable from the globals. gopher-lua has no such flag, so
// a locked table is shown to scripts as an empty "view" whose metatable
// reads through to the real table and refuses writes. The base functions
// that bypass metatables (rawset, rawget, next, setmetatable, the table
// library...) are replaced by ones that see through views, so scripts
// observe what Redis's read-only tables do.

// newView returns a locked view of real. image is what getmetatable shows
// for it (nil for plain library tables).
func (le *luaEnv) newView(real *lua.LTable, image lua.LValue) *lua.LTable {
	v := le.L.NewTable()
	mt := le.L.NewTable()
	mt.RawSetString("__index", real)
	mt.RawSetString("__newindex", le.roFn)
	v.Metatable = mt
	le.views[v] = image
	return v
}

// realOf returns the table a view reads from (the table itself otherwise).
func (le *luaEnv) realOf(t *lua.LTable) *lua.LTable {
	if _, ok := le.views[t]; ok {
		if mt, ok := t.Metatable.(*lua.LTable); ok {
			if r, ok := mt.RawGetString("__index").(*lua.LTable); ok {
				return r
			}
		}
	}
	return t
}

func (le *luaEnv) isView(v lua.LValue) bool {
	t, ok := v.(*lua.LTable)
	if !ok {
		return false
	}
	_, ok = le.views[t]
	return ok
}

// protectMembers replaces every table held by t with a view of it,
// recursively (the libraries' tables: string, math, redis, ...).
func (le *luaEnv) protectMembers(t *lua.LTable) {
	seen := map[*lua.LTable]bool{t: true}
	var walk func(t *lua.LTable)
	walk = func(t *lua.LTable) {
		var keys []lua.LValue
		t.ForEach(func(k, v lua.LValue) {
			if vt, ok := v.(*lua.LTable); ok && !seen[vt] && !le.isView(vt) {
				keys = append(keys, k)
			}
		})
		for _, k := range keys {
			vt := t.RawGet(k).(*lua.LTable)
			seen[vt] = true
			walk(vt)
			var img lua.LValue = lua.LNil
			if mt, ok := vt.Metatable.(*lua.LTable); ok {
				img = le.newView(mt, lua.LNil)
			}
			t.RawSet(k, le.newView(vt, img))
		}
	}
	walk(t)
}

// readonlyAPI is the error lua_rawset & co. raise on a locked table: from
// a C function, so without a position.
func readonlyAPI(L *lua.LState) {
	L.Error(lua.LString("Attempt to modify a readonly table"), 0)
}

// installBase replaces the base and table functions that must see through
// views, and those whose Redis behaviour differs from gopher-lua's.
func (le *luaEnv) installBase() {
	L, g := le.L, le.globals
	set := func(t *lua.LTable, name string, fn lua.LGFunction) {
		t.RawSetString(name, L.NewFunction(guard(fn)))
	}
	set(g, "pcall", le.pcall)
	set(g, "error", baseError)
	set(g, "tostring", baseToString)
	set(g, "loadstring", le.loadstring)
	set(g, "gcinfo", func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 })
	set(g, "collectgarbage", collectGarbage)
	set(g, "rawset", func(L *lua.LState) int {
		t := checkTable(L, 1, "rawset")
		if le.isView(t) {
			readonlyAPI(L)
		}
		L.CheckAny(2)
		L.CheckAny(3)
		if L.Get(2) == lua.LNil {
			L.RaiseError("table index is nil")
		}
		t.RawSet(L.Get(2), L.Get(3))
		L.SetTop(1)
		return 1
	})
	set(g, "rawget", func(L *lua.LState) int {
		t := le.realOf(checkTable(L, 1, "rawget"))
		L.CheckAny(2)
		L.Push(t.RawGet(L.Get(2)))
		return 1
	})
	next := L.NewFunction(guard(func(L *lua.LState) int {
		t := le.realOf(checkTable(L, 1, "next"))
		k, v := t.Next(L.Get(2))
		if k == lua.LNil {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(k)
		L.Push(v)
		return 2
	}))
	g.RawSetString("next", next)
	set(g, "pairs", func(L *lua.LState) int {
		t := checkTable(L, 1, "pairs")
		L.Push(next)
		L.Push(t)
		L.Push(lua.LNil)
		return 3
	})
	inext := L.NewFunction(guard(func(L *lua.LState) int {
		t := le.realOf(checkTable(L, 1, "ipairs"))
		i := L.CheckInt(2) + 1
		v := t.RawGetInt(i)
		if v == lua.LNil {
			return 0
		}
		L.Push(lua.LNumber(i))
		L.Push(v)
		return 2
	}))
	set(g, "ipairs", func(L *lua.LState) int {
		t := checkTable(L, 1, "ipairs")
		L.Push(inext)
		L.Push(t)
		L.Push(lua.LNumber(0))
		return 3
	})
	set(g, "unpack", func(L *lua.LState) int {
		t := le.realOf(checkTable(L, 1, "unpack"))
		i, n := L.OptInt(2, 1), L.OptInt(3, t.Len())
		if i > n {
			return 0
		}
		if n-i >= luaMaxStack/2 {
			luaLError(L, "too many results to unpack")
		}
		for j := i; j <= n; j++ {
			L.Push(t.RawGetInt(j))
		}
		return n - i + 1
	})
	set(g, "getmetatable", func(L *lua.LState) int {
		v := L.CheckAny(1)
		if t, ok := v.(*lua.LTable); ok {
			if img, ok := le.views[t]; ok {
				L.Push(img)
				return 1
			}
		}
		mt := L.GetMetatable(v)
		if mtt, ok := mt.(*lua.LTable); ok {
			if p := mtt.RawGetString("__metatable"); p != lua.LNil {
				mt = p
			}
		}
		L.Push(mt)
		return 1
	})
	setmt := g.RawGetString("setmetatable").(*lua.LFunction).GFunction
	set(g, "setmetatable", func(L *lua.LState) int {
		if le.isView(L.Get(1)) {
			readonlyAPI(L)
		}
		return setmt(L)
	})

	tab := g.RawGetString("table").(*lua.LTable)
	for _, name := range []string{"insert", "remove", "sort", "setn"} {
		if orig, ok := tab.RawGetString(name).(*lua.LFunction); ok && orig.IsG {
			fn := orig.GFunction
			set(tab, name, func(L *lua.LState) int {
				if le.isView(L.Get(1)) {
					readonlyAPI(L)
				}
				return fn(L)
			})
		}
	}
	for _, name := range []string{"concat", "getn", "maxn", "foreach", "foreachi"} {
		if orig, ok := tab.RawGetString(name).(*lua.LFunction); ok && orig.IsG {
			fn := orig.GFunction
			set(tab, name, func(L *lua.LState) int {
				if t, ok := L.Get(1).(*lua.LTable); ok {
					L.Replace(1, le.realOf(t))
				}
				return fn(L)
			})
		}
	}
	str := g.RawGetString("string").(*lua.LTable)
	set(str, "dump", func(L *lua.LState) int {
		fn, ok := L.Get(1).(*lua.LFunction)
		if !ok {
			argError(L, 1, "dump", "function expected, got "+typeName(L, 1))
		}
		if fn.IsG {
			L.RaiseError("unable to dump given function")
		}
		// A binary chunk header: Redis's loadstring refuses binary chunks,
		// so this string only has to look like one.
		L.Push(lua.LString("\x1bLuaQ\x00\x01\x04\x08\x04\x08\x00"))
		return 1
	})
	math := g.RawGetString("math").(*lua.LTable)
	set(math, "random", le.mathRandom)
	set(math, "randomseed", le.mathRandomseed)
	math.RawSetString("huge", lua.LNumber(posInf)) // gopher-lua's is MaxFloat64
}

func checkTable(L *lua.LState, n int, fname string) *lua.LTable {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		argError(L, n, fname, "table expected, got "+typeName(L, n))
	}
	return t
}

// typeName is luaL_typename, with "no value" past the arguments.
func typeName(L *lua.LState, n int) string {
	if n > L.GetTop() {
		return "no value"
	}
	return L.Get(n).Type().String()
}

// argError is luaL_argerror.
func argError(L *lua.LState, n int, fname, msg string) {
	luaLError(L, "bad argument #"+itoa(n)+" to '"+fname+"' ("+msg+")")
}

// where is luaL_where: "chunk:line: " of the function level calls up
// (1: the caller of the running Go function), empty for a Go function.
func where(L *lua.LState, level int) string {
	dbg, ok := L.GetStack(level)
	if !ok {
		return ""
	}
	if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil || dbg.What == "G" || dbg.CurrentLine <= 0 {
		return ""
	}
	return chunkID(sourceOf(dbg)) + ":" + itoa(dbg.CurrentLine) + ": "
}

// luaLError is luaL_error: the message with its caller's position.
func luaLError(L *lua.LState, msg string) {
	L.Error(lua.LString(where(L, 1)+msg), 0)
}

// baseError is Lua 5.1's error: strings and numbers get a position.
func baseError(L *lua.LState) int {
	v := L.Get(1)
	level := L.OptInt(2, 1)
	switch v.(type) {
	case lua.LString, lua.LNumber:
		if level > 0 {
			v = lua.LString(where(L, level) + luaToString(v))
		}
	}
	L.Error(v, 0)
	return 0
}

func collectGarbage(L *lua.LState) int {
	opt := L.OptString(1, "collect")
	switch opt {
	case "count":
		L.Push(lua.LNumber(0))
	case "step":
		L.Push(lua.LFalse)
	case "collect", "stop", "restart", "setpause", "setstepmul":
		// Go's collector is the server's: a script does not drive it.
		L.Push(lua.LNumber(0))
	default:
		argError(L, 1, "collectgarbage", "invalid option '"+opt+"'")
	}
	return 1
}

// baseToString is Lua 5.1's tostring: numbers as "%.14g".
func baseToString(L *lua.LState) int {
	v := L.CheckAny(1)
	if n, ok := v.(lua.LNumber); ok {
		L.Push(lua.LString(fmtNumber(float64(n))))
		return 1
	}
	L.Push(L.ToStringMeta(v))
	return 1
}

// chunkID is luaO_chunkid: how Lua names a chunk in messages.
func chunkID(source string) string {
	const idSize = 60
	switch {
	case strings.HasPrefix(source, "="):
		s := source[1:]
		if len(s) > idSize-1 {
			s = s[:idSize-1]
		}
		return s
	case strings.HasPrefix(source, "@"):
		s := source[1:]
		if len(s) > idSize-1 {
			s = "..." + s[len(s)-(idSize-1-3):]
		}
		return s
	}
	n := strings.IndexAny(source, "\r\n")
	if n < 0 {
		n = len(source)
	}
	const room = idSize - len(" [string \"...\"] ")
	if n > room {
		n = room
	}
	if n < len(source) {
		return "[string \"" + source[:n] + "...\"]"
	}
	return "[string \"" + source + "\"]"
}

// loadstring compiles text only: Redis's Lua has no binary chunk loader,
// so a dumped function fails to parse and loadstring returns nil.
func (le *luaEnv) loadstring(L *lua.LState) int {
	s := L.CheckString(1)
	name := L.OptString(2, s)
	fn, err := le.compile(s, name)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(fn)
	return 1
}

// pcall is Redis's luaRedisPcall: Lua's pcall, except that an error table
// {err=msg} (what redis.call raises) comes back as its message.
func (le *luaEnv) pcall(L *lua.LState) int {
	top := L.GetTop()
	if top == 0 {
		// Redis calls the result placeholder it inserted.
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a boolean value"))
		return 2
	}
	if err := L.PCall(top-1, lua.MultRet, nil); err != nil {
		obj := errorObject(err)
		if r := le.run; r != nil && r.killed.Load() {
			L.Error(obj, 0) // a killed script may not catch its end
		}
		switch x := obj.(type) {
		case *lua.LTable:
			switch m := x.RawGetString("err").(type) {
			case lua.LString, lua.LNumber:
				obj = m
			}
		case lua.LString:
			obj = lua.LString(translateError(string(x)))
		}
		L.SetTop(0)
		L.Push(lua.LFalse)
		L.Push(obj)
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}
