package commands

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/resp"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN and their kin) wait on the
// node the client is connected to, and are woken by the ops this node
// applies: a change to a list or sorted set key (keyspace's ready
// function, Redis's signalKeyAsReady) wakes the first client blocked on
// it here, which then tries its pop again. A pop, first try or retry, is
// an ordinary write proposed on the leader with this node's request id,
// so an element goes to one client only, and a retry after a lost leader
// cannot pop twice. Nothing is registered in the replicated state: a node
// that fails takes its waiters with it and leaves every element in place.
//
// On one node clients are served in the order they blocked, per key: a
// key's change wakes only the first client waiting on it (of the key's
// kind), and that client, when it leaves (served, timed out, gone), hands
// the wake-up to the next. Across nodes there is no order: each node's
// first waiter races the others' for the element, and Raft's log decides.
//
// As in Redis, a write's reply follows the serving of the clients it
// woke on its node: a connection that wrote waits, before it sends its
// replies, until no waiter here has a wake-up it has not acted on
// (Settle). So after LPUSH returns, the client blocked on the list has
// its element, and a WATCH on where BLMOVE put it sees the change.

// Waiters are the clients blocked on keys on this node.
type Waiters struct {
	mu     sync.Mutex
	queues map[dbKey][]*waiter // per key, in the order the clients blocked
	all    map[*waiter]struct{}
	// registered counts the waiters registered; Ready reads it without
	// the lock, so a node with nobody blocked pays one atomic load per
	// change. blocked counts those waiting (their first try found
	// nothing): INFO's blocked_clients.
	registered, blocked atomic.Int64
	done                chan struct{}
	closeOnce           sync.Once
	// busy counts the waiters woken and not done acting on it; idle is
	// closed while it is 0 (guarded by mu; busyNow mirrors it for a look
	// without the lock).
	busy    int
	busyNow atomic.Int64
	idle    chan struct{}
}

func newWaiters() *Waiters {
	idle := make(chan struct{})
	close(idle)
	return &Waiters{queues: map[dbKey][]*waiter{}, all: map[*waiter]struct{}{}, done: make(chan struct{}), idle: idle}
}

// waiter is one blocked client.
type waiter struct {
	kind keyspace.Kind
	// all: a reader, woken by every change (see signalFirst).
	all  bool
	keys []dbKey
	// wake has a value when ready has keys to look at.
	wake chan struct{}
	// ready: the keys signalled since the waiter last looked, in the
	// order they were; guarded by Waiters.mu.
	ready []dbKey
	// unblock carries CLIENT UNBLOCK's request: true for ERROR.
	unblock chan bool
	// busy: woken and not done acting on it (guarded by Waiters.mu).
	busy bool
	// argvMem is the size of the blocked command's arguments (CLIENT
	// LIST argv-mem), set before the waiter is published.
	argvMem int
}

// Blocked is the number of clients blocked now (INFO blocked_clients).
func (w *Waiters) Blocked() int64 { return w.blocked.Load() }

// Close wakes every waiter for good: the node is shutting down.
func (w *Waiters) Close() { w.closeOnce.Do(func() { close(w.done) }) }

// Ready is keyspace's ready function (keyspace.ReadyFunc): key of database
// db changed and is of kind; db -1: any key may have changed.
func (w *Waiters) Ready(db int, key string, kind keyspace.Kind) {
	if w.registered.Load() == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if db < 0 {
		for wt := range w.all {
			for _, k := range wt.keys {
				w.signal(wt, k)
			}
		}
		return
	}
	w.signalFirst(dbKey{db, key}, kind)
}

// signalFirst wakes the first waiter of kind on k, and every reader of
// kind there (a blocked XREAD, which takes nothing from the others). The
// caller holds mu.
func (w *Waiters) signalFirst(k dbKey, kind keyspace.Kind) {
	first := true
	for _, wt := range w.queues[k] {
		if wt.kind == kind && (wt.all || first) {
			w.signal(wt, k)
			first = first && wt.all
		}
	}
}

// signal notes k for wt and wakes it. The caller holds mu.
func (w *Waiters) signal(wt *waiter, k dbKey) {
	if !slices.Contains(wt.ready, k) {
		wt.ready = append(wt.ready, k)
	}
	if !wt.busy {
		wt.busy = true
		if w.busy++; w.busy == 1 {
			w.idle = make(chan struct{})
		}
		w.busyNow.Store(int64(w.busy))
	}
	select {
	case wt.wake <- struct{}{}:
	default:
	}
}

// unbusy notes that wt acted on its wake-ups. The caller holds mu.
func (w *Waiters) unbusy(wt *waiter) {
	if !wt.busy {
		return
	}
	wt.busy = false
	if w.busy--; w.busy == 0 {
		close(w.idle)
	}
	w.busyNow.Store(int64(w.busy))
}

// idleNow notes that wt acted on every wake-up it took, unless another
// came meanwhile.
func (w *Waiters) idleNow(wt *waiter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(wt.ready) == 0 {
		w.unbusy(wt)
	}
}

// Settle waits, at most limit, until every waiter this node woke has
// acted on it: the blocked clients a write woke here are served before
// the writer's reply goes out, as in Redis.
func (w *Waiters) Settle(limit time.Duration) {
	if w.busyNow.Load() == 0 {
		return
	}
	w.mu.Lock()
	idle := w.idle
	w.mu.Unlock()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	case <-w.done:
	}
}

// add registers a waiter of kind on keys of database db.
func (w *Waiters) add(db int, keys [][]byte, kind keyspace.Kind) *waiter {
	return w.addWaiter(db, keys, kind, false)
}

// addWaiter is add; all: a reader (see signalFirst).
func (w *Waiters) addWaiter(db int, keys [][]byte, kind keyspace.Kind, all bool) *waiter {
	wt := &waiter{kind: kind, all: all, wake: make(chan struct{}, 1), unblock: make(chan bool, 1)}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, key := range keys {
		k := dbKey{db, string(key)}
		if slices.Contains(wt.keys, k) {
			continue // BLPOP k k: one place in the queue
		}
		wt.keys = append(wt.keys, k)
		w.queues[k] = append(w.queues[k], wt)
	}
	w.all[wt] = struct{}{}
	w.registered.Add(1)
	return wt
}

// take returns the keys signalled for wt since it last looked.
func (w *Waiters) take(wt *waiter) []dbKey {
	w.mu.Lock()
	defer w.mu.Unlock()
	ks := wt.ready
	wt.ready = nil
	return ks
}

// remove unregisters wt. The waiters behind it on the keys of pass (the
// wake-ups it took and did not finish with, the key it popped from first,
// which may hold more) and on any key signalled for it since are woken in
// its place, in the order the keys were signalled.
func (w *Waiters) remove(wt *waiter, pass []dbKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range wt.keys {
		q := w.queues[k]
		if i := slices.Index(q, wt); i >= 0 {
			q = slices.Delete(q, i, i+1)
		}
		if len(q) == 0 {
			delete(w.queues, k)
		} else {
			w.queues[k] = q
		}
	}
	delete(w.all, wt)
	w.registered.Add(-1)
	var handed []dbKey
	for _, k := range slices.Concat(pass, wt.ready) {
		if !slices.Contains(handed, k) {
			handed = append(handed, k)
			w.signalFirst(k, wt.kind)
		}
	}
	w.unbusy(wt) // after the hand-overs: busy never drops to 0 between
}

// BlockHost is what a blocked command needs of the client's connection;
// only a client's own connection has one (not a transaction, a script or
// a command forwarded from a follower, which never block).
type BlockHost interface {
	// Flush writes out the replies before this one: the client sees them
	// while it waits.
	Flush()
	// WatchGone watches the connection while the command waits: gone is
	// closed if the client disconnects; stop ends the watch (and returns
	// once it has ended).
	WatchGone() (gone <-chan struct{}, stop func())
	// Serving precedes a woken command's try: what the client is sent
	// meanwhile (a tracking connection's invalidations) waits for the
	// reply, as while any command runs. Flush lets it go again.
	Serving()
}

// blockingPop is one blocking command: how it tries, and what it answers
// when it gives up.
type blockingPop struct {
	kind keyspace.Kind
	keys [][]byte
	// all: a read (XREAD), woken by every change to its keys.
	all bool
	// deadline is the unix ms the wait ends at; 0: never.
	deadline int64
	// try proposes the pop on keys and returns the applier's result (the
	// reply to the client unless it is a null); woken: a retry after a
	// key changed, rather than the command's first try.
	try func(keys [][]byte, woken bool) (any, error)
	// timedOut writes the reply to a timeout; nothing, if set, the reply
	// when there is nothing to pop and the command may not block (in a
	// transaction or a script), where it differs.
	timedOut, nothing func(c *Ctx)
	// gone, if set, answers when a key waited on no longer holds the
	// kind (XREADGROUP's stream deleted), instead of waiting on.
	gone func(c *Ctx)
}

// retryNoLeader is how long a waiter woken while no leader answers waits
// before it tries again.
const retryNoLeader = 50 * time.Millisecond

// run serves a blocking command: it tries at once and, if there was
// nothing to pop and the client can wait, waits until a key it names
// changes, the timeout passes, CLIENT UNBLOCK, or the client leaves.
func (b *blockingPop) run(c *Ctx) {
	host := c.Block
	w := c.Table.waiters
	if host == nil {
		// In a transaction or a script: Redis answers as if timed out.
		b.once(c)
		return
	}
	wt := w.addWaiter(c.S.DB, b.keys, b.kind, b.all)
	// pending: the wake-ups taken and not finished with; the key served
	// from stays first in it, and whatever is left is handed over.
	var pending []dbKey
	defer func() { w.remove(wt, pending) }()
	res, err := b.try(b.keys, false)
	if err != nil || !isNullResult(res) {
		WriteOutcome(c.W, res, err)
		return
	}
	// Blocked from here: CLIENT UNBLOCK finds it before INFO counts it.
	wt.argvMem = argvLen(c.Args)
	c.S.blockedOn.Store(wt)
	w.blocked.Add(1)
	defer func() {
		w.blocked.Add(-1)
		c.S.blockedOn.Store(nil)
	}()
	host.Flush()
	// The wait is not the command's time (commandstats' usec), as in Redis.
	blockedAt := time.Now()
	defer func() { c.waited = time.Since(blockedAt) }()
	gone, stopWatch := host.WatchGone()
	defer stopWatch()
	var timeout <-chan time.Time
	if b.deadline > 0 {
		t := time.NewTimer(deadlineIn(b.deadline, c.Node.Now()))
		defer t.Stop()
		timeout = t.C
	}
	var retry <-chan time.Time
	for {
		select {
		case <-wt.wake:
			pending = append(pending, w.take(wt)...)
		case <-retry:
			retry = nil
		case <-timeout:
			b.timedOut(c)
			return
		case asError := <-wt.unblock:
			if asError {
				c.W.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
			} else {
				b.timedOut(c)
			}
			return
		case <-gone:
			return
		case <-w.done:
			return
		}
		for len(pending) > 0 && retry == nil {
			k := pending[0]
			if !b.holds(c, k) {
				if b.gone != nil {
					b.gone(c)
					return
				}
				pending = pending[1:]
				continue
			}
			host.Serving()
			res, err := b.try([][]byte{[]byte(k.key)}, true)
			switch {
			case errors.Is(err, ErrNoLeader):
				// Nothing was popped; the element is still there for
				// the next leader.
				host.Flush()
				retry = time.After(retryNoLeader)
				continue
			case err != nil || !isNullResult(res):
				WriteOutcome(c.W, res, err)
				return
			}
			host.Flush()
			pending = pending[1:]
		}
		if len(pending) == 0 && retry == nil {
			w.idleNow(wt)
		}
	}
}

// once is the command without waiting: a transaction's or a script's.
func (b *blockingPop) once(c *Ctx) {
	res, err := b.try(b.keys, false)
	if err == nil && isNullResult(res) {
		if b.nothing != nil {
			b.nothing(c)
		} else {
			b.timedOut(c)
		}
		return
	}
	WriteOutcome(c.W, res, err)
}

// holds reports whether key k, as this node has it, is of the kind b pops:
// a change signalled may be gone by the time the waiter looks (popped by
// another client), and a key of another kind is not served (as Redis's
// handleClientsBlockedOnKeys checks the type first).
func (b *blockingPop) holds(c *Ctx, k dbKey) bool {
	ks := c.Node.Store()
	ks.RLock()
	defer ks.RUnlock()
	e := ks.DB(k.db).Get([]byte(k.key), c.Node.Now())
	return e != nil && e.Kind() == b.kind
}

// isNullResult reports whether an applier's result (or the leader's reply
// to a forwarded proposal) is a null: nothing was popped. The result is
// judged by the reply it writes, whatever its type.
func isNullResult(res any) bool {
	var w resp.Writer
	writeResult(&w, res)
	switch string(w.Bytes()) {
	case "*-1\r\n", "$-1\r\n", "_\r\n":
		return true
	}
	return false
}

// Unblock is CLIENT UNBLOCK on s: it reports whether s was blocked.
func (s *Session) unblockWaiter(asError bool) bool {
	wt := s.blockedOn.Load()
	if wt == nil {
		return false
	}
	select {
	case wt.unblock <- asError:
	default:
	}
	return true
}

// Blocked reports whether the session is blocked in a command (CLIENT
// LIST's flag b).
func (s *Session) Blocked() bool { return s.blockedOn.Load() != nil }
