package scripting

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// Redis's log levels (LL_*), as redis.LOG_* and Host.Log take them.
const (
	LogDebug   = 0
	LogVerbose = 1
	LogNotice  = 2
	LogWarning = 3
)

// Propagation flags of redis.set_repl (PROPAGATE_*).
const (
	replNone = 0
	replAOF  = 1
	replRepl = 2
	replAll  = replAOF | replRepl
)

// redisTable builds the redis library. loadAPI is the one FUNCTION LOAD
// sees: register_function, log and the constants, nothing else.
func (le *luaEnv) redisTable(loadAPI bool) *lua.LTable {
	L := le.L
	t := L.NewTable()
	set := func(name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(guard(fn))) }
	num := func(name string, v int) { t.RawSetString(name, lua.LNumber(v)) }
	if loadAPI {
		set("register_function", le.registerFunction)
	} else {
		set("call", func(L *lua.LState) int { return le.redisCall(L, true) })
		set("pcall", func(L *lua.LState) int { return le.redisCall(L, false) })
	}
	set("log", le.redisLog)
	num("LOG_DEBUG", LogDebug)
	num("LOG_VERBOSE", LogVerbose)
	num("LOG_NOTICE", LogNotice)
	num("LOG_WARNING", LogWarning)
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(le.e.opts.VersionNum))
	t.RawSetString("REDIS_VERSION", lua.LString(le.e.opts.Version))
	if loadAPI {
		mt := L.NewTable()
		mt.RawSetString("__index", L.NewFunction(nonexistentGlobal))
		t.Metatable = mt
		return t
	}
	set("setresp", le.redisSetResp)
	set("sha1hex", redisSha1hex)
	set("error_reply", redisErrorReply)
	set("status_reply", redisStatusReply)
	set("set_repl", le.redisSetRepl)
	num("REPL_NONE", replNone)
	num("REPL_AOF", replAOF)
	num("REPL_SLAVE", replRepl)
	num("REPL_REPLICA", replRepl)
	num("REPL_ALL", replAll)
	set("acl_check_cmd", le.redisACLCheck)
	if !le.functions {
		// No debugger: these behave as outside a SCRIPT DEBUG session.
		set("breakpoint", func(L *lua.LState) int { L.Push(lua.LFalse); return 1 })
		set("debug", func(L *lua.LState) int { return 0 })
		set("replicate_commands", func(L *lua.LState) int { L.Push(lua.LTrue); return 1 })
	}
	return t
}

// guard turns a Go panic in a callback into a Lua error, so no input can
// crash the server; gopher-lua's own errors (also panics) pass through.
func guard(fn lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) (n int) {
		defer func() {
			if r := recover(); r != nil {
				if _, ok := r.(*lua.ApiError); ok {
					panic(r)
				}
				L.Error(lua.LString(fmt.Sprintf("internal error: %v", r)), 0)
			}
		}()
		return fn(L)
	}
}

// raise is luaPushError + luaError: an error table {err="CODE msg"}.
func raise(L *lua.LState, msg string) {
	L.Error(errorTable(L, msg), 0)
}

// errorTable is luaPushErrorBuff: "-CODE msg" keeps its code, a bare
// message gets ERR; trailing CR/LF go.
func errorTable(L *lua.LState, msg string) *lua.LTable {
	code := "ERR"
	if len(msg) > 0 && msg[0] == '-' {
		sp := indexByte(msg, ' ')
		if sp < 0 {
			msg = msg[1:]
		} else {
			code, msg = msg[1:sp], msg[sp+1:]
		}
	}
	t := L.NewTable()
	t.RawSetString("err", lua.LString(cstr(code+" "+trimCRLF(msg))))
	return t
}

// commandArgs is luaArgsToRedisArgv: strings as they are, numbers as
// "%.17g", anything else refused.
func commandArgs(L *lua.LState) [][]byte {
	n := L.GetTop()
	if n == 0 {
		raise(L, "Please specify at least one argument for this redis lib call")
	}
	args := make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(v)
		case lua.LNumber:
			args[i-1] = fmtNumber17(float64(v))
		default:
			raise(L, "Lua redis lib command arguments must be strings or integers")
		}
	}
	return args
}

// redisCall is redis.call (raise) and redis.pcall: the host runs the
// command and its RESP reply becomes a Lua value; an error reply becomes
// an error table, raised by redis.call.
func (le *luaEnv) redisCall(L *lua.LState, raiseErr bool) int {
	r := le.run
	if r == nil {
		raise(L, "redis.call/pcall can only be called inside a script invocation")
	}
	args, ok := tryArgs(L)
	if !ok {
		if raiseErr {
			L.Error(L.Get(-1), 0)
		}
		return 1
	}
	reply := r.host.Call(args, r.resp)
	v, isErr := respToLua(L, reply)
	if isErr && raiseErr {
		L.Error(v, 0)
	}
	L.Push(v)
	return 1
}

// tryArgs converts the arguments, leaving the error table on the stack
// instead of raising it (redis.pcall returns argument errors).
func tryArgs(L *lua.LState) (args [][]byte, ok bool) {
	n := L.GetTop()
	if n == 0 {
		L.Push(errorTable(L, "Please specify at least one argument for this redis lib call"))
		return nil, false
	}
	args = make([][]byte, n)
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			args[i-1] = []byte(v)
		case lua.LNumber:
			args[i-1] = fmtNumber17(float64(v))
		default:
			L.Push(errorTable(L, "Lua redis lib command arguments must be strings or integers"))
			return nil, false
		}
	}
	return args, true
}

func (le *luaEnv) redisACLCheck(L *lua.LState) int {
	r := le.run
	if r == nil {
		raise(L, "redis.acl_check_cmd can only be called inside a script invocation")
	}
	ok, err := r.host.ACLCheck(commandArgs(L))
	if err != nil {
		raise(L, "Invalid command passed to redis.acl_check_cmd()")
	}
	L.Push(lua.LBool(ok))
	return 1
}

func (le *luaEnv) redisLog(L *lua.LState) int {
	n := L.GetTop()
	if n < 2 {
		raise(L, "redis.log() requires two arguments or more.")
	}
	lv, ok := toNumber(L.Get(1))
	if !ok {
		raise(L, "First argument must be a number (log level).")
	}
	level := int(cInt32(lv))
	if level < LogDebug || level > LogWarning {
		raise(L, "Invalid debug level.")
	}
	var msg []byte
	for i := 2; i <= n; i++ {
		s, ok := toLString(L.Get(i))
		if !ok {
			continue
		}
		if i != 2 {
			msg = append(msg, ' ')
		}
		msg = append(msg, s...)
	}
	if r := le.run; r != nil && r.host != nil {
		r.host.Log(level, string(msg))
	} else if le.e.opts.Log != nil {
		le.e.opts.Log(level, string(msg)) // FUNCTION LOAD: no host yet
	}
	return 0
}

func (le *luaEnv) redisSetResp(L *lua.LState) int {
	r := le.run
	if r == nil {
		raise(L, "redis.setresp can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		raise(L, "redis.setresp() requires one argument.")
	}
	n, _ := toNumber(L.Get(1))
	v := cInt32(n)
	if v != 2 && v != 3 {
		raise(L, "RESP version must be 2 or 3.")
	}
	r.resp = int(v)
	return 0
}

// redisSetRepl validates as Redis does; replication is the server's, which
// propagates effects (7.0 always replicates commands), so the value only
// reaches it through Run.Repl.
func (le *luaEnv) redisSetRepl(L *lua.LState) int {
	r := le.run
	if r == nil {
		raise(L, "redis.set_repl can only be called inside a script invocation")
	}
	if L.GetTop() != 1 {
		raise(L, "redis.set_repl() requires two arguments.")
	}
	n, _ := toNumber(L.Get(1))
	flags := cInt32(n)
	if flags&^replAll != 0 {
		raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.")
	}
	r.repl = int(flags)
	return 0
}

func redisSha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		raise(L, "wrong number of arguments")
	}
	s, _ := toLString(L.Get(1))
	sum := sha1.Sum(s)
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

func redisErrorReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	msg := cstr(string(s))
	if len(msg) == 0 || msg[0] != '-' {
		msg = "-" + msg
	}
	L.Push(errorTable(L, msg))
	return 1
}

func redisStatusReply(L *lua.LState) int {
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		L.Push(errorTable(L, "wrong number or type of arguments"))
		return 1
	}
	t := L.NewTable()
	t.RawSetString("ok", s)
	L.Push(t)
	return 1
}

// mathRandom is Redis's math.random: Lua's, on redisLrand48.
func (le *luaEnv) mathRandom(L *lua.LState) int {
	if le.run == nil {
		luaLError(L, "math.random can only be called inside a script invocation")
	}
	r := float64(le.e.rng.next()%lrand48Max) / float64(lrand48Max)
	switch L.GetTop() {
	case 0:
		L.Push(lua.LNumber(r))
	case 1:
		u := checkInt(L, 1, "random")
		if u < 1 {
			argError(L, 1, "random", "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(u)) + 1))
	case 2:
		l := checkInt(L, 1, "random")
		u := checkInt(L, 2, "random")
		if l > u {
			argError(L, 2, "random", "interval is empty")
		}
		L.Push(lua.LNumber(math.Floor(r*float64(int64(u)-int64(l)+1)) + float64(l)))
	default:
		luaLError(L, "wrong number of arguments")
	}
	return 1
}

func (le *luaEnv) mathRandomseed(L *lua.LState) int {
	if le.run == nil {
		luaLError(L, "math.randomseed can only be called inside a script invocation")
	}
	le.e.rng.seed(checkInt(L, 1, "randomseed"))
	return 0
}

// checkInt is luaL_checkint: a number or numeric string, truncated to C int.
func checkInt(L *lua.LState, n int, fname string) int32 {
	f, ok := toNumber(L.Get(n))
	if !ok {
		argError(L, n, fname, "number expected, got "+typeName(L, n))
	}
	return int32(cInt64(f)) // (int)lua_Integer: the low 32 bits
}
