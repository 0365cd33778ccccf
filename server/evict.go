package server

import (
	"math"
	"sync"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
)

// Eviction under maxmemory, as Redis's performEvictions does it, on the
// leader only: it picks victims from its own view of the keyspace and its
// own access data, and proposes their deletion (EvictKeys ops), which
// every node applies. No node deletes a key on its own. It runs before
// every command (processCommand's place: after the ACL check); a denyoom
// one is refused with -OOM when eviction cannot bring used memory under
// the limit. It also runs in a background loop that brings memory back under the
// limit without client writes (after CONFIG SET maxmemory, or when a
// command's eviction ran out of time).

// errOOM is Redis's shared.oomerr.
const errOOM = "OOM command not allowed when used memory > 'maxmemory'."

// Eviction's shape.
const (
	evictEvery    = 100 * time.Millisecond // the background loop's check
	evictPoolSize = 16                     // Redis's EVPOOL_SIZE
	maxEvictBatch = 64                     // keys proposed in one round
)

// evictResult is performEvictions's: memory is under the limit (or
// nothing may be evicted here: not the leader), nothing could be evicted,
// or the time limit ran out and the background loop carries on.
type evictResult uint8

const (
	evictOK evictResult = iota
	evictFail
	evictRunning
)

// runHere runs cmd on this node after the maxmemory check: a denyoom
// command is refused when used memory is over maxmemory and eviction
// cannot bring it under. Commands forwarded by followers come here too,
// on the leader. A write that carries a client's request id may be
// followed by a marker op (reqid.go).
func (s *Server) runHere(cn *conn, ctx *commands.Ctx, cmd *commands.Command) {
	if ctx.S.RequestID().IsClient() && cmd.WritesOnLeader() {
		s.runMarked(cn, ctx, cmd)
		return
	}
	s.runCommand(cn, ctx, cmd)
}

// runCommand is runHere without the marker.
// Over maxmemory, eviction runs before every command, as Redis's
// processCommand has it, and only a denyoom command is refused when it
// cannot make room.
func (s *Server) runCommand(cn *conn, ctx *commands.Ctx, cmd *commands.Command) {
	if p := s.conf.mem.Load(); p != nil && p.maxmemory > 0 {
		if s.outOfMemory(cn) && cmd.Has(commands.FlagDenyOOM) {
			if !ctx.Uncounted {
				cmd.Rejected()
			}
			ctx.W.Error(errOOM)
			return
		}
	}
	if msg := s.misconf(cmd); msg != "" {
		if !ctx.Uncounted {
			cmd.Rejected()
		}
		ctx.W.Error(msg)
		return
	}
	s.table.Run(ctx, cmd)
}

// evictFirst is Redis's eviction at the start of processCommand, before
// the command looks anything up: over maxmemory, the leader evicts, and
// the invalidations of the keys evicted go before the command's reply,
// as in Redis. It runs before the command's keys are tracked: an
// invalidation queued after that (a write applied while the command
// reads) must follow the reply, or the client would cache a value it is
// no longer registered for. The replies still owed to the connection
// (forwarded reads, deferred writes) are appended to w when they come,
// so they are waited for first: an invalidation never precedes the reply
// to an earlier read of the value it invalidates.
func (s *Server) evictFirst(cn *conn, ctx *commands.Ctx) {
	if p := s.conf.mem.Load(); p == nil || p.maxmemory == 0 {
		return
	}
	s.outOfMemory(cn)
	if sub := ctx.S.Sub; sub != nil && sub.Held() && sub.Queued() {
		cn.drain()
		ctx.W.Raw(sub.Hold())
	}
}

// OutOfMemory is outOfMemory for a caller with no writes in flight
// (commands.Server: a script checks it before it writes).
func (s *Server) OutOfMemory() bool {
	p := s.conf.mem.Load()
	if p == nil || p.maxmemory == 0 || s.openNode() == nil {
		return false
	}
	return s.evict.perform() == evictFail
}

// outOfMemory evicts what it can and reports whether memory is still over
// maxmemory with nothing left to evict.
func (s *Server) outOfMemory(cn *conn) bool {
	p := s.conf.mem.Load()
	// While the node opens (loading), commands flagged loading run and
	// there is no evictor yet, nor anything to evict: openNode is set
	// after the evictor, so once it is there the evictor is too.
	if p == nil || p.maxmemory == 0 || s.openNode() == nil {
		return false
	}
	// The writes this connection has in flight are not in the keyspace
	// yet: near the limit, wait for them, so that a pipeline cannot write
	// past maxmemory by what it has proposed.
	if len(cn.pending) > 0 && s.UsedMemory()+uint64(cn.pendingBytes) > p.maxmemory {
		cn.drainWrites()
	}
	return s.evict.perform() == evictFail
}

// evictor is the leader's eviction: one at a time (a command's or the
// background loop's), with Redis's pool of the best candidates kept from
// one round to the next.
type evictor struct {
	s *Server

	mu sync.Mutex // held by the eviction running; guards what follows
	// g is the group evicted from: with several partitions, the largest
	// of those this node leads (choose); the pool is that group's.
	g      *raftfsm.Node
	pool   evictionPool
	nextDB int // where random eviction looks first
	sample []keyspace.Candidate
	picked map[victim]bool

	kick      chan struct{} // wakes the loop; capacity 1
	stop      chan struct{} // closed by close
	done      chan struct{} // closed when the loop has returned
	closeOnce sync.Once
}

// victim is a key picked for eviction.
type victim struct {
	db  int
	key string
}

// startEviction publishes the eviction settings to the node and starts
// the background loop; Close stops it.
func (s *Server) startEviction() {
	s.conf.mu.Lock()
	s.publishMemory(&s.conf.v)
	limit := s.conf.v.maxMemory
	s.conf.mu.Unlock()
	if limit > 0 && limit < 1<<20 {
		s.log.Printf("WARNING: You specified a maxmemory value that is less than 1MB (current value is %d bytes). Are you sure this is what you really want?", limit)
	}
	e := &evictor{s: s, picked: make(map[victim]bool), kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{})}
	s.evict = e
	go e.loop()
}

// loop evicts in the background: on every tick, and at once when woken,
// until memory is under the limit or nothing is left to evict.
func (e *evictor) loop() {
	defer close(e.done)
	t := time.NewTicker(evictEvery)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		case <-e.kick:
		}
		for e.perform() == evictRunning {
			select {
			case <-e.stop:
				return
			default:
			}
		}
	}
}

// wake has the loop evict now (as Redis's startEvictionTimeProc).
func (e *evictor) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// close stops the loop and waits for it.
func (e *evictor) close() {
	e.closeOnce.Do(func() { close(e.stop) })
	<-e.done
}

// perform is Redis's performEvictions: while used memory is over
// maxmemory, pick victims by the policy and propose their deletion, a
// batch at a time, until under the limit, out of keys to evict (fail) or
// out of time (running: the loop goes on). Only the leader evicts.
func (e *evictor) perform() evictResult {
	s := e.s
	p := s.conf.mem.Load()
	if p == nil || p.maxmemory == 0 || !s.leadsAny() || s.UsedMemory() <= p.maxmemory {
		return evictOK
	}
	if p.policy == noEviction {
		return evictFail
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	start := time.Now()
	defer s.latencySample("eviction-cycle", start)
	stalls := 0
	for round := 0; ; round++ {
		used := s.UsedMemory()
		if used <= p.maxmemory {
			return evictOK // the eviction this one waited for did it
		}
		if g := e.choose(p); g != e.g || round == 0 {
			if g == nil {
				return e.fail(p)
			}
			if g != e.g {
				e.g, e.pool = g, evictionPool{}
				clear(e.picked)
			}
			// Decide on an up-to-date view: a new leader's keyspace may
			// lack entries committed in the previous term.
			if g.ReadBarrier() != nil {
				return evictOK // not the leader: the command's own proposal will say so
			}
			if used = s.UsedMemory(); used <= p.maxmemory {
				return evictOK
			}
		}
		// Out of time, the rest is the loop's, as long as there is
		// something left to evict: Redis checks its time only after
		// evicting, and fails as soon as it finds nothing.
		if round > 0 && p.timeLimit >= 0 && time.Since(start) > p.timeLimit {
			if !e.evictable(p) {
				return e.fail(p)
			}
			e.wake()
			return evictRunning
		}
		batch := e.pick(p, used, used-p.maxmemory)
		if len(batch) == 0 {
			return e.fail(p)
		}
		del := time.Now()
		n, err := e.propose(p, batch)
		s.latencySample("eviction-del", del)
		if err != nil {
			return evictOK
		}
		// Keys picked are deleted by other writes before their EvictKeys
		// applies only by rare chance; rounds that delete nothing at all
		// mean the picks do not take, and eviction gives up.
		if n == 0 {
			if stalls++; stalls == 3 {
				return e.fail(p)
			}
		} else {
			stalls = 0
		}
	}
}

// fail is the outcome of an eviction that found nothing more to evict
// in the partitions this node leads. With several partitions the others
// are their leaders' to evict, and as long as they hold keys the policy
// may evict, memory comes down as those evictions apply here: the
// command goes on (as Redis's does while eviction is still running).
// OOM is for a node whose stores hold nothing to evict.
func (e *evictor) fail(p *memPolicy) evictResult {
	for _, g := range e.s.groups {
		if !g.IsLeader() && evictable(g.Store(), p) {
			return evictOK
		}
	}
	return evictFail
}

// leadsAny reports whether this node leads a partition: only a leader
// evicts, from the partitions it leads.
func (s *Server) leadsAny() bool {
	for _, g := range s.groups {
		if g.IsLeader() {
			return true
		}
	}
	return false
}

// choose returns the group to evict from: of the partitions this node
// leads that have keys the policy may evict, the one using the most
// memory (with one partition, the node's only group); nil for none, or
// when this node no longer leads any (fail answers then: a former
// leader's stores hold keys of partitions others lead).
func (e *evictor) choose(p *memPolicy) *raftfsm.Node {
	var best *raftfsm.Node
	var most int64
	for _, g := range e.s.groups {
		if !g.IsLeader() || !evictable(g.Store(), p) {
			continue
		}
		ks := g.Store()
		ks.RLock()
		used := ks.UsedMemory()
		ks.RUnlock()
		if best == nil || used > most {
			best, most = g, used
		}
	}
	return best
}

// evictable reports whether the policy has any key to evict.
func (e *evictor) evictable(p *memPolicy) bool {
	return e.g != nil && evictable(e.g.Store(), p)
}

// evictable reports whether ks has a key the policy may evict.
func evictable(ks *keyspace.Store, p *memPolicy) bool {
	ks.RLock()
	defer ks.RUnlock()
	for db := 0; db < ks.NumDBs(); db++ {
		if d := ks.DB(db); d.Len() > 0 && (!p.policy.volatile() || d.Expires() > 0) {
			return true
		}
	}
	return false
}

// pick chooses the victims of one round: enough keys, at the average
// size of a key, to free tofree bytes, each the best candidate of a fresh
// sample as Redis picks one key per sample.
func (e *evictor) pick(p *memPolicy, used, tofree uint64) []victim {
	ks := e.g.Store()
	now := e.g.Now()
	ks.RLock()
	defer ks.RUnlock()
	keys := 0
	for db := 0; db < ks.NumDBs(); db++ {
		keys += ks.DB(db).Len()
	}
	if keys == 0 {
		return nil
	}
	avg := max(used/uint64(keys), 1)
	want := int(min((tofree+avg-1)/avg, maxEvictBatch))
	clear(e.picked)
	var out []victim
	for len(out) < want {
		var v victim
		var ok bool
		if p.policy.random() {
			v, ok = e.pickRandom(ks, p, now)
		} else {
			v, ok = e.pickPooled(ks, p, now)
		}
		if !ok {
			break
		}
		e.picked[v] = true
		out = append(out, v)
	}
	return out
}

// pickPooled is the pooled policies' choice (LRU, LFU, TTL): sample every
// database into the pool, then take the best candidate that still
// exists and was not picked already.
func (e *evictor) pickPooled(ks *keyspace.Store, p *memPolicy, now int64) (victim, bool) {
	volatile := p.policy.volatile()
	for db := 0; db < ks.NumDBs(); db++ {
		d := ks.DB(db)
		if d.Len() == 0 || volatile && d.Expires() == 0 {
			continue
		}
		e.sample = d.EvictionSample(p.samples, volatile, now, e.sample[:0])
		for _, c := range e.sample {
			e.pool.insert(db, c.Key, score(p.policy, &c))
		}
	}
	for {
		v, ok := e.pool.popBest()
		if !ok {
			return victim{}, false
		}
		if !e.picked[v] && exists(ks.DB(v.db), v.key, volatile, now) {
			return v, true
		}
	}
}

// pickRandom is the random policies' choice: a random key of the next
// database that has any, as Redis visits the databases in turn.
func (e *evictor) pickRandom(ks *keyspace.Store, p *memPolicy, now int64) (victim, bool) {
	volatile := p.policy.volatile()
	for try := 0; try < 8; try++ {
		found := false
		for i := 0; i < ks.NumDBs(); i++ {
			e.nextDB = (e.nextDB + 1) % ks.NumDBs()
			d := ks.DB(e.nextDB)
			if d.Len() == 0 || volatile && d.Expires() == 0 {
				continue
			}
			found = true
			e.sample = d.EvictionSample(1, volatile, now, e.sample[:0])
			if len(e.sample) == 1 {
				if v := (victim{e.nextDB, e.sample[0].Key}); !e.picked[v] {
					return v, true
				}
			}
			break
		}
		if !found {
			break
		}
	}
	return victim{}, false
}

// exists reports whether key is still in d, expired or not (for a
// volatile policy: still with a deadline). The caller holds the read lock.
func exists(d *keyspace.DB, key string, volatile bool, now int64) bool {
	k := []byte(key)
	if d.Deadline(k) != 0 {
		return true
	}
	return !volatile && d.Get(k, now) != nil
}

// score ranks a candidate as Redis's evictionPoolPopulate does: higher
// is evicted first.
func score(p evictPolicy, c *keyspace.Candidate) uint64 {
	switch p {
	case volatileLFU, allkeysLFU:
		return 255 - uint64(c.Freq)
	case volatileTTL:
		return math.MaxUint64 - uint64(c.Deadline)
	}
	return uint64(c.Idle)
}

// propose proposes the deletion of the batch, one EvictKeys op per
// database, and returns how many keys were evicted.
func (e *evictor) propose(p *memPolicy, batch []victim) (int64, error) {
	var flags uint32
	if p.policy.volatile() {
		flags = op.FlagVolatile
	}
	byDB := map[int][][]byte{}
	var order []int
	for _, v := range batch {
		if _, ok := byDB[v.db]; !ok {
			order = append(order, v.db)
		}
		byDB[v.db] = append(byDB[v.db], []byte(v.key))
	}
	now := e.g.Now()
	futures := make([]raftfsm.Future, 0, len(order))
	for _, db := range order {
		futures = append(futures, e.g.ProposeAsync(&op.Op{Type: op.EvictKeys, DB: db, Now: now, Flags: flags, Args: byDB[db]}))
	}
	var n int64
	var firstErr error
	for _, f := range futures {
		res, err := f.Result()
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if k, ok := res.(int64); ok {
			n += k
		}
	}
	return n, firstErr
}

// evictionPool is Redis's eviction pool: the best candidates seen, by
// ascending score, kept across rounds.
type evictionPool struct {
	e [evictPoolSize]poolEntry
	n int
}

type poolEntry struct {
	score uint64
	v     victim
}

// insert adds a candidate in its place, as evictionPoolPopulate does:
// when the pool is full, a candidate worse than all is dropped, and a
// better one pushes out the worst. A key already in the pool is not
// added twice.
func (p *evictionPool) insert(db int, key string, score uint64) {
	for i := 0; i < p.n; i++ {
		if p.e[i].v.db == db && p.e[i].v.key == key {
			return
		}
	}
	k := 0
	for k < p.n && p.e[k].score < score {
		k++
	}
	switch {
	case k == 0 && p.n == evictPoolSize:
		return
	case p.n < evictPoolSize:
		copy(p.e[k+1:p.n+1], p.e[k:p.n])
		p.n++
	default:
		k--
		copy(p.e[:k], p.e[1:k+1])
	}
	p.e[k] = poolEntry{score: score, v: victim{db, key}}
}

// popBest removes and returns the best candidate.
func (p *evictionPool) popBest() (victim, bool) {
	if p.n == 0 {
		return victim{}, false
	}
	p.n--
	v := p.e[p.n].v
	p.e[p.n] = poolEntry{}
	return v, true
}
