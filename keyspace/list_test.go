package keyspace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// listElems returns the list's elements head to tail, by walking it
// forward.
func listElems(l *List) []string {
	var out []string
	for it := l.Iter(0, false); ; {
		e, ok := it.Next()
		if !ok {
			return out
		}
		out = append(out, string(e))
	}
}

// checkList verifies the structure: counts, memory, nodes within the
// limit (a node of one entry may be larger), and both walks agreeing.
func checkList(t *testing.T, l *List, want []string, fill int64) {
	t.Helper()
	got := listElems(l)
	if !slices.Equal(got, want) {
		t.Fatalf("list %q, want %q", got, want)
	}
	if l.Len() != len(want) {
		t.Fatalf("Len %d, want %d", l.Len(), len(want))
	}
	var back []string
	for it := l.Iter(l.Len()-1, true); ; {
		e, ok := it.Next()
		if !ok {
			break
		}
		back = append(back, string(e))
	}
	slices.Reverse(back)
	if len(want) > 0 && !slices.Equal(back, want) {
		t.Fatalf("walked backwards %q, want %q", back, want)
	}
	n, mem := 0, int64(0)
	if len(l.ring) > 0 {
		mem = allocSize(len(l.ring) * listNodeBytes)
	}
	for i := range int(l.nn) {
		nd := l.node(i)
		if nd.n == 0 || !validNode(nd.buf, uint64(nd.n)) {
			t.Fatalf("node %d of %d entries is bad", i, nd.n)
		}
		if nd.n > 1 && !nodeFits(len(nd.buf), int(nd.n), fill) {
			t.Fatalf("node %d (%d entries, %d bytes) is over fill %d", i, nd.n, len(nd.buf), fill)
		}
		n += int(nd.n)
		mem += allocSize(cap(nd.buf))
	}
	if n != l.count || mem != l.mem {
		t.Fatalf("%d elements counted as %d, %d bytes as %d", n, l.count, mem, l.mem)
	}
}

// TestListModel applies random operations to a List and to a slice, at
// several node limits, and compares them after each.
func TestListModel(t *testing.T) {
	for _, fill := range []int64{-2, -1, 1, 2, 5, 128, 0, -6} {
		t.Run(fmt.Sprint(fill), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(fill+100), 7))
			l := NewList()
			var ref []string
			elem := func() string {
				switch r.IntN(10) {
				case 0:
					return strings.Repeat("x", r.IntN(3000)) // long: nodes of their own
				case 1:
					return ""
				}
				return fmt.Sprint(r.IntN(50))
			}
			longest := 0
			var clone *List
			var cloneRef []string
			for step := range 2500 {
				longest = max(longest, len(ref))
				// Every 50 steps: the clone taken 50 steps ago must not
				// have changed; it then takes a change of its own (which
				// the model check below would see if it reached l), and
				// a new clone is taken.
				if step%50 == 0 {
					if clone != nil {
						checkList(t, clone, cloneRef, fill)
						clone.Push([]byte("clone's"), step%100 == 0, fill)
						if clone.Len() > 1 {
							clone.Set(clone.Len()/2, []byte("clone's too"), fill)
						}
					}
					clone, cloneRef = l.Clone().(*List), slices.Clone(ref)
				}
				switch op := r.IntN(20) - 10; {
				case op < 3:
					e := elem()
					tail := r.IntN(2) == 0
					l.Push([]byte(e), tail, fill)
					if tail {
						ref = append(ref, e)
					} else {
						ref = slices.Insert(ref, 0, e)
					}
				case op == 3 && len(ref) > 0:
					tail := r.IntN(2) == 0
					got := l.Pop(tail)
					w := ref[0]
					if tail {
						w = ref[len(ref)-1]
						ref = ref[:len(ref)-1]
					} else {
						ref = ref[1:]
					}
					if string(got) != w {
						t.Fatalf("step %d: pop %q, want %q", step, got, w)
					}
				case op == 4 && len(ref) > 0:
					i := r.IntN(len(ref))
					e := elem()
					l.Set(i, []byte(e), fill)
					ref[i] = e
				case op == 5:
					pivot, e, after := fmt.Sprint(r.IntN(20)), elem(), r.IntN(2) == 0
					i := slices.Index(ref, pivot)
					p, found := l.Find([]byte(pivot), false)
					if found != (i >= 0) {
						t.Fatalf("step %d: insert found the pivot %v", step, i < 0)
					}
					if _, last := l.Find([]byte(pivot), true); last != found {
						t.Fatalf("step %d: found the pivot from one end only", step)
					}
					if i >= 0 {
						l.Insert(p, []byte(e), after, fill)
						if after {
							i++
						}
						ref = slices.Insert(ref, i, e)
					}
				case op == 6:
					e, count := fmt.Sprint(r.IntN(20)), int64(r.IntN(5)-2)
					got := l.Remove([]byte(e), count, fill)
					want := 0
					for k := 0; k < len(ref) && (count == 0 || int64(want) < max(count, -count)); {
						i := k
						if count < 0 {
							i = len(ref) - 1 - k
						}
						if ref[i] == e {
							ref = slices.Delete(ref, i, i+1)
							want++
							continue
						}
						k++
					}
					if got != want {
						t.Fatalf("step %d: removed %d, want %d", step, got, want)
					}
				case op == 7 && len(ref) > 0:
					n, tail := r.IntN(min(len(ref), 8)+3), r.IntN(2) == 0
					got := l.PopN(n, tail, fill)
					n = min(n, len(ref))
					var want []string
					if tail {
						want = slices.Clone(ref[len(ref)-n:])
						slices.Reverse(want)
						ref = ref[:len(ref)-n]
					} else {
						want = slices.Clone(ref[:n])
						ref = ref[n:]
					}
					gs := make([]string, len(got))
					for i, g := range got {
						gs[i] = string(g)
					}
					if !slices.Equal(gs, want) {
						t.Fatalf("step %d: popped %q, want %q", step, gs, want)
					}
				case op == 8 && len(ref) > 0:
					start := r.IntN(len(ref))
					n := r.IntN(min(len(ref)-start, 8) + 1)
					l.DelRange(start, n, fill)
					ref = slices.Delete(ref, start, start+n)
				case op == 9 && len(ref) > 0:
					i := r.IntN(2*len(ref)) - len(ref)
					e, ok := l.Index(i)
					if i < 0 {
						i += len(ref)
					}
					if !ok || string(e) != ref[i] {
						t.Fatalf("step %d: index %d is %q, want %q", step, i, e, ref[i])
					}
				}
				checkList(t, l, ref, fill)
			}
			if longest < 200 {
				t.Fatalf("the list grew to %d elements only", longest)
			}
		})
	}
}

// TestListNodes: pushes fill nodes to the limit and then start new ones;
// removals in the middle let neighbours merge back.
func TestListNodes(t *testing.T) {
	l := NewList()
	for i := range 10 {
		l.Push([]byte(fmt.Sprint(i)), true, 3)
	}
	if l.nn != 4 || l.node(0).n != 3 || l.node(3).n != 1 {
		t.Fatalf("10 elements at 3 a node: %d nodes", l.nn)
	}
	l.Remove([]byte("4"), 0, 3)
	l.Remove([]byte("3"), 0, 3)
	// [0 1 2] [5] [6 7 8] [9]: the lone 5 joins no full node...
	if l.nn != 4 {
		t.Fatalf("%d nodes after removals", l.nn)
	}
	l.Remove([]byte("8"), 0, 3)
	// ...and [5] [6 7] become one.
	if l.nn != 3 || l.node(1).n != 3 {
		t.Fatalf("%d nodes after the merge", l.nn)
	}
	// A byte limit: -1 is 4KB a node.
	b := NewList()
	for range 100 {
		b.Push(bytes.Repeat([]byte("y"), 100), false, -1)
	}
	// 40 entries of 102 bytes fill 4KB with the listpack's 7.
	if b.nn != 3 || b.node(1).n != 40 {
		t.Fatalf("%d nodes of 4KB for 100 elements of 100 bytes", b.nn)
	}
	// LSET of an element too big for its node splits the node.
	b.Set(50, bytes.Repeat([]byte("z"), 4000), -1)
	if e, _ := b.Index(50); len(e) != 4000 {
		t.Fatal("LSET lost the element")
	}
	checkList(t, b, listElems(b), -1)
}

// TestListSnapshot: a list restores to the same elements and nodes; Clone
// is independent of its source; corrupt bytes are errors.
func TestListSnapshot(t *testing.T) {
	l := NewList()
	for i := range 2000 {
		l.Push([]byte(strings.Repeat("e", i%300)), i%2 == 0, -2)
	}
	enc := l.AppendSnapshot(nil)
	o, err := decodeList(EncQuicklist, enc)
	if err != nil {
		t.Fatal(err)
	}
	r := o.(*List)
	if !slices.Equal(listElems(r), listElems(l)) || r.nn != l.nn || r.Size() > l.Size() {
		t.Fatal("restored list differs")
	}
	checkList(t, r, listElems(l), -2)
	c := l.Clone().(*List)
	c.Pop(true)
	c.Set(0, []byte("changed"), -2)
	if e, _ := l.Index(0); string(e) == "changed" || l.Len() != 2000 {
		t.Fatal("a clone's change reached its source")
	}
	if c.Size() > l.Size() {
		t.Fatalf("clone holds %d bytes, source %d", c.Size(), l.Size())
	}
	for _, bad := range [][]byte{nil, {0}, {1, 0, 0}, {1, 1, 2, 1, 1}, {1, 1, 3, 0x80, 0, 1}, append(enc, 0)} {
		if _, err := decodeList(EncQuicklist, bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	if _, err := decodeList(EncListpack, enc); err == nil {
		t.Error("a listpack list decoded")
	}
	// Truncations fail and none panics.
	for i := 0; i < len(enc); i += 1 + i/16 {
		if _, err := decodeList(EncQuicklist, enc[:i]); err == nil {
			t.Fatalf("truncated at %d decoded", i)
		}
	}
}

// TestListSize: small lists cost about what Redis's quicklists do.
func TestListSize(t *testing.T) {
	l := NewList()
	for _, e := range []string{"a", "bb", "ccc", "dddd", "eeeee"} {
		l.Push([]byte(e), true, -2)
	}
	// Redis: robj 16 + quicklist 48 + node 32 + listpack 32 = 128.
	if s := l.Size(); s > 144 {
		t.Fatalf("a list of 5 short elements holds %d bytes", s)
	}
}
