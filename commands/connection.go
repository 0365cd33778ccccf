package commands

// RedisVersion is the Redis version LoomCache is compatible with and
// reports to clients (HELLO, INFO), so client feature checks pass.
const RedisVersion = "7.0.15"

func registerConnection(t *Table) {
	t.add(
		&Command{Name: "ping", Arity: -1, Flags: FlagFast, Categories: CatConnection,
			Tips:  []string{"request_policy:all_shards", "response_policy:all_succeeded"},
			Group: "connection", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Returns the server's liveliness response.", Handler: cmdPing},
		&Command{Name: "echo", Arity: 2, Flags: FlagFast, Categories: CatConnection,
			Group: "connection", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Returns the given string.", Handler: cmdEcho},
		&Command{Name: "select", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Categories: CatConnection,
			Group: "connection", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Changes the selected database.", Handler: cmdSelect},
		&Command{Name: "quit", Arity: -1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagAllowBusy,
			Categories: CatConnection, Group: "connection", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Closes the connection.", Handler: cmdQuit},
		&Command{Name: "hello", Arity: -1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagNoAuth | FlagSentinel | FlagAllowBusy,
			Categories: CatConnection, Group: "connection", Since: "6.0.0", Complexity: "O(1)",
			Summary: "Handshakes with the Redis server.", Handler: cmdHello},
	)
}

func cmdPing(c *Ctx) {
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
	if !ok || n < -(1<<31) || n > 1<<31-1 {
		c.W.Error("ERR value is not an integer or out of range")
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

func cmdHello(c *Ctx) {
	proto := c.W.Proto
	args := c.Args[1:]
	if len(args) > 0 {
		v, ok := parseInt(args[0])
		if !ok || v < -(1<<31) || v > 1<<31-1 {
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
			// Authentication arrives with the ACL issue; until then every
			// user is the default user with no password.
			i += 2
		case eq(args[i], "SETNAME") && more >= 1:
			name, setName = args[i+1], true
			i++
		default:
			c.W.Error("ERR Syntax error in HELLO option '" + string(args[i]) + "'")
			return
		}
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
