package commands

import (
	"sync"
	"time"
)

// Redis's MIGRATE_SOCKET_CACHE_ITEMS and MIGRATE_SOCKET_CACHE_TTL.
const (
	migrateCacheItems = 64
	migrateCacheTTL   = 10 * time.Second
)

// migrateCache holds MIGRATE's connections by host:port, as Redis's
// migrate_cached_sockets. A connection is taken out while a MIGRATE uses
// it. Idle ones are closed when the cache is next used or counted (no
// goroutine of its own to stop); Close closes them all.
type migrateCache struct {
	mu    sync.Mutex
	conns map[string]*migrateConn
}

// prune closes the connections idle longer than the TTL; mu is held.
func (mc *migrateCache) prune(now time.Time) {
	for addr, m := range mc.conns {
		if now.Sub(m.lastUse) > migrateCacheTTL {
			m.conn.Close()
			delete(mc.conns, addr)
		}
	}
}

// get takes the cached connection to addr out of the cache, if any.
func (mc *migrateCache) get(addr string) *migrateConn {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	mc.prune(time.Now())
	m := mc.conns[addr]
	delete(mc.conns, addr)
	return m
}

// put caches m for addr, unless another is cached there by now.
func (mc *migrateCache) put(addr string, m *migrateConn) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	m.lastUse = time.Now()
	if _, dup := mc.conns[addr]; dup {
		m.conn.Close()
		return
	}
	if mc.conns == nil {
		mc.conns = make(map[string]*migrateConn)
	}
	if len(mc.conns) >= migrateCacheItems {
		for a, old := range mc.conns { // any one, as Redis drops a random one
			old.conn.Close()
			delete(mc.conns, a)
			break
		}
	}
	mc.conns[addr] = m
}

// MigrateCachedSockets is INFO's migrate_cached_sockets.
func (t *Table) MigrateCachedSockets() int {
	mc := &t.migrate
	mc.mu.Lock()
	defer mc.mu.Unlock()
	mc.prune(time.Now())
	return len(mc.conns)
}

// CloseMigrateSockets closes every cached MIGRATE connection.
func (t *Table) CloseMigrateSockets() {
	mc := &t.migrate
	mc.mu.Lock()
	defer mc.mu.Unlock()
	for addr, m := range mc.conns {
		m.conn.Close()
		delete(mc.conns, addr)
	}
}
