package keyspace

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// rebuilt is sl built again by inserting each member at its scan slot:
// what clone did before it copied the structure, and the reference it
// must equal.
func rebuilt(sl *zskiplist) *zskiplist {
	c := newSkiplist()
	c.slots = make([]*zslNode, 0, len(sl.slots))
	for _, x := range sl.slots {
		if x == nil {
			c.slots = append(c.slots, nil)
			continue
		}
		c.slots = append(c.slots, c.addAt(x.member, x.score, uint32(len(c.slots))))
	}
	c.free = append(freeSlots(nil), sl.free...)
	return c
}

// sameSkiplist fails unless a and b hold the same structure: every level's
// chain of members and spans, backward links, tail, map, slots, free
// slots and byte count; and no node of a is one of b's.
func sameSkiplist(t *testing.T, a, b *zskiplist) {
	t.Helper()
	if a.level != b.level || a.length != b.length || a.bytes != b.bytes || len(a.dict) != len(b.dict) {
		t.Fatalf("level %d/%d length %d/%d bytes %d/%d dict %d/%d", a.level, b.level, a.length, b.length, a.bytes, b.bytes, len(a.dict), len(b.dict))
	}
	for i := range zslMaxLevel {
		// The header's spans above the list's level are left over from
		// members removed (as in Redis) and read by nothing.
		if i < a.level && a.header.level[i].span != b.header.level[i].span {
			t.Fatalf("header span at level %d: %d/%d", i, a.header.level[i].span, b.header.level[i].span)
		}
		x, y := a.header.level[i].forward, b.header.level[i].forward
		for ; x != nil && y != nil; x, y = x.level[i].forward, y.level[i].forward {
			if x == y {
				t.Fatal("a node is shared")
			}
			if x.member != y.member || x.score != y.score || x.slot != y.slot || len(x.level) != len(y.level) || x.level[i].span != y.level[i].span {
				t.Fatalf("level %d differs at %q/%q", i, x.member, y.member)
			}
			if i == 0 && (x.backward == nil) != (y.backward == nil) || x.backward != nil && x.backward.member != y.backward.member {
				t.Fatalf("backward link of %q differs", x.member)
			}
			if a.dict[x.member] != x || b.dict[y.member] != y || a.slots[x.slot] != x || b.slots[y.slot] != y {
				t.Fatalf("map or slot of %q is not its node", x.member)
			}
		}
		if x != nil || y != nil {
			t.Fatalf("level %d has more nodes in one", i)
		}
	}
	if (a.tail == nil) != (b.tail == nil) || a.tail != nil && a.tail.member != b.tail.member {
		t.Fatal("tails differ")
	}
	if len(a.slots) != len(b.slots) || len(a.free) != len(b.free) {
		t.Fatalf("slots %d/%d free %d/%d", len(a.slots), len(b.slots), len(a.free), len(b.free))
	}
	for i := range a.free {
		if a.free[i] != b.free[i] {
			t.Fatal("free slots differ")
		}
	}
}

// TestSkiplistCloneCopiesStructure: a clone is the skiplist inserting
// every member again builds, shares no node, and stays itself while the
// original changes (and the other way round).
func TestSkiplistCloneCopiesStructure(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 17, 1000, 20000} {
		sl := newSkiplist()
		for i := range n {
			sl.add(fmt.Sprint("m", i), float64(r.IntN(n/3+1))) // ties too
		}
		for i := 0; i < n; i += 7 { // free slots, and a shorter list
			sl.remove(sl.dict[fmt.Sprint("m", i)])
		}
		c := sl.clone()
		sameSkiplist(t, c, rebuilt(sl))
		sameSkiplist(t, c, sl.clone())
		for i := 0; i < n; i += 3 {
			if x := c.dict[fmt.Sprint("m", i)]; x != nil {
				c.update(x, -float64(i))
			}
		}
		c.add("new", 0.5)
		sameSkiplist(t, c, rebuilt(c)) // the clone works as a skiplist
		if n > 0 {
			sameSkiplist(t, sl.clone(), rebuilt(sl)) // the original did not change
			if rk := c.byRank(c.length); rk != c.tail {
				t.Fatalf("n=%d: the last rank is %q, not the tail %q", n, rk.member, c.tail.member)
			}
		}
	}
}
