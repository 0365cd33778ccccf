package commands

import (
	"strings"

	"github.com/loomcache/loomcache/glob"
	"github.com/loomcache/loomcache/resp"
)

// COMMAND and its subcommands describe the table; every figure they
// print is read from it, nothing is written twice.

func registerIntrospect(t *Table) {
	stale := FlagLoading | FlagStale
	order := []string{"nondeterministic_output_order"}
	sub := func(name string, arity int, summary, since, complexity string, h Handler) *Command {
		return &Command{Name: "command|" + name, Arity: arity, Flags: stale, Categories: CatConnection,
			Group: "server", Since: since, Complexity: complexity, Summary: summary, Handler: h}
	}
	info := sub("info", -2, "Get array of specific Redis command details, or all when no argument is given.",
		"2.8.13", "O(N) where N is the number of commands to look up", cmdCommandInfo)
	info.Tips = order
	info.History = [][2]string{{"7.0.0", "Allowed to be called with no argument to get info on all commands."}}
	info.Args = []Arg{argString("command-name").optional().multiple()}
	list := sub("list", -2, "Get an array of Redis command names", "7.0.0",
		"O(N) where N is the total number of Redis commands", cmdCommandList)
	list.Tips = order
	list.Args = []Arg{argOneof("filterby",
		argString("module-name").token("MODULE"),
		argString("category").token("ACLCAT"),
		argPattern("pattern").token("PATTERN")).token("FILTERBY").optional()}
	docs := sub("docs", -2, "Get array of specific Redis command documentation", "7.0.0",
		"O(N) where N is the number of commands to look up", cmdCommandDocs)
	docs.Tips = order
	docs.Args = []Arg{argString("command-name").optional().multiple()}
	t.add(&Command{Name: "command", Arity: -1, Flags: stale, Categories: CatConnection, Tips: order,
		Group: "server", Since: "2.8.13", Complexity: "O(N) where N is the total number of Redis commands",
		Summary: "Get array of Redis command details", Handler: cmdCommandInfo,
		Subs: []*Command{
			info, list, docs,
			sub("count", 2, "Get total number of Redis commands", "2.8.13", "O(1)", cmdCommandCount),
			sub("getkeys", -4, "Extract keys given a full Redis command", "2.8.13",
				"O(N) where N is the number of arguments to the command", cmdCommandGetKeys),
			sub("getkeysandflags", -4, "Extract keys and access flags given a full Redis command", "7.0.0",
				"O(N) where N is the number of arguments to the command", cmdCommandGetKeys),
			sub("help", 2, "Show helpful text about the different subcommands", "5.0.0", "O(1)", cmdCommandHelp),
		}})
}

// LookupFull finds a command by its full name ("get", "client|list"),
// case-insensitively, as COMMAND INFO and DOCS name them.
func (t *Table) LookupFull(name []byte) *Command {
	parent, sub, isSub := strings.Cut(string(name), "|")
	cmd := t.Lookup([]byte(parent))
	if cmd == nil || !isSub {
		return cmd
	}
	if strings.Contains(sub, "|") {
		return nil
	}
	return cmd.Sub([]byte(sub))
}

// lookupArgs resolves a command line as Redis's lookupCommand does: the
// container itself when no subcommand name follows.
func (t *Table) lookupArgs(args [][]byte) *Command {
	cmd := t.Lookup(args[0])
	if cmd == nil || len(args) == 1 || !cmd.HasSubs() {
		return cmd
	}
	return cmd.Sub(args[1])
}

// Flags Redis never shows in COMMAND INFO.
const hiddenFlags = FlagMayReplicate | FlagSentinel | FlagOnlySentinel | FlagProtected |
	FlagModuleGetKeys | FlagModuleGetChannels

func writeFlags(w *resp.Writer, f Flag) { writeNames(w, uint64(f&^hiddenFlags), flagNames[:], "") }

func writeKeyFlags(w *resp.Writer, f KeyFlag) { writeNames(w, uint64(f), keyFlagNames[:], "") }

func writeCategories(w *resp.Writer, cat Category) { writeNames(w, uint64(cat), CategoryNames[:], "@") }

func writeArgFlags(w *resp.Writer, f ArgFlag) { writeNames(w, uint64(f), argFlagNames[:], "") }

// writeNames writes a set of the names of the bits set, in names' order,
// as Redis's addReplyCommandFlags does.
func writeNames(w *resp.Writer, bits uint64, names []string, prefix string) {
	n := 0
	for i := range names {
		if bits&(1<<i) != 0 {
			n++
		}
	}
	w.Set(n)
	for i, name := range names {
		if bits&(1<<i) != 0 {
			w.Status(prefix + name)
		}
	}
}

// writeCommandInfo writes one COMMAND INFO entry, as addReplyCommandInfo.
func writeCommandInfo(w *resp.Writer, cmd *Command) {
	w.Array(10)
	w.BulkString(cmd.Name)
	w.Int(int64(cmd.Arity))
	writeFlags(w, cmd.Flags)
	w.Int(int64(cmd.first))
	w.Int(int64(cmd.last))
	w.Int(int64(cmd.step))
	writeCategories(w, cmd.AllCategories())
	w.Set(len(cmd.Tips))
	for _, tip := range cmd.Tips {
		w.BulkString(tip)
	}
	w.Set(len(cmd.Keys))
	for i := range cmd.Keys {
		writeKeySpec(w, &cmd.Keys[i])
	}
	// An empty set when there are none, else an array: Redis's
	// addReplyCommandSubCommands.
	if len(cmd.Subs) == 0 {
		w.Set(0)
		return
	}
	w.Array(len(cmd.Subs))
	for _, s := range cmd.Subs {
		writeCommandInfo(w, s)
	}
}

func writeKeySpec(w *resp.Writer, k *KeySpec) {
	if k.Notes != "" {
		w.Map(4)
		w.BulkString("notes")
		w.BulkString(k.Notes)
	} else {
		w.Map(3)
	}
	w.BulkString("flags")
	writeKeyFlags(w, k.Flags)

	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	switch {
	case k.Keyword != "":
		w.BulkString("keyword")
		w.BulkString("spec")
		w.Map(2)
		w.BulkString("keyword")
		w.BulkString(k.Keyword)
		w.BulkString("startfrom")
		w.Int(int64(k.StartFrom))
	case k.Index > 0:
		w.BulkString("index")
		w.BulkString("spec")
		w.Map(1)
		w.BulkString("index")
		w.Int(int64(k.Index))
	default:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	}

	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	switch {
	case k.Keyword == "" && k.Index <= 0:
		w.BulkString("unknown")
		w.BulkString("spec")
		w.Map(0)
	case k.KeyNum:
		w.BulkString("keynum")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("keynumidx")
		w.Int(int64(k.KeyNumAt))
		w.BulkString("firstkey")
		w.Int(int64(k.FirstKey))
		w.BulkString("keystep")
		w.Int(int64(k.KeyStep))
	default:
		w.BulkString("range")
		w.BulkString("spec")
		w.Map(3)
		w.BulkString("lastkey")
		w.Int(int64(k.LastKey))
		w.BulkString("keystep")
		w.Int(int64(k.KeyStep))
		w.BulkString("limit")
		w.Int(int64(k.Limit))
	}
}

// writeCommandDocs writes one COMMAND DOCS entry, as addReplyCommandDocs.
func writeCommandDocs(w *resp.Writer, cmd *Command) {
	n := 1 // group
	for _, s := range []string{cmd.Summary, cmd.Since, cmd.Complexity, cmd.DeprecatedSince, cmd.ReplacedBy} {
		if s != "" {
			n++
		}
	}
	if len(cmd.DocFlags) > 0 {
		n++
	}
	if len(cmd.History) > 0 {
		n++
	}
	if len(cmd.Args) > 0 {
		n++
	}
	if len(cmd.Subs) > 0 {
		n++
	}
	w.Map(n)
	field := func(name, v string) {
		if v != "" {
			w.BulkString(name)
			w.BulkString(v)
		}
	}
	field("summary", cmd.Summary)
	field("since", cmd.Since)
	w.BulkString("group")
	w.BulkString(cmd.Group)
	field("complexity", cmd.Complexity)
	if len(cmd.DocFlags) > 0 {
		w.BulkString("doc_flags")
		w.Set(len(cmd.DocFlags))
		for _, f := range cmd.DocFlags {
			w.Status(f)
		}
	}
	field("deprecated_since", cmd.DeprecatedSince)
	field("replaced_by", cmd.ReplacedBy)
	if len(cmd.History) > 0 {
		w.BulkString("history")
		w.Set(len(cmd.History))
		for _, h := range cmd.History {
			w.Array(2)
			w.BulkString(h[0])
			w.BulkString(h[1])
		}
	}
	if len(cmd.Args) > 0 {
		w.BulkString("arguments")
		writeArgs(w, cmd.Args)
	}
	if len(cmd.Subs) > 0 {
		w.BulkString("subcommands")
		w.Map(len(cmd.Subs))
		for _, s := range cmd.Subs {
			w.BulkString(s.Name)
			writeCommandDocs(w, s)
		}
	}
}

// writeArgs writes an "arguments" list as Redis 7.0's
// addReplyCommandArgList: absent fields are left out and the order of the
// rest is fixed (deprecated_since before flags).
func writeArgs(w *resp.Writer, args []Arg) {
	w.Array(len(args))
	for i := range args {
		a := &args[i]
		n := 2
		// A pure token always has its token, even MIGRATE's empty one.
		hasToken := a.Token != "" || a.Type == ArgPureToken
		for _, present := range []bool{a.KeySpec > 0, hasToken, a.Summary != "", a.Since != "",
			a.DeprecatedSince != "", a.Flags != 0, a.Type == ArgOneof || a.Type == ArgBlock} {
			if present {
				n++
			}
		}
		w.Map(n)
		w.BulkString("name")
		w.BulkString(a.Name)
		w.BulkString("type")
		w.BulkString(argTypeNames[a.Type])
		if a.KeySpec > 0 {
			w.BulkString("key_spec_index")
			w.Int(int64(a.KeySpec - 1))
		}
		for _, f := range [...][2]string{{"token", a.Token}, {"summary", a.Summary}, {"since", a.Since},
			{"deprecated_since", a.DeprecatedSince}} {
			if f[1] != "" || (f[0] == "token" && hasToken) {
				w.BulkString(f[0])
				w.BulkString(f[1])
			}
		}
		if a.Flags != 0 {
			w.BulkString("flags")
			writeArgFlags(w, a.Flags)
		}
		if a.Type == ArgOneof || a.Type == ArgBlock {
			w.BulkString("arguments")
			writeArgs(w, a.Args)
		}
	}
}

// cmdCommandInfo serves COMMAND and COMMAND INFO.
func cmdCommandInfo(c *Ctx) {
	if len(c.Args) <= 2 {
		cmds := c.Table.Commands()
		c.W.Array(len(cmds))
		for _, cmd := range cmds {
			writeCommandInfo(c.W, cmd)
		}
		return
	}
	c.W.Array(len(c.Args) - 2)
	for _, name := range c.Args[2:] {
		if cmd := c.Table.LookupFull(name); cmd != nil {
			writeCommandInfo(c.W, cmd)
		} else {
			c.W.Null()
		}
	}
}

func cmdCommandDocs(c *Ctx) {
	if len(c.Args) == 2 {
		cmds := c.Table.Commands()
		c.W.Map(len(cmds))
		for _, cmd := range cmds {
			c.W.BulkString(cmd.Name)
			writeCommandDocs(c.W, cmd)
		}
		return
	}
	var found []*Command
	for _, name := range c.Args[2:] {
		if cmd := c.Table.LookupFull(name); cmd != nil {
			found = append(found, cmd)
		}
	}
	c.W.Map(len(found))
	for _, cmd := range found {
		c.W.BulkString(cmd.Name)
		writeCommandDocs(c.W, cmd)
	}
}

func cmdCommandCount(c *Ctx) { c.W.Int(int64(len(c.Table.Commands()))) }

func cmdCommandList(c *Ctx) {
	var match func(*Command) bool
	if args := c.Args[2:]; len(args) > 0 {
		// One FILTERBY <kind> <arg>, nothing else.
		if len(args) != 3 || !eq(args[0], "FILTERBY") {
			c.W.Error(errSyntax.Error())
			return
		}
		kind, arg := args[1], string(args[2])
		switch {
		case eq(kind, "MODULE"):
			match = func(*Command) bool { return false } // no modules
		case eq(kind, "ACLCAT"):
			cat := categoryByName(arg)
			match = func(cmd *Command) bool { return cmd.AllCategories()&cat != 0 }
		case eq(kind, "PATTERN"):
			match = func(cmd *Command) bool { return glob.MatchString(arg, cmd.Name, true) }
		default:
			c.W.Error(errSyntax.Error())
			return
		}
	}
	var names []string
	for _, cmd := range c.Table.Commands() {
		if match == nil || match(cmd) {
			names = append(names, cmd.Name)
		}
		for _, s := range cmd.Subs {
			if match == nil || match(s) {
				names = append(names, s.Name)
			}
		}
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

// categoryByName returns the ACL category named name (case-insensitive),
// 0 if there is none.
func categoryByName(name string) Category {
	for i, n := range CategoryNames {
		if strings.EqualFold(n, name) {
			return 1 << i
		}
	}
	return 0
}

// cmdCommandGetKeys serves GETKEYS and GETKEYSANDFLAGS from the key specs.
func cmdCommandGetKeys(c *Ctx) {
	withFlags := c.Cmd.Name == "command|getkeysandflags"
	args := c.Args[2:]
	cmd := c.Table.lookupArgs(args)
	switch {
	case cmd == nil:
		c.W.Error("ERR Invalid command specified")
		return
	case !cmd.hasKeys():
		c.W.Error("ERR The command has no key arguments")
		return
	case !cmd.CheckArity(len(args)):
		c.W.Error("ERR Invalid number of arguments specified for command")
		return
	}
	type key struct {
		pos   int
		flags KeyFlag
	}
	var keys []key
	cmd.eachKey(args, func(p int, f KeyFlag) { keys = append(keys, key{p, f}) })
	if len(keys) == 0 && !cmd.Has(FlagNoMandatoryKeys) {
		c.W.Error("ERR Invalid arguments specified for command")
		return
	}
	c.W.Array(len(keys))
	for _, k := range keys {
		if withFlags {
			c.W.Array(2)
			c.W.Bulk(args[k.pos])
			writeKeyFlags(c.W, k.flags)
			continue
		}
		c.W.Bulk(args[k.pos])
	}
}

var commandHelp = []string{
	"(no subcommand)",
	"    Return details about all Redis commands.",
	"COUNT",
	"    Return the total number of commands in this Redis server.",
	"LIST",
	"    Return a list of all commands in this Redis server.",
	"INFO [<command-name> ...]",
	"    Return details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"DOCS [<command-name> ...]",
	"    Return documentation details about multiple Redis commands.",
	"    If no command names are given, documentation details for all",
	"    commands are returned.",
	"GETKEYS <full-command>",
	"    Return the keys from a full Redis command.",
	"GETKEYSANDFLAGS <full-command>",
	"    Return the keys and the access flags from a full Redis command.",
}

func cmdCommandHelp(c *Ctx) { writeHelp(c, "COMMAND", commandHelp) }
