package persistence

import (
	"errors"
	"sort"
	"sync"

	"github.com/hashicorp/raft"
)

// LogCache keeps the most recent log entries in memory in front of a
// raft.LogStore, so that a leader replicating to its followers, and a
// follower applying what it just stored, rarely read the WAL. It does
// what hashicorp/raft's LogCache does — StoreLogs caches what it stored,
// DeleteRange invalidates, GetLog falls back to the store on a miss —
// but it is bounded in bytes rather than in entries: an entry holds a
// batch of ops (up to megabytes), so raft.LogCache's 1024 entries could
// hold gigabytes.
//
// The cache holds entries in increasing index order, oldest first, in a
// ring of at most logCacheMaxEntries slots; the oldest are dropped while
// their bytes (data, extensions and a fixed overhead each) exceed the
// budget. An entry bigger than budget/logCacheEntryShare is not cached,
// so a few large batches cannot flush all the small ones. The cached
// raft.Log is a copy: the caller's (a leader's log future, with the FSM's
// reply) is not kept alive by the cache.
type LogCache struct {
	store    raft.LogStore
	budget   int
	maxEntry int

	mu    sync.RWMutex
	ring  []raft.Log // len is a power of two (or 0); slots outside the live ones are zero
	mask  int        // len(ring)-1
	head  int        // slot of the oldest entry
	n     int        // live entries
	last  uint64     // the newest entry's index, when n > 0
	bytes int        // their cost (entryCost)
}

// DefaultLogCacheBytes is the budget of the log cache a node puts in
// front of its WAL.
const DefaultLogCacheBytes = 16 << 20

const (
	// logCacheEntryShare: entries bigger than budget/logCacheEntryShare
	// are not cached.
	logCacheEntryShare = 4
	// logCacheMaxEntries bounds the slots, whatever the entries' size:
	// 16 times raft.LogCache's 1024 entries; the slots then cost at most
	// 1.5 MiB, whatever the budget.
	logCacheMaxEntries = 1 << 14
	// logCacheMinSlots is the ring's first size.
	logCacheMinSlots = 64
	// logEntryOverhead is what a cached entry costs besides its data: a
	// raft.Log's fields (96 bytes on 64-bit) and the slice headers they
	// point through.
	logEntryOverhead = 128
)

// errLogCacheBudget is NewLogCache's answer to a budget that holds
// nothing.
var errLogCacheBudget = errors.New("log cache: the budget must be positive")

var _ raft.LogStore = (*LogCache)(nil)

// NewLogCache returns a cache of store's most recent entries holding at
// most budget bytes.
func NewLogCache(store raft.LogStore, budget int) (*LogCache, error) {
	if budget <= 0 {
		return nil, errLogCacheBudget
	}
	return &LogCache{store: store, budget: budget, maxEntry: budget / logCacheEntryShare}, nil
}

// entryCost is what l costs the budget: the memory its slices hold, and
// the overhead.
func entryCost(l *raft.Log) int { return cap(l.Data) + cap(l.Extensions) + logEntryOverhead }

// IsMonotonic passes the store's raft.MonotonicLogStore answer on, as
// raft.LogCache does.
func (c *LogCache) IsMonotonic() bool {
	m, ok := c.store.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

// FirstIndex is the store's.
func (c *LogCache) FirstIndex() (uint64, error) { return c.store.FirstIndex() }

// LastIndex is the store's.
func (c *LogCache) LastIndex() (uint64, error) { return c.store.LastIndex() }

// GetLog reads the entry at index from the cache, or else from the store.
// As with raft.LogCache, l shares the cached entry's data, which nobody
// writes.
func (c *LogCache) GetLog(index uint64, l *raft.Log) error {
	c.mu.RLock()
	if i, ok := c.find(index); ok {
		*l = *c.at(i)
		c.mu.RUnlock()
		return nil
	}
	c.mu.RUnlock()
	return c.store.GetLog(index, l)
}

// StoreLog stores one entry.
func (c *LogCache) StoreLog(l *raft.Log) error { return c.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores logs, then caches them; nothing is cached when the
// store fails.
func (c *LogCache) StoreLogs(logs []*raft.Log) error {
	if err := c.store.StoreLogs(logs); err != nil {
		return err
	}
	c.mu.Lock()
	for _, l := range logs {
		c.add(l)
	}
	c.mu.Unlock()
	return nil
}

// DeleteRange drops min..max from the cache, then from the store. Entries
// outside the range stay cached: the store still has them, unchanged
// (raft.LogCache drops everything, so each compaction emptied it).
func (c *LogCache) DeleteRange(min, max uint64) error {
	c.mu.Lock()
	c.remove(min, max)
	c.mu.Unlock()
	return c.store.DeleteRange(min, max)
}

// at returns the i-th live entry, oldest first. The caller holds mu.
func (c *LogCache) at(i int) *raft.Log { return &c.ring[(c.head+i)&c.mask] }

// find returns the position of the entry at index. Entries are almost
// always consecutive, so its distance from the newest (c.last, at hand)
// is tried first; past a gap (an entry too big to cache, a snapshot
// installed) a binary search finds it. The caller holds mu.
func (c *LogCache) find(index uint64) (int, bool) {
	if c.n == 0 || index > c.last {
		return 0, false
	}
	if back := c.last - index; back < uint64(c.n) {
		if i := c.n - 1 - int(back); c.at(i).Index == index {
			return i, true
		}
	}
	i := c.search(index)
	return i, i < c.n && c.at(i).Index == index
}

// search returns the position of the first entry at or after index.
func (c *LogCache) search(index uint64) int {
	return sort.Search(c.n, func(i int) bool { return c.at(i).Index >= index })
}

// add caches a copy of l as the newest entry, dropping the oldest past the
// budget. An index not after the newest cached one rewrites the store's
// entry: its cached copy, if any, is dropped, and the new one not cached
// (raft never does this without deleting first; not caching is always
// right). The caller holds mu.
func (c *LogCache) add(l *raft.Log) {
	if c.n > 0 && l.Index <= c.last {
		c.remove(l.Index, l.Index)
		return
	}
	cost := entryCost(l)
	if cost > c.maxEntry {
		return
	}
	if c.n == len(c.ring) {
		if c.n < logCacheMaxEntries {
			c.grow()
		} else {
			// The oldest entry's slot takes the new one: no need to
			// clear it first.
			c.bytes -= entryCost(&c.ring[c.head])
			c.head = (c.head + 1) & c.mask
			c.n--
		}
	}
	for c.bytes+cost > c.budget {
		c.dropOldest()
	}
	c.ring[(c.head+c.n)&c.mask] = *l
	c.n++
	c.bytes += cost
	c.last = l.Index
}

func (c *LogCache) dropOldest() {
	e := &c.ring[c.head]
	c.bytes -= entryCost(e)
	*e = raft.Log{}
	c.head = (c.head + 1) & c.mask
	c.n--
}

// grow doubles the ring, up to logCacheMaxEntries slots.
func (c *LogCache) grow() {
	size := max(logCacheMinSlots, 2*len(c.ring))
	ring := make([]raft.Log, min(size, logCacheMaxEntries))
	for i := 0; i < c.n; i++ {
		ring[i] = *c.at(i)
	}
	c.ring, c.head, c.mask = ring, 0, len(ring)-1
}

// remove drops the cached entries in min..max. Raft deletes a prefix
// (compaction) or a suffix (a follower truncating a conflict); a range
// in the middle moves the entries after it down. The caller holds mu.
func (c *LogCache) remove(min, max uint64) {
	if c.n == 0 || min > max {
		return
	}
	lo := c.search(min)
	hi := lo
	for hi < c.n && c.at(hi).Index <= max {
		hi++
	}
	if lo == hi {
		return
	}
	if lo == 0 {
		for range hi {
			c.dropOldest()
		}
		return
	}
	for i := lo; i < hi; i++ {
		c.bytes -= entryCost(c.at(i))
	}
	moved := c.n - hi
	for i := 0; i < moved; i++ {
		*c.at(lo + i) = *c.at(hi + i)
	}
	for i := lo + moved; i < c.n; i++ {
		*c.at(i) = raft.Log{}
	}
	c.n -= hi - lo
	c.last = c.at(c.n - 1).Index // lo > 0: one is left
}

// LogCacheStats are the cache's contents, for tests and INFO.
type LogCacheStats struct {
	Entries int
	Bytes   int // their cost against the budget
}

// Stats returns what the cache holds now.
func (c *LogCache) Stats() LogCacheStats {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return LogCacheStats{Entries: c.n, Bytes: c.bytes}
}
