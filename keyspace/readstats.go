package keyspace

import "sync/atomic"

// readStats are INFO's keyspace_hits and keyspace_misses: the lookups of
// keys commands read (GetRead, Redis's lookupKeyRead), found or not. A
// statistic of this node's lookups, not replicated state: atomics, as
// readers share the read lock.
type readStats struct {
	hits, misses atomic.Int64
}

// ReadStats returns the keyspace hits and misses counted since the start
// or the last ResetReadStats.
func (s *Store) ReadStats() (hits, misses int64) {
	return s.reads.hits.Load(), s.reads.misses.Load()
}

// ResetReadStats zeroes them (CONFIG RESETSTAT).
func (s *Store) ResetReadStats() {
	s.reads.hits.Store(0)
	s.reads.misses.Store(0)
}
