package keyspace

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"testing"
)

// checkIntset: the set holds want, ascending, in the width Redis would
// have given it, with its capacity its length's size class.
func checkIntset(t *testing.T, s *Set, want []int64, width int) {
	t.Helper()
	is := s.ints()
	if s.Encoding() != EncIntset || s.Len() != len(want) || is.len() != len(want) {
		t.Fatalf("%s of %d, want an intset of %d", s.Encoding(), s.Len(), len(want))
	}
	if len(want) == 0 {
		if s.is != nil || s.Size() != setBytes {
			t.Fatalf("empty intset keeps %d bytes", s.Size())
		}
		return
	}
	if is.width() != width || len(is) != intsetHeader+len(want)*width || int64(cap(is)) != allocSize(len(is)) {
		t.Fatalf("width %d (want %d), len %d, cap %d", is.width(), width, len(is), cap(is))
	}
	var got []int64
	for i := range is.len() {
		got = append(got, is.get(i))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("members %v, want %v", got, want)
	}
	if s.Size() != setBytes+allocSize(len(is)) {
		t.Fatalf("size %d for %d bytes", s.Size(), len(is))
	}
}

// TestIntsetWidths: the width is the least that holds every member,
// grows with a member that needs more (first or last) and never shrinks.
func TestIntsetWidths(t *testing.T) {
	s := NewSet()
	add := func(v int64) { s.Add([]byte(strconv.FormatInt(v, 10)), 512) }
	rem := func(v int64) { s.Remove([]byte(strconv.FormatInt(v, 10))) }
	add(5)
	add(math.MaxInt16)
	add(math.MinInt16)
	checkIntset(t, s, []int64{math.MinInt16, 5, math.MaxInt16}, 2)
	add(math.MaxInt16 + 1)
	checkIntset(t, s, []int64{math.MinInt16, 5, math.MaxInt16, math.MaxInt16 + 1}, 4)
	add(math.MinInt32)
	add(math.MaxInt32)
	checkIntset(t, s, []int64{math.MinInt32, math.MinInt16, 5, math.MaxInt16, math.MaxInt16 + 1, math.MaxInt32}, 4)
	add(math.MinInt32 - 1)
	checkIntset(t, s, []int64{math.MinInt32 - 1, math.MinInt32, math.MinInt16, 5, math.MaxInt16, math.MaxInt16 + 1, math.MaxInt32}, 8)
	for _, v := range []int64{math.MinInt32 - 1, math.MaxInt32, math.MinInt32, math.MaxInt16 + 1} {
		rem(v)
	}
	checkIntset(t, s, []int64{math.MinInt16, 5, math.MaxInt16}, 8)
	add(math.MaxInt64)
	add(math.MinInt64)
	checkIntset(t, s, []int64{math.MinInt64, math.MinInt16, 5, math.MaxInt16, math.MaxInt64}, 8)
	for _, v := range []int64{math.MinInt64, math.MinInt16, 5, math.MaxInt16, math.MaxInt64} {
		rem(v)
	}
	checkIntset(t, s, nil, 0)
	add(-3)
	checkIntset(t, s, []int64{-3}, 2)
}

// TestIntsetModel: random adds and removals across the widths, up to
// the conversion, agree with a sorted slice, and keep the intset's
// capacity its size class throughout; a clone is independent.
func TestIntsetModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pick := func() int64 {
		switch r.IntN(4) {
		case 0:
			return int64(r.IntN(200)) - 100
		case 1:
			return int64(r.IntN(1<<20)) - 1<<19
		case 2:
			return int64(r.Uint64())
		}
		return int64(r.IntN(60000)) - 30000
	}
	for round := range 50 {
		s := NewSet()
		var want []int64
		width := 2
		for range 300 {
			v := pick()
			i, found := slices.BinarySearch(want, v)
			if r.IntN(3) == 0 && len(want) > 0 {
				v = want[r.IntN(len(want))]
				i, found = slices.BinarySearch(want, v)
			}
			m := []byte(strconv.FormatInt(v, 10))
			if r.IntN(2) == 0 {
				if s.Remove(m) != found {
					t.Fatalf("round %d: remove %d: %v, want %v", round, v, !found, found)
				}
				if found {
					want = slices.Delete(want, i, i+1)
				}
			} else {
				if s.Add(m, 512) == found {
					t.Fatalf("round %d: add %d: %v, want %v", round, v, found, !found)
				}
				if !found {
					want = slices.Insert(want, i, v)
					width = max(width, intsetWidth(v))
				}
			}
			if len(want) == 0 {
				width = 2
			}
			checkIntset(t, s, want, width)
			if s.Has(m) != slices.Contains(want, v) {
				t.Fatalf("round %d: has %d", round, v)
			}
		}
		if len(want) > 0 {
			c := s.Clone().(*Set)
			s.Remove([]byte(strconv.FormatInt(want[0], 10)))
			s.Add([]byte("12345"), 512)
			checkIntset(t, c, want, width)
		}
	}
}

// TestIntsetSizeHonest: Size is what building sets really takes from
// the Go heap, for sets as bench/types.sh loads (5 integers) and larger.
func TestIntsetSizeHonest(t *testing.T) {
	if allocSize(int(setBytes)) != setBytes || allocSize(int(setTableBytes)) != setTableBytes {
		t.Fatalf("a Set (%d B) or setTable (%d B) is not a size class", setBytes, setTableBytes)
	}
	for _, elems := range []int{5, 40} {
		var buf [20]byte
		size := sizeHonest(t, fmt.Sprintf("sets of %d", elems), func(i int) Object {
			s := NewSet()
			for j := range elems {
				s.Add(strconv.AppendInt(buf[:0], int64(elems*i+j), 10), 512)
			}
			return s
		})
		if elems == 5 && size > 60 {
			t.Errorf("a set of 5 integers takes %d bytes", size)
		}
	}
}

// sizeHonest builds 100k values and fails unless the sum of their Size
// is within 5% of what the Go heap grew by; it returns Size a value.
func sizeHonest(t *testing.T, what string, build func(i int) Object) int64 {
	t.Helper()
	const n = 100000
	objs := make([]Object, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var size int64
	for i := range objs {
		objs[i] = build(i)
		size += objs[i].Size()
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d %s: Size %d B each, heap %d B each", n, what, size/n, heap/n)
	if diff := heap - size; diff < -size/20 || diff > size/20 {
		t.Errorf("%d %s: Size %d B each, the heap grew %d B each", n, what, size/n, heap/n)
	}
	runtime.KeepAlive(objs)
	return size / n
}

// TestSetOldSnapshots: snapshots written before the intset was packed
// (same format: count, then the integers as varints) still load, to the
// same members and encoding, and are written back byte for byte.
func TestSetOldSnapshots(t *testing.T) {
	cases := []struct {
		enc  Encoding
		data string
		want []string
	}{
		{EncIntset, "\x05\xff\xf0\x04\x01\n\xe0\xc5\b\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01",
			[]string{"-40000", "-1", "5", "70000", "9223372036854775807"}},
		{EncHashtable, "\x04\x00\x01\x03bc\x02d", []string{"", "bc", "d"}},
	}
	for _, c := range cases {
		o, err := decodeSet(c.enc, []byte(c.data))
		if err != nil {
			t.Fatalf("%q: %v", c.data, err)
		}
		s := o.(*Set)
		if got := members(s); s.Encoding() != c.enc || !slices.Equal(got, c.want) {
			t.Fatalf("%q: %s %q, want %s %q", c.data, s.Encoding(), got, c.enc, c.want)
		}
		if string(s.AppendSnapshot(nil)) != c.data {
			t.Fatalf("%q written back as %q", c.data, s.AppendSnapshot(nil))
		}
	}
	if s, _ := decodeSet(EncIntset, []byte(cases[0].data)); s.(*Set).ints().width() != 8 {
		t.Fatal("an intset holding an int64 decoded narrower")
	}
}
