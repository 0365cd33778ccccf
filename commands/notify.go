package commands

import (
	"strconv"
	"sync/atomic"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/pubsub"
)

// Keyspace notifications are published as the ops that cause them are
// applied: every node publishes the same events, in each partition's
// commit order, to its own subscribers. The appliers name the events
// (the same names Redis's commands give them); the keyspace itself
// names "new" and the "expired" of a key a write found expired.

// keyspaceEvents is the node's keyspace.Notifier: it publishes the
// events of the classes notify-keyspace-events selects on the hub.
type keyspaceEvents struct {
	hub   *pubsub.Hub
	flags atomic.Uint32 // keyspace.EventClass
}

// Wants reports whether class is selected, and some channel with it.
func (k *keyspaceEvents) Wants(class keyspace.EventClass) bool {
	f := keyspace.EventClass(k.flags.Load())
	return f&class != 0 && f&(keyspace.EventKeyspace|keyspace.EventKeyevent) != 0
}

// Notify publishes as Redis's notifyKeyspaceEvent: on the key's channel,
// then on the event's.
func (k *keyspaceEvents) Notify(db int, class keyspace.EventClass, event string, key []byte) {
	f := keyspace.EventClass(k.flags.Load())
	if f&class == 0 {
		return
	}
	var buf [128]byte
	if f&keyspace.EventKeyspace != 0 {
		ch := append(strconv.AppendInt(append(buf[:0], "__keyspace@"...), int64(db), 10), "__:"...)
		ch = append(ch, key...)
		k.hub.Publish(ch, []byte(event), false)
	}
	if f&keyspace.EventKeyevent != 0 {
		ch := append(strconv.AppendInt(append(buf[:0], "__keyevent@"...), int64(db), 10), "__:"...)
		ch = append(ch, event...)
		k.hub.Publish(ch, key, false)
	}
}

// KeyspaceEvents is the notifier the node's replicated stores publish
// their events through.
func (t *Table) KeyspaceEvents() keyspace.Notifier { return t.events }

// SetNotifyEvents selects the classes published (notify-keyspace-events).
func (t *Table) SetNotifyEvents(c keyspace.EventClass) { t.events.flags.Store(uint32(c)) }

// storeEmpty is a *STORE command's empty result: dst is deleted, "del"
// if it was there.
func storeEmpty(db *keyspace.DB, dst []byte, now int64) {
	if db.Delete(dst, now) {
		db.Notify(keyspace.EventGeneric, "del", dst)
	}
}
