package scripting

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/resp"
	"github.com/loomcache/loomcache/scripting/lualibs"
	lua "github.com/yuin/gopher-lua"
)

// Host runs the commands a script calls. The engine calls it from the
// goroutine running the script.
type Host interface {
	// Call runs one command for redis.call/redis.pcall: args[0] is the command name
	// as the script passed it. It returns the command's complete reply encoded as RESP
	// in protocol version proto (2 or 3; the script's redis.setresp). Command-level
	// refusals (unknown command, not allowed from scripts, write in a read-only
	// script, NOPERM, OOM, wrong arity...) come back as RESP error replies ("-ERR ...\r\n").
	Call(args [][]byte, proto int) []byte
	// ACLCheck answers redis.acl_check_cmd: whether the caller may run args; an error for an unknown command.
	ACLCheck(args [][]byte) (bool, error)
	// Log is redis.log at a Redis log level (0 debug .. 3 warning).
	Log(level int, msg string)
}

// Options configure an Engine. The zero value is Redis 7.0.15's setup.
type Options struct {
	// OpenLibs opens the libraries Redis adds to Lua (cjson, struct,
	// cmsgpack, bit) as globals of a fresh state, before the sandbox locks
	// it; globals outside Redis's allow list are dropped. Nil is
	// lualibs.Open, Redis's four.
	OpenLibs func(L *lua.LState)
	// Log receives redis.log calls made while no run is in progress
	// (a library's body during FUNCTION LOAD).
	Log func(level int, msg string)
	// LoadTimeout bounds a library's body during FUNCTION LOAD (Redis:
	// 500ms); negative for no limit, as for a master's or AOF's load.
	LoadTimeout time.Duration
	// MaxScriptBytes bounds the bodies the script cache keeps (0: 64 MB).
	// Past it the oldest scripts are dropped: an application sending an
	// endless variety of EVAL bodies cannot grow the cache without bound,
	// and a server that replicates SCRIPT LOAD can load a dropped body
	// again.
	MaxScriptBytes int
	// Version and VersionNum are redis.REDIS_VERSION and REDIS_VERSION_NUM.
	Version    string
	VersionNum int
}

const defaultLoadTimeout = 500 * time.Millisecond

// Engine holds the EVAL scripts and the FUNCTION libraries with their Lua
// states. Runs, loads and flushes are serialized (Redis runs one script at
// a time); Kill and Running may be called from any goroutine.
type Engine struct {
	opts Options

	mu      sync.Mutex
	rng     lrand48
	eval    *luaEnv
	scripts map[string]*Script
	// order is the cached scripts' SHAs, oldest first, and bodyBytes
	// their bodies' total: past Options.MaxScriptBytes the oldest go.
	order     []string
	bodyBytes int
	// numScripts is len(scripts), readable while a run holds mu.
	numScripts atomic.Int64
	fn         *luaEnv
	libs       map[string]*Library
	funcs      map[string]*Function

	running atomic.Pointer[Run]
}

// Script is a script in the EVAL cache.
type Script struct {
	SHA   string // lowercase hex SHA1 of Body
	Body  string
	Flags Flags // from the shebang; FlagEvalCompat without one
	fn    *lua.LFunction
}

// NewEngine returns an engine with empty script and function caches.
func NewEngine(opts Options) *Engine {
	if opts.Version == "" {
		opts.Version, opts.VersionNum = "7.0.15", 0x07000f
	}
	if opts.LoadTimeout == 0 {
		opts.LoadTimeout = defaultLoadTimeout
	}
	if opts.MaxScriptBytes == 0 {
		opts.MaxScriptBytes = 64 << 20
	}
	if opts.OpenLibs == nil {
		opts.OpenLibs = lualibs.Open
	}
	e := &Engine{opts: opts, rng: newLrand48()}
	e.eval = newLuaEnv(e, false)
	e.scripts = map[string]*Script{}
	e.fn = newLuaEnv(e, true)
	e.libs = map[string]*Library{}
	e.funcs = map[string]*Function{}
	return e
}

// Close releases the Lua states.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.eval.close()
	e.fn.close()
}

// SHA1Hex is the script digest Redis uses (and redis.sha1hex returns).
func SHA1Hex(body string) string {
	sum := sha1.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

// Load compiles body into the cache (SCRIPT LOAD, and EVAL's first run).
// A cached body is not compiled again. Errors are Redis's replies:
// shebang errors, or "ERR Error compiling script (new function): ...".
func (e *Engine) Load(body string) (sha string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, err := e.loadLocked(body)
	if err != nil {
		return "", err
	}
	return s.SHA, nil
}

func (e *Engine) loadLocked(body string) (*Script, error) {
	sha := SHA1Hex(body)
	if s, ok := e.scripts[sha]; ok {
		return s, nil
	}
	flags, n, err := ParseShebang(body)
	if err != nil {
		return nil, err
	}
	// The shebang line goes but its newline stays, so line numbers hold.
	fn, err := e.eval.compile(body[n:], "@user_script")
	if err != nil {
		return nil, errorf("ERR Error compiling script (new function): %s", err.Error())
	}
	s := &Script{SHA: sha, Body: body, Flags: flags, fn: fn}
	e.scripts[sha] = s
	e.order = append(e.order, sha)
	e.bodyBytes += len(body)
	defer func() { e.numScripts.Store(int64(len(e.scripts))) }()
	for e.bodyBytes > e.opts.MaxScriptBytes && len(e.order) > 1 {
		old := e.order[0]
		e.order = e.order[1:]
		if o, ok := e.scripts[old]; ok {
			e.bodyBytes -= len(o.Body)
			delete(e.scripts, old)
		}
	}
	return s, nil
}

// Exists reports whether sha (any case) is cached (SCRIPT EXISTS).
func (e *Engine) Exists(sha string) bool {
	_, ok := e.Script(sha)
	return ok
}

// Script returns a cached script by its SHA (any case), so the server can
// read its flags before running it.
func (e *Engine) Script(sha string) (*Script, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.scripts[strings.ToLower(sha)]
	return s, ok
}

// NumScripts is the number of scripts in the cache.
// It takes no lock, so a script's own INFO can ask.
func (e *Engine) NumScripts() int { return int(e.numScripts.Load()) }

// Flush empties the script cache and starts a fresh EVAL Lua state, as
// SCRIPT FLUSH does.
func (e *Engine) Flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.eval.close()
	e.eval = newLuaEnv(e, false)
	e.scripts, e.order, e.bodyBytes = map[string]*Script{}, nil, 0
	e.numScripts.Store(0)
}

// Kind says what a Request runs.
type Kind int

// The kinds of runs.
const (
	KindEval     Kind = iota // Script is the body (EVAL, EVAL_RO)
	KindEvalSHA              // Script is the SHA1 (EVALSHA, EVALSHA_RO)
	KindFunction             // Script is the function's name (FCALL, FCALL_RO)
)

// Request is one EVAL/EVALSHA/FCALL (or their _RO forms), after the
// server parsed numkeys.
type Request struct {
	Kind     Kind
	Script   string
	Keys     [][]byte
	Args     [][]byte
	Host     Host
	Proto    int  // the client's protocol, 2 or 3 (0: the Writer's)
	ReadOnly bool // the *_RO command
}

// Run is a script or function in progress.
type Run struct {
	Name     string // the SHA1 for EVAL, the function's name for FCALL
	Kind     Kind
	Flags    Flags
	ReadOnly bool // writes must be refused: a *_RO command or a no-writes script

	start  time.Time
	killed atomic.Bool
	cancel context.CancelFunc
	host   Host
	resp   int
	repl   int
}

// Kill interrupts the run: the script fails with Redis's "Script killed by
// user with SCRIPT KILL..." at its next Lua instruction, even inside a
// pcall or a tight loop. A command it is running finishes first.
func (r *Run) Kill() {
	r.killed.Store(true)
	r.cancel()
}

// Killed reports whether Kill was called.
func (r *Run) Killed() bool { return r.killed.Load() }

// Elapsed is how long the run has been going.
func (r *Run) Elapsed() time.Duration { return time.Since(r.start) }

// Resp is the protocol the script asked for with redis.setresp.
func (r *Run) Resp() int { return r.resp }

// Repl is the last redis.set_repl value (REPL_ALL by default).
func (r *Run) Repl() int { return r.repl }

// Running returns the run in progress, or nil.
func (e *Engine) Running() *Run { return e.running.Load() }

// Run executes req and writes its reply (or error) to w.
func (e *Engine) Run(w *resp.Writer, req Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if req.Proto == 2 || req.Proto == 3 {
		defer func(p int) { w.Proto = p }(w.Proto)
		w.Proto = req.Proto
	}
	var (
		le    *luaEnv
		fn    *lua.LFunction
		name  string
		flags Flags
	)
	switch req.Kind {
	case KindEval:
		s, err := e.loadLocked(req.Script)
		if err != nil {
			w.Error(err.Error())
			return
		}
		le, fn, name, flags = e.eval, s.fn, s.SHA, s.Flags
	case KindEvalSHA:
		s, ok := e.scripts[strings.ToLower(req.Script)]
		if !ok || len(req.Script) != 40 {
			w.Error("NOSCRIPT No matching script. Please use EVAL.")
			return
		}
		le, fn, name, flags = e.eval, s.fn, s.SHA, s.Flags
	case KindFunction:
		f, ok := e.funcs[strings.ToLower(req.Script)]
		if !ok {
			w.Error("ERR Function not found")
			return
		}
		le, fn, name, flags = e.fn, f.fn, f.Name, f.Flags
	default:
		w.Error("ERR unknown run kind")
		return
	}
	if req.ReadOnly && !flags.NoShebang() && flags&FlagNoWrites == 0 {
		w.Error("ERR Can not execute a script with write flag using *_ro command.")
		return
	}
	r := &Run{Name: name, Kind: req.Kind, Flags: flags, ReadOnly: flags.ReadOnly(req.ReadOnly),
		start: time.Now(), host: req.Host, resp: 2, repl: replAll}
	e.exec(w, le, fn, r, req.Keys, req.Args)
}

// exec runs fn as luaCallFunction does and converts its result.
func (e *Engine) exec(w *resp.Writer, le *luaEnv, fn *lua.LFunction, r *Run, keys, args [][]byte) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	L := le.L
	mark := w.Len()
	defer func() {
		if p := recover(); p != nil {
			w.Truncate(mark)
			w.Error(fmt.Sprintf("ERR internal error running script %s: %v", r.Name, p))
		}
		e.running.Store(nil)
		le.clearRun()
		cancel()
		L.SetTop(0)
	}()
	le.setRun(r, ctx)
	e.running.Store(r)
	L.Env = le.env // a script's setfenv(0, t) does not outlive it
	keysT, argsT := stringArray(L, keys), stringArray(L, args)
	L.Push(fn)
	nargs := 0
	if le.functions {
		L.Push(keysT)
		L.Push(argsT)
		nargs = 2
	} else {
		le.globals.RawSetString("KEYS", keysT)
		le.globals.RawSetString("ARGV", argsT)
	}
	if err := L.PCall(nargs, 1, le.handler); err != nil {
		obj := errorObject(err)
		if r.killed.Load() {
			if t, ok := obj.(*lua.LTable); !ok || !strings.Contains(luaToString(t.RawGetString("err")), "SCRIPT KILL") {
				obj = errorTable(L, "Script killed by user with SCRIPT KILL...")
			}
		}
		w.Error(runError(obj, r.Name))
		return
	}
	v := L.Get(-1)
	L.Pop(1)
	rw := replyWriter{w: w, le: le, scriptResp: r.resp}
	rw.write(v, 2)
}

func stringArray(L *lua.LState, items [][]byte) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for i, b := range items {
		t.RawSetInt(i+1, lua.LString(b))
	}
	return t
}
