package commands

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file keeps INFO's commandstats and errorstats, as Redis's call()
// and afterErrorReply do. A command's counters live in its table entry
// (atomics: no lock or map lookup per command); the error codes are
// counted under a mutex, errors being the rare path.

// CommandStats are one command's INFO commandstats counters.
type CommandStats struct {
	calls, usec, rejected, failed atomic.Int64
}

// CommandStat is a snapshot of a command's counters, for INFO.
type CommandStat struct {
	Name                          string // "set", "config|get"
	Calls, Usec, Rejected, Failed int64
}

func (s *CommandStats) reset() {
	s.calls.Store(0)
	s.usec.Store(0)
	s.rejected.Store(0)
	s.failed.Store(0)
}

// ran records one call that took d, failed when it replied an error.
func (s *CommandStats) ran(d time.Duration, failed bool) {
	s.calls.Add(1)
	s.usec.Add(int64(d / time.Microsecond))
	if failed {
		s.failed.Add(1)
	}
}

// maxErrorCodes bounds the distinct error codes errorstats keeps (Redis
// 7.2's ERROR_STATS_NUMBER): error codes come from replies scripts can
// choose, so past it only the codes already known are counted.
const maxErrorCodes = 128

// maxErrorCodeLen is how far into an error reply its code is looked for,
// as Redis looks for the space within 32 bytes.
const maxErrorCodeLen = 32

// errorStats are INFO errorstats and total_error_replies.
type errorStats struct {
	total atomic.Int64
	mu    sync.Mutex
	codes map[string]int64
}

// ErrorCode is the code an error reply is counted under: its first word,
// or ERR when no space comes within the first 32 bytes.
func ErrorCode(msg string) string {
	n := len(msg)
	if n > maxErrorCodeLen-1 {
		n = maxErrorCodeLen - 1 // Redis's 32 bytes include the '-'
	}
	for i := 0; i < n; i++ {
		if msg[i] == ' ' {
			return msg[:i]
		}
	}
	return "ERR"
}

// CountError counts one error reply sent to a client (msg without its
// '-'), as afterErrorReply does.
func (t *Table) CountError(msg string) {
	e := &t.errStats
	e.total.Add(1)
	e.mu.Lock()
	e.codes = addErrorCode(e.codes, ErrorCode(msg), 1)
	e.mu.Unlock()
}

// addErrorCode adds n to code's count, unless codes has maxErrorCodes
// others already.
func addErrorCode(codes map[string]int64, code string, n int64) map[string]int64 {
	if _, ok := codes[code]; ok || len(codes) < maxErrorCodes {
		if codes == nil {
			codes = make(map[string]int64)
		}
		codes[code] += n
	}
	return codes
}

// ErrorReplies is INFO's total_error_replies.
func (t *Table) ErrorReplies() int64 { return t.errStats.total.Load() }

// AppendErrorStats appends INFO errorstats' lines, codes in byte order
// (Redis walks a radix tree).
func (t *Table) AppendErrorStats(b []byte) []byte {
	e := &t.errStats
	e.mu.Lock()
	codes := make([]string, 0, len(e.codes))
	for code := range e.codes {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		b = append(b, "errorstat_"...)
		b = append(b, code...)
		b = append(b, ":count="...)
		b = strconv.AppendInt(b, e.codes[code], 10)
		b = append(b, "\r\n"...)
	}
	e.mu.Unlock()
	return b
}

// CommandStats returns the counters of every command (and subcommand)
// called or rejected since the start or the last reset, in name order
// with each container's subcommands after it (Redis walks its hash
// table, an order of no meaning: this one is stable).
func (t *Table) CommandStats() []CommandStat {
	var out []CommandStat
	for _, c := range t.sortedCommands() {
		st := CommandStat{Name: c.Name, Calls: c.stats.calls.Load(), Usec: c.stats.usec.Load(),
			Rejected: c.stats.rejected.Load(), Failed: c.stats.failed.Load()}
		if st.Calls != 0 || st.Rejected != 0 || st.Failed != 0 {
			out = append(out, st)
		}
	}
	return out
}

// sortedCommands lists every command in name order, each container's
// subcommands after it.
func (t *Table) sortedCommands() []*Command {
	names := make([]string, 0, len(t.cmds))
	for name := range t.cmds {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []*Command
	var add func(c *Command)
	add = func(c *Command) {
		out = append(out, c)
		subs := append([]*Command(nil), c.Subs...)
		sort.Slice(subs, func(i, j int) bool { return subs[i].Name < subs[j].Name })
		for _, s := range subs {
			add(s)
		}
	}
	for _, name := range names {
		add(t.cmds[name])
	}
	return out
}

// ResetCommandStats zeroes commandstats, errorstats and
// total_error_replies (CONFIG RESETSTAT).
func (t *Table) ResetCommandStats() {
	var reset func(c *Command)
	reset = func(c *Command) {
		c.stats.reset()
		c.resetHistogram()
		for _, s := range c.Subs {
			reset(s)
		}
	}
	for _, c := range t.cmds {
		reset(c)
	}
	e := &t.errStats
	e.mu.Lock()
	e.codes = nil
	e.total.Store(0)
	e.mu.Unlock()
}

// Rejected counts a call of cmd refused before it ran (Redis's
// rejectCommand): arity, permissions, OOM, BUSY, LOADING...
func (cmd *Command) Rejected() {
	if cmd != nil {
		cmd.stats.rejected.Add(1)
	}
}

// CountCall counts a call of cmd that took d, which a leader ran for
// this node's client (forwarded), failed when it replied an error.
func (cmd *Command) CountCall(d time.Duration, failed bool) {
	if cmd != nil {
		cmd.stats.ran(d, failed)
	}
}

// Failed counts a call of cmd whose error reply was written after the
// call was counted (a deferred write's outcome).
func (cmd *Command) Failed() {
	if cmd != nil {
		cmd.stats.failed.Add(1)
	}
}

// RejectedArgs counts a rejection of the command args name when Resolve
// refused it for its arity: Redis knows the command then, not when the
// command or subcommand is unknown.
func (t *Table) RejectedArgs(args [][]byte) { t.lookupSub(args).Rejected() }

// lookupSub finds the command or subcommand args name, arity unchecked;
// nil when unknown.
func (t *Table) lookupSub(args [][]byte) *Command {
	cmd := t.Lookup(args[0])
	if cmd != nil && cmd.HasSubs() && len(args) >= 2 {
		cmd = cmd.Sub(args[1])
	}
	return cmd
}

// callTally holds the counts of a block's commands (a transaction's, a
// script's calls) until the block is done: a block run again after a
// conflict is counted once, for the run that answered. Bounded by the
// table's commands and maxErrorCodes.
type callTally struct {
	cmds  map[*Command]*tallied
	codes map[string]int64
	total int64
	// callErrs are the error replies of a script's calls (scriptHost),
	// which the script's own error reply, when it passes one on, does not
	// count again (Redis's ignore_error_stats_update).
	callErrs []string
}

type tallied struct{ calls, usec, rejected, failed int64 }

// maxCallErrs bounds callErrs, in number and in each one's length.
const (
	maxCallErrs   = 16
	maxCallErrLen = 256
)

func (ct *callTally) of(cmd *Command) *tallied {
	if ct.cmds == nil {
		ct.cmds = make(map[*Command]*tallied)
	}
	n := ct.cmds[cmd]
	if n == nil {
		n = &tallied{}
		ct.cmds[cmd] = n
	}
	return n
}

func (ct *callTally) ran(cmd *Command, d time.Duration, failed bool) {
	n := ct.of(cmd)
	n.calls++
	n.usec += int64(d / time.Microsecond)
	if failed {
		n.failed++
	}
}

func (ct *callTally) rejected(cmd *Command) {
	if cmd != nil {
		ct.of(cmd).rejected++
	}
}

// countError is a block writer's OnError.
func (ct *callTally) countError(msg string) {
	ct.total++
	ct.codes = addErrorCode(ct.codes, ErrorCode(msg), 1)
}

// callError counts an error reply of a script's call and remembers it.
func (ct *callTally) callError(msg string) {
	ct.countError(msg)
	if len(ct.callErrs) < maxCallErrs {
		ct.callErrs = append(ct.callErrs, msg[:min(len(msg), maxCallErrLen)])
	}
}

// passedOn reports whether msg, a script's error reply, is one of its
// calls' errors passed on (raised by redis.call, or returned from
// redis.pcall).
func (ct *callTally) passedOn(msg string) bool {
	for _, e := range ct.callErrs {
		if strings.HasPrefix(msg, e) {
			return true
		}
	}
	return false
}

// commit adds the tally to the table's counters.
func (t *Table) commit(ct *callTally) {
	for cmd, n := range ct.cmds {
		cmd.stats.calls.Add(n.calls)
		cmd.stats.usec.Add(n.usec)
		cmd.stats.rejected.Add(n.rejected)
		cmd.stats.failed.Add(n.failed)
	}
	if ct.total == 0 {
		return
	}
	e := &t.errStats
	e.total.Add(ct.total)
	e.mu.Lock()
	for code, n := range ct.codes {
		e.codes = addErrorCode(e.codes, code, n)
	}
	e.mu.Unlock()
}
