package pubsub

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Monitors are the connections of a node in MONITOR mode. Each gets the
// lines fed to it appended to its own bounded queue (its Sub's), which
// its connection's writer writes out: feeding never waits on a socket.
type Monitors struct {
	// n is len(subs), read without the lock on every command's path.
	n    atomic.Int32
	mu   sync.Mutex
	subs []*Sub
	now  func() time.Time
}

// NewMonitors returns an empty set of monitors.
func NewMonitors() *Monitors { return &Monitors{now: time.Now} }

// Watching reports whether any connection monitors: one atomic load, the
// whole cost of MONITOR on the command path while nobody monitors.
func (m *Monitors) Watching() bool { return m != nil && m.n.Load() > 0 }

// Add makes s a monitor; its queue is written by the writer the Start
// hook starts (Activate is the caller's).
func (m *Monitors) Add(s *Sub) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.subs, s) {
		m.subs = append(m.subs, s)
		m.n.Store(int32(len(m.subs)))
	}
}

// Remove ends s's monitoring, if it monitors.
func (m *Monitors) Remove(s *Sub) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := slices.Index(m.subs, s); i >= 0 {
		m.subs = slices.Delete(m.subs, i, i+1)
		m.n.Store(int32(len(m.subs)))
	}
}

// Feed queues line on every monitor, each under its own output limits.
func (m *Monitors) Feed(line []byte) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.subs {
		if !s.muted.Load() {
			s.enqueue(line, now)
		}
	}
}

// Mute drops the lines fed to s while on (its connection's CLIENT REPLY
// OFF or SKIP).
func (s *Sub) Mute(on bool) { s.muted.Store(on) }
