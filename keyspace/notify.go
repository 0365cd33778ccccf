package keyspace

// EventClass is a set of keyspace event classes, numbered as Redis numbers
// its NOTIFY_* flags (the letters of notify-keyspace-events).
type EventClass uint32

// The classes; EventKeyspace and EventKeyevent choose the channels an
// event is published on, the others what is published.
const (
	EventKeyspace EventClass = 1 << iota // K: __keyspace@<db>__:<key> <event>
	EventKeyevent                        // E: __keyevent@<db>__:<event> <key>
	EventGeneric                         // g: del, expire, rename_from, ...
	EventString                          // $
	EventList                            // l
	EventSet                             // s
	EventHash                            // h
	EventZSet                            // z
	EventExpired                         // x
	EventEvicted                         // e
	EventStream                          // t
	EventKeyMiss                         // m
	eventLoaded                          // Redis's modules' only
	EventModule                          // d
	EventNew                             // n

	// EventAll is the A alias: every class but key misses and new keys.
	EventAll = EventGeneric | EventString | EventList | EventSet | EventHash | EventZSet |
		EventExpired | EventEvicted | EventStream | EventModule
)

// Notifier is told of keyspace events as the changes that cause them are
// applied, as Redis's notifyKeyspaceEvent is. Both methods run on the
// applier's goroutine under the write lock: they must return at once.
type Notifier interface {
	// Wants reports whether events of class are published at all, so
	// that an applier can skip the work of finding out whether one
	// happened.
	Wants(class EventClass) bool
	Notify(db int, class EventClass, event string, key []byte)
}

// SetNotifier installs n (nil: none). Only a node's replicated stores have
// one: a transaction's private store notifies nobody. The caller holds the
// write lock.
func (s *Store) SetNotifier(n Notifier) { s.notifier = n }

// Wants reports whether events of class in d are published.
func (d *DB) Wants(class EventClass) bool {
	n := d.store.notifier
	return n != nil && n.Wants(class)
}

// Notify publishes event of class on key in d, if that class is wanted.
func (d *DB) Notify(class EventClass, event string, key []byte) {
	if n := d.store.notifier; n != nil && n.Wants(class) {
		n.Notify(d.index(), class, event, key)
	}
}

// NotifyGone follows a change that may have emptied key's collection,
// which the keyspace then deleted: "del", as Redis notifies it.
func (d *DB) NotifyGone(key []byte, now int64) {
	if d.Wants(EventGeneric) && d.Get(key, now) == nil {
		d.Notify(EventGeneric, "del", key)
	}
}

// index returns d's number in its store (it changes with SWAPDB).
func (d *DB) index() int {
	for i, db := range d.store.dbs {
		if db == d {
			return i
		}
	}
	return 0
}
