// Package keyspace owns LoomCache's in-memory data: numbered databases of
// keys, their values of every kind, their deadlines, and the snapshots of
// them. It is deterministic: it never reads a clock (callers pass the
// time), never logs, and never touches the network or disk, so the same
// operations in the same order leave the same state on every node. It
// imports nothing of the project.
package keyspace

import "sync"

// Store is every database of one node, guarded by one lock: appliers hold
// it for writing, readers for reading.
type Store struct {
	sync.RWMutex
	dbs []*DB
	// opNow is the time of the op being applied (see SetOpTime).
	opNow int64
	// version counts changes to keys; an entry records the count at its
	// last change (entry.version), which is how a snapshot knows which
	// entries changed after its point.
	version uint64
	// limits are the encoding thresholds values are built with; local to
	// a node, as Redis's are (an encoding is a representation, not data).
	limits EncodingLimits
	access accessRef // how accesses are counted (access.go)
}

// SetOpTime records the time (unix ms) of the op about to be applied:
// values stored until the next call count as last accessed then, for
// OBJECT IDLETIME. The caller holds the write lock.
func (s *Store) SetOpTime(now int64) { s.opNow = now }

// New returns a store of n empty databases.
func New(n int) *Store {
	s := &Store{dbs: make([]*DB, n), limits: DefaultEncodingLimits()}
	for i := range s.dbs {
		s.dbs[i] = newDB(s, 0)
	}
	return s
}

// NumDBs returns the number of databases.
func (s *Store) NumDBs() int { return len(s.dbs) }

// DB returns database i; i must be in range.
func (s *Store) DB(i int) *DB { return s.dbs[i] }

// Swap exchanges two databases, as SWAPDB does.
func (s *Store) Swap(a, b int) { s.dbs[a], s.dbs[b] = s.dbs[b], s.dbs[a] }

// FlushDB empties database i, as FLUSHDB does. The old database is left
// as it was, for a snapshot being written.
func (s *Store) FlushDB(i int) {
	s.dbs[i] = newDB(s, 0)
	s.version++
}

// FlushAll empties every database.
func (s *Store) FlushAll() {
	for i := range s.dbs {
		s.FlushDB(i)
	}
}

// SetEncodingLimits sets the thresholds new values are encoded by. The
// caller holds the write lock.
func (s *Store) SetEncodingLimits(l EncodingLimits) { s.limits = l }

// EncodingLimits returns the thresholds values are encoded by. The caller
// holds the lock.
func (s *Store) EncodingLimits() EncodingLimits { return s.limits }
