package keyspace

import (
	"sync"
	"sync/atomic"
)

// Lazy expiry: Redis deletes a key a command finds past its deadline
// (expireIfNeeded), which counts it in expired_keys and fires "expired"
// then. Here a read never deletes (every change is an applied op), so the
// reads of a store that tracks them note such keys, and the server has the
// leader propose their deletion after the read (commands' read path).
// The note is bounded: a key it has no room for is left to active expiry.
const lazyExpiryMax = 128

// ExpiredKey is a key a read found past its deadline, in database DB.
type ExpiredKey struct {
	DB  int
	Key []byte
}

type lazyExpiry struct {
	on      bool // set under the write lock (TrackLazyExpiry)
	pending atomic.Bool
	mu      sync.Mutex // readers note keys concurrently
	keys    []ExpiredKey
}

// TrackLazyExpiry has the store note the keys command reads find expired
// (GetRead); only a node's replicated stores do. The caller holds the
// write lock.
func (s *Store) TrackLazyExpiry() { s.lazy.on = true }

// noteExpired records key of d, found past its deadline by a read; it
// runs under the read lock.
func (d *DB) noteExpired(key []byte) {
	l := &d.store.lazy
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.keys) >= lazyExpiryMax {
		return
	}
	db := d.index()
	for _, k := range l.keys {
		if k.DB == db && string(k.Key) == string(key) {
			return
		}
	}
	l.keys = append(l.keys, ExpiredKey{DB: db, Key: append([]byte(nil), key...)})
	l.pending.Store(true)
}

// LazyExpiredPending reports, in one atomic load, whether reads noted
// expired keys not yet taken.
func (s *Store) LazyExpiredPending() bool { return s.lazy.pending.Load() }

// TakeLazyExpired returns the keys reads noted expired, and forgets them.
func (s *Store) TakeLazyExpired() []ExpiredKey {
	l := &s.lazy
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := l.keys
	l.keys = nil
	l.pending.Store(false)
	return keys
}
