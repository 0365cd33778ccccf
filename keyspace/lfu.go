package keyspace

import (
	"math/rand/v2"
	"sync/atomic"
)

// Access counting for the maxmemory policies, as Redis's evict.c does it.
// Every value records the time of its last access (for LRU and OBJECT
// IDLETIME) and an 8-bit logarithmic access counter with the minute it
// was last decayed (for LFU and OBJECT FREQ). Access data is local to a
// node: it is not part of the replicated state, never written to a
// snapshot, and its increments draw on this node's randomness.

// Redis's LFU constants.
const (
	lfuInitVal    = 5   // LFU_INIT_VAL: a new value's counter
	lfuMaxCounter = 255 // the counter saturates here
)

// lfuIncr is Redis's LFULogIncr: the counter grows by one with probability
// 1/((counter-LFU_INIT_VAL)*logFactor+1), so it grows logarithmically
// with the number of accesses. r is a uniform random number in [0, 1).
func lfuIncr(counter uint8, logFactor int, r float64) uint8 {
	if counter == lfuMaxCounter {
		return counter
	}
	base := float64(counter) - lfuInitVal
	if base < 0 {
		base = 0
	}
	if r < 1.0/(base*float64(logFactor)+1) {
		counter++
	}
	return counter
}

// lfuMinutes is Redis's LFUGetTimeInMinutes: unix time in minutes, kept
// in 16 bits.
func lfuMinutes(nowMs int64) uint16 { return uint16(nowMs / 60000) }

// lfuElapsed is Redis's LFUTimeElapsed: the minutes from ldt to now,
// across the 16-bit wrap (as Redis counts it, 65535 minutes to a turn).
func lfuElapsed(ldt, now uint16) int {
	if now >= ldt {
		return int(now - ldt)
	}
	return 65535 - int(ldt) + int(now)
}

// lfuDecay is the arithmetic of Redis's LFUDecrAndReturn: the counter
// loses one per decayMinutes elapsed, down to 0; decayMinutes 0 never
// decays it.
func lfuDecay(counter uint8, elapsed, decayMinutes int) uint8 {
	if decayMinutes <= 0 {
		return counter
	}
	periods := elapsed / decayMinutes
	if periods >= int(counter) {
		return 0
	}
	return counter - uint8(periods)
}

// A value's LFU data is one word, as Redis keeps it in the object's 24
// lru bits (16 bits of minutes, 8 of counter), plus a bit saying it has
// been set, so that the zero word means "not yet stored".
const lfuSet = 1 << 24

func packLFU(ldt uint16, counter uint8) uint32 { return lfuSet | uint32(ldt)<<8 | uint32(counter) }

// lfuAt returns the counter of word w decayed to now.
func lfuAt(w uint32, now int64, decayMinutes int) uint8 {
	if w == 0 {
		return lfuInitVal
	}
	ldt, counter := uint16(w>>8), uint8(w)
	return lfuDecay(counter, lfuElapsed(ldt, lfuMinutes(now)), decayMinutes)
}

// accessPolicy is how Touch counts accesses (Store.SetAccessPolicy).
type accessPolicy struct {
	lfu          bool
	logFactor    int
	decayMinutes int
}

// accessRef holds a store's access policy; nil is Redis's default (LRU,
// lfu-log-factor 10, lfu-decay-time 1).
type accessRef struct{ p atomic.Pointer[accessPolicy] }

func (r *accessRef) load() accessPolicy {
	if p := r.p.Load(); p != nil {
		return *p
	}
	return accessPolicy{logFactor: 10, decayMinutes: 1}
}

// SetAccessPolicy sets how Touch counts accesses: with lfu (an LFU
// maxmemory policy) every access may increment the value's counter, by
// Redis's lfu-log-factor and lfu-decay-time; otherwise only the access
// time is recorded. Counters are kept across a change, so after switching
// to LFU they start from what they were (Redis warns that "LRU and LFU
// data will take some time to adjust"). Safe to call at any time.
func (s *Store) SetAccessPolicy(lfu bool, logFactor, decayMinutes int) {
	s.access.p.Store(&accessPolicy{lfu: lfu, logFactor: logFactor, decayMinutes: decayMinutes})
}

// valueMeta is what the keyspace keeps about a value beside its data: the
// database that holds it (for memory accounting and the access policy)
// and its LFU word (packLFU).
type valueMeta struct {
	db  *DB           // nil until stored; written under the store's write lock
	lfu atomic.Uint32 // 0 until stored or touched; readers touch concurrently
}

func (v *Value) accessPolicy() accessPolicy {
	if v.meta.db == nil {
		return accessPolicy{logFactor: 10, decayMinutes: 1}
	}
	return v.meta.db.store.access.load()
}

// countAccess is Touch's LFU half (Redis's updateLFU): under an LFU
// policy the counter decays to now, then counts this access. A value's
// first touch starts its counter instead, as Redis's createObject does.
// Concurrent readers may lose one another's increments, which the
// counter's approximation absorbs.
func (v *Value) countAccess(now int64) {
	w := v.meta.lfu.Load()
	if w == 0 {
		v.meta.lfu.Store(packLFU(lfuMinutes(now), lfuInitVal))
		return
	}
	if v.meta.db == nil {
		return
	}
	p := v.meta.db.store.access.p.Load()
	if p == nil || !p.lfu {
		return
	}
	c := lfuIncr(lfuAt(w, now, p.decayMinutes), p.logFactor, rand.Float64())
	v.meta.lfu.Store(packLFU(lfuMinutes(now), c))
}

// Freq returns the value's LFU counter at now after decay (Redis's
// LFUDecrAndReturn), as OBJECT FREQ reports it and LFU eviction ranks it.
func (v *Value) Freq(now int64) uint8 {
	return lfuAt(v.meta.lfu.Load(), now, v.accessPolicy().decayMinutes)
}
