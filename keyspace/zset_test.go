package keyspace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// zmodel is the reference a ZSet is checked against: members sorted by
// (score, member).
type zmodel map[string]float64

func (m zmodel) sorted() []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b string) int {
		switch {
		case m[a] < m[b]:
			return -1
		case m[a] > m[b]:
			return 1
		}
		return strings.Compare(a, b)
	})
	return out
}

func zmembers(z *ZSet, rev bool) string {
	var b strings.Builder
	z.Range(0, rev, func(m []byte, s float64) bool { fmt.Fprintf(&b, "%s=%g ", m, s); return true })
	return b.String()
}

func checkZSet(t *testing.T, z *ZSet, m zmodel) {
	t.Helper()
	order := m.sorted()
	var want, wantRev strings.Builder
	for _, k := range order {
		fmt.Fprintf(&want, "%s=%g ", k, m[k])
	}
	for i := len(order) - 1; i >= 0; i-- {
		fmt.Fprintf(&wantRev, "%s=%g ", order[i], m[order[i]])
	}
	if z.Len() != len(m) || zmembers(z, false) != want.String() || zmembers(z, true) != wantRev.String() {
		t.Fatalf("%s set holds\n %s\nwant\n %s", z.Encoding(), zmembers(z, false), want.String())
	}
	for i, k := range order {
		if r, ok := z.Rank([]byte(k)); !ok || r != i {
			t.Fatalf("rank of %q: %d %v, want %d", k, r, ok, i)
		}
		if s, ok := z.Score([]byte(k)); !ok || s != m[k] {
			t.Fatalf("score of %q: %g %v", k, s, ok)
		}
		var got string
		z.Range(i, false, func(m []byte, _ float64) bool { got = string(m); return false })
		if got != k {
			t.Fatalf("member of rank %d: %q, want %q", i, got, k)
		}
	}
	if _, ok := z.Rank([]byte("absent")); ok {
		t.Fatal("rank of an absent member")
	}
}

// TestZSetOperations runs random changes on both encodings and checks
// order, ranks, scores and ranges against a model.
func TestZSetOperations(t *testing.T) {
	for _, enc := range []string{"listpack", "skiplist"} {
		t.Run(enc, func(t *testing.T) {
			lim := DefaultEncodingLimits()
			lim.ZsetMaxListpackEntries = 1 << 20
			if enc == "skiplist" {
				lim.ZsetMaxListpackEntries = 0
			}
			r := rand.New(rand.NewPCG(1, 2))
			z, m := NewZSetFor(1, 0, lim), zmodel{}
			for i := range 3000 {
				k := fmt.Sprintf("m%d", r.IntN(300))
				switch op := r.IntN(10); {
				case op < 6:
					s := float64(r.IntN(50)) / 4
					if r.IntN(20) == 0 {
						s = math.Inf(1 - 2*r.IntN(2))
					}
					_, had := m[k]
					if z.Set([]byte(k), s, lim) == had {
						t.Fatalf("Set(%q) reported new=%v", k, had)
					}
					m[k] = s
				case op < 9:
					_, had := m[k]
					if z.Remove([]byte(k)) != had {
						t.Fatalf("Remove(%q)", k)
					}
					delete(m, k)
				default:
					from := r.IntN(len(m) + 1)
					to := from + r.IntN(4)
					order := m.sorted()
					n := z.RemoveRange(from, to)
					if want := max(0, min(to, len(order))-from); n != want {
						t.Fatalf("RemoveRange(%d, %d) = %d, want %d", from, to, n, want)
					}
					for _, k := range order[from:min(to, len(order))] {
						delete(m, k)
					}
				}
				if z.Encoding().String() != enc {
					t.Fatalf("encoding %s", z.Encoding())
				}
				if i%100 == 0 || i > 2990 {
					checkZSet(t, z, m)
				}
			}
			// Search is a lower bound: members below a score.
			below := 0
			for _, s := range m {
				if s < 5 {
					below++
				}
			}
			if got := z.Search(func(_ []byte, s float64) bool { return s >= 5 }); got != below {
				t.Fatalf("Search: %d, want %d", got, below)
			}
		})
	}
}

// TestZSetSmallIncrements: score changes small enough that a member
// often keeps its place (updated in place) and sometimes passes a
// neighbour, or ties it, on a skiplist: order, ranks and scores stay
// the model's.
func TestZSetSmallIncrements(t *testing.T) {
	lim := DefaultEncodingLimits()
	lim.ZsetMaxListpackEntries = 0
	r := rand.New(rand.NewPCG(3, 4))
	z, m := NewZSetFor(1, 0, lim), zmodel{}
	for i := range 200 {
		k := fmt.Sprintf("m%03d", i)
		z.Set([]byte(k), float64(i), lim)
		m[k] = float64(i)
	}
	for i := range 4000 {
		k := fmt.Sprintf("m%03d", r.IntN(200))
		s := m[k] + float64(r.IntN(9)-4)/4
		if z.Set([]byte(k), s, lim) {
			t.Fatalf("Set(%q) reported a new member", k)
		}
		m[k] = s
		if i%50 == 0 {
			checkZSet(t, z, m)
		}
	}
	checkZSet(t, z, m)
}

// TestZSetConversion follows Redis's rules: listpack to skiplist past the
// entry count or on a long member, never back on removal; a fresh result
// converts back when it fits.
func TestZSetConversion(t *testing.T) {
	lim := DefaultEncodingLimits()
	lim.ZsetMaxListpackEntries, lim.ZsetMaxListpackValue = 3, 8
	z := NewZSet()
	for i, k := range []string{"a", "b", "c"} {
		z.Set([]byte(k), float64(i), lim)
	}
	if z.Encoding() != EncListpack {
		t.Fatal("3 members left a listpack")
	}
	z.Set([]byte("a"), 10, lim) // an update is no new member
	if z.Encoding() != EncListpack {
		t.Fatal("an update converted")
	}
	z.Set([]byte("d"), 3, lim)
	if z.Encoding() != EncSkiplist || zmembers(z, false) != "b=1 c=2 d=3 a=10 " {
		t.Fatalf("4 members: %s %s", z.Encoding(), zmembers(z, false))
	}
	z.Remove([]byte("a"))
	z.Remove([]byte("b"))
	if z.Encoding() != EncSkiplist {
		t.Fatal("a skiplist converted back on removal")
	}
	z.ConvertToListpackIfNeeded(lim)
	if z.Encoding() != EncListpack || zmembers(z, false) != "c=2 d=3 " {
		t.Fatalf("ConvertToListpackIfNeeded: %s %s", z.Encoding(), zmembers(z, false))
	}
	long := NewZSet()
	long.Set([]byte("123456789"), 1, lim)
	if long.Encoding() != EncSkiplist {
		t.Fatal("a long member kept a listpack")
	}
	long.ConvertToListpackIfNeeded(lim)
	if long.Encoding() != EncSkiplist {
		t.Fatal("a long member converted back")
	}
	if NewZSetFor(4, 1, lim).Encoding() != EncSkiplist || NewZSetFor(3, 9, lim).Encoding() != EncSkiplist ||
		NewZSetFor(3, 8, lim).Encoding() != EncListpack {
		t.Fatal("NewZSetFor")
	}
	// -0 is 0 in a listpack (as Redis's), itself in a skiplist.
	lp, sl := NewZSet(), NewZSetFor(1000, 0, lim)
	lp.Set([]byte("z"), math.Copysign(0, -1), lim)
	sl.Set([]byte("z"), math.Copysign(0, -1), lim)
	if s, _ := lp.Score([]byte("z")); math.Signbit(s) {
		t.Fatal("listpack kept -0")
	}
	if s, _ := sl.Score([]byte("z")); !math.Signbit(s) {
		t.Fatal("skiplist lost -0")
	}
}

func sampleZSet(n int, lim EncodingLimits) *ZSet {
	z := NewZSet()
	for i := range n + 1 {
		z.Set(fmt.Appendf(nil, "m%d", i), float64(i%7)+0.5, lim)
	}
	z.Set([]byte("neg"), math.Inf(-1), lim)
	z.Remove([]byte("m0"))
	return z
}

// TestZSetCloneAndSnapshot: a clone shares nothing that changes; a
// snapshot round trip keeps members, scores, encoding and scan slots;
// damaged bytes fail.
func TestZSetCloneAndSnapshot(t *testing.T) {
	lim := DefaultEncodingLimits()
	for _, n := range []int{1, 5, 300} {
		z := sampleZSet(n, lim)
		c := z.Clone().(*ZSet)
		want := zmembers(c, false)
		z.Set([]byte("m1"), 100, lim)
		z.Remove([]byte("m2"))
		z.Set([]byte("new"), 1, lim)
		if zmembers(c, false) != want {
			t.Fatal("a clone changed with its original")
		}
		b := c.AppendSnapshot(nil)
		o, err := decodeObject(KindZSet, c.Encoding(), b)
		if err != nil {
			t.Fatal(err)
		}
		d := o.(*ZSet)
		if zmembers(d, false) != want || d.Encoding() != c.Encoding() || d.Size() != c.Size() {
			t.Fatalf("round trip differs: %s %d/%d", d.Encoding(), d.Size(), c.Size())
		}
		var scanC, scanD []string
		for cur := uint64(0); ; {
			cur = c.Scan(cur, 7, func(m []byte, _ float64) { scanC = append(scanC, string(m)) })
			if cur == 0 {
				break
			}
		}
		for cur := uint64(0); ; {
			cur = d.Scan(cur, 7, func(m []byte, _ float64) { scanD = append(scanD, string(m)) })
			if cur == 0 {
				break
			}
		}
		if !slices.Equal(scanC, scanD) || len(scanC) != c.Len() {
			t.Fatal("scan order differs after a round trip")
		}
		for i := 0; i < len(b); i++ {
			if _, err := decodeObject(KindZSet, c.Encoding(), b[:i]); err == nil {
				t.Fatalf("truncated at %d decoded", i)
			}
		}
	}
	bad := map[string][]byte{
		"unordered": append([]byte{2}, append(lpAppend(nil, []byte("b"), 2), lpAppend(nil, []byte("a"), 1)...)...),
		"twice":     append([]byte{2}, append(lpAppend(nil, []byte("a"), 1), lpAppend(nil, []byte("a"), 1)...)...),
		"nan":       append([]byte{1}, lpAppend(nil, []byte("a"), math.NaN())...),
		"count":     append([]byte{3}, lpAppend(nil, []byte("a"), 1)...),
	}
	for name, b := range bad {
		if _, err := decodeObject(KindZSet, EncListpack, b); err == nil {
			t.Fatalf("%s: decoded", name)
		}
	}
	if _, err := decodeObject(KindZSet, EncSkiplist, []byte("\x02\x02a\x00\x00\x00\x00\x00\x00\xf0\x3f\x02a\x00\x00\x00\x00\x00\x00\xf0\x3f")); err == nil {
		t.Fatal("a skiplist member twice decoded")
	}
	if _, err := decodeObject(KindZSet, EncIntset, []byte("\x01\x02a\x02")); err == nil {
		t.Fatal("a sorted set encoded as an intset decoded")
	}
}

// TestZSetScanKeepsMembers: a member present for a whole scan of a
// skiplist is returned exactly once, whatever else changes meanwhile.
func TestZSetScanKeepsMembers(t *testing.T) {
	lim := DefaultEncodingLimits()
	lim.ZsetMaxListpackEntries = 0
	z := NewZSetFor(1, 0, lim)
	for i := range 200 {
		z.Set(fmt.Appendf(nil, "k%d", i), float64(i), lim)
	}
	seen := map[string]int{}
	r := rand.New(rand.NewPCG(3, 4))
	for cur, i := uint64(0), 0; ; i++ {
		cur = z.Scan(cur, 10, func(m []byte, _ float64) { seen[string(m)]++ })
		if cur == 0 {
			break
		}
		for range 5 { // churn among the t* members, rescore k*
			z.Set(fmt.Appendf(nil, "t%d", r.IntN(50)), 1, lim)
			z.Remove(fmt.Appendf(nil, "t%d", r.IntN(50)))
			z.Set(fmt.Appendf(nil, "k%d", r.IntN(200)), float64(r.IntN(1000)), lim)
		}
	}
	for i := range 200 {
		if n := seen[fmt.Sprintf("k%d", i)]; n != 1 {
			t.Fatalf("k%d returned %d times", i, n)
		}
	}
}

// TestZSetMemory: Size follows the data both ways and a small set stays a
// few bytes a member.
func TestZSetMemory(t *testing.T) {
	lim := DefaultEncodingLimits()
	z := NewZSet()
	empty := z.Size()
	for i := range 5 {
		z.Set(fmt.Appendf(nil, "m%d", i), float64(i), lim)
	}
	if s := z.Size(); s > 80 {
		t.Fatalf("5 small members take %d bytes", s)
	}
	lim.ZsetMaxListpackEntries = 0
	big := NewZSetFor(1, 0, lim)
	base := big.Size()
	for i := range 1000 {
		big.Set(fmt.Appendf(nil, "m%d", i), float64(i), lim)
	}
	if big.Size() < base+1000*100 {
		t.Fatalf("1000 skiplist members counted %d bytes", big.Size()-base)
	}
	for i := range 1000 {
		big.Remove(fmt.Appendf(nil, "m%d", i))
	}
	if big.Size() != base || big.Len() != 0 {
		t.Fatalf("emptied skiplist counts %d, was %d", big.Size(), base)
	}
	for i := range 5 {
		z.Remove(fmt.Appendf(nil, "m%d", i))
	}
	if z.Size() > empty+64 { // a small buffer may stay
		t.Fatalf("emptied listpack counts %d, was %d", z.Size(), empty)
	}
}

// BenchmarkZSetSetBig: ZADD of redis-benchmark's kind (a random member of
// 100k, a random score) on a skiplist sorted set, mostly score updates.
func BenchmarkZSetSetBig(b *testing.B) {
	const members = 100000
	lim := DefaultEncodingLimits()
	z := NewZSet()
	rng := rand.New(rand.NewPCG(1, 2))
	names := make([][]byte, members)
	for i := range names {
		names[i] = fmt.Appendf(nil, "element:%012d", i)
		z.Set(names[i], float64(rng.IntN(members)), lim)
	}
	b.ResetTimer()
	for range b.N {
		z.Set(names[rng.IntN(members)], float64(rng.IntN(members)), lim)
	}
}
