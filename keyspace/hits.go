package keyspace

import "sync/atomic"

// lookupStats are Redis's keyspace_hits and keyspace_misses: the reads
// (GetRead) that found their key and those that did not. Counters of
// this node's work, not replicated state: snapshots do not carry them.
type lookupStats struct {
	hits, misses atomic.Int64
}

// LookupStats returns keyspace_hits and keyspace_misses so far.
func (s *Store) LookupStats() (hits, misses int64) {
	return s.lookups.hits.Load(), s.lookups.misses.Load()
}

// ResetLookupStats zeroes them (CONFIG RESETSTAT).
func (s *Store) ResetLookupStats() {
	s.lookups.hits.Store(0)
	s.lookups.misses.Store(0)
}
