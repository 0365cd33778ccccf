package op

import (
	"encoding/binary"
	"fmt"
)

// An Exec op is a block of writes decided on the leader — a MULTI/EXEC
// transaction or a script's effects — applied as one step on every node,
// only if what the block read is still as it read it. Its Args are
// [checks, reply, op, op, ...]: checks (AppendChecks) are the versions
// the block saw, reply is the block's reply as the leader computed it
// (RESP), and each op is an encoded Op applied in order.

// Check is one version an Exec op requires: the key's version in its
// database (0: absent), or with Store set the store's change count
// (a block that read the whole keyspace, as KEYS does).
type Check struct {
	DB      int
	Key     []byte
	Version uint64
	// Watch marks a WATCHed key: its change aborts the transaction (a
	// null reply) rather than having the leader run the block again.
	Watch bool
	Store bool
}

const (
	checkWatch = 1 << iota
	checkStore
)

// maxChecks bounds the checks a decoder accepts before it fails.
const maxChecks = 1 << 24

// AppendChecks appends the encoding of checks to dst.
func AppendChecks(dst []byte, checks []Check) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(checks)))
	for _, c := range checks {
		var f byte
		if c.Watch {
			f |= checkWatch
		}
		if c.Store {
			f |= checkStore
		}
		dst = append(dst, f)
		dst = binary.AppendUvarint(dst, uint64(c.DB))
		dst = binary.AppendUvarint(dst, uint64(len(c.Key)))
		dst = append(dst, c.Key...)
		dst = binary.AppendUvarint(dst, c.Version)
	}
	return dst
}

// DecodeChecks parses what AppendChecks wrote. Keys alias b.
func DecodeChecks(b []byte) ([]Check, error) {
	d := decoder{b: b}
	n := d.uvarint()
	if d.err != nil {
		return nil, d.err
	}
	if n > maxChecks || n > uint64(len(d.b)) {
		return nil, ErrMalformed
	}
	checks := make([]Check, n)
	for i := range checks {
		f := d.byte()
		db := d.uvarint()
		key := d.bytes()
		v := d.uvarint()
		if d.err != nil {
			return nil, d.err
		}
		if f&^(checkWatch|checkStore) != 0 || db > 1<<20 {
			return nil, fmt.Errorf("%w: check %d", ErrMalformed, i)
		}
		checks[i] = Check{DB: int(db), Key: key, Version: v, Watch: f&checkWatch != 0, Store: f&checkStore != 0}
	}
	if len(d.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.b))
	}
	return checks, nil
}
