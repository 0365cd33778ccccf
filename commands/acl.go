package commands

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/op"
)

// The ACL command and AUTH. Users are replicated state: the subcommands
// that change them (SETUSER, DELUSER, LOAD) propose an op, which every
// node applies at the same log position; the others read this node's
// users. The ACL LOG is this node's own.

func registerACL(t *Table) {
	admin := FlagAdmin | FlagNoScript | FlagLoading | FlagStale
	local := FlagNoScript | FlagLoading | FlagStale
	users := "O(N). Where N is the number of configured users."
	sub := func(name string, arity int, flags Flag, complexity, summary string, h Handler, args ...Arg) *Command {
		return &Command{Name: "acl|" + name, Arity: arity, Flags: flags, Group: "server", Since: "6.0.0",
			Complexity: complexity, Summary: summary, Handler: h, Args: args}
	}
	setuser := sub("setuser", -3, admin, "O(N). Where N is the number of rules provided.",
		"Modify or create the rules for a specific ACL user", cmdACLSetUser,
		argString("username"), argString("rule").optional().multiple())
	setuser.History = [][2]string{{"6.2.0", "Added Pub/Sub channel patterns."}, {"7.0.0", "Added selectors and key based permissions."}}
	getuser := sub("getuser", 3, admin, "O(N). Where N is the number of password, command and pattern rules that the user has.",
		"Get the rules for a specific ACL user", cmdACLGetUser, argString("username"))
	getuser.History = [][2]string{{"6.2.0", "Added Pub/Sub channel patterns."},
		{"7.0.0", "Added selectors and changed the format of key and channel patterns from a list to their rule representation."}}
	dryrun := sub("dryrun", -4, admin, "O(1).",
		"Returns whether the user can execute the given command without executing the command.", cmdACLDryRun,
		argString("username"), argString("command"), argString("arg").optional().multiple())
	dryrun.Since = "7.0.0"
	help := sub("help", 2, FlagLoading|FlagStale, "O(1)", "Show helpful text about the different subcommands", cmdACLHelp)
	t.add(
		&Command{Name: "auth", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagAllowBusy,
			Categories: CatConnection, Group: "connection", Since: "1.0.0",
			Complexity: "O(N) where N is the number of passwords defined for the user",
			Summary:    "Authenticate to the server",
			History:    [][2]string{{"6.0.0", "Added ACL style (username and password)."}},
			Handler:    cmdAuth,
			Args:       []Arg{argString("username").since("6.0.0").optional(), argString("password")}},
		&Command{Name: "acl", Arity: -2, Group: "server", Since: "6.0.0", Complexity: "Depends on subcommand.",
			Summary: "A container for Access List Control commands ",
			Subs: []*Command{
				sub("load", 2, admin, users, "Reload the ACLs from the configured ACL file", cmdACLLoad),
				sub("list", 2, admin, users, "List the current ACL rules in ACL config file format", cmdACLList),
				sub("users", 2, admin, users, "List the username of all the configured ACL rules", cmdACLUsers),
				sub("deluser", -3, admin, "O(1) amortized time considering the typical user.",
					"Remove the specified ACL users and the associated rules", cmdACLDelUser,
					argString("username").multiple()),
				setuser,
				sub("cat", -2, local, "O(1) since the categories and commands are a fixed set.",
					"List the ACL categories or the commands inside a category", cmdACLCat,
					argString("categoryname").optional()),
				sub("whoami", 2, local, "O(1)", "Return the name of the user associated to the current connection", cmdACLWhoami),
				sub("genpass", -2, local, "O(1)", "Generate a pseudorandom secure password to use for ACL users", cmdACLGenPass,
					argInt("bits").optional()),
				sub("log", -2, admin, "O(N) with N being the number of entries shown.",
					"List latest events denied because of ACLs in place", cmdACLLog,
					argOneof("operation", argInt("count"), argToken("reset", "RESET")).optional()),
				getuser,
				dryrun,
				sub("save", 2, admin, users, "Save the current ACL rules in the configured ACL file", cmdACLSave),
				help,
			}},
	)
}

// subcommandSyntax is addReplySubcommandSyntaxError's reply.
func subcommandSyntax(c *Ctx) {
	c.W.Error("ERR unknown subcommand or wrong number of arguments for '" + cstrMax(c.Args[1], 128) +
		"'. Try " + strings.ToUpper(cstrMax(c.Args[0], -1)) + " HELP.")
}

func cmdAuth(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(errSyntax.Error())
		return
	}
	users := c.Table.acl.Users
	name, pass := "default", c.Args[len(c.Args)-1]
	c.Redact(1)
	if len(c.Args) == 2 {
		if users.Default().User().NoPass() {
			c.W.Error(acl.AuthNoPasswordError)
			return
		}
	} else {
		name = string(c.Args[1])
		c.Redact(2)
	}
	if !c.authenticate(name, pass) {
		c.W.Error(acl.WrongPassError)
		return
	}
	c.W.OK()
}

// authenticate is ACLAuthenticateUser: on success the connection runs as
// the user, authenticated; a failure is logged.
func (c *Ctx) authenticate(name string, pass []byte) bool {
	ref, ok := c.Table.acl.Users.Authenticate(name, string(pass))
	if !ok {
		c.logAuthFailure(name)
		return false
	}
	c.S.SetUser(ref)
	c.S.Authenticated = true
	return true
}

func cmdACLSetUser(c *Ctx) {
	name := string(c.Args[2])
	rules := make([]string, len(c.Args)-3)
	for i, r := range c.Args[3:] {
		rules[i] = string(r)
	}
	// Redis's error, worded with the rules as given, before anything is
	// proposed; the op carries password hashes, not passwords.
	if err := c.Table.acl.Users.TrySetUser(name, rules); err != nil {
		c.W.Error(err.Error())
		return
	}
	args := [][]byte{c.Args[2]}
	for _, r := range acl.HashPasswords(rules) {
		args = append(args, []byte(r))
	}
	c.propose(&op.Op{Type: op.AclSetUser, Args: args})
}

func cmdACLDelUser(c *Ctx) {
	for _, n := range c.Args[2:] {
		if string(cstr(n)) == "default" {
			c.W.Error("ERR The 'default' user cannot be removed")
			return
		}
	}
	c.propose(&op.Op{Type: op.AclDelUser, Args: c.Args[2:]})
}

func cmdACLGetUser(c *Ctx) {
	ref := c.Table.acl.Users.Lookup(string(c.Args[2]))
	if ref == nil || ref.User() == nil {
		c.W.Null()
		return
	}
	info := ref.User().Info()
	w := c.W
	selector := func(s acl.SelectorInfo) {
		w.BulkString("commands")
		w.BulkString(s.Commands)
		w.BulkString("keys")
		w.BulkString(s.Keys)
		w.BulkString("channels")
		w.BulkString(s.Channels)
	}
	w.Map(6)
	w.BulkString("flags")
	w.Set(len(info.Flags))
	for _, f := range info.Flags {
		w.BulkString(f)
	}
	w.BulkString("passwords")
	w.Array(len(info.Passwords))
	for _, p := range info.Passwords {
		w.BulkString(p)
	}
	selector(info.SelectorInfo)
	w.BulkString("selectors")
	w.Array(len(info.Selectors))
	for _, s := range info.Selectors {
		w.Map(3)
		selector(s)
	}
}

func cmdACLList(c *Ctx) {
	lines := c.Table.acl.Users.List()
	c.W.Array(len(lines))
	for _, l := range lines {
		c.W.BulkString(l)
	}
}

func cmdACLUsers(c *Ctx) {
	names := c.Table.acl.Users.Users()
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func cmdACLWhoami(c *Ctx) { c.W.BulkString(c.S.User()) }

func cmdACLCat(c *Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntax(c)
		return
	}
	if len(c.Args) == 2 {
		cats := acl.RedisCategories()
		c.W.Array(len(cats))
		for _, n := range cats {
			c.W.BulkString(n)
		}
		return
	}
	names, err := c.Table.acl.Users.Catalog().CommandsIn(string(c.Args[2]))
	if err != nil {
		c.W.Error("ERR Unknown category '" + cstrMax(c.Args[2], 128) + "'")
		return
	}
	c.W.Array(len(names))
	for _, n := range names {
		c.W.BulkString(n)
	}
}

func cmdACLGenPass(c *Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntax(c)
		return
	}
	bits := int64(256)
	if len(c.Args) == 3 {
		n, ok := parseInt(c.Args[2])
		if !ok {
			c.W.Error(errNotInt.Error())
			return
		}
		bits = n
	}
	p, err := acl.GenPass(bits)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.BulkString(p)
}

func cmdACLLog(c *Ctx) {
	if len(c.Args) > 3 {
		subcommandSyntax(c)
		return
	}
	log := c.Table.acl.Log
	count := int64(10)
	if len(c.Args) == 3 {
		if eq(c.Args[2], "RESET") {
			log.Reset()
			c.W.OK()
			return
		}
		n, ok := parseInt(c.Args[2])
		if !ok {
			c.W.Error(errNotInt.Error())
			return
		}
		count = max(n, 0)
	}
	entries := log.Entries(int(min(count, 1<<31)))
	now := time.Now().UnixMilli()
	w := c.W
	w.Array(len(entries))
	for _, e := range entries {
		w.Map(7)
		w.BulkString("count")
		w.Int(e.Count)
		w.BulkString("reason")
		w.BulkString(e.Reason.String())
		w.BulkString("context")
		w.BulkString(e.Context.String())
		w.BulkString("object")
		w.BulkString(e.Object)
		w.BulkString("username")
		w.BulkString(e.Username)
		w.BulkString("age-seconds")
		w.Double(e.AgeSeconds(now))
		w.BulkString("client-info")
		w.BulkString(e.ClientInfo)
	}
}

func cmdACLDryRun(c *Ctx) {
	ref := c.Table.acl.Users.Lookup(string(c.Args[2]))
	if ref == nil || ref.User() == nil {
		c.W.Error("ERR User '" + cstrMax(c.Args[2], -1) + "' not found")
		return
	}
	args := c.Args[3:]
	// lookupCommand: a container named with a second argument is found
	// only as that subcommand.
	cmd := c.Table.Lookup(args[0])
	if cmd != nil && cmd.HasSubs() && len(args) >= 2 {
		cmd = cmd.Sub(args[1])
	}
	if cmd == nil {
		c.W.Error("ERR Command '" + cstrMax(args[0], -1) + "' not found")
		return
	}
	if !cmd.CheckArity(len(args)) {
		c.W.Error("ERR wrong number of arguments for '" + cmd.Name + "' command")
		return
	}
	d := ref.User().Check(cmd.aclID, args, cmd.aclKeys(args), cmd.aclChannels(args))
	if d.OK() {
		c.W.OK()
		return
	}
	c.W.BulkString(c.Table.acl.Users.Catalog().DryRunMessage(cmd.aclID, args, d))
}

// Replies of ACL LOAD and ACL SAVE without an aclfile.
const (
	errNoACLFile = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."
	errACLSave   = "ERR There was an error trying to save the ACLs. Please check the server logs for more information"
)

// cmdACLLoad reads this node's aclfile and proposes its content: every
// node loads the same users, whatever its own file says.
func cmdACLLoad(c *Ctx) {
	file := c.Server.ACLFile()
	if file == "" {
		c.W.Error(errNoACLFile)
		return
	}
	data, err := os.ReadFile(file)
	if err != nil {
		c.W.Error(acl.LoadOpenError(file, err).Error())
		return
	}
	scratch := acl.NewRegistry(c.Table.acl.Users.Catalog(), false)
	if err := scratch.Load(file, data); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.propose(&op.Op{Type: op.AclLoad, Args: [][]byte{[]byte(file), data}})
}

// cmdACLSave writes this node's users to its aclfile, replacing it whole
// (a temporary file renamed over it, as Redis does).
func cmdACLSave(c *Ctx) {
	file := c.Server.ACLFile()
	if file == "" {
		c.W.Error(errNoACLFile)
		return
	}
	tmp := file + ".tmp-" + strconv.FormatInt(c.S.ID, 10)
	err := os.WriteFile(tmp, c.Table.acl.Users.Save(), 0o600)
	if err == nil {
		err = os.Rename(tmp, file)
	}
	if err != nil {
		os.Remove(tmp)
		c.W.Error(errACLSave)
		return
	}
	c.W.OK()
}

var aclHelp = []string{
	"CAT [<category>]",
	"    List all commands that belong to <category>, or all command categories",
	"    when no category is specified.",
	"DELUSER <username> [<username> ...]",
	"    Delete a list of users.",
	"DRYRUN <username> <command> [<arg> ...]",
	"    Returns whether the user can execute the given command without executing the command.",
	"GETUSER <username>",
	"    Get the user's details.",
	"GENPASS [<bits>]",
	"    Generate a secure 256-bit user password. The optional `bits` argument can",
	"    be used to specify a different size.",
	"LIST",
	"    Show users details in config file format.",
	"LOAD",
	"    Reload users from the ACL file.",
	"LOG [<count> | RESET]",
	"    Show the ACL log entries.",
	"SAVE",
	"    Save the current config to the ACL file.",
	"SETUSER <username> <attribute> [<attribute> ...]",
	"    Create or modify a user with the specified attributes.",
	"USERS",
	"    List all the registered usernames.",
	"WHOAMI",
	"    Return the current connection username.",
}

func cmdACLHelp(c *Ctx) { writeHelp(c, "ACL", aclHelp) }
