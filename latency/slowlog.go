package latency

import (
	"strconv"
	"sync"
	"sync/atomic"
)

// Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
const (
	maxEntryArgs   = 32
	maxEntryString = 128
)

// MaxSlowLogBytes bounds the slow log's memory whatever slowlog-max-len
// says: past it the oldest entries go, as if the length were lower. An
// entry is at most about 5KB (32 arguments of 128 bytes and their
// notes), so the default 128 entries are far below it.
const MaxSlowLogBytes = 32 << 20

// SlowEntry is one slow log entry, as SLOWLOG GET shows it.
type SlowEntry struct {
	ID       int64
	Time     int64 // unix seconds
	Usec     int64
	Args     []string // truncated as Redis truncates them
	Peer     string   // client ip:port
	Name     string   // client name
	sizeSelf int
}

// SlowLog is the node's slow log: per node, never replicated, as Redis's
// is per instance. Add is called for every command and costs an atomic
// load unless the command is slow enough to log.
type SlowLog struct {
	slower atomic.Int64 // slowlog-log-slower-than, usec; < 0: disabled
	maxLen atomic.Int64 // slowlog-max-len

	mu      sync.Mutex
	nextID  int64
	entries []SlowEntry // newest last
	bytes   int
}

// NewSlowLog returns a slow log with Redis's defaults (10000 usec, 128
// entries).
func NewSlowLog() *SlowLog {
	l := &SlowLog{}
	l.slower.Store(10000)
	l.maxLen.Store(128)
	return l
}

// Configure sets slowlog-log-slower-than and slowlog-max-len.
func (l *SlowLog) Configure(slowerUsec, maxLen int64) {
	l.slower.Store(slowerUsec)
	l.maxLen.Store(maxLen)
}

// Logs reports whether a command of usec microseconds is logged.
func (l *SlowLog) Logs(usec int64) bool {
	t := l.slower.Load()
	return t >= 0 && usec >= t
}

// Add logs a command that took usec, if it is slow enough (Redis's
// slowlogPushEntryIfNeeded); args are copied and truncated. redacted
// are the indexes of arguments shown as "(redacted)".
func (l *SlowLog) Add(now, usec int64, args [][]byte, redacted []int, peer, name string) {
	if !l.Logs(usec) {
		return
	}
	e := SlowEntry{Time: now, Usec: usec, Peer: peer, Name: name}
	e.Args = entryArgs(args, redacted)
	e.sizeSelf = 64 + len(peer) + len(name)
	for _, a := range e.Args {
		e.sizeSelf += len(a) + 16
	}
	l.mu.Lock()
	e.ID = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	l.bytes += e.sizeSelf
	l.trimLocked()
	l.mu.Unlock()
}

// entryArgs is slowlogCreateEntry's copy of the arguments.
func entryArgs(args [][]byte, redacted []int) []string {
	n := min(len(args), maxEntryArgs)
	out := make([]string, n)
	for j := 0; j < n; j++ {
		switch {
		case n != len(args) && j == n-1:
			out[j] = "... (" + strconv.Itoa(len(args)-n+1) + " more arguments)"
		case isRedacted(redacted, j):
			out[j] = "(redacted)"
		case len(args[j]) > maxEntryString:
			out[j] = string(args[j][:maxEntryString]) + "... (" + strconv.Itoa(len(args[j])-maxEntryString) + " more bytes)"
		default:
			out[j] = string(args[j])
		}
	}
	return out
}

func isRedacted(redacted []int, j int) bool {
	for _, r := range redacted {
		if r == j {
			return true
		}
	}
	return false
}

// trimLocked drops the oldest entries past slowlog-max-len or the byte
// bound.
func (l *SlowLog) trimLocked() {
	maxLen := l.maxLen.Load()
	drop := 0
	for int64(len(l.entries)-drop) > maxLen || l.bytes > MaxSlowLogBytes && drop < len(l.entries) {
		l.bytes -= l.entries[drop].sizeSelf
		drop++
	}
	if drop > 0 {
		clear(l.entries[:drop])
		l.entries = l.entries[drop:]
	}
}

// Trim applies a lowered slowlog-max-len now.
func (l *SlowLog) Trim() {
	l.mu.Lock()
	l.trimLocked()
	l.mu.Unlock()
}

// Len is SLOWLOG LEN.
func (l *SlowLog) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Reset is SLOWLOG RESET: the entries go, the ids go on.
func (l *SlowLog) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.bytes = 0
	l.mu.Unlock()
}

// Get returns up to count entries, newest first (count < 0: all).
func (l *SlowLog) Get(count int64) []SlowEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := int64(len(l.entries))
	if count < 0 || count > n {
		count = n
	}
	out := make([]SlowEntry, 0, count)
	for i := len(l.entries) - 1; i >= 0 && int64(len(out)) < count; i-- {
		out = append(out, l.entries[i])
	}
	return out
}

// SlowerThan is slowlog-log-slower-than.
func (l *SlowLog) SlowerThan() int64 { return l.slower.Load() }

// MaxLen is slowlog-max-len.
func (l *SlowLog) MaxLen() int64 { return l.maxLen.Load() }
