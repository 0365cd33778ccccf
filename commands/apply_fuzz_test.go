package commands

import (
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// FuzzApply feeds arbitrary operations to every applier: a corrupt or
// hostile log entry must give the same error reply on every node, never a
// panic that would take the whole cluster down on the same entry.
func FuzzApply(f *testing.F) {
	for _, typ := range op.Types() {
		for _, args := range [][][]byte{nil, {[]byte("k")}, {[]byte("k"), []byte("v")}, {[]byte("k"), []byte("1"), []byte("z")},
			{[]byte("h"), []byte("f")}, {[]byte("h"), []byte("1"), []byte("f")}} {
			for _, n := range []int64{-1, 0, 3, 1 << 40} {
				o := op.Op{Type: typ, DB: 0, Now: 1000, Int: n, Flags: 0xff, Args: args}
				f.Add(o.Encode(nil))
			}
		}
	}
	table := NewTable()
	f.Fuzz(func(t *testing.T, data []byte) {
		var o op.Op
		if op.Decode(data, &o) != nil {
			return
		}
		ks := keyspace.New(4)
		ks.Lock()
		defer ks.Unlock()
		seed := &op.Op{Type: op.MSet, Now: 1, Args: [][]byte{[]byte("k"), []byte("12"), []byte("s"), []byte("hello")}}
		// A hash with field deadlines, some past at the ops' Now (1000).
		hash := &op.Op{Type: op.HSet, Now: 1, Args: [][]byte{[]byte("h"), []byte("f"), []byte("1"), []byte("g"), []byte("2")}}
		ttl := &op.Op{Type: op.HPExpireAt, Now: 1, Int: 500, Args: [][]byte{[]byte("h"), []byte("f")}}
		for db := 0; db < ks.NumDBs(); db++ {
			seed.DB, hash.DB, ttl.DB = db, db, db
			table.Apply(ks, seed)
			table.Apply(ks, hash)
			table.Apply(ks, ttl)
		}
		table.Apply(ks, &o)
		// Applying twice must not panic either (state after a partial op).
		table.Apply(ks, &o)
	})
}
