package acl

import "sync"

// Context is where a denied command ran, as ACL LOG names it.
type Context uint8

// Log contexts.
const (
	ContextToplevel Context = iota
	ContextMulti
	ContextLua
	ContextModule
)

// String is the context as ACL LOG prints it.
func (c Context) String() string {
	switch c {
	case ContextToplevel:
		return "toplevel"
	case ContextMulti:
		return "multi"
	case ContextLua:
		return "lua"
	case ContextModule:
		return "module"
	}
	return "unknown"
}

// LogEntry is one ACL LOG entry.
type LogEntry struct {
	Count      int64
	Reason     Reason
	Context    Context
	Object     string // command full name, key, channel, or AUTH/HELLO as typed
	Username   string
	TimeMs     int64  // unix ms of the last occurrence
	ClientInfo string // CLIENT INFO line of the last client
}

// AgeSeconds is ACL LOG's age-seconds at nowMs.
func (e LogEntry) AgeSeconds(nowMs int64) float64 { return float64(nowMs-e.TimeMs) / 1000 }

// groupingWindowMs is ACL_LOG_GROUPING_MAX_TIME_DELTA.
const groupingWindowMs = 60000

// Log is the ACL LOG: newest first, at most maxLen entries, similar
// denials within a minute counted in one entry. Times come from the
// caller. Safe for concurrent use.
type Log struct {
	mu      sync.Mutex
	maxLen  int
	entries []LogEntry // newest first
}

// NewLog returns an empty log keeping at most maxLen entries
// (acllog-max-len, 128 by default).
func NewLog(maxLen int) *Log { return &Log{maxLen: maxLen} }

// SetMaxLen changes acllog-max-len. As in Redis, a shorter log is only
// trimmed by the next Add.
func (l *Log) SetMaxLen(n int) {
	l.mu.Lock()
	l.maxLen = n
	l.mu.Unlock()
}

// Add is addACLLogEntry: e.Count and e.TimeMs are ignored and set. An
// entry among the ten newest with the same reason, context, object and
// username, less than a minute apart, is moved first and counted instead.
func (l *Log) Add(e LogEntry, nowMs int64) {
	e.Count, e.TimeMs = 1, nowMs
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := 0; i < len(l.entries) && i < 10; i++ {
		cur := l.entries[i]
		delta := cur.TimeMs - e.TimeMs
		if delta < 0 {
			delta = -delta
		}
		if cur.Reason != e.Reason || cur.Context != e.Context || delta > groupingWindowMs ||
			cur.Object != e.Object || cur.Username != e.Username {
			continue
		}
		cur.ClientInfo, cur.TimeMs = e.ClientInfo, e.TimeMs
		cur.Count++
		copy(l.entries[1:i+1], l.entries[:i])
		l.entries[0] = cur
		return
	}
	l.entries = append(l.entries, LogEntry{})
	copy(l.entries[1:], l.entries)
	l.entries[0] = e
	if l.maxLen >= 0 && len(l.entries) > l.maxLen {
		clear(l.entries[l.maxLen:])
		l.entries = l.entries[:l.maxLen]
	}
}

// Entries returns up to count entries, newest first (ACL LOG [count]; a
// negative count means none, as Redis clamps it to 0).
func (l *Log) Entries(count int) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	count = max(0, min(count, len(l.entries)))
	return append([]LogEntry{}, l.entries[:count]...)
}

// Len is the number of entries.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// Reset is ACL LOG RESET.
func (l *Log) Reset() {
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
}
