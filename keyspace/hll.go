package keyspace

// EditString lets fn change key's string value (which the caller has
// looked up and found to be a string) in place, as SETRANGE does: fn gets
// the bytes and returns the new ones (the same slice changed, or another).
// The value is left raw and keeps its deadline. HyperLogLogs change their
// registers and cached cardinality this way, without copying 12KB for a
// register.
func (d *DB) EditString(key []byte, fn func(b []byte) []byte) {
	e, r := d.rawStringFor(key)
	r.b = fn(r.b)
	d.changeEnd(e)
}
