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

// Blocks are cut by the limits the op carries, not the applying node's
// own: "~" then trims the same on nodes configured differently.
func TestXAddBlocksByProposerLimits(t *testing.T) {
	table := NewTable()
	var blocks [2]int
	for n, own := range []int64{100, 3} {
		ks := keyspace.New(1)
		ks.Lock()
		l := ks.EncodingLimits()
		l.StreamNodeMaxEntries = own
		ks.SetEncodingLimits(l)
		for i := 1; i <= 25; i++ {
			o := &op.Op{Type: op.XAdd, Now: int64(i), Int: 4096<<32 | 10,
				Args: [][]byte{[]byte("s"), []byte("*"), nil, nil, []byte("f"), []byte("v")}}
			table.Apply(ks, o)
		}
		trim := &op.Op{Type: op.XTrim, Int: 4096<<32 | 10, Flags: op.XTrimMaxLen | op.XTrimApprox,
			Args: [][]byte{[]byte("s"), []byte("12"), nil}}
		if n, _ := table.Apply(ks, trim).(int64); n != 10 {
			t.Fatalf("~ trimmed %d, want one block of 10", n)
		}
		blocks[n] = ks.DB(0).Get([]byte("s"), 0).Object().(*keyspace.Stream).Blocks()
		ks.Unlock()
	}
	if blocks[0] != 2 || blocks[1] != 2 {
		t.Fatalf("blocks %v, want 2 on both", blocks)
	}
}
