// Package pubsub owns a node's Pub/Sub hub: who is subscribed here to
// which channels, patterns and shard channels, and the bounded outbound
// queue of each subscribed connection. Messages reach it from applied
// PUBLISH and SPUBLISH ops (on the FSM goroutine): Publish appends the
// encoded message to each matching subscriber's queue and returns, never
// waiting on a socket or on a lock held across I/O. The connection that
// owns a Sub writes its queue out (the server's writer goroutine); the
// hub never touches a socket. The node's MONITOR connections (Monitors)
// use the same queues for the lines fed to them.
package pubsub

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/glob"
)

// Kind is a kind of subscription.
type Kind uint8

// Subscription kinds.
const (
	Channel Kind = iota // SUBSCRIBE
	Pattern             // PSUBSCRIBE
	Shard               // SSUBSCRIBE
	numKinds
)

// Hub is one node's subscriptions. Its methods are safe for concurrent use.
type Hub struct {
	mu sync.RWMutex
	// subs maps each kind's names to their subscribers, in the order they
	// subscribed (Redis keeps a list per channel).
	subs [numKinds]map[string][]*Sub
	// live are the stores of the node's Raft groups (Live): an op applied
	// to anything else is a transaction's preview and delivers nothing.
	live map[any]bool
	// delivering is false while the node replays its log at startup:
	// those messages were delivered when they were first applied.
	delivering atomic.Bool
	// now is the clock of the soft output limit.
	now func() time.Time
}

// NewHub returns an empty hub that delivers nothing until SetDelivering.
func NewHub() *Hub {
	h := &Hub{live: map[any]bool{}, now: time.Now}
	for k := range h.subs {
		h.subs[k] = map[string][]*Sub{}
	}
	return h
}

// SetClock replaces the clock the soft output limit reads (tests).
func (h *Hub) SetClock(now func() time.Time) { h.now = now }

// SetDelivering turns delivery on (the node has replayed its log) or off.
func (h *Hub) SetDelivering(on bool) { h.delivering.Store(on) }

// Delivering reports whether published messages are delivered.
func (h *Hub) Delivering() bool { return h.delivering.Load() }

// AddLive records store as one of the node's replicated stores: PUBLISH
// ops applied to it deliver.
func (h *Hub) AddLive(store any) {
	h.mu.Lock()
	h.live[store] = true
	h.mu.Unlock()
}

// Live reports whether store is one of the node's replicated stores.
func (h *Hub) Live(store any) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.live[store]
}

// Subscribe adds name of kind to s; it reports whether s was not
// subscribed to it yet.
func (h *Hub) Subscribe(s *Sub, kind Kind, name []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !s.names[kind].add(string(name)) {
		return false
	}
	n := string(name)
	h.subs[kind][n] = append(h.subs[kind][n], s)
	s.inPubSub.Store(true)
	return true
}

// Unsubscribe removes name of kind from s; it reports whether s was
// subscribed to it.
func (h *Hub) Unsubscribe(s *Sub, kind Kind, name []byte) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.unsubscribe(s, kind, string(name))
}

func (h *Hub) unsubscribe(s *Sub, kind Kind, name string) bool {
	if !s.names[kind].remove(name) {
		return false
	}
	s.inPubSub.Store(s.Subscribed())
	list := h.subs[kind][name]
	if i := slices.Index(list, s); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(h.subs[kind], name) // an unused channel costs nothing
	} else {
		h.subs[kind][name] = list
	}
	return true
}

// UnsubscribeAll removes every subscription of kind from s and returns
// their names in the order they were made.
func (h *Hub) UnsubscribeAll(s *Sub, kind Kind) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := slices.Clone(s.names[kind].list)
	for _, n := range names {
		h.unsubscribe(s, kind, n)
	}
	return names
}

// Leave removes every subscription of s and stops its queue: the
// connection is gone.
func (h *Hub) Leave(s *Sub) {
	h.mu.Lock()
	for k := range numKinds {
		for _, n := range slices.Clone(s.names[k].list) {
			h.unsubscribe(s, k, n)
		}
	}
	h.mu.Unlock()
	s.mu.Lock()
	s.dead = true
	s.buf = nil
	s.mu.Unlock()
}

// Publish delivers message on channel to the subscribers here (shard:
// those of SSUBSCRIBE; otherwise those of SUBSCRIBE, then the patterns
// that match) and returns how many receivers it counted, as Redis does
// (a subscriber matched twice counts twice). Until SetDelivering it
// only counts.
func (h *Hub) Publish(channel, message []byte, shard bool) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	deliver := h.delivering.Load()
	var now time.Time
	if deliver {
		now = h.now()
	}
	var f frames
	n := 0
	kind := Channel
	if shard {
		kind = Shard
	}
	for _, s := range h.subs[kind][string(channel)] {
		n++
		if deliver {
			s.enqueue(f.message(s.Proto(), kind, channel, message), now)
		}
	}
	if shard {
		return n
	}
	for pat, subs := range h.subs[Pattern] {
		if !glob.MatchString(pat, string(channel), false) {
			continue
		}
		var pf frames
		for _, s := range subs {
			n++
			if deliver {
				s.enqueue(pf.pmessage(s.Proto(), pat, channel, message), now)
			}
		}
	}
	return n
}

// Receivers counts what Publish would deliver to, delivering nothing.
func (h *Hub) Receivers(channel []byte, shard bool) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if shard {
		return len(h.subs[Shard][string(channel)])
	}
	n := len(h.subs[Channel][string(channel)])
	for pat, subs := range h.subs[Pattern] {
		if glob.MatchString(pat, string(channel), false) {
			n += len(subs)
		}
	}
	return n
}

// Names returns the channels (or shard channels) someone here is
// subscribed to that match pattern (nil: all).
func (h *Hub) Names(kind Kind, pattern []byte) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []string
	for n := range h.subs[kind] {
		if pattern == nil || glob.MatchString(string(pattern), n, false) {
			out = append(out, n)
		}
	}
	return out
}

// Count returns the number of subscribers here to name of kind.
func (h *Hub) Count(kind Kind, name []byte) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs[kind][string(name)])
}

// NumPatterns is the number of distinct patterns subscribed here.
func (h *Hub) NumPatterns() int { return h.Len(Pattern) }

// Len is the number of distinct names of kind subscribed here.
func (h *Hub) Len(kind Kind) int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.subs[kind])
}

// Subscriptions calls fn with each subscription of s, while fn returns
// true. Any goroutine may call it (the ACL revoker does).
func (h *Hub) Subscriptions(s *Sub, fn func(kind Kind, name string) bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for k := range numKinds {
		for _, n := range s.names[k].list {
			if !fn(k, n) {
				return
			}
		}
	}
}

// ordered is a set of names in insertion order.
type ordered struct {
	list []string
	set  map[string]struct{}
}

func (o *ordered) add(n string) bool {
	if _, ok := o.set[n]; ok {
		return false
	}
	if o.set == nil {
		o.set = map[string]struct{}{}
	}
	o.set[n] = struct{}{}
	o.list = append(o.list, n)
	return true
}

func (o *ordered) remove(n string) bool {
	if _, ok := o.set[n]; !ok {
		return false
	}
	delete(o.set, n)
	i := slices.Index(o.list, n)
	o.list = slices.Delete(o.list, i, i+1)
	return true
}
