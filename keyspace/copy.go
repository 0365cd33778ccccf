package keyspace

// Transactions and scripts run on the leader against a private store that
// holds copies of the keys they touch (package commands); these copy keys
// into it. A copy is the same value, encoding and deadline, owned by the
// private store (an Object is cloned), so the block may change it freely.

// Version returns the store's change count: it moves with every change to
// any key, so a block that looked at the whole keyspace requires it.
func (s *Store) Version() uint64 { return s.version }

// CopyKey makes dst's key what d's is at now — the same value and
// deadline, or absent — and returns the version it has in d (0: absent).
// The caller holds d's store's read lock.
func (d *DB) CopyKey(dst *DB, key []byte, now int64) uint64 {
	e := d.Get(key, now)
	if e == nil {
		dst.Delete(key, now)
		return 0
	}
	dst.Set(key, e.replica(), e.deadline)
	return e.version
}

// CopyMissing copies into dst every key of d live at now that has not
// been copied (copied reports which were); dst's own keys stay. The caller
// holds d's store's read lock.
func (d *DB) CopyMissing(dst *DB, now int64, copied func(key string) bool) {
	d.Each(now, func(key string, e *Entry) bool {
		if !copied(key) {
			dst.Set([]byte(key), e.replica(), e.deadline)
		}
		return true
	})
}

// replica is the entry's value for another store: a deep copy that keeps
// the encoding and the flags, as the block must see what the store has.
func (e *Entry) replica() Value {
	v := e.Value()
	if v.obj != nil {
		v.obj = v.obj.Clone()
	}
	v.copied = e.flags&flagCopied != 0
	return v
}
