package commands

import "github.com/loomcache/loomcache/scripting"

// CLIENT PAUSE, CLIENT UNPAUSE and CLIENT REPLY: how a connection's
// commands are held or answered. Pausing is the node's (Server); the
// reply mode is the session's, applied by the connection around each
// command (replyState).

func registerClientFlow(conn Flag) (pause, unpause, reply *Command) {
	admin := FlagAdmin | conn
	pause = &Command{Name: "client|pause", Arity: -3, Flags: admin, Categories: CatConnection,
		Group: "connection", Since: "2.9.50", Complexity: "O(1)",
		Summary: "Stop processing commands from clients for some time", Handler: cmdClientPause,
		History: [][2]string{{"6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."}},
		Args: []Arg{argInt("timeout"),
			argOneof("mode", argToken("write", "WRITE"), argToken("all", "ALL")).since("6.2.0").optional()}}
	unpause = &Command{Name: "client|unpause", Arity: 2, Flags: admin, Categories: CatConnection,
		Group: "connection", Since: "6.2.0", Complexity: "O(N) Where N is the number of paused clients",
		Summary: "Resume processing of clients that were paused", Handler: cmdClientUnpause}
	reply = &Command{Name: "client|reply", Arity: 3, Flags: conn, Categories: CatConnection,
		Group: "connection", Since: "3.2.0", Complexity: "O(1)",
		Summary: "Instruct the server whether to reply to commands", Handler: cmdClientReply,
		Args: []Arg{argOneof("on_off_skip", argToken("on", "ON"), argToken("off", "OFF"), argToken("skip", "SKIP"))}}
	return pause, unpause, reply
}

// Pause kinds, ordered: a second CLIENT PAUSE keeps the stronger one.
const (
	PauseNone  = iota
	PauseWrite // commands that may write wait
	PauseAll   // every command waits
)

func cmdClientPause(c *Ctx) {
	if len(c.Args) > 4 {
		subcommandSyntax(c)
		return
	}
	kind := PauseAll
	if len(c.Args) == 4 {
		switch {
		case eq(c.Args[3], "WRITE"):
			kind = PauseWrite
		case eq(c.Args[3], "ALL"):
		default:
			c.W.Error("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	}
	ms, ok := parseInt(c.Args[2])
	switch {
	case !ok:
		c.W.Error("ERR timeout is not an integer or out of range")
		return
	case ms < 0:
		c.W.Error("ERR timeout is negative")
		return
	}
	end := int64(0)
	if ms > 0 {
		end = c.Now() + ms // wraps past the largest, as Redis's sum does
	}
	c.Server.PauseClients(kind, end)
	c.W.OK()
}

func cmdClientUnpause(c *Ctx) {
	c.Server.UnpauseClients()
	c.W.OK()
}

func cmdClientReply(c *Ctx) {
	r := &c.S.replies
	switch {
	case eq(c.Args[2], "ON"):
		r.off, r.skip = false, false
		c.S.muteMonitor(false) // its own line is shown
		c.W.OK()
	case eq(c.Args[2], "OFF"):
		r.off = true
		c.S.muteMonitor(true) // its own line is not shown either
	case eq(c.Args[2], "SKIP"):
		if !r.off {
			r.skipNext = true
		}
	default:
		c.W.Error(errSyntax.Error())
	}
}

// replyState is CLIENT REPLY's state on a session, Redis's
// CLIENT_REPLY_OFF, _SKIP and _SKIP_NEXT flags.
type replyState struct {
	off, skip, skipNext bool
}

// RepliesSilenced reports whether the replies written now are dropped:
// CLIENT REPLY OFF, or SKIP for the command running.
func (s *Session) RepliesSilenced() bool { return s.replies.off || s.replies.skip }

// EndCommandReplies moves CLIENT REPLY SKIP on once a command is done, as
// Redis's resetClient does: the command after a SKIP is skipped, the one
// after that answered.
func (s *Session) EndCommandReplies() {
	s.replies.skip = s.replies.skipNext
	s.replies.skipNext = false
}

// MayWrite reports whether a command run with args may write, as Redis's
// processCommand decides which commands CLIENT PAUSE WRITE holds: those
// flagged write or may-replicate, a script by the flags it declares
// (none: it may write), EXEC by the commands it queued.
func (t *Table) MayWrite(cmd *Command, args [][]byte, s *Session) bool {
	switch cmd.Name {
	case "eval", "evalsha", "fcall":
		if f, ok := t.scriptFlags(cmd.Name, args); ok && !f.NoShebang() {
			return !f.Has(scripting.FlagNoWrites)
		}
	case "exec":
		for _, q := range s.Queued() {
			if c, _ := t.Resolve(q); c != nil && t.MayWrite(c, q, s) {
				return true
			}
		}
		return false
	}
	return cmd.Has(FlagWrite) || cmd.Has(FlagMayReplicate)
}

// scriptFlags are the flags of the script an EVAL, EVALSHA or FCALL would
// run, if it is known (Redis's evalGetCommandFlags).
func (t *Table) scriptFlags(name string, args [][]byte) (scripting.Flags, bool) {
	if len(args) < 2 {
		return 0, false
	}
	body := string(args[1])
	switch name {
	case "eval":
		f, _, err := scripting.ParseShebang(body)
		return f, err == nil
	case "evalsha":
		if sc, ok := t.scripts.engine.Script(body); ok && len(body) == 40 {
			return sc.Flags, true
		}
	case "fcall":
		if fn, ok := t.scripts.engine.Function(body); ok {
			return fn.Flags, true
		}
	}
	return 0, false
}
