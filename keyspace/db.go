package keyspace

import (
	"math/rand/v2"
	"strings"
	"unsafe"

	"github.com/loomcache/loomcache/internal/memcopy"
)

// DB is one numbered database: its keys in slots (slots.go), an index
// from key to slot (index.go), and the slots of the keys with a deadline.
// Every change to a key goes through changeBegin and changeEnd, which
// keep a snapshot's view (snapshot.go), versions and memory accounting in
// one place.
type DB struct {
	store *Store
	slots slots
	idx   index
	n     int
	// vol holds the slots of the keys with a deadline, in no particular
	// order, for sampling (active expiry, volatile eviction).
	vol []uint32
	// fttl holds the slots of the hashes with field deadlines, for
	// sampling (active expiry of fields, hash_ttl_db.go).
	fttl map[uint32]struct{}
	// mem is the memory of the keys' own allocations and of the pages.
	mem int64
	cow cowState // snapshot.go
}

func newDB(s *Store, capacity int) *DB {
	return &DB{store: s, idx: newIndex(capacity)}
}

// Len returns the number of keys, including expired ones not yet deleted.
func (d *DB) Len() int { return d.n }

// Expires returns the number of keys with a deadline.
func (d *DB) Expires() int { return len(d.vol) }

// expired reports whether a key reads as absent at now: past its
// deadline, or a hash whose every field is past its own.
func expired(e *entry, now int64) bool {
	if e.deadline != 0 && e.deadline <= now {
		return true
	}
	h, ok := e.obj.(*Hash)
	return ok && h.allExpired(now)
}

// slotEntry returns the entry of a used slot.
func (d *DB) slotEntry(i uint32) *entry {
	return &d.slots.pages[i>>pageBits].e[i&(pageSize-1)]
}

// find returns key's hash, and its slot and entry (nil if absent).
func (d *DB) find(key []byte) (uint32, uint32, *entry) {
	h := d.idx.hash(key)
	if slot, e := d.findIn(&d.idx.t, key, h); e != nil {
		return h, slot, e
	}
	if d.idx.oldN > 0 { // resizing: not moved yet?
		if slot, e := d.findIn(&d.idx.old, key, h); e != nil {
			return h, slot, e
		}
	}
	return h, 0, nil
}

// findIn looks key up in one of the index's tables.
func (d *DB) findIn(t *table, key []byte, h uint32) (uint32, *entry) {
	mask := len(t.cells) - 1
	for i := t.home(h); ; i = (i + 1) & mask {
		c := t.cells[i]
		if c == 0 {
			return 0, nil
		}
		if uint32(c>>32) == h {
			slot := uint32(c) - 1
			if e := d.slotEntry(slot); e.kv[:e.klen] == string(key) {
				return slot, e
			}
		}
	}
}

func (d *DB) lookup(key []byte) (uint32, *entry) {
	_, slot, e := d.find(key)
	return slot, e
}

// Get returns key's entry, or nil if it is absent or expired at now.
// It never deletes: reads leave expiry to the leader's delete ops.
func (d *DB) Get(key []byte, now int64) *Entry {
	_, e := d.lookup(key)
	if e == nil || expired(e, now) {
		return nil
	}
	return (*Entry)(e)
}

// Version returns key's version: the store's change count when the key
// last changed, or 0 when it is absent or expired at now. Versions are
// replicated state (the same ops give the same versions on every node,
// and snapshots keep them), so a version read on one node can be checked
// on every node: WATCH and the checks of transactions and scripts.
func (d *DB) Version(key []byte, now int64) uint64 {
	if e := d.Get(key, now); e != nil {
		return e.version
	}
	return 0
}

// GetRead is Get for a command that reads key, as Redis's lookupKeyRead:
// a miss is a "keymiss" event.
// A key past its deadline is noted for the leader to delete (lazy_expiry.go).
func (d *DB) GetRead(key []byte, now int64) *Entry {
	_, e := d.lookup(key)
	if e != nil && !expired(e, now) {
		d.store.reads.hits.Add(1)
		return (*Entry)(e)
	}
	d.store.reads.misses.Add(1)
	if e != nil && d.store.lazy.on && e.deadline != 0 && e.deadline <= now {
		d.noteExpired(key)
	}
	d.Notify(EventKeyMiss, "keymiss", key)
	return nil
}

// Lookup is GetRead for a command that works on kind k: a key of another
// kind is ErrWrongType.
func (d *DB) Lookup(key []byte, now int64, k Kind) (*Entry, error) {
	e := d.GetRead(key, now)
	if e != nil && e.kind != k {
		return nil, ErrWrongType
	}
	return e, nil
}

// GetForWrite is Get for appliers: an expired key found is deleted first,
// which every node does identically because now comes from the op.
func (d *DB) GetForWrite(key []byte, now int64) *Entry {
	h, slot, e := d.find(key)
	if e == nil {
		return nil
	}
	if expired(e, now) {
		d.remove(h, slot, e)
		d.Notify(EventExpired, "expired", key)
		return nil
	}
	// A write's lookup is an access, as Redis's lookupKeyWrite is.
	d.Touch((*Entry)(e), now)
	return (*Entry)(e)
}

// Exists reports whether key is present and not expired at now.
func (d *DB) Exists(key []byte, now int64) bool { return d.Get(key, now) != nil }

// Deadline returns key's deadline (unix ms), 0 if it has none.
func (d *DB) Deadline(key []byte) int64 {
	if _, e := d.lookup(key); e != nil {
		return e.deadline
	}
	return 0
}

// Set stores v under key with the given deadline (0: none), replacing any
// value and deadline.
func (d *DB) Set(key []byte, v Value, deadline int64) {
	slot, e := d.put(key)
	d.fill(e, key, v)
	d.setDeadline(slot, e, deadline)
	d.noteFieldTTL(slot, e)
	d.changeEnd(e)
}

// Replace stores v under an existing or new key, keeping its deadline.
func (d *DB) Replace(key []byte, v Value) {
	slot, e := d.put(key)
	d.fill(e, key, v)
	d.noteFieldTTL(slot, e)
	d.changeEnd(e)
}

// put returns key's slot and entry, made ready for a change: a new key
// gets the lowest free slot.
func (d *DB) put(key []byte) (uint32, *entry) {
	h, slot, e := d.find(key)
	if e != nil {
		d.changeBegin(slot, e)
		d.signalStreamGone(e)
		return slot, e
	}
	slot, e, grown := d.slots.alloc()
	d.mem += grown
	d.idx.insert(h, slot)
	d.n++
	e.klen = uint32(len(key))
	d.Notify(EventNew, "new", key)
	return slot, e
}

// fill stores v in e: a string inline, after the key in one allocation.
func (d *DB) fill(e *entry, key []byte, v Value) {
	e.kind, e.enc, e.obj = v.kind, v.enc, v.obj
	e.flags = 0
	if v.copied {
		e.flags |= flagCopied
	}
	if v.access != 0 {
		storeAccess(e, v.access)
	} else {
		storeAccess(e, d.store.newAccess(loadAccess(e), d.store.opNow))
	}
	if v.obj != nil && len(e.kv) == len(key) && e.kv != "" {
		return // the key alone already: keep its allocation
	}
	if len(v.str) > memcopy.Piece {
		kv := append(make([]byte, 0, len(key)+len(v.str)), key...)
		kv = memcopy.Append(kv, v.str)
		e.kv = unsafe.String(unsafe.SliceData(kv), len(kv))
		return
	}
	var b strings.Builder
	b.Grow(len(key) + len(v.str))
	b.Write(key)
	b.Write(v.str) // nothing for an Object
	e.kv = b.String()
}

// SetDeadline sets key's deadline (0 removes it); false if key is absent.
func (d *DB) SetDeadline(key []byte, deadline int64) bool {
	slot, e := d.lookup(key)
	if e == nil {
		return false
	}
	d.changeBegin(slot, e)
	d.setDeadline(slot, e, deadline)
	d.changeEnd(e)
	return true
}

func (d *DB) setDeadline(slot uint32, e *entry, deadline int64) {
	switch {
	case e.deadline == 0 && deadline != 0:
		e.volIdx = uint32(len(d.vol))
		d.vol = append(d.vol, slot)
	case e.deadline != 0 && deadline == 0:
		last := d.vol[len(d.vol)-1]
		d.vol[e.volIdx] = last
		d.slotEntry(last).volIdx = e.volIdx
		d.vol = d.vol[:len(d.vol)-1]
	}
	e.deadline = deadline
}

// Delete removes key; false if it was absent. An expired key counts as
// absent but is removed all the same.
func (d *DB) Delete(key []byte, now int64) bool {
	h, slot, e := d.find(key)
	if e == nil {
		return false
	}
	live := !expired(e, now)
	d.remove(h, slot, e)
	if !live {
		d.Notify(EventExpired, "expired", key)
	}
	return live
}

func (d *DB) remove(h, slot uint32, e *entry) {
	d.changeBegin(slot, e)
	d.signalStreamGone(e)
	d.store.signalChanged(e.kv[:e.klen], false)
	d.setDeadline(slot, e, 0)
	delete(d.fttl, slot)
	d.idx.remove(h, slot)
	*e = entry{}
	d.mem += d.slots.release(slot)
	d.n--
	d.store.version++
}

// Update runs fn on key's Object of kind k, to change it in place: a key
// of another kind is ErrWrongType; an absent key gets create's Object
// (with create nil, fn is not run and found is false). A collection fn
// leaves empty is deleted with its key (but a stream, as in Redis).
func (d *DB) Update(key []byte, now int64, k Kind, create func() Object, fn func(o Object)) (found bool, err error) {
	if e := d.GetForWrite(key, now); e != nil && e.kind != k {
		return false, ErrWrongType
	} else if e == nil {
		if create == nil {
			return false, nil
		}
		d.Set(key, ObjectValue(create()), 0)
	}
	h, slot, e := d.find(key)
	d.changeBegin(slot, e)
	fn(e.obj)
	if hs, ok := e.obj.(*Hash); ok {
		hs.settle()
		d.noteFieldTTL(slot, e)
	}
	e.enc = e.obj.Encoding()
	d.changeEnd(e)
	if e.obj.Len() == 0 && e.kind != KindStream { // Redis keeps an empty stream
		d.remove(h, slot, e)
	}
	return true, nil
}

// Scan calls fn for keys in slot order starting at cursor, visiting about
// count keys, and returns the cursor to continue from (0 when done).
// Keys present for a whole scan are returned exactly once; expired keys
// at now are skipped.
func (d *DB) Scan(cursor uint64, count int, now int64, fn func(key string, e *Entry)) uint64 {
	lim := d.slots.limit()
	if cursor >= uint64(lim) {
		return 0
	}
	i := uint32(cursor)
	for visited := 0; visited < count; visited++ {
		if i = d.slots.next(i); i >= lim {
			return 0
		}
		if e := d.slotEntry(i); !expired(e, now) {
			fn(e.kv[:e.klen], (*Entry)(e))
		}
		i++
	}
	if d.slots.next(i) >= lim {
		return 0
	}
	return uint64(i)
}

// Each calls fn for every key not expired at now, until fn returns false.
func (d *DB) Each(now int64, fn func(key string, e *Entry) bool) {
	lim := d.slots.limit()
	for i := d.slots.next(0); i < lim; i = d.slots.next(i + 1) {
		if e := d.slotEntry(i); !expired(e, now) {
			if !fn(e.kv[:e.klen], (*Entry)(e)) {
				return
			}
		}
	}
}

// RandomKey returns a random key not expired at now; ok is false if there
// is none.
func (d *DB) RandomKey(now int64) (key string, ok bool) {
	if d.n == 0 {
		return "", false
	}
	lim := d.slots.limit()
	for try := 0; try < 100; try++ {
		if e := d.slots.at(rand.Uint32N(lim)); e != nil && !expired(e, now) {
			return e.kv[:e.klen], true
		}
	}
	// Mostly free slots or expired keys: pick uniformly among the live.
	var live []string
	d.Each(now, func(k string, _ *Entry) bool { live = append(live, k); return true })
	if len(live) == 0 {
		return "", false
	}
	return live[rand.IntN(len(live))], true
}

// SampleExpired returns up to n keys whose deadline is at or before now,
// looking at no more than 20*n keys with a deadline from a random place.
// The leader proposes their deletion; this changes nothing by itself.
func (d *DB) SampleExpired(n int, now int64) [][]byte {
	if len(d.vol) == 0 {
		return nil
	}
	var out [][]byte
	look := min(20*n, len(d.vol))
	start := rand.IntN(len(d.vol))
	for k := 0; k < look && len(out) < n; k++ {
		// Past the key's own deadline only: a hash whose fields have all
		// expired is active expiry's of fields (SampleExpiredFields).
		e := d.slotEntry(d.vol[(start+k)%len(d.vol)])
		if e.deadline <= now {
			out = append(out, []byte(e.kv[:e.klen]))
		}
	}
	return out
}
