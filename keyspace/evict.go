package keyspace

import "math/rand/v2"

// Eviction sampling. The keyspace describes candidates for eviction; it
// never evicts on its own: the leader picks victims from samples and
// proposes their deletion, which every node applies.

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
		if n >= len(d.vol) {
			for _, slot := range d.vol {
				out = append(out, d.candidate(d.slotEntry(slot), now))
			}
			return out
		}
		for range n {
			out = append(out, d.candidate(d.slotEntry(d.vol[rand.IntN(len(d.vol))]), now))
		}
		return out
	}
	if n >= d.n {
		d.Each(0, func(_ string, e *Entry) bool {
			out = append(out, d.candidate((*entry)(e), now))
			return true
		})
		return out
	}
	// Each pick is the first key at or after a random slot below the
	// highest: the slot itself on dense slots (a new key takes the lowest
	// free one), a short walk over the used bits on sparse ones.
	top := d.slots.top()
	for ; n > 0; n-- {
		i := d.slots.next(rand.Uint32N(top))
		out = append(out, d.candidate(d.slotEntry(i), now))
	}
	return out
}

func (d *DB) candidate(e *entry, now int64) Candidate {
	c := Candidate{Key: e.kv[:e.klen], Freq: d.Freq((*Entry)(e), now), Deadline: e.deadline}
	if at := (*Entry)(e).Accessed(); at != 0 {
		c.Idle = max(now-at, 0)
	}
	return c
}
