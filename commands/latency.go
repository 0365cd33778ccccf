package commands

import (
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/latency"
)

// This file keeps what Redis's call() records of each command's duration
// besides commandstats: the slow log, the latency monitor's "command" and
// "fast-command" events and the per-command latency histograms; and the
// LATENCY command that reads them.
//
// A command's duration is its handler's run, time blocked (BLPOP's wait)
// left out, as Redis counts it. For a write that is the Raft round trip
// too: the handler proposes and waits for the outcome, which is what the
// client waits for. Two cases differ: a pipelined write whose reply is
// deferred (the connection has more requests buffered) is timed until it
// is handed to Raft, its round trip being shared by the batch; and a
// command a follower forwards is timed around the leader's answer (the
// leader records nothing for it), in the slow log only when it went to
// the leader alone, not queued with a pipeline.

// latencyState is the table's share of the node's latency records.
type latencyState struct {
	slow     *latency.SlowLog
	monitor  *latency.Monitor
	tracking atomic.Bool // latency-tracking
	// percentiles are latency-tracking-info-percentiles.
	percentiles atomic.Pointer[[]float64]
	// facts gives LATENCY DOCTOR what it asks of the server.
	facts atomic.Pointer[func() latency.DoctorFacts]
}

// init sets Redis's defaults: tracking on, percentiles 50, 99, 99.9.
func (st *latencyState) init() {
	st.slow, st.monitor = latency.NewSlowLog(), latency.NewMonitor()
	st.tracking.Store(true)
	p := []float64{50, 99, 99.9}
	st.percentiles.Store(&p)
}

// SlowLog is the node's slow log.
func (t *Table) SlowLog() *latency.SlowLog { return t.lat.slow }

// LatencyMonitor is the node's latency monitor.
func (t *Table) LatencyMonitor() *latency.Monitor { return t.lat.monitor }

// SetLatencyTracking sets latency-tracking and
// latency-tracking-info-percentiles.
func (t *Table) SetLatencyTracking(on bool, percentiles []float64) {
	t.lat.tracking.Store(on)
	p := append([]float64(nil), percentiles...)
	t.lat.percentiles.Store(&p)
}

// SetDoctorFacts gives LATENCY DOCTOR the server's side of its facts.
func (t *Table) SetDoctorFacts(f func() latency.DoctorFacts) { t.lat.facts.Store(&f) }

// Observed records a call of cmd that took d in the latency monitor and
// cmd's histogram (Redis's call(): latencyAddSampleIfNeeded and
// updateCommandLatencyHistogram).
func (t *Table) Observed(cmd *Command, d time.Duration) {
	if cmd == nil {
		return
	}
	event := "command"
	if cmd.Has(FlagFast) {
		event = "fast-command"
	}
	if ms := int64(d / time.Millisecond); t.lat.monitor.Over(ms) {
		t.lat.monitor.Add(event, ms, time.Now().Unix()) // the clock read only then
	}
	if !t.lat.tracking.Load() {
		return
	}
	h := cmd.hist.Load()
	if h == nil {
		cmd.hist.CompareAndSwap(nil, new(latency.Histogram))
		h = cmd.hist.Load()
	}
	h.Record(int64(d))
}

// SlowLogged puts the command c ran, cmd, in the slow log if it took long
// enough (Redis's slowlogPushCurrentCommand): as the client sent it,
// with the arguments Redact hid shown as (redacted).
func (t *Table) SlowLogged(c *Ctx, cmd *Command, d time.Duration) {
	t.slowLog(c, cmd, d, c.redacted)
}

// SlowLoggedForwarded is SlowLogged for a command c forwarded to the
// leader, which did not run here (nothing of it was redacted here).
func (t *Table) SlowLoggedForwarded(c *Ctx, cmd *Command, d time.Duration) {
	t.slowLog(c, cmd, d, nil)
}

func (t *Table) slowLog(c *Ctx, cmd *Command, d time.Duration, redacted []int) {
	usec := int64(d / time.Microsecond)
	if cmd == nil || cmd.Has(FlagSkipSlowlog) || !t.lat.slow.Logs(usec) {
		return
	}
	peer, name := c.S.Addr, c.S.Name()
	if c.InScript {
		peer, name = "?:0", "" // Redis's script client: no connection, no name
	}
	t.lat.slow.Add(time.Now().Unix(), usec, c.Args, redacted, peer, name)
}

// resetHistograms drops every command's histogram (CONFIG RESETSTAT).
func (c *Command) resetHistogram() { c.hist.Store(nil) }

// AppendLatencyStats appends INFO latencystats' lines: each command's
// percentiles, in commandstats' order.
func (t *Table) AppendLatencyStats(b []byte) []byte {
	ps := *t.lat.percentiles.Load()
	t.eachCommand(func(c *Command) {
		h := c.hist.Load()
		if h == nil {
			return
		}
		b = append(b, "latency_percentiles_usec_"...)
		b = append(b, c.Name...)
		b = append(b, ':')
		for i, p := range ps {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, 'p')
			b = append(b, FormatPercentile(p)...)
			b = append(b, '=')
			b = strconv.AppendFloat(b, float64(h.ValueAtPercentile(p))/1000, 'f', 3, 64)
		}
		b = append(b, "\r\n"...)
	})
	return b
}

// FormatPercentile writes a percentile as Redis does ("%f", trailing
// zeros and point trimmed): 50, 99.9.
func FormatPercentile(p float64) string {
	s := strconv.FormatFloat(p, 'f', 6, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func registerLatency(t *Table) {
	node := func(name string, arity int, summary string, tips []string, h Handler) *Command {
		return &Command{Name: "latency|" + name, Arity: arity, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
			Tips: tips, Group: "server", Since: "2.8.13", Complexity: "O(1)", Summary: summary, Handler: h}
	}
	special := []string{"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"}
	histogram := node("histogram", -2, "Return the cumulative distribution of latencies of a subset of commands or all.", special, cmdLatencyHistogram)
	histogram.Since = "7.0.0"
	histogram.Complexity = "O(N) where N is the number of commands with latency information being retrieved."
	histogram.Args = []Arg{argString("command").optional().multiple()}
	t.add(&Command{Name: "latency", Arity: -2, Group: "server", Since: "2.8.13",
		Complexity: "Depends on subcommand.", Summary: "A container for latency diagnostics commands",
		Subs: []*Command{
			histogram,
			node("doctor", 2, "Return a human readable latency analysis report.", special, cmdLatencyDoctor),
			node("graph", 3, "Return a latency graph for the event.", special, cmdLatencyGraph).withArgs(argString("event")),
			node("reset", -2, "Reset latency data for one or more events.",
				[]string{"request_policy:all_nodes", "response_policy:all_succeeded"}, cmdLatencyReset).
				withArgs(argString("event").optional().multiple()),
			node("latest", 2, "Return the latest latency samples for all events.", special, cmdLatencyLatest),
			{Name: "latency|help", Arity: 2, Flags: FlagLoading | FlagStale, Group: "server", Since: "2.8.13",
				Complexity: "O(1)", Summary: "Show helpful text about the different subcommands.", Handler: cmdLatencyHelp},
			node("history", 3, "Return timestamp-latency samples for the event.", special, cmdLatencyHistory).withArgs(argString("event")),
		}})
}

var latencyHelp = []string{
	"DOCTOR",
	"    Return a human readable latency analysis report.",
	"GRAPH <event>",
	"    Return an ASCII latency graph for the <event> class.",
	"HISTORY <event>",
	"    Return time-latency samples for the <event> class.",
	"LATEST",
	"    Return the latest latency samples for all events.",
	"RESET [<event> ...]",
	"    Reset latency data of one or more <event> classes.",
	"    (default: reset all data for all event classes)",
	"HISTOGRAM [COMMAND ...]",
	"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
	"    If no commands are specified then all histograms are replied.",
}

func cmdLatencyHelp(c *Ctx) { writeHelp(c, "LATENCY", latencyHelp) }

func cmdLatencyHistory(c *Ctx) {
	samples, _ := c.Table.lat.monitor.History(string(c.Args[2]))
	c.W.Array(len(samples))
	for _, s := range samples {
		c.W.Array(2)
		c.W.Int(s.Time)
		c.W.Int(s.Latency)
	}
}

func cmdLatencyLatest(c *Ctx) {
	latest := c.Table.lat.monitor.Latest()
	c.W.Array(len(latest))
	for _, l := range latest {
		c.W.Array(4)
		c.W.BulkString(l.Event)
		c.W.Int(l.Time)
		c.W.Int(l.Latency)
		c.W.Int(l.Max)
	}
}

func cmdLatencyReset(c *Ctx) {
	names := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		names = append(names, string(a))
	}
	if len(names) == 0 {
		c.W.Int(int64(c.Table.lat.monitor.Reset()))
		return
	}
	n := 0
	for _, name := range names {
		n += c.Table.lat.monitor.Reset(name)
	}
	c.W.Int(int64(n))
}

func cmdLatencyGraph(c *Ctx) {
	g, ok := c.Table.lat.monitor.Graph(string(c.Args[2]), time.Now().Unix())
	if !ok {
		c.W.Error("ERR No samples available for event '" + cstrMax(c.Args[2], -1) + "'")
		return
	}
	c.W.Verbatim("txt", []byte(g))
}

func cmdLatencyDoctor(c *Ctx) {
	var f latency.DoctorFacts
	if fp := c.Table.lat.facts.Load(); fp != nil {
		f = (*fp)()
	}
	f.SlowerThanUsec = c.Table.lat.slow.SlowerThan()
	c.W.Verbatim("txt", []byte(c.Table.lat.monitor.Doctor(f, time.Now().Unix())))
}

// cmdLatencyHistogram is LATENCY HISTOGRAM [command ...]: a map of each
// command (or subcommand) with a histogram to its calls and buckets. A
// container named gives its subcommands' too; unknown names are skipped.
func cmdLatencyHistogram(c *Ctx) {
	var cmds []*Command
	if len(c.Args) == 2 {
		c.Table.eachCommand(func(cmd *Command) {
			if cmd.hist.Load() != nil {
				cmds = append(cmds, cmd)
			}
		})
	} else {
		for _, name := range c.Args[2:] {
			cmd := c.Table.lookupFullName(string(name))
			if cmd == nil {
				continue
			}
			if cmd.hist.Load() != nil {
				cmds = append(cmds, cmd)
			}
			for _, sub := range cmd.Subs {
				if sub.hist.Load() != nil {
					cmds = append(cmds, sub)
				}
			}
		}
	}
	c.W.Map(len(cmds))
	for _, cmd := range cmds {
		h := cmd.hist.Load()
		buckets := h.Buckets()
		c.W.BulkString(cmd.Name)
		c.W.Map(2)
		c.W.BulkString("calls")
		c.W.Int(h.Total())
		c.W.BulkString("histogram_usec")
		c.W.Map(len(buckets))
		for _, b := range buckets {
			c.W.Int(b.Usec)
			c.W.Int(b.Count)
		}
	}
}

// lookupFullName finds a command by its full name ("client|id"), as
// Redis's lookupCommandBySds.
func (t *Table) lookupFullName(name string) *Command {
	parent, sub, isSub := strings.Cut(name, "|")
	cmd := t.Lookup([]byte(parent))
	if cmd == nil || !isSub {
		return cmd
	}
	return cmd.Sub([]byte(sub))
}

// eachCommand calls fn for every command and subcommand in
// commandstats' order (stats.go).
func (t *Table) eachCommand(fn func(c *Command)) {
	for _, c := range t.sortedCommands() {
		fn(c)
	}
}
