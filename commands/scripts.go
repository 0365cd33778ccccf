package commands

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
	"github.com/loomcache/loomcache/scripting"
)

// Scripting. EVAL and FCALL run a Lua script (package scripting) on the
// leader as a block (block.go): the commands it calls run against copies
// of the keys they touch, and its writes become one Exec op carrying its
// reply, so followers never run Lua and a script that reads the clock or
// draws random numbers is as safe as any. The script cache and the
// function libraries are replicated (script_registry.go); the node's
// engine caches them.

// scripts is a node's scripting state.
type scripts struct {
	reg    *scriptRegistry
	engine *scripting.Engine
	// What the engine holds: the registry's counts when it was last
	// brought up to date.
	syncMu         sync.Mutex
	flushes, fnGen uint64
	// syncedFlushes is flushes, readable without syncMu.
	syncedFlushes atomic.Uint64
	// current is the host of the run in progress, for SCRIPT KILL.
	current atomic.Pointer[scriptHost]
	// busyMs is busy-reply-threshold (lua-time-limit): past it, a running
	// script makes other clients' commands answer BUSY.
	busyMs atomic.Int64
	log    atomic.Pointer[func(level int, msg string)]
}

func newScripts() *scripts {
	s := &scripts{reg: newScriptRegistry()}
	s.busyMs.Store(5000)
	s.engine = scripting.NewEngine(scripting.Options{Log: s.logLine})
	return s
}

func (s *scripts) logLine(level int, msg string) {
	if f := s.log.Load(); f != nil {
		(*f)(level, msg)
	}
}

// SetScriptLog sets where redis.log writes.
func (t *Table) SetScriptLog(f func(level int, msg string)) { t.scripts.log.Store(&f) }

// SetBusyThreshold sets busy-reply-threshold in milliseconds.
func (t *Table) SetBusyThreshold(ms int64) { t.scripts.busyMs.Store(ms) }

// BusyThreshold is busy-reply-threshold in milliseconds.
func (t *Table) BusyThreshold() int64 { return t.scripts.busyMs.Load() }

// sync brings the engine up to date with the registry.
func (s *scripts) sync() {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.reg.mu.RLock()
	flushes, gen := s.reg.flushes, s.reg.fnGen
	var libs []libSpec
	if gen != s.fnGen {
		libs = s.reg.sortedLibs()
	}
	s.reg.mu.RUnlock()
	if flushes != s.flushes {
		s.engine.Flush()
		s.flushes = flushes
		s.syncedFlushes.Store(flushes)
	}
	if gen != s.fnGen {
		s.engine.FunctionFlush()
		for _, l := range libs {
			s.engine.FunctionLoad(l.Code, true)
		}
		s.fnGen = gen
	}
}

// cached reports whether sha is in the script cache, loading a replicated
// body into the engine if it is not compiled here yet.
func (s *scripts) cached(sha string) bool {
	sha = strings.ToLower(sha)
	if s.engine.Exists(sha) {
		return true
	}
	s.reg.mu.RLock()
	body, ok := s.reg.bodies[sha]
	s.reg.mu.RUnlock()
	if ok {
		_, err := s.engine.Load(body)
		return err == nil
	}
	return false
}

// ScriptStats are INFO memory's counts: the scripts cached (replicated by
// SCRIPT LOAD, or compiled here by EVAL: the larger of the two counts),
// the functions and the libraries. It takes neither the engine nor the
// sync lock: a script may ask (INFO from Lua) while it holds the engine.
func (t *Table) ScriptStats() (scripts, functions, libraries int) {
	s := t.scripts
	s.reg.mu.RLock()
	bodies, flushes := len(s.reg.bodies), s.reg.flushes
	functions, libraries = len(s.reg.owner), len(s.reg.libs)
	s.reg.mu.RUnlock()
	compiled := 0
	if s.syncedFlushes.Load() == flushes { // else the engine is about to be flushed
		compiled = s.engine.NumScripts()
	}
	return max(bodies, compiled), functions, libraries
}

// BusyReply is the error a command that may not run while a script is
// busy gets, "" when none is: a script has been running past
// busy-reply-threshold.
func (t *Table) BusyReply() string {
	r := t.scripts.engine.Running()
	if r == nil || r.Elapsed().Milliseconds() < t.scripts.busyMs.Load() {
		return ""
	}
	if r.Kind == scripting.KindFunction {
		return errBusyFunction
	}
	return errBusyScript
}

const (
	errBusyScript   = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	errBusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
)

// scriptKeys is the key spec of EVAL and FCALL: numkeys, then the keys.
func scriptKeys(flags KeyFlag, notes string) []KeySpec {
	return []KeySpec{{Notes: notes, Flags: flags, Index: 2, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}}
}

// scriptCommand is an entry of the EVAL and FCALL families, which share
// their shape: a script (or its SHA1, or a function), numkeys, keys, args.
func scriptCommand(name, since, summary, first, complexity string, f Flag, k []KeySpec, h Handler) *Command {
	return &Command{Name: name, Arity: -3, Flags: FlagNoScript | FlagStale | FlagSkipMonitor | FlagNoMandatoryKeys | f,
		Categories: CatScripting, Keys: k, Group: "scripting", Since: since, Complexity: complexity,
		Summary: summary, Handler: h,
		Args: []Arg{argString(first), argInt("numkeys"), argKey("key", 0).optional().multiple(),
			argString("arg").optional().multiple()}}
}

// Key spec notes of the scripts that name their keys' use: Redis assumes
// the worst.
const (
	keysRWNote = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"
	keysRONote = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"
)

func registerScripting(t *Table) {
	const rw, ro = KeyRW | KeyAccess | KeyUpdate, KeyRO | KeyAccess
	run := scriptCommand
	keys := scriptKeys
	const script = "Depends on the script that is executed."
	t.add(
		run("eval", "2.6.0", "Execute a Lua script server side", "script", script, FlagMayReplicate, keys(rw, keysRWNote), cmdEval),
		run("evalsha", "2.6.0", "Execute a Lua script server side", "sha1", script, FlagMayReplicate, keys(rw, ""), cmdEvalSHA),
		run("eval_ro", "7.0.0", "Execute a read-only Lua script server side", "script", script, FlagReadonly, keys(ro, keysRONote), cmdEvalRO),
		run("evalsha_ro", "7.0.0", "Execute a read-only Lua script server side", "sha1", script, FlagReadonly, keys(ro, ""), cmdEvalSHARO),
		&Command{Name: "script", Arity: -2, Group: "scripting", Since: "2.6.0",
			Complexity: "Depends on subcommand.", Summary: "A container for Lua scripts management commands",
			Subs: []*Command{
				{Name: "script|help", Arity: 2, Flags: FlagLoading | FlagStale, Categories: CatScripting,
					Group: "scripting", Since: "5.0.0", Complexity: "O(1)",
					Summary: "Show helpful text about the different subcommands", Handler: cmdScriptHelp},
				{Name: "script|exists", Arity: -3, Flags: FlagNoScript, Categories: CatScripting,
					Tips:  []string{"request_policy:all_shards", "response_policy:agg_logical_and"},
					Group: "scripting", Since: "2.6.0",
					Complexity: "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).",
					Summary:    "Check existence of scripts in the script cache.", Handler: cmdScriptExists,
					Args: []Arg{argString("sha1").multiple()}},
				{Name: "script|debug", Arity: 3, Flags: FlagNoScript, Categories: CatScripting,
					Group: "scripting", Since: "3.2.0", Complexity: "O(1)",
					Summary: "Set the debug mode for executed scripts.", Handler: cmdScriptDebug,
					Args: []Arg{argOneof("mode", argToken("yes", "YES"), argToken("sync", "SYNC"), argToken("no", "NO"))}},
				{Name: "script|load", Arity: 3, Flags: FlagNoScript | FlagStale, Categories: CatScripting,
					Tips:  []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					Group: "scripting", Since: "2.6.0", Complexity: "O(N) with N being the length in bytes of the script body.",
					Summary: "Load the specified Lua script into the script cache.", Handler: cmdScriptLoad,
					Args: []Arg{argString("script")}},
				{Name: "script|kill", Arity: 2, Flags: FlagNoScript | FlagAllowBusy, Categories: CatScripting,
					Tips:  []string{"request_policy:all_shards", "response_policy:one_succeeded"},
					Group: "scripting", Since: "2.6.0", Complexity: "O(1)",
					Summary: "Kill the script currently in execution.", Handler: cmdScriptKill},
				{Name: "script|flush", Arity: -2, Flags: FlagNoScript, Categories: CatScripting,
					Tips:  []string{"request_policy:all_nodes", "response_policy:all_succeeded"},
					Group: "scripting", Since: "2.6.0", Complexity: "O(N) with N being the number of scripts in cache",
					Summary: "Remove all the scripts from the script cache.", Handler: cmdScriptFlush,
					History: [][2]string{{"6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."}},
					Args:    []Arg{argOneof("async", argToken("async", "ASYNC"), argToken("sync", "SYNC")).since("6.2.0").optional()}},
			}},
	)
}

// RunsAsCaller reports whether the command's handler checks its user's
// permissions itself (a script's calls, SORT's BY and GET patterns), so
// that a follower forwarding it sends the user along.
func (c *Command) RunsAsCaller() bool {
	return c.AllCategories()&CatScripting != 0 || c.Name == "sort" || c.Name == "sort_ro"
}

// RunsOnLeader reports whether a command reads or writes the keyspace, so
// that a follower has the leader run it: flagged write or readonly, or a
// script (which may do either).
func (c *Command) RunsOnLeader() bool {
	switch c.Name {
	case "eval", "evalsha", "fcall":
		return true
	}
	if c.Has(FlagBlocking) {
		// It waits where its client is, woken by what this node
		// applies; its pops go to the leader (blocking.go).
		return false
	}
	return c.Has(FlagWrite) || c.Has(FlagReadonly)
}

func cmdEval(c *Ctx)      { c.Table.runScript(c, scripting.KindEval, false) }
func cmdEvalSHA(c *Ctx)   { c.Table.runScript(c, scripting.KindEvalSHA, false) }
func cmdEvalRO(c *Ctx)    { c.Table.runScript(c, scripting.KindEval, true) }
func cmdEvalSHARO(c *Ctx) { c.Table.runScript(c, scripting.KindEvalSHA, true) }

// runScript is EVAL, EVALSHA, FCALL and their read-only forms: the checks
// Redis makes before a script runs, then the script as a block.
func (t *Table) runScript(c *Ctx, kind scripting.Kind, ro bool) {
	s := t.scripts
	if kind != scripting.KindEval {
		// Called by name: the registry is partition 0's, and this node's
		// copy must hold every change acknowledged before the call.
		if pn, ok := c.Node.(PartitionedNode); ok && pn.Partitions() > 1 && !pn.CatchUpScripts() {
			c.W.Error(nodeError(ErrNoLeader))
			return
		}
	}
	s.sync()
	var fn *scripting.Function
	if kind == scripting.KindFunction {
		var ok bool
		if fn, ok = s.engine.Function(string(c.Args[1])); !ok {
			c.W.Error("ERR Function not found")
			return
		}
	}
	n, ok := parseInt(c.Args[2])
	switch {
	case !ok && fn != nil:
		c.W.Error("ERR Bad number of keys provided")
		return
	case !ok:
		c.W.Error(errNotInt.Error())
		return
	case n > int64(len(c.Args)-3):
		c.W.Error("ERR Number of keys can't be greater than number of args")
		return
	case n < 0:
		c.W.Error("ERR Number of keys can't be negative")
		return
	}
	keys, argv := c.Args[3:3+n], c.Args[3+n:]
	name := string(c.Args[1])
	var flags scripting.Flags
	known := false
	switch kind {
	case scripting.KindEval:
		if _, err := s.engine.Load(name); err != nil {
			c.W.Error(err.Error())
			return
		}
		sc, _ := s.engine.Script(scripting.SHA1Hex(name))
		flags, known = sc.Flags, true
	case scripting.KindEvalSHA:
		if s.cached(name) {
			if sc, ok := s.engine.Script(name); ok {
				flags, known = sc.Flags, true
			}
		}
	case scripting.KindFunction:
		flags, known = fn.Flags, true
	}
	oom := c.Server != nil && c.Server.OutOfMemory()
	if known && !flags.NoShebang() && oom && !flags.Has(scripting.FlagAllowOOM) && !flags.Has(scripting.FlagNoWrites) &&
		!(ro && !flags.Has(scripting.FlagNoWrites)) {
		c.W.Error("OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'")
		return
	}
	// As Redis's scriptPrepareForRun: a script that may write does not
	// start on a node that cannot persist.
	misconf := ""
	if c.Server != nil {
		misconf = c.Server.Misconf()
	}
	if known && !flags.NoShebang() && misconf != "" && !flags.Has(scripting.FlagNoWrites) {
		c.W.Error(misconf)
		return
	}
	run := func(w *resp.Writer, b *block) {
		h := newScriptHost(t, c, b, oom)
		h.misconf = strings.TrimPrefix(misconf, "MISCONF ")
		s.current.Store(h)
		defer s.current.Store(nil)
		// An error of a call the script passes on was counted once.
		onError := w.OnError
		w.OnError = func(msg string) {
			if onError != nil && !b.tally.passedOn(msg) {
				onError(msg)
			}
		}
		defer func() { w.OnError = onError }()
		s.engine.Run(w, scripting.Request{Kind: kind, Script: name, Keys: keys, Args: argv, Host: h, Proto: c.W.Proto, ReadOnly: ro})
	}
	if bn, ok := c.Node.(*blockNode); ok {
		run(c.W, (*block)(bn)) // queued in a transaction: part of its block
		return
	}
	t.runBlock(c, c.S.DB, keys, nil, func(bc *Ctx, b *block) { run(bc.W, b) })
}

// scriptHost runs the commands a script calls (scripting.Host), as
// Redis's scriptCall does: with the caller's user, on the script's own
// database, inside the block.
type scriptHost struct {
	t    *Table
	b    *block
	ctx  Ctx
	sess *Session
	w    resp.Writer
	// oom: memory was over maxmemory when the script started.
	oom bool
	// misconf: the node could not persist writes when the script
	// started (the -MISCONF text without its code).
	misconf string
	// dirty: the script ran a write command (SCRIPT KILL refuses then).
	dirty atomic.Bool
	// callerArgs is the EVAL or FCALL being run (FUNCTION STATS).
	callerArgs [][]byte
	// part is the caller's node when it is one partition of several.
	part PartitionedNode
	// caller is the session that runs the script, whose declared keys
	// its first read-only call records (TrackScriptKeys).
	caller *Session
}

func newScriptHost(t *Table, caller *Ctx, b *block, oom bool) *scriptHost {
	sess := NewSession(caller.S.ID, caller.S.Addr, caller.S.LAddr, caller.S.Created)
	sess.SetUser(caller.S.UserRef())
	sess.Authenticated = true
	sess.SelectDB(caller.S.DB)
	sess.Unmonitored = caller.S.Unmonitored
	h := &scriptHost{t: t, b: b, sess: sess, oom: oom, callerArgs: caller.Args, caller: caller.S}
	if pn, ok := caller.Node.(PartitionedNode); ok && pn.Partitions() > 1 {
		h.part = pn
	}
	h.ctx = Ctx{W: &h.w, S: sess, Node: (*blockNode)(b), Server: caller.Server, Table: t, InScript: true, tally: &b.tally}
	h.w.OnError = b.tally.callError
	return h
}

func (h *scriptHost) Call(args [][]byte, proto int) []byte {
	h.w.Reset()
	h.w.Proto = proto
	if msg := h.refuse(args); msg != "" {
		if !strings.HasPrefix(msg, "OOM ") && !strings.HasPrefix(msg, "MISCONF ") {
			msg = "ERR " + msg
		}
		h.b.tally.rejected(h.t.lookupSub(args)) // as Redis's scriptCall
		h.w.Error(msg)
		return append([]byte(nil), h.w.Bytes()...)
	}
	cmd, _ := h.t.Resolve(args)
	if cmd != nil && cmd.Has(FlagReadonly) {
		h.t.TrackScriptKeys(h.caller)
	}
	h.ctx.Args = args
	h.b.prepare(cmd, args, h.sess.DB)
	h.t.Run(&h.ctx, cmd)
	return append([]byte(nil), h.w.Bytes()...)
}

// refuse makes scriptCall's checks, in its order; "" lets args run.
func (h *scriptHost) refuse(args [][]byte) string {
	cmd := h.t.Lookup(args[0])
	if cmd != nil && cmd.HasSubs() && len(args) >= 2 {
		cmd = cmd.Sub(args[1])
	}
	switch {
	case cmd == nil:
		return "Unknown Redis command called from script"
	case !cmd.CheckArity(len(args)) || cmd.HasSubs():
		return "Wrong number of args calling Redis command from script"
	case cmd.Has(FlagNoScript):
		return "This Redis command is not allowed from script"
	}
	h.ctx.Args = args
	if msg, why := h.ctx.check(cmd, acl.ContextLua); msg != "" {
		return "The user executing the script " + aclReasonText(why)
	}
	if h.part != nil {
		// As a Redis Cluster node refuses a key of a slot it does not
		// serve: the script's writes and reads are its partition's.
		for _, pos := range cmd.KeyPositions(args) {
			if of, own := h.part.KeyPartition(args[pos]); of != own {
				return "Script attempted to access a non local key in a cluster node"
			}
		}
	}
	run := h.t.scripts.engine.Running()
	// As Redis: a command that may replicate (PUBLISH) is a write here,
	// which is what lets read-only scripts run under CLIENT PAUSE WRITE.
	if run != nil && run.ReadOnly && (cmd.Has(FlagWrite) || cmd.Has(FlagMayReplicate)) {
		return "Write commands are not allowed from read-only scripts."
	}
	if cmd.Has(FlagWrite) && h.misconf != "" {
		return "MISCONF " + h.misconf
	}
	allowOOM := run != nil && !run.Flags.NoShebang() && run.Flags.Has(scripting.FlagAllowOOM)
	if cmd.Has(FlagDenyOOM) && h.oom && !allowOOM && !h.dirty.Load() {
		return "OOM command not allowed when used memory > 'maxmemory'."
	}
	if cmd.Has(FlagWrite) {
		h.dirty.Store(true)
	}
	return ""
}

// aclReasonText is Redis's getAclErrorMessage.
func aclReasonText(r acl.Reason) string {
	switch r {
	case acl.DeniedKey:
		return "no permissions to access one of the keys used as arguments"
	case acl.DeniedChannel:
		return "no permissions to access one of the channels used as arguments"
	}
	return "can't run this command or subcommand"
}

func (h *scriptHost) ACLCheck(args [][]byte) (bool, error) {
	cmd, msg := h.t.Resolve(args)
	if cmd == nil {
		_ = msg
		return false, errorf("ERR Invalid command passed to redis.acl_check_cmd()")
	}
	u := h.sess.UserRef()
	if u == nil {
		u = h.t.acl.Users.Default()
	}
	usr := u.User()
	if usr == nil {
		return false, nil
	}
	return usr.Check(cmd.aclID, args, cmd.aclKeys(args), cmd.aclChannels(args)).OK(), nil
}

func (h *scriptHost) Log(level int, msg string) { h.t.scripts.logLine(level, msg) }

func cmdScriptHelp(c *Ctx) { writeHelp(c, "SCRIPT", scriptHelp) }

var scriptHelp = []string{
	"DEBUG (YES|SYNC|NO)",
	"    Set the debug mode for subsequent scripts executed.",
	"EXISTS <sha1> [<sha1> ...]",
	"    Return information about the existence of the scripts in the script cache.",
	"FLUSH [ASYNC|SYNC]",
	"    Flush the Lua scripts cache. Very dangerous on replicas.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the scripts cache.",
	"    * SYNC: Synchronously flush the scripts cache.",
	"KILL",
	"    Kill the currently executing Lua script.",
	"LOAD <script>",
	"    Load a script into the scripts cache without executing it.",
}

func cmdScriptExists(c *Ctx) {
	catchUpRegistry(c)
	s := c.Table.scripts
	s.sync()
	c.W.Array(len(c.Args) - 2)
	for _, sha := range c.Args[2:] {
		if s.cached(string(sha)) {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

// catchUpRegistry brings a follower's copy of the scripts and libraries
// (partition 0's) up to its leader's before a command reads it here (SCRIPT
// EXISTS, FUNCTION LIST): a script a client just loaded through another
// node, or a library it deleted, is then as it left it.
// Not catching up in time answers from this node's copy.
func catchUpRegistry(c *Ctx) {
	if pn, ok := c.Node.(PartitionedNode); ok {
		pn.CatchUpScripts()
	}
}

// cmdScriptDebug: the Lua debugger is not part of LoomCache; NO, which
// turns it off, is accepted.
func cmdScriptDebug(c *Ctx) {
	switch {
	case eq(c.Args[2], "NO"):
		c.W.Status("OK")
	case eq(c.Args[2], "YES"), eq(c.Args[2], "SYNC"):
		c.W.Error("ERR SCRIPT DEBUG is not supported by LoomCache")
	default:
		c.W.Error("ERR Use SCRIPT DEBUG YES/SYNC/NO")
	}
}

// cmdScriptLoad compiles the script here, so a bad one is refused with
// nothing proposed, then replicates its body.
func cmdScriptLoad(c *Ctx) {
	if _, err := c.Table.scripts.engine.Load(string(c.Args[2])); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.propose(&op.Op{Type: op.ScriptLoad, Args: [][]byte{c.Args[2]}})
}

func cmdScriptFlush(c *Ctx) {
	if len(c.Args) > 3 || len(c.Args) == 3 && !eq(c.Args[2], "ASYNC") && !eq(c.Args[2], "SYNC") {
		c.W.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	c.propose(&op.Op{Type: op.ScriptFlush})
}

func cmdScriptKill(c *Ctx) { c.Table.kill(c, true) }

// KillScript stops the script or function running, if one is, whatever
// it wrote: for a node shutting down.
func (t *Table) KillScript() {
	if r := t.scripts.engine.Running(); r != nil {
		r.Kill()
	}
}

// kill is SCRIPT KILL (eval) and FUNCTION KILL, as Redis's scriptKill.
func (t *Table) kill(c *Ctx, eval bool) {
	s := t.scripts
	r, h := s.engine.Running(), s.current.Load()
	switch {
	case r == nil || h == nil:
		c.W.Error("NOTBUSY No scripts in execution right now.")
	case h.dirty.Load():
		c.W.Error("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.")
	case eval && r.Kind == scripting.KindFunction:
		c.W.Error(errBusyFunction)
	case !eval && r.Kind != scripting.KindFunction:
		c.W.Error(errBusyScript)
	default:
		r.Kill()
		c.W.Status("OK")
	}
}
