package pubsub

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client-side caching (CLIENT TRACKING). The tracking table is the
// node's, as the subscriptions are: which connections here read which
// keys (by name, in any database, as Redis tracks them), and which BCAST
// connections follow which prefixes. Invalidations come from the ops this
// node applies (Changed, the keyspace's change hook on the FSM
// goroutine): they are appended to the connections' queues (Sub), never
// written from here.

// InvalidateChannel is the channel a RESP2 connection subscribes to for
// the invalidations redirected to it.
const InvalidateChannel = "__redis__:invalidate"

// TrackOptions are CLIENT TRACKING ON's options.
type TrackOptions struct {
	Redirect                     int64 // client id, 0: none
	BCast, OptIn, OptOut, NoLoop bool
	Prefixes                     []string // BCAST's; none: every key
}

// Tracker is one connection's tracking state. Its fields are guarded by
// the Tracking's lock, but on, which the connection reads on every
// command.
type Tracker struct {
	id  int64
	sub *Sub
	on  atomic.Bool

	opts    TrackOptions
	caching bool // CLIENT CACHING given for the next command
	broken  bool // the redirect target is gone
}

// On reports whether tracking is on.
func (tr *Tracker) On() bool { return tr != nil && tr.on.Load() }

// TrackInfo is a connection's tracking state (CLIENT TRACKINGINFO).
type TrackInfo struct {
	On, Caching, Broken bool
	TrackOptions
}

// Tracking is a node's tracking table. Its methods are safe for
// concurrent use and never block on I/O.
type Tracking struct {
	mu sync.Mutex
	// keys maps a key read by tracking connections to their ids.
	keys  map[string]map[int64]struct{}
	items int // ids across keys
	// prefixes maps each BCAST prefix to the connections following it.
	prefixes map[string]map[*Tracker]struct{}
	// changed are the keys of each prefix the op being applied changed,
	// sent together once it is applied (EndOp), as Redis sends those of
	// one event loop cycle, each with the connection whose write changed
	// it (0: none here), which NOLOOP leaves out.
	changed    map[string]map[string]int64
	hasChanged atomic.Bool
	// writers are, by store, the connection here whose write the op being
	// applied is (BeginOp): a NOLOOP connection is not told of its own
	// writes.
	writers  map[any]int64
	nWriters atomic.Int32 // len(writers), for EndOpOn's fast path
	// conns are every connection here, by id: tracking ones and the
	// targets of redirections.
	conns   map[int64]*Tracker
	enabled atomic.Int32 // connections with tracking on: the hook's fast path
	maxKeys atomic.Int64 // tracking-table-max-keys, 0: no limit
	now     func() time.Time
}

// NewTracking returns an empty tracking table.
func NewTracking() *Tracking {
	return &Tracking{
		keys: map[string]map[int64]struct{}{}, prefixes: map[string]map[*Tracker]struct{}{},
		changed: map[string]map[string]int64{}, writers: map[any]int64{},
		conns: map[int64]*Tracker{}, now: time.Now,
	}
}

// SetMaxKeys sets tracking-table-max-keys (0: no limit) and invalidates
// keys over it at once, as Redis does before the next command.
func (t *Tracking) SetMaxKeys(n int64) {
	t.maxKeys.Store(n)
	t.mu.Lock()
	t.limitLocked()
	t.mu.Unlock()
}

// Register records a connection and its queue; Unregister forgets it.
func (t *Tracking) Register(id int64, s *Sub) *Tracker {
	tr := &Tracker{id: id, sub: s}
	t.mu.Lock()
	t.conns[id] = tr
	t.mu.Unlock()
	return tr
}

// Unregister turns tracking off for a connection that is gone: those
// redirecting to it find their target broken.
func (t *Tracking) Unregister(tr *Tracker) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.offLocked(tr)
	delete(t.conns, tr.id)
}

// Exists reports whether a connection with id is here (REDIRECT's check).
func (t *Tracking) Exists(id int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.conns[id] != nil
}

// Activate starts the writer of connection id's queue, which a
// connection redirects its invalidations to.
func (t *Tracking) Activate(id int64) {
	t.mu.Lock()
	tr := t.conns[id]
	t.mu.Unlock()
	if tr != nil {
		tr.sub.Activate()
	}
}

// Enable turns tracking on for tr with o (already checked against its
// state, as Redis's enableTracking); prefixes are added to the BCAST ones.
func (t *Tracking) Enable(tr *Tracker, o TrackOptions) {
	if tr == nil {
		return // a session with no queue (a leader's forwarded run)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !tr.on.Load() {
		t.enabled.Add(1)
		tr.on.Store(true)
	}
	tr.broken = false
	old := tr.opts.Prefixes
	tr.opts = o
	tr.opts.Prefixes = old
	if !o.BCast {
		return
	}
	if len(o.Prefixes) == 0 {
		o.Prefixes = []string{""}
	}
	for _, p := range o.Prefixes {
		set := t.prefixes[p]
		if set == nil {
			set = map[*Tracker]struct{}{}
			t.prefixes[p] = set
		}
		if _, ok := set[tr]; !ok {
			set[tr] = struct{}{}
			tr.opts.Prefixes = append(tr.opts.Prefixes, p)
		}
	}
}

// Disable turns tracking off (CLIENT TRACKING OFF, RESET).
func (t *Tracking) Disable(tr *Tracker) {
	if tr == nil {
		return // a session with no queue (a leader's forwarded run)
	}
	t.mu.Lock()
	t.offLocked(tr)
	t.mu.Unlock()
}

func (t *Tracking) offLocked(tr *Tracker) {
	for _, p := range tr.opts.Prefixes {
		if set := t.prefixes[p]; set != nil {
			delete(set, tr)
			if len(set) == 0 {
				delete(t.prefixes, p)
			}
		}
	}
	if tr.on.Load() {
		t.enabled.Add(-1)
		tr.on.Store(false)
	}
	tr.opts, tr.caching, tr.broken = TrackOptions{}, false, false
}

// Info returns tr's state.
func (t *Tracking) Info(tr *Tracker) TrackInfo {
	if tr == nil {
		return TrackInfo{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	i := TrackInfo{On: tr.on.Load(), Caching: tr.caching, Broken: tr.broken, TrackOptions: tr.opts}
	i.Prefixes = slices.Sorted(slices.Values(tr.opts.Prefixes)) // Redis's radix tree order
	return i
}

// SetCaching records CLIENT CACHING for the next command (on), or
// forgets it once that command ran.
func (t *Tracking) SetCaching(tr *Tracker, on bool) {
	if tr == nil {
		return // a session with no queue (a leader's forwarded run)
	}
	t.mu.Lock()
	tr.caching = on
	t.mu.Unlock()
}

// Remember records that tr reads keys (Redis's trackingRememberKeys), and
// evicts keys over tracking-table-max-keys, invalidating them.
func (t *Tracking) Remember(tr *Tracker, keys [][]byte) {
	if len(keys) == 0 || tr == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	o := tr.opts
	if !tr.on.Load() || o.BCast || o.OptIn && !tr.caching || o.OptOut && tr.caching {
		return
	}
	for _, k := range keys {
		ids := t.keys[string(k)]
		if ids == nil {
			ids = map[int64]struct{}{}
			t.keys[string(k)] = ids
		}
		if _, ok := ids[tr.id]; !ok {
			ids[tr.id] = struct{}{}
			t.items++
		}
	}
	t.limitLocked()
}

// limitLocked invalidates keys while the table is over its limit; Go's
// map order stands in for Redis's random walk.
func (t *Tracking) limitLocked() {
	max := int(t.maxKeys.Load())
	if max <= 0 {
		return
	}
	for k := range t.keys {
		if len(t.keys) <= max {
			return
		}
		t.invalidateLocked(k, false, 0)
	}
}

// Changed is the keyspace's change hook: key was changed or removed, or
// with all every key may have been (a flush, SWAPDB, a snapshot loaded).
// It runs on the FSM goroutine: it only appends to queues.
func (t *Tracking) Changed(key string, all bool) { t.changedOn(nil, key, all) }

// ChangedOn is Changed for the keyspace store, whose ops BeginOp names
// the writers of.
func (t *Tracking) ChangedOn(store any) func(key string, all bool) {
	return func(key string, all bool) { t.changedOn(store, key, all) }
}

func (t *Tracking) changedOn(store any, key string, all bool) {
	if t.enabled.Load() == 0 && !all {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if all {
		t.flushLocked()
		return
	}
	t.invalidateLocked(key, true, t.writers[store])
}

// BeginOp names the connection here whose write the op about to be
// applied on store is (0: none): a NOLOOP connection is sent no
// invalidation of the keys it changes itself. EndOpOn forgets it. Both
// run on store's FSM goroutine.
func (t *Tracking) BeginOp(store any, writer int64) {
	if writer == 0 {
		return
	}
	t.mu.Lock()
	if _, had := t.writers[store]; !had {
		t.nWriters.Add(1)
	}
	t.writers[store] = writer
	t.mu.Unlock()
}

// forgetWriterLocked undoes BeginOp for store.
func (t *Tracking) forgetWriterLocked(store any) {
	if _, had := t.writers[store]; had {
		delete(t.writers, store)
		t.nWriters.Add(-1)
	}
}

func (t *Tracking) invalidateLocked(key string, bcast bool, writer int64) {
	if bcast {
		for p := range t.prefixes {
			if !strings.HasPrefix(key, p) {
				continue
			}
			keys := t.changed[p]
			if keys == nil {
				keys = map[string]int64{}
				t.changed[p] = keys
			}
			keys[key] = writer
			t.hasChanged.Store(true)
		}
	}
	ids := t.keys[key]
	if ids == nil {
		return
	}
	var f trackFrames
	now := t.now()
	value := appendKeys(nil, []string{key})
	for id := range ids {
		tr := t.conns[id]
		if tr != nil && tr.on.Load() && !tr.opts.BCast && !(tr.opts.NoLoop && id == writer) {
			t.sendLocked(tr, &f, value, now)
		}
	}
	t.items -= len(ids)
	delete(t.keys, key)
}

// EndOp sends the BCAST connections the keys of their prefixes the op
// just applied changed, in one invalidation per prefix (Redis's
// trackingBroadcastInvalidationMessages). It runs on the FSM goroutine.
func (t *Tracking) EndOp() { t.EndOpOn(nil) }

// EndOpOn is EndOp after an op applied on store, which BeginOp may have
// named the writer of.
func (t *Tracking) EndOpOn(store any) {
	if !t.hasChanged.Load() {
		if t.nWriters.Load() > 0 {
			t.mu.Lock()
			t.forgetWriterLocked(store)
			t.mu.Unlock()
		}
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.forgetWriterLocked(store)
	now := t.now()
	for _, p := range slices.Sorted(maps.Keys(t.changed)) {
		keys := t.changed[p]
		all := slices.Sorted(maps.Keys(keys)) // Redis's radix tree order
		value := appendKeys(nil, all)
		var f trackFrames
		for tr := range t.prefixes[p] {
			if !tr.opts.NoLoop {
				t.sendLocked(tr, &f, value, now)
				continue
			}
			// Redis's trackingBuildBroadcastReply: not the keys it changed.
			var own []string
			for _, k := range all {
				if keys[k] != tr.id {
					own = append(own, k)
				}
			}
			if len(own) == len(all) {
				t.sendLocked(tr, &f, value, now)
			} else if len(own) > 0 {
				var g trackFrames
				t.sendLocked(tr, &g, appendKeys(nil, own), now)
			}
		}
	}
	clear(t.changed)
	t.hasChanged.Store(false)
}

// NoLoop reports whether tr's tracking is on with NOLOOP.
func (t *Tracking) NoLoop(tr *Tracker) bool {
	if !tr.On() {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return tr.opts.NoLoop
}

func appendKeys(b []byte, keys []string) []byte {
	b = appendHeader(b, 2, len(keys))
	for _, k := range keys {
		b = appendBulk(b, []byte(k))
	}
	return b
}

// flushLocked sends every tracking connection the null invalidation and
// empties the table (Redis's trackingInvalidateKeysOnFlush).
func (t *Tracking) flushLocked() {
	var f [2]trackFrames // by the tracking connection's RESP version
	null := [2][]byte{[]byte("$-1\r\n"), []byte("_\r\n")}
	now := t.now()
	for _, tr := range t.conns {
		if tr.on.Load() {
			i := tr.sub.Proto() - 2
			t.sendLocked(tr, &f[i], null[i], now)
		}
	}
	clear(t.keys)
	t.items = 0
}

// sendLocked is Redis's sendTrackingMessage: to tr, or to the connection
// it redirects to (a push in RESP3, a message on InvalidateChannel to a
// RESP2 subscriber); a redirect to a connection that is gone marks tr
// broken and tells it so if it speaks RESP3.
func (t *Tracking) sendLocked(tr *Tracker, f *trackFrames, value []byte, now time.Time) {
	target := tr
	if id := tr.opts.Redirect; id != 0 {
		if target = t.conns[id]; target == nil {
			tr.broken = true
			if tr.sub.Proto() == 3 {
				b := appendHeader(nil, 3, 2)
				b = appendBulk(b, []byte("tracking-redir-broken"))
				b = append(b, ':')
				b = strconv.AppendInt(b, id, 10)
				tr.sub.enqueueLate(append(b, '\r', '\n'), now)
			}
			return
		}
	}
	switch {
	case target.sub.Proto() == 3:
		target.sub.enqueueLate(f.frame(3, value), now)
	case target != tr && target.sub.inPubSub.Load():
		target.sub.enqueueLate(f.frame(2, value), now)
	}
}

// trackFrames encodes one invalidation once per form, by the RESP
// version of the connection it goes to.
type trackFrames [2][]byte

func (f *trackFrames) frame(proto int, value []byte) []byte {
	i := proto - 2
	if f[i] != nil {
		return f[i]
	}
	var b []byte
	if proto == 3 {
		b = appendHeader(b, 3, 2)
		b = appendBulk(b, []byte("invalidate"))
	} else {
		b = appendHeader(b, 2, 3)
		b = appendBulk(b, []byte("message"))
		b = appendBulk(b, []byte(InvalidateChannel))
	}
	f[i] = append(b, value...)
	return f[i]
}

// TrackStats are INFO's tracking figures.
type TrackStats struct {
	Clients, Keys, Items, Prefixes int
}

// Stats returns the table's figures.
func (t *Tracking) Stats() TrackStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return TrackStats{Clients: int(t.enabled.Load()), Keys: len(t.keys), Items: t.items, Prefixes: len(t.prefixes)}
}
