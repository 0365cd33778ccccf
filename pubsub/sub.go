package pubsub

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound a subscriber's queue, as client-output-buffer-limit's
// pubsub class does: past Hard bytes, or at or above Soft for longer
// than SoftFor, the connection is closed (0: no limit).
type Limits struct {
	Hard, Soft int
	SoftFor    time.Duration
}

// Sub is one connection's subscriptions and its queue of messages not
// yet written. The hub appends to the queue; the connection takes from
// it (Take, Release) and writes what it took.
type Sub struct {
	// names are the subscriptions of each kind; changed by the owning
	// connection under the hub's lock, read by it freely.
	names [numKinds]ordered
	proto atomic.Int32
	// muted: a monitor whose replies are off (Monitors.Feed drops).
	muted atomic.Bool

	hooks  Hooks
	active atomic.Bool // Activate ran
	// inPubSub: the connection has a subscription (Redis's CLIENT_PUBSUB),
	// set under the hub's lock for the tracking table to read.
	inPubSub atomic.Bool
	wake     chan struct{}

	mu  sync.Mutex
	buf []byte
	// late is what the connection's commands are to be told after their
	// replies (invalidations: enqueueLate), kept apart while it holds
	// the queue; it follows buf.
	late []byte
	// inflight is what the connection took and is writing; it still
	// counts against the limits, as Redis counts its unsent replies.
	inflight  int
	softSince time.Time
	held      bool // the connection writes the queue itself (Hold)
	dead      bool // gone or over its limits: nothing more is queued
	overflow  bool
}

// Hooks are what a Sub asks of its connection.
type Hooks struct {
	// Limits are read on every message queued.
	Limits func() Limits
	// Overflow is called once, on the publisher's goroutine, when the
	// limits are broken: it must not block (it may close the socket).
	Overflow func()
	// Start is called on the first subscription: the connection starts
	// the writer that takes from the queue.
	Start func()
}

// NewSub returns a subscriber with hooks.
func NewSub(h Hooks) *Sub {
	s := &Sub{hooks: h, wake: make(chan struct{}, 1)}
	s.proto.Store(2)
	return s
}

// Activate calls the Start hook the first time: from the owning
// connection before its first subscription, or from one that redirects
// its invalidations to it.
func (s *Sub) Activate() {
	if !s.active.CompareAndSwap(false, true) {
		return
	}
	if s.hooks.Start != nil {
		s.hooks.Start()
	}
}

// SetProto records the connection's RESP version, which messages are
// encoded in.
func (s *Sub) SetProto(p int) { s.proto.Store(int32(p)) }

// Proto returns the RESP version messages are encoded in.
func (s *Sub) Proto() int { return int(s.proto.Load()) }

// Count is Redis's clientSubscriptionsCount: channels plus patterns.
// Only the owning connection may call it (and ShardCount, Subscribed).
func (s *Sub) Count() int { return len(s.names[Channel].list) + len(s.names[Pattern].list) }

// ShardCount is the number of shard channels subscribed.
func (s *Sub) ShardCount() int { return len(s.names[Shard].list) }

// Subscribed reports whether the connection is in Pub/Sub mode (any
// subscription).
func (s *Sub) Subscribed() bool { return s.Count()+s.ShardCount() > 0 }

// Len returns the number of subscriptions of kind.
func (s *Sub) Len(kind Kind) int { return len(s.names[kind].list) }

// Wake has a value when the queue may have something to write.
func (s *Sub) Wake() <-chan struct{} { return s.wake }

func (s *Sub) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// enqueue appends frame and applies the limits at now.
func (s *Sub) enqueue(frame []byte, now time.Time) { s.add(frame, now, false) }

// enqueueLate is enqueue for what must follow the reply of a command
// the connection runs meanwhile, whatever comes before that reply
// (TakeEarly): a tracking invalidation.
func (s *Sub) enqueueLate(frame []byte, now time.Time) { s.add(frame, now, true) }

func (s *Sub) add(frame []byte, now time.Time, late bool) {
	s.mu.Lock()
	if s.dead {
		s.mu.Unlock()
		return
	}
	if late && s.held {
		s.late = append(s.late, frame...)
	} else {
		s.buf = append(s.buf, frame...)
	}
	over := s.overLimits(len(s.buf)+len(s.late)+s.inflight, now)
	if over {
		s.dead, s.overflow, s.buf, s.late = true, true, nil, nil
	}
	s.mu.Unlock()
	s.signal()
	if over && s.hooks.Overflow != nil {
		s.hooks.Overflow()
	}
}

// overLimits is Redis's checkClientOutputBufferLimits for used bytes.
// The caller holds mu.
func (s *Sub) overLimits(used int, now time.Time) bool {
	var l Limits
	if s.hooks.Limits != nil {
		l = s.hooks.Limits()
	}
	if l.Hard > 0 && used >= l.Hard {
		return true
	}
	if l.Soft > 0 && used >= l.Soft {
		if s.softSince.IsZero() {
			s.softSince = now
			return false
		}
		return now.Sub(s.softSince) > l.SoftFor
	}
	s.softSince = time.Time{}
	return false
}

// Take returns the queued bytes for the writer, unless the connection
// holds the queue; over reports that the limits were broken (the
// connection is to be closed). The caller calls Written once it wrote b.
func (s *Sub) Take() (b []byte, over bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.overflow {
		return nil, true
	}
	if s.held {
		return nil, false
	}
	return s.takeLocked(), false
}

func (s *Sub) takeLocked() []byte {
	b := append(s.buf, s.late...)
	s.buf, s.late = nil, nil
	s.inflight = len(b)
	return b
}

// TakeEarly returns, while the connection holds the queue, what came
// before the reply it is about to write (a message its own PUBLISH
// delivered, an event of its own write, as Redis writes them before the
// reply); what must follow the reply stays held.
func (s *Sub) TakeEarly() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held {
		return nil
	}
	b := s.buf
	s.buf = nil
	return b
}

// Written notes that what Take or Release returned has been written.
func (s *Sub) Written() {
	s.mu.Lock()
	s.inflight = 0
	s.mu.Unlock()
}

// Hold returns what is queued (for the connection to put in its replies,
// before a subscription change's confirmations) and keeps the writer from
// writing what comes next until Release: messages on a new subscription
// then follow its confirmation, as in Redis.
func (s *Sub) Hold() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = true
	b := append(s.buf, s.late...)
	s.buf, s.late = nil, nil
	return b
}

// Pause is Hold for a connection that cannot put the queue in its
// replies now (inside a transaction's reply): what is queued is written
// after the replies.
func (s *Sub) Pause() {
	s.mu.Lock()
	s.held = true
	s.mu.Unlock()
}

// Release ends Hold once the connection has written its replies, and
// returns what was queued meanwhile for it to write next (then Written).
func (s *Sub) Release() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.held {
		return nil
	}
	s.held = false
	return s.takeLocked()
}

// Queued reports whether anything waits in the queue.
func (s *Sub) Queued() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.buf)+len(s.late) > 0
}

// Held reports whether the connection holds the queue.
func (s *Sub) Held() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

// frames encodes one message once per RESP version.
type frames [2][]byte

func (f *frames) message(proto int, kind Kind, channel, message []byte) []byte {
	i := proto - 2
	if f[i] == nil {
		name := "message"
		if kind == Shard {
			name = "smessage"
		}
		f[i] = AppendMessage(nil, proto, name, channel, message)
	}
	return f[i]
}

func (f *frames) pmessage(proto int, pattern string, channel, message []byte) []byte {
	i := proto - 2
	if f[i] == nil {
		b := appendHeader(nil, proto, 4)
		b = appendBulk(b, []byte("pmessage"))
		b = appendBulk(b, []byte(pattern))
		b = appendBulk(b, channel)
		f[i] = appendBulk(b, message)
	}
	return f[i]
}

// AppendMessage appends a three-element Pub/Sub frame (a push in RESP3,
// an array in RESP2): kind, channel and message.
func AppendMessage(b []byte, proto int, kind string, channel, message []byte) []byte {
	b = appendHeader(b, proto, 3)
	b = appendBulk(b, []byte(kind))
	b = appendBulk(b, channel)
	return appendBulk(b, message)
}

func appendHeader(b []byte, proto, n int) []byte {
	if proto == 3 {
		b = append(b, '>')
	} else {
		b = append(b, '*')
	}
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func appendBulk(b, p []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(p)), 10)
	b = append(b, '\r', '\n')
	b = append(b, p...)
	return append(b, '\r', '\n')
}
