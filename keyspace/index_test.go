package keyspace

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestIndexResizesIncrementally: keys inserted and deleted at random,
// through growth and shrinking, are always found (in the new table or in
// the old one not yet moved), deleted keys never are, and a resize moves
// its cells over many changes, not in one.
func TestIndexResizesIncrementally(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	d := New(1).DB(0)
	live := map[string]bool{}
	resizing, maxLive := 0, 0
	check := func(when string) {
		for k := range live {
			if _, e := d.lookup([]byte(k)); e == nil {
				t.Fatalf("%s: %s not found (%d keys, %d cells, %d not moved)", when, k, len(live), len(d.idx.t.cells), d.idx.oldN)
			}
		}
		if d.idx.n+d.idx.oldN != len(live) {
			t.Fatalf("%s: the index counts %d+%d keys, %d live", when, d.idx.n, d.idx.oldN, len(live))
		}
	}
	for round := 0; round < 3; round++ {
		// Grow to 20,000 keys, then shrink to a few, with churn.
		for i := 0; len(live) < 20000; i++ {
			k := fmt.Sprintf("r%d:k%d", round, i)
			d.Set([]byte(k), NewString([]byte("v")), 0)
			live[k] = true
			if d.idx.oldN > 0 {
				resizing++
			}
			if i%997 == 0 {
				check("growing")
			}
		}
		maxLive = max(maxLive, len(live))
		for k := range live {
			if len(live) <= 10 {
				break
			}
			d.Delete([]byte(k), t0)
			delete(live, k)
			if rng.IntN(5) == 0 { // and a few more come and go
				k2 := fmt.Sprintf("r%d:x%d", round, rng.Int())
				d.Set([]byte(k2), NewString([]byte("v")), 0)
				d.Delete([]byte(k2), t0)
			}
			if len(live)%1009 == 0 {
				check("shrinking")
			}
		}
		check("after")
		if _, e := d.lookup([]byte("nosuch")); e != nil {
			t.Fatal("found a key never stored")
		}
	}
	if resizing < 100 {
		t.Fatalf("resizes moved their cells within %d changes: not incremental", resizing)
	}
	if cells := len(d.idx.t.cells) + len(d.idx.old.cells); cells > 64 {
		t.Fatalf("%d cells for %d keys after shrinking", cells, len(live))
	}
}
