package keyspace

import (
	"math/rand/v2"
	"sync/atomic"
)

// Access counting for the maxmemory policies, as Redis's evict.c does it.
// Every key records the time of its last access (for LRU and OBJECT
// IDLETIME) or, under an LFU policy, an 8-bit logarithmic access counter
// with the minute it was last decayed (for LFU and OBJECT FREQ). Access
// data is local to a node: it is not part of the replicated state, never
// written to a snapshot, and its increments draw on this node's
// randomness.

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

// A key's access data is one word (entry.access), read as its policy
// says, as Redis's 24 lru bits are: under LRU, the second of its last
// access counted from lruEpochMs; under LFU, lfuSet with 16 bits of
// minutes and the 8-bit counter. A word of the other kind (the policy
// changed) reads as new: "LRU and LFU data will take some time to adjust".
const (
	lfuSet     = 1 << 31
	lruEpochMs = 1_577_836_800_000 // 2020-01-01: LRU words last until 2088
)

func packLFU(ldt uint16, counter uint8) uint32 { return lfuSet | uint32(ldt)<<8 | uint32(counter) }

func lruWord(nowMs int64) uint32 { return uint32(max(nowMs-lruEpochMs, 0)/1000) &^ lfuSet }

// lfuAt returns the counter of word w decayed to now.
func lfuAt(w uint32, now int64, decayMinutes int) uint8 {
	if w&lfuSet == 0 {
		return lfuInitVal
	}
	ldt, counter := uint16(w>>8), uint8(w)
	return lfuDecay(counter, lfuElapsed(ldt, lfuMinutes(now)), decayMinutes)
}

// accessPolicy is how accesses are counted (Store.SetAccessPolicy).
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

// SetAccessPolicy sets how accesses are counted: with lfu (an LFU
// maxmemory policy) each access may increment the key's counter, by
// Redis's lfu-log-factor and lfu-decay-time; otherwise the access time
// is recorded. Safe to call at any time.
func (s *Store) SetAccessPolicy(lfu bool, logFactor, decayMinutes int) {
	s.access.p.Store(&accessPolicy{lfu: lfu, logFactor: logFactor, decayMinutes: decayMinutes})
}

// LFU reports whether accesses are counted for LFU.
func (s *Store) LFU() bool { return s.access.load().lfu }

// newAccess is the access word of a value stored at now: under LFU a new
// counter (Redis's createObject), or the old one's when it replaces a
// value (dbOverwrite); under LRU, now.
func (s *Store) newAccess(old uint32, now int64) uint32 {
	if !s.access.load().lfu {
		return lruWord(now)
	}
	if old&lfuSet != 0 {
		return old
	}
	return packLFU(lfuMinutes(now), lfuInitVal)
}

// Touch records an access to e at now (unix ms, local clock): its time
// under LRU; under LFU (Redis's updateLFU) its counter decays to now,
// then counts this access. Readers touch concurrently under the read
// lock; one may lose another's increment, which the counter's
// approximation absorbs.
func (d *DB) Touch(e *Entry, now int64) {
	p := d.store.access.load()
	if !p.lfu {
		storeAccess((*entry)(e), lruWord(now))
		return
	}
	c := lfuIncr(lfuAt(loadAccess((*entry)(e)), now, p.decayMinutes), p.logFactor, rand.Float64())
	storeAccess((*entry)(e), packLFU(lfuMinutes(now), c))
}

// Freq returns e's LFU counter at now after decay (Redis's
// LFUDecrAndReturn), as OBJECT FREQ reports it and LFU eviction ranks it.
func (d *DB) Freq(e *Entry, now int64) uint8 {
	return lfuAt(loadAccess((*entry)(e)), now, d.store.access.load().decayMinutes)
}

// Accessed returns the time (unix ms, at second resolution) of e's last
// recorded access, 0 if its word is not an LRU time.
func (e *Entry) Accessed() int64 {
	w := loadAccess((*entry)(e))
	if w&lfuSet != 0 {
		return 0
	}
	return lruEpochMs + int64(w)*1000
}
