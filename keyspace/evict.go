package keyspace

import "math/rand/v2"

// Memory accounting and eviction sampling. The keyspace counts the bytes
// of its data and describes candidates for eviction; it never evicts on
// its own: the leader picks victims from samples and proposes their
// deletion, which every node applies.

// entryOverhead is what a key is estimated to cost beyond its own bytes
// and its value's: the map slot, the entry, the Value and the order slot.
// Provisional: the keyspace's memory accounting replaces the estimate.
const entryOverhead = 64

func entrySize(key string, v *Value) int64 {
	return int64(len(key)) + int64(len(v.str)) + entryOverhead
}

// UsedMemory returns the bytes the keyspace accounts for its data, every
// database: per key, its length, its value's and a fixed overhead. The
// caller holds at least the read lock.
func (s *Store) UsedMemory() int64 {
	var n int64
	for _, d := range s.dbs {
		n += d.used
	}
	return n
}

// stored records that v is now e's value, replacing e.val if there is
// one: its bytes are counted, its access time is the op's, and its LFU
// counter starts at LFU_INIT_VAL, or, when it replaces a value under an
// LFU policy, carries on from the old one's as Redis's dbOverwrite keeps
// it. A value that has a counter already (moved by RENAME or MOVE, or
// touched before it was stored) keeps it. The caller holds the write
// lock and sets e.val = v next.
func (d *DB) stored(e *entry, v *Value) {
	old := e.val
	if old != nil {
		d.used -= entrySize(e.key, old)
	}
	d.used += entrySize(e.key, v)
	v.meta.db = d
	now := d.store.opNow
	v.access.Store(now)
	if v.meta.lfu.Load() == 0 {
		w := packLFU(lfuMinutes(now), lfuInitVal)
		if old != nil && d.store.access.load().lfu {
			if ow := old.meta.lfu.Load(); ow != 0 {
				w = ow
			}
		}
		v.meta.lfu.Store(w)
	}
}

// unstored uncounts e, about to be removed. Its value keeps its database:
// a value moved (RENAME and MOVE store it under its new key before they
// remove the old one) is counted where it now lives.
func (d *DB) unstored(e *entry) { d.used -= entrySize(e.key, e.val) }

// grew counts n more bytes of a stored value changed in place (APPEND,
// SETRANGE); the caller holds the write lock.
func (v *Value) grew(n int) {
	if v.meta.db != nil {
		v.meta.db.used += int64(n)
	}
}

// Candidate describes a key for eviction: its name and its access data
// at the time of the sample.
type Candidate struct {
	Key      string
	Idle     int64 // ms since the last access (LRU)
	Freq     uint8 // LFU counter after decay
	Deadline int64 // unix ms; 0: none (volatile-ttl)
}

// EvictionSample appends to out up to n keys picked at random, with their
// access data at now: among every key, or with volatileOnly among the
// keys that have a deadline (as Redis samples its expires dictionary).
// Keys expired but not yet deleted are candidates too. A key may come
// twice in one sample. When n reaches the number of keys, every key comes
// once. The caller holds at least the read lock.
func (d *DB) EvictionSample(n int, volatileOnly bool, now int64, out []Candidate) []Candidate {
	if n <= 0 {
		return out
	}
	if volatileOnly {
		for _, e := range d.expires { // map order is random: a sample
			if n == 0 {
				break
			}
			out = append(out, candidate(e, now))
			n--
		}
		return out
	}
	if n >= len(d.keys) {
		for _, e := range d.order {
			if e != nil {
				out = append(out, candidate(e, now))
			}
		}
		return out
	}
	// Holes are at most half of order past 64 of them (remove compacts),
	// so random slots find live keys quickly; the bound on tries keeps a
	// sparse order from costing more than a few passes.
	for tries := 8*n + 128; n > 0 && tries > 0; tries-- {
		if e := d.order[rand.IntN(len(d.order))]; e != nil {
			out = append(out, candidate(e, now))
			n--
		}
	}
	return out
}

func candidate(e *entry, now int64) Candidate {
	return Candidate{Key: e.key, Idle: max(now-e.val.Accessed(), 0), Freq: e.val.Freq(now), Deadline: e.deadline}
}
