package commands

import (
	"strconv"
	"time"

	"github.com/loomcache/loomcache/pubsub"
)

// MONITOR: every command this node serves is shown to the connections in
// monitor mode, as Redis's call() feeds replicationFeedMonitors: after it
// ran (with the database it left selected), except commands flagged
// admin or skip_monitor. The script runners (skip_monitor) show
// themselves before the commands their script calls, which show as
// "[db lua]". Commands refused before they run (unknown, arity, NOPERM)
// are not shown. A follower shows the commands it forwards to the leader
// (forward feeds them), and the leader does not show them again
// (Session.Unmonitored).

func registerMonitor(t *Table) {
	t.add(&Command{Name: "monitor", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
		Group: "server", Since: "1.0.0",
		Summary: "Listen for all requests received by the server in real time", Handler: cmdMonitor})
}

func cmdMonitor(c *Ctx) {
	if _, inBlock := c.Node.(*blockNode); inBlock {
		// Queued in MULTI: EXEC denies blocking, as Redis's does.
		c.W.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.S.Sub == nil || c.S.monitoring {
		return // already monitoring: no reply, as Redis
	}
	// The +OK goes out before any line: the queue is held until the
	// connection has written its replies.
	c.S.Sub.Pause()
	c.S.Sub.Activate()
	c.S.monitoring = true
	c.S.monitor.Store(true)
	c.Table.monitors.Add(c.S.Sub)
	c.W.OK()
}

// Monitors are the node's connections in MONITOR mode.
func (t *Table) Monitors() *pubsub.Monitors { return t.monitors }

// LeaveMonitor ends s's monitor mode (RESET).
func (t *Table) LeaveMonitor(s *Session) {
	if s.monitoring {
		t.monitors.Remove(s.Sub)
		s.monitoring = false
		s.monitor.Store(false)
	}
}

// Monitoring reports whether the connection is in MONITOR mode; only the
// connection's goroutine may ask (it costs no atomic load).
func (s *Session) Monitoring() bool { return s.monitoring }

// MonitoringNow is Monitoring for any goroutine.
func (s *Session) MonitoringNow() bool { return s.monitor.Load() }

// Redact hides argument i of the running command from monitors, as
// Redis's redactClientCommandArgument does for passwords.
func (c *Ctx) Redact(i int) { c.redacted = append(c.redacted, i) }

// FeedMonitors shows the command c runs, at db, to the monitors.
func (t *Table) FeedMonitors(c *Ctx, db int) {
	line := AppendMonitorLine(nil, time.Now(), db, c.S.Addr, c.InScript, c.Args, c.redacted)
	if bn, ok := c.Node.(*blockNode); ok {
		// In a transaction or script: shown once the block is done, so
		// an attempt that conflicts and runs again is not shown twice.
		b := (*block)(bn)
		b.monitorLines = append(b.monitorLines, line...)
		return
	}
	t.monitors.Feed(line)
}

// AppendMonitorLine appends one MONITOR line for args: the time, the
// database and the client's address ("lua" for a script's call), then
// the arguments quoted as Redis's sdscatrepr quotes them, those at the
// redacted positions shown as (redacted).
func AppendMonitorLine(b []byte, now time.Time, db int, addr string, script bool, args [][]byte, redacted []int) []byte {
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := strconv.AppendInt(nil, int64(now.Nanosecond()/1000), 10)
	for range 6 - len(us) {
		b = append(b, '0')
	}
	b = append(b, us...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, ' ')
	if script {
		b = append(b, "lua"...)
	} else {
		b = append(b, addr...)
	}
	b = append(b, "] "...)
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		if isRedacted(redacted, i) {
			a = redactedArg
		}
		b = appendRepr(b, a)
	}
	return append(b, '\r', '\n')
}

var redactedArg = []byte("(redacted)")

func isRedacted(redacted []int, i int) bool {
	for _, r := range redacted {
		if r == i {
			return true
		}
	}
	return false
}

// appendRepr is Redis's sdscatrepr: p in double quotes, with quotes,
// backslashes and the C escapes escaped and other non-printable bytes
// as \xNN.
func appendRepr(b, p []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range p {
		switch c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if c >= 0x20 && c <= 0x7e {
				b = append(b, c)
			} else {
				b = append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
			}
		}
	}
	return append(b, '"')
}

// feedBlock shows the commands a block ran to the monitors.
func (t *Table) feedBlock(b *block) {
	if len(b.monitorLines) > 0 {
		t.monitors.Feed(b.monitorLines)
		b.monitorLines = nil
	}
}

// FeedServed shows a command this node serves other than through Run
// here: one it forwards to the leader (the node the client is on serves
// it, for MONITOR; the leader does not show it), or one it runs on every
// partition; nil cmd: an EXEC refused before it ran.
func (t *Table) FeedServed(c *Ctx, cmd *Command) {
	if t.monitors.Watching() && !c.S.Unmonitored && (cmd == nil || !cmd.Has(FlagAdmin)) {
		c.redacted = c.redacted[:0]
		t.FeedMonitors(c, c.S.DB)
	}
}

// feedForwardedQueue shows the commands of a transaction the leader ran
// for this node, as they would show had they run here: each with the
// database it leaves selected.
func (t *Table) feedForwardedQueue(c *Ctx, tx *transaction) {
	if !t.monitors.Watching() {
		return
	}
	db := c.S.DB
	var lines []byte
	for _, q := range tx.cmds {
		cmd, _ := t.Resolve(q.args)
		if q.denied || cmd == nil {
			continue
		}
		if cmd.Name == "select" {
			if n, ok := parseInt(q.args[1]); ok && n >= 0 && n < int64(c.Node.Store().NumDBs()) {
				db = int(n)
			}
		}
		if !cmd.Has(FlagAdmin) {
			lines = AppendMonitorLine(lines, time.Now(), db, c.S.Addr, false, q.args, nil)
		}
	}
	if len(lines) > 0 {
		t.monitors.Feed(lines)
	}
}

// HasSubscriptions reports whether the connection has any subscription;
// unlike Subscribed, any goroutine may ask.
func (s *Session) HasSubscriptions() bool {
	return s.subs.Load()+s.psubs.Load()+s.ssubs.Load() > 0
}

// MonitorReject is processCommand's check of a monitor (a replica to
// Redis): "" when cmd may run, otherwise Redis's error.
func MonitorReject(s *Session, cmd *Command) string {
	if s.Monitoring() && (cmd.Has(FlagWrite) || cmd.Has(FlagReadonly) || cmd.Has(FlagMayReplicate)) {
		return "ERR Replica can't interact with the keyspace"
	}
	return ""
}

// muteMonitor mutes a monitor's lines from within a command (the server
// sets it between commands).
func (s *Session) muteMonitor(on bool) {
	if s.monitoring {
		s.Sub.Mute(on)
	}
}
