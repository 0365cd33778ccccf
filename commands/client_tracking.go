package commands

import (
	"strings"

	"github.com/loomcache/loomcache/pubsub"
)

// Client-side caching (docs/consistency.md, Client-side caching). The
// tracking table is the node's (Table.Tracking): a connection with
// tracking on records the keys of each read-only command before it runs
// (TrackRead), and the ops this node applies invalidate them.

func registerClientTracking(conn Flag) []*Command {
	sub := func(name string, arity int, summary, since string, h Handler) *Command {
		return &Command{Name: "client|" + name, Arity: arity, Flags: conn, Categories: CatConnection,
			Group: "connection", Since: since, Complexity: "O(1)", Summary: summary, Handler: h}
	}
	tracking := sub("tracking", -3, "Enable or disable server assisted client side caching support", "6.0.0", cmdClientTracking)
	tracking.Complexity = "O(1). Some options may introduce additional complexity."
	tracking.Args = []Arg{
		argOneof("status", argToken("on", "ON"), argToken("off", "OFF")),
		argInt("client-id").token("REDIRECT").optional(),
		argString("prefix").token("PREFIX").optional().multiple().multipleToken(),
		argToken("bcast", "BCAST").optional(),
		argToken("optin", "OPTIN").optional(),
		argToken("optout", "OPTOUT").optional(),
		argToken("noloop", "NOLOOP").optional(),
	}
	caching := sub("caching", 3, "Instruct the server about tracking or not keys in the next request", "6.0.0", cmdClientCaching)
	caching.Args = []Arg{argOneof("mode", argToken("yes", "YES"), argToken("no", "NO"))}
	getredir := sub("getredir", 2, "Get tracking notifications redirection client ID if any", "6.0.0", cmdClientGetRedir)
	info := sub("trackinginfo", 2, "Return information about server assisted client side caching for the current connection", "6.2.0", cmdClientTrackingInfo)
	return []*Command{tracking, caching, getredir, info}
}

// Tracking is the node's client-side caching table.
func (t *Table) Tracking() *pubsub.Tracking { return t.tracking }

// TrackRead records the keys cmd reads for a connection with tracking
// on, before cmd runs or is forwarded: an op applied here after this
// invalidates them, and one applied before was committed before the read
// was served, so the read returns its result.
func (t *Table) TrackRead(s *Session, cmd *Command, args [][]byte) {
	if s.Track == nil || !s.Track.On() || cmd == nil || !cmd.Has(FlagReadonly) && !runsScript(cmd) || cmd.Has(FlagPubsub) {
		return
	}
	pos := cmd.KeyPositions(args)
	if len(pos) == 0 {
		return
	}
	keys := make([][]byte, len(pos))
	for i, p := range pos {
		keys[i] = args[p]
	}
	if runsScript(cmd) && !s.InMulti() {
		s.trackScript = keys // when it reads, or is forwarded
		return
	}
	t.tracking.Remember(s.Track, keys)
}

// TrackScriptKeys records the keys the running script declares: its
// first read-only call, on this node, is about to read (Redis tracks a
// script's declared keys once it calls a read-only command), or its
// command is forwarded to be run elsewhere, where the reads it makes are
// not known here: recorded before they are made, whatever it calls.
func (t *Table) TrackScriptKeys(s *Session) {
	if s.trackScript != nil {
		t.tracking.Remember(s.Track, s.trackScript)
		s.trackScript = nil
	}
}

// runsScript reports whether cmd runs a script or function: Redis tracks
// its declared keys once it calls a read-only command (in a transaction
// they are recorded as it is queued, whatever it calls: an extra
// invalidation is safe, a missing one is not).
func runsScript(cmd *Command) bool {
	switch cmd.Name {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}

// EndTracked forgets CLIENT CACHING once the command after it ran, as
// Redis does outside MULTI for any command but CLIENT's.
func (t *Table) EndTracked(s *Session, cmd *Command) {
	s.trackScript = nil
	if s.Track == nil || !s.Track.On() || s.InMulti() || cmd != nil && strings.HasPrefix(cmd.Name, "client") {
		return
	}
	t.tracking.SetCaching(s.Track, false)
}

// StopTracking turns tracking off (RESET).
func (t *Table) StopTracking(s *Session) {
	if s.Track != nil {
		t.tracking.Disable(s.Track)
	}
}

func cmdClientTracking(c *Ctx) {
	var o pubsub.TrackOptions
	args := c.Args
	for j := 3; j < len(args); j++ {
		more := j < len(args)-1
		switch {
		case eq(args[j], "REDIRECT") && more:
			j++
			if o.Redirect != 0 {
				c.W.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := parseInt(args[j])
			if !ok {
				c.W.Error(errNotInt.Error())
				return
			}
			if !c.Table.tracking.Exists(id) {
				c.W.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			o.Redirect = id
		case eq(args[j], "BCAST"):
			o.BCast = true
		case eq(args[j], "OPTIN"):
			o.OptIn = true
		case eq(args[j], "OPTOUT"):
			o.OptOut = true
		case eq(args[j], "NOLOOP"):
			o.NoLoop = true
		case eq(args[j], "PREFIX") && more:
			j++
			o.Prefixes = append(o.Prefixes, string(args[j]))
		default:
			c.W.Error(errSyntax.Error())
			return
		}
	}
	tr := c.S.Track
	switch {
	case eq(args[2], "ON"):
		if msg := trackingConflict(c.Table.tracking.Info(tr), o); msg != "" {
			c.W.Error(msg)
			return
		}
		// The queues invalidations go to are written from now on.
		if c.S.Sub != nil {
			c.S.Sub.Activate()
		}
		if o.Redirect != 0 {
			c.Table.tracking.Activate(o.Redirect)
		}
		c.Table.tracking.Enable(tr, o)
	case eq(args[2], "OFF"):
		c.Table.tracking.Disable(tr)
	default:
		c.W.Error(errSyntax.Error())
		return
	}
	c.W.OK()
}

// trackingConflict is CLIENT TRACKING ON's checks of options against each
// other and the connection's state: Redis's error, or "".
func trackingConflict(cur pubsub.TrackInfo, o pubsub.TrackOptions) string {
	switch {
	case !o.BCast && len(o.Prefixes) > 0:
		return "ERR PREFIX option requires BCAST mode to be enabled"
	case cur.On && cur.BCast != o.BCast:
		return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."
	case o.BCast && (o.OptIn || o.OptOut):
		return "ERR OPTIN and OPTOUT are not compatible with BCAST"
	case o.OptIn && o.OptOut:
		return "ERR You can't specify both OPTIN mode and OPTOUT mode"
	case o.OptIn && cur.OptOut || o.OptOut && cur.OptIn:
		return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."
	}
	if !o.BCast {
		return ""
	}
	// Redis's checkPrefixCollisionsOrReply: no prefix may be a prefix of
	// another, among the new ones or against the connection's.
	overlap := func(a, b string) bool { n := min(len(a), len(b)); return a[:n] == b[:n] }
	for i, p := range o.Prefixes {
		for _, q := range cur.Prefixes {
			if overlap(q, p) {
				return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
		for _, q := range o.Prefixes[i+1:] {
			if overlap(p, q) {
				return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
	}
	return ""
}

func cmdClientCaching(c *Ctx) {
	info := c.Table.tracking.Info(c.S.Track)
	if !info.On {
		c.W.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case eq(c.Args[2], "YES"):
		if !info.OptIn {
			c.W.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case eq(c.Args[2], "NO"):
		if !info.OptOut {
			c.W.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.W.Error(errSyntax.Error())
		return
	}
	c.Table.tracking.SetCaching(c.S.Track, true)
	c.W.OK()
}

func cmdClientGetRedir(c *Ctx) { c.W.Int(trackingRedirect(c.Table.tracking.Info(c.S.Track))) }

// trackingRedirect is the redirect CLIENT GETREDIR and CLIENT LIST show:
// -1 with tracking off.
func trackingRedirect(i pubsub.TrackInfo) int64 {
	if !i.On {
		return -1
	}
	return i.Redirect
}

func cmdClientTrackingInfo(c *Ctx) {
	i := c.Table.tracking.Info(c.S.Track)
	flags := []string{"off"}
	if i.On {
		flags[0] = "on"
	}
	add := func(on bool, f string) {
		if on {
			flags = append(flags, f)
		}
	}
	add(i.BCast, "bcast")
	add(i.OptIn, "optin")
	add(i.OptIn && i.Caching, "caching-yes")
	add(i.OptOut, "optout")
	add(i.OptOut && i.Caching, "caching-no")
	add(i.NoLoop, "noloop")
	add(i.Broken, "broken_redirect")
	c.W.Map(3)
	c.W.BulkString("flags")
	c.W.Set(len(flags))
	for _, f := range flags {
		c.W.BulkString(f)
	}
	c.W.BulkString("redirect")
	c.W.Int(trackingRedirect(i))
	c.W.BulkString("prefixes")
	c.W.Array(len(i.Prefixes))
	for _, p := range i.Prefixes {
		c.W.BulkString(p)
	}
}

// trackingFlags are CLIENT LIST's letters for tracking.
func trackingFlags(i pubsub.TrackInfo) string {
	if !i.On {
		return ""
	}
	f := "t"
	if i.Broken {
		f += "R"
	}
	if i.BCast {
		f += "B"
	}
	return f
}
