// Package keyspace owns LoomCache's in-memory data: numbered databases of
// keys, their values of every type, and their deadlines. It is
// deterministic: it never reads a clock (callers pass the time), never
// logs, and never touches the network or disk, so the same operations in
// the same order leave the same state on every node. It imports nothing of
// the project.
package keyspace

import (
	"math/rand/v2"
	"sort"
	"sync"
)

// Store is every database of one node, guarded by one lock: appliers hold
// it for writing, readers for reading.
type Store struct {
	sync.RWMutex
	dbs []*DB
	// opNow is the time of the op being applied (see SetOpTime).
	opNow  int64
	access accessRef // how Touch counts accesses (lfu.go)
}

// SetOpTime records the time (unix ms) of the op about to be applied:
// values stored until the next call count as last accessed then, for
// OBJECT IDLETIME. The caller holds the write lock.
func (s *Store) SetOpTime(now int64) { s.opNow = now }

// New returns a store of n empty databases.
func New(n int) *Store {
	s := &Store{dbs: make([]*DB, n)}
	for i := range s.dbs {
		s.dbs[i] = newDB(s)
	}
	return s
}

// NumDBs returns the number of databases.
func (s *Store) NumDBs() int { return len(s.dbs) }

// DB returns database i; i must be in range.
func (s *Store) DB(i int) *DB { return s.dbs[i] }

// Swap exchanges two databases, as SWAPDB does.
func (s *Store) Swap(a, b int) { s.dbs[a], s.dbs[b] = s.dbs[b], s.dbs[a] }

// FlushDB empties database i, as FLUSHDB does.
func (s *Store) FlushDB(i int) { s.dbs[i] = newDB(s) }

// FlushAll empties every database.
func (s *Store) FlushAll() {
	for i := range s.dbs {
		s.dbs[i] = newDB(s)
	}
}

// entry is a key's slot: its value and its position in scan order.
type entry struct {
	key      string
	val      *Value
	seq      uint64 // scan order; fixed while the key exists
	deadline int64  // unix ms; 0: none
}

// DB is one numbered database.
type DB struct {
	store   *Store
	keys    map[string]*entry
	expires map[string]*entry // keys with a deadline
	// order holds entries by ascending seq for SCAN and RANDOMKEY; a
	// deleted entry leaves a nil hole that keeps its seq. A SCAN cursor is
	// a seq, so compaction never invalidates one.
	order []*entry
	seqs  []uint64
	holes int
	// free lists hole positions for new keys to reuse (with the hole's
	// seq), so that a keyspace whose size stays bounded keeps a bounded
	// order even under churn, and a SCAN over it ends: appending every new
	// key would let inserts outrun the cursor forever.
	free    []int
	nextSeq uint64
	used    int64 // bytes accounted for its keys (evict.go)
}

func newDB(s *Store) *DB {
	return &DB{store: s, keys: make(map[string]*entry), expires: make(map[string]*entry), nextSeq: 1}
}

// Len returns the number of keys, including expired ones not yet deleted.
func (d *DB) Len() int { return len(d.keys) }

// Expires returns the number of keys with a deadline.
func (d *DB) Expires() int { return len(d.expires) }

func expired(e *entry, now int64) bool { return e.deadline != 0 && e.deadline <= now }

// Get returns key's value, or nil if it is absent or expired at now.
// It never deletes: reads leave expiry to the leader's delete ops.
func (d *DB) Get(key []byte, now int64) *Value {
	e, ok := d.keys[string(key)]
	if !ok || expired(e, now) {
		return nil
	}
	return e.val
}

// GetForWrite is Get for appliers: an expired key found is deleted first,
// which every node does identically because now comes from the op.
func (d *DB) GetForWrite(key []byte, now int64) *Value {
	e, ok := d.keys[string(key)]
	if !ok {
		return nil
	}
	if expired(e, now) {
		d.remove(e)
		return nil
	}
	// A write's lookup is an access, as Redis's lookupKeyWrite is.
	e.val.Touch(now)
	return e.val
}

// Exists reports whether key is present and not expired at now.
func (d *DB) Exists(key []byte, now int64) bool { return d.Get(key, now) != nil }

// Deadline returns key's deadline (unix ms), 0 if it has none.
func (d *DB) Deadline(key []byte) int64 {
	if e, ok := d.keys[string(key)]; ok {
		return e.deadline
	}
	return 0
}

// Set stores v under key with the given deadline (0: none), replacing any
// value and deadline.
func (d *DB) Set(key []byte, v *Value, deadline int64) {
	e, ok := d.keys[string(key)]
	if !ok {
		e = d.insert(string(key))
	}
	d.stored(e, v)
	e.val = v
	d.setDeadline(e, deadline)
}

// Replace stores v under an existing or new key, keeping its deadline.
func (d *DB) Replace(key []byte, v *Value) {
	e, ok := d.keys[string(key)]
	if !ok {
		e = d.insert(string(key))
	}
	d.stored(e, v)
	e.val = v
}

// SetDeadline sets key's deadline (0 removes it); false if key is absent.
func (d *DB) SetDeadline(key []byte, deadline int64) bool {
	e, ok := d.keys[string(key)]
	if !ok {
		return false
	}
	d.setDeadline(e, deadline)
	return true
}

func (d *DB) setDeadline(e *entry, deadline int64) {
	e.deadline = deadline
	if deadline != 0 {
		d.expires[e.key] = e
	} else {
		delete(d.expires, e.key)
	}
}

// Delete removes key; false if it was absent. An expired key counts as
// absent but is removed all the same.
func (d *DB) Delete(key []byte, now int64) bool {
	e, ok := d.keys[string(key)]
	if !ok {
		return false
	}
	d.remove(e)
	return !expired(e, now)
}

// insert adds a new key in the most recently freed hole, else at the end.
// Either way a SCAN in progress may or may not return it, which is all
// Redis promises for a key that was not there when the scan began.
func (d *DB) insert(key string) *entry {
	e := &entry{key: key}
	if n := len(d.free); n > 0 {
		i := d.free[n-1]
		d.free = d.free[:n-1]
		e.seq = d.seqs[i]
		d.order[i] = e
		d.holes--
	} else {
		e.seq = d.nextSeq
		d.nextSeq++
		d.order = append(d.order, e)
		d.seqs = append(d.seqs, e.seq)
	}
	d.keys[key] = e
	return e
}

func (d *DB) remove(e *entry) {
	d.unstored(e)
	delete(d.keys, e.key)
	if e.deadline != 0 {
		delete(d.expires, e.key)
	}
	i := d.index(e.seq)
	d.order[i] = nil
	d.holes++
	d.free = append(d.free, i)
	if d.holes > 64 && d.holes > len(d.order)/2 {
		d.compact()
	}
}

// index returns the position of seq in order (it must be there).
func (d *DB) index(seq uint64) int {
	return sort.Search(len(d.seqs), func(i int) bool { return d.seqs[i] >= seq })
}

func (d *DB) compact() {
	j := 0
	for i, e := range d.order {
		if e != nil {
			d.order[j] = e
			d.seqs[j] = d.seqs[i]
			j++
		}
	}
	clear(d.order[j:])
	d.order = d.order[:j]
	d.seqs = d.seqs[:j]
	d.holes = 0
	d.free = d.free[:0]
}

// Scan calls fn for keys in scan order starting at cursor, visiting about
// count slots, and returns the cursor to continue from (0 when done).
// Keys present for a whole scan are returned exactly once; expired keys
// at now are skipped.
func (d *DB) Scan(cursor uint64, count int, now int64, fn func(key string, v *Value)) uint64 {
	i := d.index(cursor)
	for visited := 0; i < len(d.order) && visited < count; i++ {
		e := d.order[i]
		if e == nil {
			continue
		}
		visited++
		if !expired(e, now) {
			fn(e.key, e.val)
		}
	}
	if i >= len(d.order) {
		return 0
	}
	return d.seqs[i]
}

// Each calls fn for every key not expired at now, until fn returns false.
func (d *DB) Each(now int64, fn func(key string, v *Value) bool) {
	for _, e := range d.order {
		if e != nil && !expired(e, now) {
			if !fn(e.key, e.val) {
				return
			}
		}
	}
}

// RandomKey returns a random key not expired at now; ok is false if there
// is none.
func (d *DB) RandomKey(now int64) (key string, ok bool) {
	if len(d.keys) == 0 {
		return "", false
	}
	for try := 0; try < 100; try++ {
		e := d.order[rand.IntN(len(d.order))]
		if e != nil && !expired(e, now) {
			return e.key, true
		}
	}
	// Mostly holes or expired keys: pick uniformly among the live ones.
	var live []string
	d.Each(now, func(k string, _ *Value) bool { live = append(live, k); return true })
	if len(live) == 0 {
		return "", false
	}
	return live[rand.IntN(len(live))], true
}

// SampleExpired returns up to n keys whose deadline is at or before now,
// looking at no more than 20*n keys with a deadline. The leader proposes
// their deletion; this changes nothing by itself.
func (d *DB) SampleExpired(n int, now int64) [][]byte {
	var out [][]byte
	looked := 0
	for k, e := range d.expires { // map order is random: a sample
		if looked >= 20*n || len(out) >= n {
			break
		}
		looked++
		if expired(e, now) {
			out = append(out, []byte(k))
		}
	}
	return out
}
