package scripting

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/loomcache/loomcache/resp"
	lua "github.com/yuin/gopher-lua"
)

// Library is a FUNCTION library: its code and the functions its body
// registered.
type Library struct {
	Name      string
	Engine    string // as the shebang spelled it ("lua")
	Code      string // the whole FUNCTION LOAD payload, shebang included
	Functions map[string]*Function
}

// FunctionNames lists the library's functions, sorted.
func (l *Library) FunctionNames() []string {
	names := make([]string, 0, len(l.Functions))
	for n := range l.Functions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Function is one function of a library.
type Function struct {
	Name           string
	Description    string
	HasDescription bool // FUNCTION LIST shows nil without one
	Flags          Flags
	Library        *Library
	fn             *lua.LFunction
}

type loadCtx struct{ lib *Library }

const libNameErr = "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long"

// validName is functionsVerifyName.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// libMeta is functionExtractLibMetaData: the "#!<engine> name=<lib>" line.
func libMeta(code string) (engine, name, body string, err error) {
	if !strings.HasPrefix(code, "#!") {
		return "", "", "", errorf("ERR Missing library metadata")
	}
	end := strings.IndexByte(code, '\n')
	if end < 0 {
		return "", "", "", errorf("ERR Invalid library metadata")
	}
	parts, ok := resp.SplitArgs([]byte(code[:end]), nil)
	if !ok || len(parts) == 0 {
		return "", "", "", errorf("ERR Invalid library metadata")
	}
	engine = cstr(string(parts[0]))[2:]
	seen := false
	for _, p := range parts[1:] {
		ps := cstr(string(p))
		if len(ps) >= 5 && strings.EqualFold(ps[:5], "name=") {
			if seen {
				return "", "", "", errorf("ERR Invalid metadata value, name argument was given multiple times")
			}
			name, seen = ps[5:], true
			continue
		}
		return "", "", "", errorf("ERR Invalid metadata value given: %s", ps)
	}
	if !seen {
		return "", "", "", errorf("ERR Library name was not given")
	}
	return engine, name, code[end:], nil
}

// LoadLibrary compiles a FUNCTION LOAD payload and runs its body in the
// load-time sandbox, returning the library it registered, without adding
// it to the engine's libraries (FunctionLoad does). Errors are Redis's.
func (e *Engine) LoadLibrary(code string) (*Library, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.loadLibraryLocked(code, nil)
}

func (e *Engine) loadLibraryLocked(code string, check func(name string) error) (*Library, error) {
	engine, name, body, err := libMeta(code)
	if err != nil {
		return nil, err
	}
	if !validName(name) {
		return nil, errorf(libNameErr)
	}
	if !strings.EqualFold(engine, "lua") {
		return nil, errorf("ERR Engine '%s' not found", engine)
	}
	if check != nil {
		if err := check(name); err != nil {
			return nil, err
		}
	}
	le := e.fn
	fn, err := le.compile(body, "@user_function")
	if err != nil {
		return nil, errorf("ERR Error compiling function: %s", err.Error())
	}
	lib := &Library{Name: name, Engine: engine, Code: code, Functions: map[string]*Function{}}
	if err := e.runLibraryBody(le, fn, lib); err != nil {
		return nil, err
	}
	if len(lib.Functions) == 0 {
		return nil, errorf("ERR No functions registered")
	}
	return lib, nil
}

// runLibraryBody runs a library's body where only the load API is visible
// (the globals' metatable points at it meanwhile, as luaEngineCreate does).
func (e *Engine) runLibraryBody(le *luaEnv, fn *lua.LFunction, lib *Library) (err error) {
	L := le.L
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if e.opts.LoadTimeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, e.opts.LoadTimeout)
	}
	le.envMeta.RawSetString("__index", le.libAPI)
	le.load = &loadCtx{lib: lib}
	L.SetContext(ctx)
	L.Env = le.env
	defer func() {
		if p := recover(); p != nil {
			err = errorf("ERR Error registering functions: internal error")
		}
		cancel()
		L.RemoveContext()
		le.load = nil
		le.envMeta.RawSetString("__index", le.globals)
		L.SetTop(0)
	}()
	L.Push(fn)
	if perr := L.PCall(0, 0, nil); perr != nil {
		var msg string
		switch obj := errorObject(perr); {
		case ctx.Err() != nil:
			msg = "ERR FUNCTION LOAD timeout"
		case obj.Type() == lua.LTTable:
			msg = "(null)" // what Redis's printf makes of a missing message
			if s, ok := toLString(obj.(*lua.LTable).RawGetString("err")); ok {
				msg = cstr(string(s))
			}
		default:
			s, _ := toLString(obj)
			msg = "ERR " + translateError(cstr(string(s)))
		}
		return errorf("ERR Error registering functions: %s", msg)
	}
	return nil
}

// registerFunction is redis.register_function, positional (name, callback)
// or named ({function_name=, callback=, flags=, description=}).
func (le *luaEnv) registerFunction(L *lua.LState) int {
	lc := le.load
	if lc == nil {
		raise(L, "redis.register_function can only be called on FUNCTION LOAD command")
	}
	f := &Function{Library: lc.lib}
	switch L.GetTop() {
	case 1:
		t, ok := L.Get(1).(*lua.LTable)
		if !ok {
			raise(L, "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).")
		}
		var named error
		le.realOf(t).ForEach(func(k, v lua.LValue) {
			if named == nil {
				named = le.namedArg(L, f, k, v)
			}
		})
		if named != nil {
			raise(L, named.Error())
		}
		if f.Name == "" {
			raise(L, "redis.register_function must get a function name argument")
		}
		if f.fn == nil {
			raise(L, "redis.register_function must get a callback argument")
		}
	case 2:
		name, ok := toLString(L.Get(1))
		if !ok {
			raise(L, "first argument to redis.register_function must be a string")
		}
		fn, ok := L.Get(2).(*lua.LFunction)
		if !ok {
			raise(L, "second argument to redis.register_function must be a function")
		}
		f.Name, f.fn = string(name), fn
	default:
		raise(L, "wrong number of arguments to redis.register_function")
	}
	if !validName(f.Name) {
		raise(L, libNameErr[4:])
	}
	if _, dup := lc.lib.Functions[f.Name]; dup {
		raise(L, "Function already exists in the library")
	}
	lc.lib.Functions[f.Name] = f
	return 0
}

// namedArg reads one named argument (luaRegisterFunctionReadNamedArgs).
func (le *luaEnv) namedArg(L *lua.LState, f *Function, k, v lua.LValue) error {
	key, ok := toLString(k)
	if !ok {
		return errors.New("named argument key given to redis.register_function is not a string")
	}
	switch strings.ToLower(cstr(string(key))) {
	case "function_name":
		s, ok := toLString(v)
		if !ok {
			return errors.New("function_name argument given to redis.register_function must be a string")
		}
		f.Name = string(s)
		if f.Name == "" {
			f.Name = "\x00" // given but empty: the name check refuses it
		}
	case "description":
		s, ok := toLString(v)
		if !ok {
			return errors.New("description argument given to redis.register_function must be a string")
		}
		f.Description, f.HasDescription = string(s), true
	case "callback":
		fn, ok := v.(*lua.LFunction)
		if !ok {
			return errors.New("callback argument given to redis.register_function must be a function")
		}
		f.fn = fn
	case "flags":
		t, ok := v.(*lua.LTable)
		if !ok {
			return errors.New("flags argument to redis.register_function must be a table representing function flags")
		}
		for i := 1; ; i++ {
			fv := L.GetTable(t, lua.LNumber(i))
			if fv == lua.LNil {
				break
			}
			s, ok := toLString(fv)
			if !ok {
				return errors.New("unknown flag given")
			}
			flag, ok := flagByName(cstr(string(s)), true)
			if !ok {
				return errors.New("unknown flag given")
			}
			f.Flags |= flag
		}
	default:
		return errors.New("unknown argument given to redis.register_function")
	}
	return nil
}

// FunctionLoad is FUNCTION LOAD [REPLACE]: it loads the library and adds
// it, replacing a library of the same name only with replace. It returns
// the library's name.
func (e *Engine) FunctionLoad(code string, replace bool) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var old *Library
	lib, err := e.loadLibraryLocked(code, func(name string) error {
		old = e.libs[name]
		if old != nil && !replace {
			return errorf("ERR Library '%s' already exists", name)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	for _, n := range lib.FunctionNames() {
		if f, ok := e.funcs[strings.ToLower(n)]; ok && f.Library != old {
			return "", errorf("ERR Function %s already exists", n)
		}
	}
	if old != nil {
		e.unlink(old)
	}
	e.libs[lib.Name] = lib
	for n, f := range lib.Functions {
		e.funcs[strings.ToLower(n)] = f
	}
	return lib.Name, nil
}

func (e *Engine) unlink(lib *Library) {
	delete(e.libs, lib.Name)
	for n := range lib.Functions {
		delete(e.funcs, strings.ToLower(n)) // FCALL's names ignore case, as Redis's functions dict does
	}
}

// FunctionDelete is FUNCTION DELETE: its functions become garbage.
func (e *Engine) FunctionDelete(name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	lib, ok := e.libs[name]
	if !ok {
		return errorf("ERR Library not found")
	}
	e.unlink(lib)
	return nil
}

// FunctionFlush is FUNCTION FLUSH: every library goes, with the Lua state
// that held them.
func (e *Engine) FunctionFlush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.fn.close()
	e.fn = newLuaEnv(e, true)
	e.libs = map[string]*Library{}
	e.funcs = map[string]*Function{}
}

// Libraries returns the loaded libraries sorted by name.
func (e *Engine) Libraries() []*Library {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*Library, 0, len(e.libs))
	for _, l := range e.libs {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Function returns a loaded function by name, so the server can read its
// flags before FCALL.
func (e *Engine) Function(name string) (*Function, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.funcs[strings.ToLower(name)]
	return f, ok
}
