package commands

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Aux is the table's replicated state outside the keyspace, for the
// FSM's snapshots: the access control state and the scripting registry.
type Aux struct{ t *Table }

// Aux returns the table's replicated state outside the keyspace.
func (t *Table) Aux() Aux { return Aux{t} }

// Snapshot form: "LCAUX1", then each part as a uvarint length and its
// bytes: the ACL's, then the scripts'. A snapshot from before there were
// parts is the ACL's alone (it starts with the ACL's magic).
const auxSnapshotMagic = "LCAUX1"

var errAuxSnapshot = errors.New("aux snapshot: malformed")

// Snapshot encodes the state.
func (a Aux) Snapshot() []byte {
	b := []byte(auxSnapshotMagic)
	for _, part := range [][]byte{a.t.acl.Snapshot(), a.t.scripts.reg.snapshot()} {
		b = binary.AppendUvarint(b, uint64(len(part)))
		b = append(b, part...)
	}
	return b
}

// Restore replaces the state with a Snapshot's.
func (a Aux) Restore(data []byte) error {
	rest, ok := bytes.CutPrefix(data, []byte(auxSnapshotMagic))
	if !ok {
		if err := a.t.acl.Restore(data); err != nil {
			return err
		}
		return a.t.scripts.reg.restore(nil)
	}
	var parts [2][]byte
	for i := range parts {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return errAuxSnapshot
		}
		parts[i], rest = rest[k:k+int(n)], rest[k+int(n):]
	}
	if len(rest) != 0 {
		return errAuxSnapshot
	}
	// Both are checked before either changes: the scripts' restore only
	// fails on bad bytes, so it goes first.
	if err := a.t.scripts.reg.restore(parts[1]); err != nil {
		return err
	}
	return a.t.acl.Restore(parts[0])
}
