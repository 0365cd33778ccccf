package scripting

import (
	"errors"
	"regexp"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// errHandler is Redis's __redis__err__handler: it runs where the error
// was raised and records which line of the script raised it. A string
// error becomes {err="ERR <string>"}. When the error comes from a Go (C)
// function, the position is its caller's, as Redis reports it.
func (le *luaEnv) errHandler(L *lua.LState) int {
	errv := L.Get(1)
	if r := le.run; r != nil && r.killed.Load() {
		errv = errorTable(L, "Script killed by user with SCRIPT KILL...")
	}
	t, ok := errv.(*lua.LTable)
	if !ok || le.isView(t) {
		t = L.NewTable()
		t.RawSetString("err", lua.LString("ERR "+translateError(luaToString(errv))))
	}
	level := 1
	if dbg, ok := L.GetStack(level); ok {
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.What == "G" {
			dbg, ok = L.GetStack(level + 1)
			if ok {
				_, err = L.GetInfo("Sl", dbg, lua.LNil)
				ok = err == nil
			}
		}
		if ok {
			t.RawSetString("source", lua.LString(sourceOf(dbg)))
			t.RawSetString("line", lua.LNumber(dbg.CurrentLine))
		}
	}
	L.Push(t)
	return 1
}

// sourceOf is the debug "source" of a frame: "@user_script" for the
// script itself, Lua's spelling otherwise.
func sourceOf(dbg *lua.Debug) string {
	switch dbg.Source {
	case "user_script", "user_function":
		return "@" + dbg.Source
	case "":
		return "=[C]"
	}
	return dbg.Source
}

// runError formats a failed run's error object as luaCallFunction does:
// "<msg> script: <name>, on <source>:<line>." when the position is known.
func runError(obj lua.LValue, name string) string {
	t, ok := obj.(*lua.LTable)
	if !ok {
		msg := "execution failure"
		if s, ok := toLString(obj); ok {
			msg = string(s)
			if len(msg) > 100 {
				msg = msg[:100]
			}
		}
		return "ERR Error running script " + name + ", " + trimCRLF(msg)
	}
	msg := "ERR unknown error" // Redis would print a NULL here
	if s, ok := toLString(t.RawGetString("err")); ok {
		msg = cstr(string(s))
	}
	src, sok := toLString(t.RawGetString("source"))
	line, lok := toLString(t.RawGetString("line"))
	if sok && lok {
		msg += " script: " + name + ", on " + cstr(string(src)) + ":" + cstr(string(line)) + "."
	}
	return msg
}

// errorObject is the value a failed PCall raised.
func errorObject(err error) lua.LValue {
	var ae *lua.ApiError
	if errors.As(err, &ae) && ae.Object != nil {
		return ae.Object
	}
	return lua.LString(err.Error())
}

// compile loads text as Lua 5.1 would name and report it: source is the
// chunk name ("@user_script", or a loadstring's text). The function's
// globals are the sandbox's, not those of the Go function compiling it.
func (le *luaEnv) compile(text, source string) (*lua.LFunction, error) {
	name := chunkID(source)
	fn, err := le.L.Load(strings.NewReader(text), name)
	if err != nil {
		return nil, errors.New(syntaxError(err, name, text))
	}
	fn.Env = le.env
	return fn, nil
}

// syntaxError rewrites gopher-lua's parser errors in Lua 5.1's form,
// "chunk:line: message near 'token'". gopher-lua's parser does not know
// which token Lua's would have expected, so its messages are the generic
// ones ("unexpected symbol").
func syntaxError(err error, name, text string) string {
	var ae *lua.ApiError
	var pe *parse.Error
	if !errors.As(err, &ae) || !errors.As(ae.Cause, &pe) {
		msg := err.Error()
		if ae != nil && ae.Object != nil {
			msg = ae.Object.String()
		}
		return name + ": " + strings.TrimSpace(msg)
	}
	msg := pe.Message
	switch msg {
	case "syntax error", "parse error":
		msg = "unexpected symbol"
	case "unterminated string":
		msg = "unfinished string"
	}
	if pe.Pos.Line == parse.EOF {
		return name + ":" + itoa(strings.Count(text, "\n")+1) + ": " + msg + " near '<eof>'"
	}
	return name + ":" + itoa(pe.Pos.Line) + ": " + msg + " near '" + pe.Token + "'"
}

var (
	reArith   = regexp.MustCompile(`cannot perform (\w+) operation between (\w+) and (\w+)`)
	reIndex   = regexp.MustCompile(`attempt to index a non-table object\((\w+)\) with key '.*'`)
	reBadArg  = regexp.MustCompile(`bad argument #(\d+) to ([\w.]+) \((.*)\)`)
	reCompare = regexp.MustCompile(`attempt to compare (\w+) with (\w+)`)
)

// translateError rewrites gopher-lua's runtime messages that have a
// Lua 5.1 counterpart (without 5.1's variable names, which gopher-lua
// does not track).
func translateError(msg string) string {
	if m := reArith.FindStringSubmatchIndex(msg); m != nil {
		op, a, b := msg[m[2]:m[3]], msg[m[4]:m[5]], msg[m[6]:m[7]]
		bad := a
		if a == "number" || (op == "concat" && a == "string") {
			bad = b
		}
		what := "perform arithmetic on"
		if op == "concat" {
			what = "concatenate"
		}
		return msg[:m[0]] + "attempt to " + what + " a " + bad + " value" + msg[m[1]:]
	}
	if m := reIndex.FindStringSubmatchIndex(msg); m != nil {
		return msg[:m[0]] + "attempt to index a " + msg[m[2]:m[3]] + " value" + msg[m[1]:]
	}
	if m := reCompare.FindStringSubmatchIndex(msg); m != nil && msg[m[2]:m[3]] == msg[m[4]:m[5]] {
		return msg[:m[0]] + "attempt to compare two " + msg[m[2]:m[3]] + " values" + msg[m[1]:]
	}
	if strings.Contains(msg, "__len undefined") {
		// gopher-lua does not say what it was; nil is what scripts hit.
		return strings.Replace(msg, "__len undefined", "attempt to get length of a nil value", 1)
	}
	if strings.Contains(msg, "attempt to call a non-function object") {
		return strings.Replace(msg, "attempt to call a non-function object", "attempt to call a nil value", 1)
	}
	if m := reBadArg.FindStringSubmatchIndex(msg); m != nil {
		fn := msg[m[4]:m[5]]
		if i := strings.LastIndexByte(fn, '.'); i >= 0 {
			fn = fn[i+1:]
		}
		return msg[:m[0]] + "bad argument #" + msg[m[2]:m[3]] + " to '" + fn + "' (" + msg[m[6]:m[7]] + ")" + msg[m[1]:]
	}
	return msg
}
