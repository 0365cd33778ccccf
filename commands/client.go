package commands

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/loomcache/loomcache/pubsub"
)

func registerClient(t *Table) {
	conn := FlagNoScript | FlagLoading | FlagStale
	admin := FlagAdmin | conn
	sub := func(name string, arity int, flags Flag, summary, since string, h Handler) *Command {
		return &Command{Name: "client|" + name, Arity: arity, Flags: flags, Categories: CatConnection,
			Group: "connection", Since: since, Complexity: "O(1)", Summary: summary, Handler: h}
	}
	id := sub("id", 2, conn, "Returns the client ID for the current connection", "5.0.0", cmdClientID)
	setname := sub("setname", 3, conn, "Set the current connection name", "2.6.9", cmdClientSetName)
	setname.Args = []Arg{argString("connection-name")}
	getname := sub("getname", 2, conn, "Get the current connection name", "2.6.9", cmdClientGetName)
	info := sub("info", 2, conn, "Returns information about the current client connection.", "6.2.0", cmdClientInfo)
	info.Tips = []string{"nondeterministic_output"}
	list := sub("list", -2, admin, "Get the list of client connections", "2.4.0", cmdClientList)
	list.Tips = []string{"nondeterministic_output"}
	list.Complexity = "O(N) where N is the number of client connections"
	list.History = [][2]string{
		{"2.8.12", "Added unique client `id` field."},
		{"5.0.0", "Added optional `TYPE` filter."},
		{"6.0.0", "Added `user` field."},
		{"6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the optional `ID` filter."},
		{"7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."},
		{"7.0.3", "Added `ssub` field."},
	}
	list.Args = []Arg{
		argOneof("normal_master_replica_pubsub",
			argToken("normal", "NORMAL"),
			argToken("master", "MASTER"),
			argToken("replica", "REPLICA"),
			argToken("pubsub", "PUBSUB")).token("TYPE").since("5.0.0").optional(),
		argBlock("id", argInt("client-id").multiple()).token("ID").since("6.2.0").optional(),
	}
	kill := sub("kill", -3, admin, "Kill the connection of a client", "2.4.0", cmdClientKill)
	kill.Complexity = "O(N) where N is the number of client connections"
	kill.History = [][2]string{
		{"2.8.12", "Added new filter format."},
		{"2.8.12", "`ID` option."},
		{"3.2.0", "Added `master` type in for `TYPE` option."},
		{"5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported for backward compatibility."},
		{"6.2.0", "`LADDR` option."},
	}
	kill.Args = []Arg{
		argOneof("filter",
			argString("ip:port").deprecatedSince("2.8.12"),
			argOneof("new-format",
				argInt("client-id").token("ID").since("2.8.12").optional(),
				argOneof("normal_master_slave_pubsub",
					argToken("normal", "NORMAL"),
					argToken("master", "MASTER").since("3.2.0"),
					argToken("slave", "SLAVE"),
					argToken("replica", "REPLICA").since("5.0.0"),
					argToken("pubsub", "PUBSUB")).token("TYPE").since("2.8.12").optional(),
				argString("username").token("USER").optional(),
				argString("ip:port").token("ADDR").optional(),
				argString("ip:port").token("LADDR").since("6.2.0").optional(),
				argString("yes/no").token("SKIPME").optional()).multiple()),
	}
	noEvict := sub("no-evict", 3, admin, "Set client eviction mode for the current connection", "7.0.0", cmdClientNoEvict)
	noEvict.Args = []Arg{argOneof("enabled", argToken("on", "ON"), argToken("off", "OFF"))}
	unblock := sub("unblock", -3, admin, "Unblock a client blocked in a blocking command from a different connection", "5.0.0", cmdClientUnblock)
	unblock.Complexity = "O(log N) where N is the number of client connections"
	unblock.Args = []Arg{argInt("client-id"),
		argOneof("timeout_error", argToken("timeout", "TIMEOUT"), argToken("error", "ERROR")).optional()}
	help := sub("help", 2, FlagLoading|FlagStale, "Show helpful text about the different subcommands", "5.0.0", cmdClientHelp)
	pause, unpause, reply := registerClientFlow(conn)
	subs := []*Command{id, setname, getname, info, list, kill, unblock, noEvict, pause, unpause, reply, help}
	t.add(&Command{Name: "client", Arity: -2, Group: "connection", Since: "2.4.0",
		Complexity: "Depends on subcommand.", Summary: "A container for client connection commands",
		Subs: append(subs, registerClientTracking(conn)...)})
}

func cmdClientID(c *Ctx) { c.W.Int(c.S.ID) }

func cmdClientSetName(c *Ctx) {
	if err := validClientName(c.Args[2]); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.S.SetName(string(c.Args[2]))
	c.W.OK()
}

func cmdClientGetName(c *Ctx) {
	if n := c.S.Name(); n != "" {
		c.W.BulkString(n)
		return
	}
	c.W.Null()
}

func cmdClientNoEvict(c *Ctx) {
	switch {
	case eq(c.Args[2], "ON"):
		c.S.SetNoEvict(true)
	case eq(c.Args[2], "OFF"):
		c.S.SetNoEvict(false)
	default:
		c.W.Error(errSyntax.Error())
		return
	}
	c.W.OK()
}

func cmdClientInfo(c *Ctx) {
	now := time.Now()
	fds := fdTable(c.Server.Clients())
	c.W.Verbatim("txt", c.appendClient(nil, c.S, fds, now))
}

// Client types, as CLIENT LIST TYPE and CLIENT KILL TYPE name them.
const (
	typeNormal = iota
	typeReplica
	typePubsub
	typeMaster
)

func clientType(name []byte) int {
	switch {
	case eq(name, "NORMAL"):
		return typeNormal
	case eq(name, "SLAVE"), eq(name, "REPLICA"):
		return typeReplica
	case eq(name, "PUBSUB"):
		return typePubsub
	case eq(name, "MASTER"):
		return typeMaster
	}
	return -1
}

// typeOf is a connection's type: LoomCache has no replication links on the
// client port, so a connection is pubsub while subscribed, normal otherwise.
func typeOf(ci ClientInfo) int {
	if ci.Sub+ci.PSub+ci.SSub > 0 {
		return typePubsub
	}
	return typeNormal
}

func cmdClientList(c *Ctx) {
	now := time.Now()
	all := c.Server.Clients()
	fds := fdTable(all)
	var out []byte
	switch {
	case len(c.Args) == 4 && eq(c.Args[2], "TYPE"):
		typ := clientType(c.Args[3])
		if typ < 0 {
			c.W.Error("ERR Unknown client type '" + string(c.Args[3]) + "'")
			return
		}
		for _, s := range sortedSessions(all) {
			if typeOf(s.Info(now)) == typ {
				out = c.appendClient(out, s, fds, now)
			}
		}
	case len(c.Args) > 3 && eq(c.Args[2], "ID"):
		byID := make(map[int64]*Session, len(all))
		for _, s := range all {
			byID[s.ID] = s
		}
		for _, a := range c.Args[3:] {
			id, ok := parseInt(a)
			if !ok {
				c.W.Error("ERR Invalid client ID")
				return
			}
			if s := byID[id]; s != nil {
				out = c.appendClient(out, s, fds, now)
			}
		}
	case len(c.Args) != 2:
		c.W.Error(errSyntax.Error())
		return
	default:
		for _, s := range sortedSessions(all) {
			out = c.appendClient(out, s, fds, now)
		}
	}
	c.W.Verbatim("txt", out)
}

func sortedSessions(all []*Session) []*Session {
	out := slices.Clone(all)
	slices.SortFunc(out, func(a, b *Session) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// fdTable gives each connection a plausible file descriptor: Redis's are
// the lowest free ones, handed out in connection order after the
// listeners'. LoomCache's Go runtime does not expose them.
func fdTable(all []*Session) map[int64]int {
	fds := make(map[int64]int, len(all))
	for i, s := range sortedSessions(all) {
		fds[s.ID] = 8 + i
	}
	return fds
}

// Sizes Redis reports for a connection's buffers; LoomCache's are Go
// slices with no fixed size, so CLIENT LIST shows Redis's figures.
const (
	queryBufAlloc = 20474 // a query buffer after reading a small command
	replyBufSize  = 1024  // the smallest reply buffer
	clientBase    = 1800  // memory of an idle client
)

// appendClient appends one CLIENT LIST line in Redis 7.0's format. The
// caller's own line shows the command being served in its buffers.
func (c *Ctx) appendClient(b []byte, s *Session, fds map[int64]int, now time.Time) []byte {
	ci := s.Info(now)
	var track pubsub.TrackInfo
	if s.Track != nil {
		track = c.Table.tracking.Info(s.Track)
	}
	qbuf, qfree, argvMem := 0, 0, 0
	if s == c.S {
		qbuf = requestLen(c.Args)
		qfree = max(queryBufAlloc-qbuf, 0)
		argvMem = argvLen(c.Args)
	} else {
		argvMem = ci.ArgvMem
	}
	flags := ""
	if ci.Monitor {
		flags += "O"
	}
	if ci.Sub+ci.PSub+ci.SSub > 0 {
		flags += "P"
	}
	if ci.Multi >= 0 {
		flags += "x"
	}
	if ci.Blocked {
		flags += "b"
	}
	flags += trackingFlags(track)
	if ci.ReadOnly {
		flags += "r"
	}
	if ci.NoEvict {
		flags += "e"
	}
	if flags == "" {
		flags = "N"
	}
	multiMem := ci.MultiMem
	field := func(name, v string) {
		b = append(b, name...)
		b = append(b, '=')
		b = append(b, v...)
		b = append(b, ' ')
	}
	num := func(name string, v int64) { field(name, strconv.FormatInt(v, 10)) }
	num("id", ci.ID)
	field("addr", ci.Addr)
	field("laddr", ci.LAddr)
	num("fd", int64(fds[ci.ID]))
	field("name", ci.Name)
	num("age", ci.Age)
	num("idle", ci.Idle)
	field("flags", flags)
	num("db", int64(ci.DB))
	num("sub", int64(ci.Sub))
	num("psub", int64(ci.PSub))
	num("ssub", int64(ci.SSub))
	num("multi", int64(ci.Multi))
	num("qbuf", int64(qbuf))
	num("qbuf-free", int64(qfree))
	num("argv-mem", int64(argvMem))
	num("multi-mem", int64(multiMem))
	num("rbs", replyBufSize)
	num("rbp", 0)
	num("obl", 0)
	num("oll", 0)
	num("omem", 0)
	num("tot-mem", int64(clientBase+qbuf+qfree+argvMem+multiMem))
	field("events", "r")
	field("cmd", ci.LastCmd)
	field("user", ci.User)
	num("redir", trackingRedirect(track))
	b = append(b, "resp="...)
	b = strconv.AppendInt(b, int64(ci.Proto), 10)
	return append(b, '\n')
}

// argvLen is the size of args, Redis's argv_len_sum.
func argvLen(args [][]byte) int {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	return n
}

// requestLen is the size of args as a RESP multibulk request.
func requestLen(args [][]byte) int {
	n := 1 + len(strconv.Itoa(len(args))) + 2
	for _, a := range args {
		n += 1 + len(strconv.Itoa(len(a))) + 2 + len(a) + 2
	}
	return n
}

func cmdClientKill(c *Ctx) {
	var (
		addr, laddr, user []byte
		typ               = -1
		id                int64
		skipMe            = true
	)
	args := c.Args[2:]
	if len(args) == 1 {
		// The old form, CLIENT KILL ip:port, may kill the caller too.
		addr, skipMe = args[0], false
	} else {
		for i := 0; i < len(args); i += 2 {
			if i+1 >= len(args) {
				c.W.Error(errSyntax.Error())
				return
			}
			opt, val := args[i], args[i+1]
			switch {
			case eq(opt, "ID"):
				n, ok := parseInt(val)
				if !ok || n < 1 {
					c.W.Error("ERR client-id should be greater than 0")
					return
				}
				id = n
			case eq(opt, "TYPE"):
				if typ = clientType(val); typ < 0 {
					c.W.Error("ERR Unknown client type '" + string(val) + "'")
					return
				}
			case eq(opt, "ADDR"):
				addr = val
			case eq(opt, "LADDR"):
				laddr = val
			case eq(opt, "USER"):
				if c.Table.acl.Users.Lookup(string(val)) == nil {
					c.W.Error("ERR No such user '" + string(val) + "'")
					return
				}
				user = val
			case eq(opt, "SKIPME"):
				switch {
				case eq(val, "YES"):
					skipMe = true
				case eq(val, "NO"):
					skipMe = false
				default:
					c.W.Error(errSyntax.Error())
					return
				}
			default:
				c.W.Error(errSyntax.Error())
				return
			}
		}
	}
	now := time.Now()
	killed := 0
	for _, s := range sortedSessions(c.Server.Clients()) {
		ci := s.Info(now)
		switch {
		case addr != nil && ci.Addr != string(addr),
			laddr != nil && ci.LAddr != string(laddr),
			typ >= 0 && typeOf(ci) != typ,
			id != 0 && ci.ID != id,
			user != nil && ci.User != string(user),
			s == c.S && skipMe:
			continue
		}
		if s == c.S {
			// The caller gets its reply, then the connection closes.
			c.S.CloseAfter = true
			killed++
		} else if c.Server.KillClient(s.ID) {
			killed++
		}
	}
	if len(args) == 1 {
		if killed == 0 {
			c.W.Error("ERR No such client")
			return
		}
		c.W.OK()
		return
	}
	c.W.Int(int64(killed))
}

var clientHelp = []string{
	"CACHING (YES|NO)",
	"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
	"GETREDIR",
	"    Return the client ID we are redirecting to when tracking is enabled.",
	"GETNAME",
	"    Return the name of the current connection.",
	"ID",
	"    Return the ID of the current connection.",
	"INFO",
	"    Return information about the current client connection.",
	"KILL <ip:port>",
	"    Kill connection made from <ip:port>.",
	"KILL <option> <value> [<option> <value> [...]]",
	"    Kill connections. Options are:",
	"    * ADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made from the specified address",
	"    * LADDR (<ip:port>|<unixsocket>:0)",
	"      Kill connections made to specified local address",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Kill connections by type.",
	"    * USER <username>",
	"      Kill connections authenticated by <username>.",
	"    * SKIPME (YES|NO)",
	"      Skip killing current connection (default: yes).",
	"LIST [options ...]",
	"    Return information about client connections. Options:",
	"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
	"      Return clients of specified type.",
	"UNPAUSE",
	"    Stop the current client pause, resuming traffic.",
	"PAUSE <timeout> [WRITE|ALL]",
	"    Suspend all, or just write, clients for <timeout> milliseconds.",
	"REPLY (ON|OFF|SKIP)",
	"    Control the replies sent to the current connection.",
	"SETNAME <name>",
	"    Assign the name <name> to the current connection.",
	"UNBLOCK <clientid> [TIMEOUT|ERROR]",
	"    Unblock the specified blocked client.",
	"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
	"         [OPTIN] [OPTOUT] [NOLOOP]",
	"    Control server assisted client side caching.",
	"TRACKINGINFO",
	"    Report tracking status for the current connection.",
	"NO-EVICT (ON|OFF)",
	"    Protect current client connection from eviction.",
}

func cmdClientHelp(c *Ctx) { writeHelp(c, "CLIENT", clientHelp) }

// writeHelp writes a HELP reply the way Redis's addReplyHelp does.
func writeHelp(c *Ctx, cmd string, lines []string) {
	c.W.Array(len(lines) + 3)
	c.W.Status(cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
	for _, l := range lines {
		c.W.Status(l)
	}
	c.W.Status("HELP")
	c.W.Status("    Prints this help.")
}

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: the client, if
// blocked in a blocking command here, is answered as if its timeout had
// passed, or with an UNBLOCKED error.
func cmdClientUnblock(c *Ctx) {
	if len(c.Args) > 4 {
		subcommandSyntax(c)
		return
	}
	asError := false
	if len(c.Args) == 4 {
		switch {
		case eq(c.Args[3], "TIMEOUT"):
		case eq(c.Args[3], "ERROR"):
			asError = true
		default:
			c.W.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	}
	id, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error(errNotInt.Error())
		return
	}
	for _, s := range c.Server.Clients() {
		if s.ID == id {
			c.W.Int(boolInt(s.unblockWaiter(asError)))
			return
		}
	}
	c.W.Int(0)
}
