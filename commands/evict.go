package commands

import (
	"sync/atomic"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// Eviction under maxmemory, on the commands' side: the applier of the
// leader's EvictKeys ops with the count INFO reports as evicted_keys. The
// server picks the victims and sets the policy on the keyspace, which
// OBJECT FREQ and OBJECT IDLETIME ask (keyspace.Store.LFU).

// evictState is the table's eviction state.
type evictState struct {
	evicted atomic.Int64 // keys evicted by the EvictKeys applied here
	expired atomic.Int64 // keys deleted by the ExpireKeys applied here
}

func (t *Table) registerEviction() { t.applier(op.EvictKeys, t.applyEvictKeys) }

// applyEvictKeys deletes the keys the leader picked that still exist
// (with FlagVolatile, that still have a deadline), expired or not, as
// Redis's eviction deletes whatever it sampled, and counts them.
func (t *Table) applyEvictKeys(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	volatile := o.Flags&op.FlagVolatile != 0
	var n int64
	for _, k := range o.Args {
		deadline := db.Deadline(k)
		if deadline == 0 && (volatile || db.Get(k, o.Now) == nil) {
			continue
		}
		if db.Delete(k, o.Now) {
			db.Notify(keyspace.EventEvicted, "evicted", k)
		}
		n++
	}
	t.evict.evicted.Add(n)
	return n
}

// EvictedKeys returns the number of keys evicted on this node (every node
// applies the leader's evictions), for INFO's evicted_keys.
func (t *Table) EvictedKeys() int64 { return t.evict.evicted.Load() }

// ExpiredKeys returns the number of keys deleted on this node for their
// deadline (every node applies the leader's expiry), for INFO's
// expired_keys.
func (t *Table) ExpiredKeys() int64 { return t.evict.expired.Load() }

// ResetEvictedKeys zeroes EvictedKeys and ExpiredKeys, as CONFIG
// RESETSTAT does.
func (t *Table) ResetEvictedKeys() {
	t.evict.evicted.Store(0)
	t.evict.expired.Store(0)
}
