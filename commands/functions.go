package commands

import (
	"strings"

	"github.com/loomcache/loomcache/glob"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/scripting"
)

// FUNCTION and FCALL. Libraries are replicated (script_registry.go): the
// node that receives FUNCTION LOAD runs the library's body to validate it
// and learn its functions, then proposes it; FCALL runs on the leader as
// a block, like EVAL.

func registerFunctions(t *Table) {
	const called = "Depends on the function that is executed."
	sub := func(name string, arity int, f Flag, tips []string, complexity, summary string, h Handler, args ...Arg) *Command {
		return &Command{Name: "function|" + name, Arity: arity, Flags: f, Categories: CatScripting, Tips: tips,
			Group: "scripting", Since: "7.0.0", Complexity: complexity, Summary: summary, Handler: h, Args: args}
	}
	allShards := func(resp string) []string { return []string{"request_policy:all_shards", "response_policy:" + resp} }
	flushArg := argOneof("async", argToken("async", "ASYNC"), argToken("sync", "SYNC")).optional()
	t.add(
		scriptCommand("fcall", "7.0.0", "Invoke a function", "function", called, FlagMayReplicate,
			scriptKeys(KeyRW|KeyAccess|KeyUpdate, keysRWNote), cmdFcall),
		scriptCommand("fcall_ro", "7.0.0", "Invoke a read-only function", "function", called, FlagReadonly,
			scriptKeys(KeyRO|KeyAccess, keysRONote), cmdFcallRO),
		&Command{Name: "function", Arity: -2, Group: "scripting", Since: "7.0.0",
			Complexity: "Depends on subcommand.", Summary: "A container for function commands",
			Subs: []*Command{
				sub("restore", -3, FlagWrite|FlagDenyOOM|FlagNoScript, allShards("all_succeeded"),
					"O(N) where N is the number of functions on the payload", "Restore all the functions on the given payload",
					cmdFunctionRestore, argString("serialized-value"),
					argOneof("policy", argToken("flush", "FLUSH"), argToken("append", "APPEND"), argToken("replace", "REPLACE")).optional()),
				sub("list", -2, FlagNoScript, []string{"nondeterministic_output_order"}, "O(N) where N is the number of functions",
					"List information about all the functions", cmdFunctionList,
					argString("library-name-pattern").token("LIBRARYNAME").optional(), argToken("withcode", "WITHCODE").optional()),
				sub("dump", 2, FlagNoScript, nil, "O(N) where N is the number of functions",
					"Dump all functions into a serialized binary payload", cmdFunctionDump),
				sub("help", 2, FlagLoading|FlagStale, nil, "O(1)", "Show helpful text about the different subcommands", cmdFunctionHelp),
				sub("load", -3, FlagWrite|FlagDenyOOM|FlagNoScript, allShards("all_succeeded"),
					"O(1) (considering compilation time is redundant)",
					"Create a function with the given arguments (name, code, description)", cmdFunctionLoad,
					argToken("replace", "REPLACE").optional(), argString("function-code")),
				sub("kill", 2, FlagNoScript|FlagAllowBusy, allShards("one_succeeded"), "O(1)",
					"Kill the function currently in execution.", cmdFunctionKill),
				sub("flush", -2, FlagWrite|FlagNoScript, allShards("all_succeeded"), "O(N) where N is the number of functions deleted",
					"Deleting all functions", cmdFunctionFlush, flushArg),
				sub("delete", 3, FlagWrite|FlagNoScript, allShards("all_succeeded"), "O(1)",
					"Delete a function by name", cmdFunctionDelete, argString("library-name")),
				sub("stats", 2, FlagNoScript|FlagAllowBusy, []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
					"O(1)", "Return information about the function currently running (name, description, duration)", cmdFunctionStats),
			}},
	)
}

func cmdFcall(c *Ctx)   { c.Table.runScript(c, scripting.KindFunction, false) }
func cmdFcallRO(c *Ctx) { c.Table.runScript(c, scripting.KindFunction, true) }

func cmdFunctionHelp(c *Ctx) { writeHelp(c, "FUNCTION", functionHelp) }

var functionHelp = []string{
	"LOAD [REPLACE] <FUNCTION CODE>",
	"    Create a new library with the given library name and code.",
	"DELETE <LIBRARY NAME>",
	"    Delete the given library.",
	"LIST [LIBRARYNAME PATTERN] [WITHCODE]",
	"    Return general information on all the libraries:",
	"    * Library name",
	"    * The engine used to run the Library",
	"    * Library description",
	"    * Functions list",
	"    * Library code (if WITHCODE is given)",
	"    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
	"STATS",
	"    Return information about the current function running:",
	"    * Function name",
	"    * Command used to run the function",
	"    * Duration in MS that the function is running",
	"    If no function is running, return nil",
	"    In addition, returns a list of available engines.",
	"KILL",
	"    Kill the current running function.",
	"FLUSH [ASYNC|SYNC]",
	"    Delete all the libraries.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the libraries.",
	"    * SYNC: Synchronously flush the libraries.",
	"DUMP",
	"    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
	"RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
	"    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
	"    control how to handle existing libraries (default APPEND):",
	"    * FLUSH: delete all existing libraries.",
	"    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
	"    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
	"      libraries with the new libraries (notice that even on this option there is a chance of failure",
	"      in case of functions name collision with another library).",
}

// validateLibrary runs a library's body here, as FUNCTION LOAD does, and
// returns what the registry keeps of it.
func (t *Table) validateLibrary(code string) (libSpec, error) {
	lib, err := t.scripts.engine.LoadLibrary(code)
	if err != nil {
		return libSpec{}, err
	}
	return libSpec{Name: lib.Name, Code: code, Funcs: lib.FunctionNames()}, nil
}

func cmdFunctionLoad(c *Ctx) {
	replace, i := false, 2
	for ; i < len(c.Args)-1; i++ {
		if !eq(c.Args[i], "REPLACE") {
			c.W.Error("ERR Unknown option given: " + string(cstr(c.Args[i])))
			return
		}
		replace = true
	}
	if i >= len(c.Args) {
		c.W.Error("ERR Function code is missing")
		return
	}
	l, err := c.Table.validateLibrary(string(c.Args[i]))
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	var f uint32
	if replace {
		f = op.FlagReplace
	}
	c.propose(&op.Op{Type: op.FunctionLoad, Flags: f, Args: [][]byte{encodeLib(nil, l)}})
}

func cmdFunctionDelete(c *Ctx) {
	c.propose(&op.Op{Type: op.FunctionDelete, Args: [][]byte{c.Args[2]}})
}

func cmdFunctionFlush(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.")
		return
	}
	if len(c.Args) == 3 && !eq(c.Args[2], "SYNC") && !eq(c.Args[2], "ASYNC") {
		c.W.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
		return
	}
	c.propose(&op.Op{Type: op.FunctionFlush})
}

func cmdFunctionKill(c *Ctx) { c.Table.kill(c, false) }

func cmdFunctionRestore(c *Ctx) {
	if len(c.Args) > 4 {
		c.W.Error("ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.")
		return
	}
	policy := int64(restoreAppend)
	if len(c.Args) == 4 {
		switch {
		case eq(c.Args[3], "APPEND"):
		case eq(c.Args[3], "REPLACE"):
			policy = restoreReplace
		case eq(c.Args[3], "FLUSH"):
			policy = restoreFlush
		default:
			c.W.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
			return
		}
	}
	codes, err := restoreFunctions(c.Args[2])
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	args := make([][]byte, 0, len(codes))
	seen := map[string]bool{}
	for _, code := range codes {
		l, err := c.Table.validateLibrary(code)
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		if seen[l.Name] {
			c.W.Error("ERR Library '" + l.Name + "' already exists")
			return
		}
		seen[l.Name] = true
		args = append(args, encodeLib(nil, l))
	}
	c.propose(&op.Op{Type: op.FunctionRestore, Int: policy, Args: args})
}

func cmdFunctionDump(c *Ctx) {
	r := c.Table.scripts.reg
	r.mu.RLock()
	libs := r.sortedLibs()
	r.mu.RUnlock()
	codes := make([]string, len(libs))
	for i, l := range libs {
		codes[i] = l.Code
	}
	c.W.Bulk(dumpFunctions(codes))
}

func cmdFunctionList(c *Ctx) {
	catchUpRegistry(c)
	withCode, pattern, havePattern := false, "", false
	for i := 2; i < len(c.Args); i++ {
		switch {
		case !withCode && eq(c.Args[i], "WITHCODE"):
			withCode = true
		case !havePattern && eq(c.Args[i], "LIBRARYNAME"):
			if i >= len(c.Args)-1 {
				c.W.Error("ERR library name argument was not given")
				return
			}
			i++
			pattern, havePattern = string(c.Args[i]), true
		default:
			c.W.Error("ERR Unknown argument " + string(cstr(c.Args[i])))
			return
		}
	}
	s := c.Table.scripts
	s.sync()
	var libs []*scripting.Library
	for _, l := range s.engine.Libraries() {
		if !havePattern || glob.Match([]byte(pattern), []byte(l.Name), true) {
			libs = append(libs, l)
		}
	}
	w := c.W
	w.Array(len(libs))
	for _, l := range libs {
		if withCode {
			w.Map(4)
		} else {
			w.Map(3)
		}
		w.Bulk([]byte("library_name"))
		w.Bulk([]byte(l.Name))
		w.Bulk([]byte("engine"))
		w.Bulk([]byte(strings.ToUpper(l.Engine)))
		w.Bulk([]byte("functions"))
		names := l.FunctionNames()
		w.Array(len(names))
		for _, n := range names {
			f := l.Functions[n]
			w.Map(3)
			w.Bulk([]byte("name"))
			w.Bulk([]byte(f.Name))
			w.Bulk([]byte("description"))
			if f.HasDescription {
				w.Bulk([]byte(f.Description))
			} else {
				w.Null()
			}
			w.Bulk([]byte("flags"))
			fl := f.Flags.Names()
			w.Set(len(fl))
			for _, name := range fl {
				w.Status(name)
			}
		}
		if withCode {
			w.Bulk([]byte("library_code"))
			w.Bulk([]byte(l.Code))
		}
	}
}

// cmdFunctionStats reads the registry, not the engine: it answers while
// a function runs (it is allow-busy), when the engine is taken.
func cmdFunctionStats(c *Ctx) {
	s := c.Table.scripts
	r, h := s.engine.Running(), s.current.Load()
	if r != nil && r.Kind != scripting.KindFunction {
		c.W.Error(errBusyScript)
		return
	}
	w := c.W
	w.Map(2)
	w.Bulk([]byte("running_script"))
	if r == nil || h == nil {
		w.Null()
	} else {
		w.Map(3)
		w.Bulk([]byte("name"))
		w.Bulk([]byte(r.Name))
		w.Bulk([]byte("command"))
		w.Array(len(h.callerArgs))
		for _, a := range h.callerArgs {
			w.Bulk(a)
		}
		w.Bulk([]byte("duration_ms"))
		w.Int(r.Elapsed().Milliseconds())
	}
	s.reg.mu.RLock()
	libs, funcs := len(s.reg.libs), len(s.reg.owner)
	s.reg.mu.RUnlock()
	w.Bulk([]byte("engines"))
	w.Map(1)
	w.Bulk([]byte("LUA"))
	w.Map(2)
	w.Bulk([]byte("libraries_count"))
	w.Int(int64(libs))
	w.Bulk([]byte("functions_count"))
	w.Int(int64(funcs))
}
