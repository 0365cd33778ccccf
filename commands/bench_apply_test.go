package commands

import (
	"fmt"
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// BenchmarkApplySet is a SET op on the FSM side with the real applier:
// decoding its bytes from the log and applying them, to a new key and
// over an existing one.
//
//	go test -run '^$' -bench ApplySet -benchmem -memprofile m.out ./commands
func BenchmarkApplySet(b *testing.B) {
	table := NewTable()
	val := make([]byte, 64)
	for _, keys := range []int{1, 1000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			ks := keyspace.New(16)
			encs := make([][]byte, keys)
			for i := range encs {
				o := op.Op{Type: op.Set, Now: 1, Args: [][]byte{[]byte(fmt.Sprint("key:", i)), val}}
				encs[i] = o.Encode(nil)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var o op.Op
				if err := op.Decode(encs[i%keys], &o); err != nil {
					b.Fatal(err)
				}
				ks.Lock()
				if r := table.Apply(ks, &o); r != ok {
					b.Fatalf("apply: %v", r)
				}
				ks.Unlock()
			}
		})
	}
}
