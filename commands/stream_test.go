package commands

import (
	"testing"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// XADD's "*" ids are decided by the applier from the op's clock and the
// stream's last id: two nodes applying the same ops hold the same ids,
// and a clock that goes back never makes an id go back.
func TestXAddIDsFromOpClock(t *testing.T) {
	table := NewTable()
	var got [2][]string
	for n := range got {
		ks := keyspace.New(1)
		ks.Lock()
		for _, now := range []int64{5000, 5000, 4000, 6000} {
			o := &op.Op{Type: op.XAdd, Now: now, Args: [][]byte{[]byte("s"), []byte("*"), nil, nil, []byte("f"), []byte("v")}}
			id, ok := table.Apply(ks, o).([]byte)
			if !ok {
				t.Fatalf("XADD at %d: %v", now, table.Apply(ks, o))
			}
			got[n] = append(got[n], string(id))
		}
		o := &op.Op{Type: op.XAdd, Now: 1, Args: [][]byte{[]byte("s"), []byte("6000-0"), nil, nil, []byte("f"), []byte("v")}}
		if err, _ := table.Apply(ks, o).(error); err == nil || err.Error() != keyspace.ErrStreamIDTooSmall.Error() {
			t.Fatalf("an explicit id below the last: %v", err)
		}
		ks.Unlock()
	}
	want := []string{"5000-0", "5000-1", "5000-2", "6000-0"}
	for n := range got {
		for i := range want {
			if got[n][i] != want[i] {
				t.Fatalf("node %d ids %v, want %v", n, got[n], want)
			}
		}
	}
}
