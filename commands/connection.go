package commands

import "github.com/loomcache/loomcache/acl"

// RedisVersion is the Redis version LoomCache is compatible with and
// reports to clients (HELLO, INFO), so client feature checks pass.
const RedisVersion = "7.0.15"

func registerConnection(t *Table) {
	noAuth := FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagAllowBusy
	t.add(
		&Command{Name: "ping", Arity: -1, Flags: FlagFast, Categories: CatConnection,
			Tips:  []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			Group: "connection", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Ping the server", Handler: cmdPing,
			Args: []Arg{argString("message").optional()}},
		&Command{Name: "echo", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Categories: CatConnection,
			Group: "connection", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Echo the given string", Handler: cmdEcho,
			Args: []Arg{argString("message")}},
		&Command{Name: "select", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Categories: CatConnection,
			Group: "connection", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Change the selected database for the current connection", Handler: cmdSelect,
			Args: []Arg{argInt("index")}},
		&Command{Name: "quit", Arity: -1, Flags: noAuth, Categories: CatConnection,
			Group: "connection", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Close the connection", Handler: cmdQuit},
		&Command{Name: "hello", Arity: -1, Flags: noAuth | FlagSentinel, Categories: CatConnection,
			Group: "connection", Since: "6.0.0", Complexity: "O(1)",
			Summary: "Handshake with Redis",
			History: [][2]string{{"6.2.0", "`protover` made optional; when called without arguments the command reports the current connection's context."}},
			Handler: cmdHello,
			Args: []Arg{
				argBlock("arguments",
					argInt("protover"),
					argBlock("username_password", argString("username"), argString("password")).token("AUTH").optional(),
					argString("clientname").token("SETNAME").optional()).optional(),
			}},
		&Command{Name: "reset", Arity: 1, Flags: noAuth, Categories: CatConnection,
			Group: "connection", Since: "6.2.0", Complexity: "O(1)",
			Summary: "Reset the connection", Handler: cmdReset},
	)
	registerClient(t)
}

func cmdPing(c *Ctx) {
	if c.W.Proto == 2 && c.S.Subscribed() {
		// In RESP2 Pub/Sub mode the reply must look like a message.
		c.W.Array(2)
		c.W.BulkString("pong")
		if len(c.Args) == 1 {
			c.W.BulkString("")
		} else {
			c.W.Bulk(c.Args[1])
		}
		return
	}
	switch len(c.Args) {
	case 1:
		c.W.Status("PONG")
	case 2:
		c.W.Bulk(c.Args[1])
	default:
		c.W.Error("ERR wrong number of arguments for 'ping' command")
	}
}

func cmdEcho(c *Ctx) { c.W.Bulk(c.Args[1]) }

func cmdSelect(c *Ctx) {
	n, ok := parseInt(c.Args[1])
	if !ok {
		c.W.Error(errNotInt.Error())
		return
	}
	if n < -(1<<31) || n > 1<<31-1 {
		c.W.Error("ERR value is out of range, value must between -2147483648 and 2147483647")
		return
	}
	if n < 0 || n >= int64(c.Node.Store().NumDBs()) {
		c.W.Error(errDBIndex.Error())
		return
	}
	c.S.SelectDB(int(n))
	c.W.OK()
}

func cmdQuit(c *Ctx) {
	c.S.CloseAfter = true
	c.W.OK()
}

// cmdReset clears the connection's state as Redis's clearClientConnectionState
// does and answers +RESET in RESP2.
func cmdReset(c *Ctx) {
	c.Table.LeaveMonitor(c.S)
	c.S.Reset()
	c.S.DiscardMulti()
	c.Table.LeavePubSub(c.S)
	c.Table.StopTracking(c.S)
	c.Table.acl.Admit(c.S)
	c.W.Proto = 2
	c.W.Status("RESET")
}

func cmdHello(c *Ctx) {
	proto := c.W.Proto
	args := c.Args[1:]
	if len(args) > 0 {
		// Redis reads a long long: any integer that fits is a version,
		// supported or not.
		v, ok := parseInt(args[0])
		if !ok {
			c.W.Error("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.W.Error("NOPROTO unsupported protocol version")
			return
		}
		proto = int(v)
		args = args[1:]
	}
	var name []byte
	var setName bool
	for i := 0; i < len(args); i++ {
		more := len(args) - i - 1
		switch {
		case eq(args[i], "AUTH") && more >= 2:
			// Redis 7.0 authenticates as soon as it parses AUTH: a
			// later bad option leaves the connection authenticated.
			off := len(c.Args) - len(args)
			c.Redact(off + i + 1)
			c.Redact(off + i + 2)
			if !c.authenticate(string(args[i+1]), args[i+2]) {
				c.W.Error(acl.WrongPassError)
				return
			}
			i += 2
		case eq(args[i], "SETNAME") && more >= 1:
			name, setName = args[i+1], true
			i++
		default:
			c.W.Error("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return
		}
	}
	if !c.S.Authenticated {
		c.W.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if setName {
		if err := validClientName(name); err != nil {
			c.W.Error(err.Error())
			return
		}
		c.S.SetName(string(name))
	}
	c.W.Proto = proto
	c.S.SetProto(proto)
	c.W.Map(7)
	c.W.BulkString("server")
	c.W.BulkString("redis")
	c.W.BulkString("version")
	c.W.BulkString(RedisVersion)
	c.W.BulkString("proto")
	c.W.Int(int64(proto))
	c.W.BulkString("id")
	c.W.Int(c.S.ID)
	c.W.BulkString("mode")
	c.W.BulkString("standalone")
	c.W.BulkString("role")
	c.W.BulkString("master")
	c.W.BulkString("modules")
	c.W.Array(0)
}

// validClientName applies CLIENT SETNAME's rule: no spaces or newlines.
func validClientName(name []byte) error {
	for _, ch := range name {
		if ch < '!' || ch > '~' {
			return errorf("ERR Client names cannot contain spaces, newlines or special characters.")
		}
	}
	return nil
}
