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
	// numDBs is len(dbs), fixed at New: read without the lock (the
	// expiry loop does) while a snapshot restore replaces dbs.
	numDBs int
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
	// ready is told of changes to keys clients may block on (SetReady).
	ready ReadyFunc
	// notifier is told of keyspace events (SetNotifier).
	notifier Notifier
	// changed is told of every change to a key (SetChanged).
	changed ChangeFunc
	// lazy holds the expired keys reads found (lazy_expiry.go).
	lazy lazyExpiry

	reads readStats // keyspace_hits and _misses (readstats.go)
}

// ChangeFunc is told that key was changed or removed, in any database
// (client-side caching tracks names, as Redis does); all: every key may
// have changed (a flush, SWAPDB, a snapshot loaded). It runs on the
// applier's goroutine under the write lock: it must return at once.
type ChangeFunc func(key string, all bool)

// SetChanged installs f (nil: none). The caller holds the write lock.
func (s *Store) SetChanged(f ChangeFunc) { s.changed = f }

func (s *Store) signalChanged(key string, all bool) {
	if s.changed != nil {
		s.changed(key, all)
	}
}

// ReadyFunc is told, as Redis's signalKeyAsReady, that a list, sorted set
// or stream key changed in database db: clients blocked on it may now be
// served. db -1 stands for every key (a snapshot was loaded, SWAPDB). It
// runs on the applier's goroutine under the write lock: it must return at
// once.
type ReadyFunc func(db int, key string, kind Kind)

// SetReady installs f (nil: none). The caller holds the write lock.
func (s *Store) SetReady(f ReadyFunc) { s.ready = f }

// signalReady tells the ready function of a change to e in d, when e is of
// a kind clients block on.
func (d *DB) signalReady(e *entry) {
	f := d.store.ready
	if f == nil || (e.kind != KindList && e.kind != KindZSet && e.kind != KindStream) {
		return
	}
	f(d.index(), e.kv[:e.klen], e.kind)
}

// signalStreamGone tells the ready function that the stream e holds is
// about to be deleted or replaced: readers blocked on a consumer group of
// it are answered, as Redis 7.0 unblocks them.
func (d *DB) signalStreamGone(e *entry) {
	if f := d.store.ready; f != nil && e.kind == KindStream {
		f(d.index(), e.kv[:e.klen], KindStream)
	}
}

// SetOpTime records the time (unix ms) of the op about to be applied:
// values stored until the next call count as last accessed then, for
// OBJECT IDLETIME. The caller holds the write lock.
func (s *Store) SetOpTime(now int64) { s.opNow = now }

// New returns a store of n empty databases.
func New(n int) *Store {
	s := &Store{dbs: make([]*DB, n), numDBs: n, limits: DefaultEncodingLimits()}
	for i := range s.dbs {
		s.dbs[i] = newDB(s, 0)
	}
	return s
}

// NumDBs returns the number of databases.
func (s *Store) NumDBs() int { return s.numDBs }

// DB returns database i; i must be in range.
func (s *Store) DB(i int) *DB { return s.dbs[i] }

// Swap exchanges two databases, as SWAPDB does.
func (s *Store) Swap(a, b int) {
	s.dbs[a], s.dbs[b] = s.dbs[b], s.dbs[a]
	if s.ready != nil {
		s.ready(-1, "", 0)
	}
	s.signalChanged("", true)
}

// FlushDB empties database i, as FLUSHDB does. The old database is left
// as it was, for a snapshot being written.
func (s *Store) FlushDB(i int) {
	s.flushDB(i)
	s.signalChanged("", true)
}

func (s *Store) flushDB(i int) {
	s.dbs[i] = newDB(s, 0)
	s.version++
	if s.ready != nil {
		s.ready(-1, "", 0) // a stream's blocked group readers are answered
	}
}

// FlushAll empties every database.
func (s *Store) FlushAll() {
	for i := range s.dbs {
		s.flushDB(i)
	}
	s.signalChanged("", true)
}

// SetEncodingLimits sets the thresholds new values are encoded by. The
// caller holds the write lock.
func (s *Store) SetEncodingLimits(l EncodingLimits) { s.limits = l }

// EncodingLimits returns the thresholds values are encoded by. The caller
// holds the lock.
func (s *Store) EncodingLimits() EncodingLimits { return s.limits }
