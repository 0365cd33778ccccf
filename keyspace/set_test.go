package keyspace

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"testing"
)

func members(s *Set) []string {
	var out []string
	s.Each(func(m []byte) bool { out = append(out, string(m)); return true })
	return out
}

// TestSetEncoding: an intset while every member is a canonical integer and
// there are at most set-max-intset-entries, ascending; a hashtable after,
// for good.
func TestSetEncoding(t *testing.T) {
	cases := []struct {
		add  []string
		max  int64
		enc  Encoding
		want []string // nil: any order
	}{
		{[]string{"3", "-1", "2", "3"}, 512, EncIntset, []string{"-1", "2", "3"}},
		{[]string{"9223372036854775807", "-9223372036854775808"}, 512, EncIntset, []string{"-9223372036854775808", "9223372036854775807"}},
		{[]string{"1", "a"}, 512, EncHashtable, nil},
		{[]string{"01"}, 512, EncHashtable, nil},
		{[]string{"-0"}, 512, EncHashtable, nil},
		{[]string{"+1"}, 512, EncHashtable, nil},
		{[]string{"9223372036854775808"}, 512, EncHashtable, nil},
		{[]string{"1", "2", "3"}, 2, EncHashtable, nil},
		{[]string{"1", "2"}, 2, EncIntset, []string{"1", "2"}},
		{[]string{""}, 512, EncHashtable, []string{""}},
	}
	for _, c := range cases {
		s := NewSet()
		for _, m := range c.add {
			s.Add([]byte(m), c.max)
		}
		if s.Encoding() != c.enc {
			t.Errorf("%q max %d: %s, want %s", c.add, c.max, s.Encoding(), c.enc)
		}
		got := members(s)
		if c.want != nil && !slices.Equal(got, c.want) {
			t.Errorf("%q: members %q, want %q", c.add, got, c.want)
		}
		uniq := slices.Compact(slices.Sorted(slices.Values(c.add)))
		if s.Len() != len(uniq) || len(got) != len(uniq) {
			t.Errorf("%q: len %d, %d members", c.add, s.Len(), len(got))
		}
	}
	s := NewSet()
	s.Add([]byte("1"), 512)
	s.Add([]byte("x"), 512)
	s.Remove([]byte("x"))
	if s.Encoding() != EncHashtable || !s.Has([]byte("1")) || s.Has([]byte("x")) {
		t.Fatal("a hashtable went back to an intset, or lost a member")
	}
}

// TestSetSlots: removed members free their slots, reused lowest first;
// a scan returns every member present throughout exactly once.
func TestSetSlots(t *testing.T) {
	s := NewSet()
	for i := range 100 {
		s.Add([]byte("m"+strconv.Itoa(i)), 512)
	}
	var seen []string
	cur := s.Scan(0, 10, func(m []byte) { seen = append(seen, string(m)) })
	for i := 0; i < 100; i += 3 { // changes while scanning
		s.Remove([]byte("m" + strconv.Itoa(i)))
		s.Add([]byte("n"+strconv.Itoa(i)), 512)
	}
	for cur != 0 {
		cur = s.Scan(cur, 10, func(m []byte) { seen = append(seen, string(m)) })
	}
	for i := range 100 {
		m := "m" + strconv.Itoa(i)
		if n := bytes.Count([]byte(fmt.Sprint(seen)), []byte(" "+m+" ")); i%3 != 0 && slices.Index(seen, m) < 0 {
			t.Fatalf("%s missed (%d)", m, n)
		}
	}
	for i := range 100 {
		s.Remove([]byte("m" + strconv.Itoa(i)))
		s.Remove([]byte("n" + strconv.Itoa(i)))
	}
	if s.Len() != 0 || len(s.ht.slots) != 0 {
		t.Fatalf("len %d, %d slots", s.Len(), len(s.ht.slots))
	}
}

func TestSetCloneSnapshotMemory(t *testing.T) {
	for _, ms := range [][]string{{"1", "5", "-7"}, {"a", "", "b", "c", "d"}} {
		s := NewSet()
		for _, m := range ms {
			s.Add([]byte(m), 512)
		}
		s.Remove([]byte(ms[1]))
		c := s.Clone().(*Set)
		s.Add([]byte("99"), 512)
		if c.Has([]byte("99")) || c.Len() != len(ms)-1 {
			t.Fatal("the clone shares the original's memory")
		}
		b := c.AppendSnapshot(nil)
		d, err := decodeSet(c.Encoding(), b)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := members(d.(*Set)), members(c); !slices.Equal(got, want) || d.Encoding() != c.Encoding() {
			t.Fatalf("round trip: %q, want %q", got, want)
		}
		if !bytes.Equal(d.AppendSnapshot(nil), b) {
			t.Fatal("round trip changed the slots")
		}
		for i := range b { // corrupt prefixes fail
			if _, err := decodeSet(c.Encoding(), b[:i]); err == nil {
				t.Fatalf("prefix of %d bytes decoded", i)
			}
		}
		if small, big := c.Size(), s.Size(); small <= 0 || big < small {
			t.Fatalf("sizes %d, %d", small, big)
		}
	}
	big := NewSet()
	for i := range 1000 {
		big.Add([]byte("member"+strconv.Itoa(i)), 512)
	}
	if big.Size() < 1000*40 {
		t.Fatalf("1000 members in %d bytes", big.Size())
	}
}

func TestSetInStore(t *testing.T) {
	d := New(1).DB(0)
	add := func(m string) func(Object) { return func(o Object) { o.(*Set).Add([]byte(m), 512) } }
	mk := func() Object { return NewSet() }
	d.Update([]byte("s"), t0, KindSet, mk, add("1"))
	d.Update([]byte("s"), t0, KindSet, mk, add("x"))
	e, err := d.Lookup([]byte("s"), t0, KindSet)
	if err != nil || e.Encoding() != EncHashtable || e.Kind().String() != "set" {
		t.Fatalf("%v %v", e, err)
	}
	v := e.Clone()
	d.Set([]byte("c"), v, 0)
	d.Update([]byte("s"), t0, KindSet, nil, func(o Object) { o.(*Set).Remove([]byte("1")); o.(*Set).Remove([]byte("x")) })
	if d.Exists([]byte("s"), t0) || !d.Exists([]byte("c"), t0) {
		t.Fatal("empty set kept, or the copy went with it")
	}
}

// FuzzDecodeSet: any bytes decode or fail with an error, never a panic;
// what decodes encodes to bytes that decode to the same set.
func FuzzDecodeSet(f *testing.F) {
	ints, ht := NewSet(), NewSet()
	ints.Add([]byte("5"), 512)
	ints.Add([]byte("-5"), 512)
	ht.Add([]byte(""), 512)
	ht.Add([]byte("a"), 512)
	ht.Add([]byte("b"), 512)
	ht.Remove([]byte("a"))
	f.Add(byte(EncIntset), ints.AppendSnapshot(nil))
	f.Add(byte(EncHashtable), ht.AppendSnapshot(nil))
	f.Fuzz(func(t *testing.T, enc byte, data []byte) {
		o, err := decodeSet(Encoding(enc), data)
		if err != nil {
			return
		}
		b := o.AppendSnapshot(nil)
		o2, err := decodeSet(Encoding(enc), b)
		if err != nil || !bytes.Equal(o2.AppendSnapshot(nil), b) {
			t.Fatalf("%q encodes as %q, which does not decode alike: %v", data, b, err)
		}
		s := o.(*Set)
		s.Add([]byte("-70000"), 512) // widens an intset
		s.Remove([]byte("-70000"))
		s.Add([]byte("new"), 512)
		s.Remove([]byte("new"))
		s.Scan(0, 3, func([]byte) {})
	})
}

// TestSetRandomSparse: a hashtable left mostly free slots by removals
// still picks its remaining members.
func TestSetRandomSparse(t *testing.T) {
	s := NewSet()
	for i := range 1000 {
		s.Add([]byte("m"+strconv.Itoa(i)), 512)
	}
	for i := range 999 {
		s.Remove([]byte("m" + strconv.Itoa(i)))
	}
	s.Add([]byte("x"), 512) // takes slot 0
	seen := map[string]bool{}
	for range 200 {
		seen[string(s.Random())] = true
	}
	if len(seen) != 2 || !seen["x"] || !seen["m999"] {
		t.Fatalf("random picks %v", seen)
	}
}

// TestSetSizeKept: the running count of the members' bytes matches a
// recount after adds, removals, conversion and a snapshot round trip.
func TestSetSizeKept(t *testing.T) {
	recount := func(s *Set) int64 {
		var n int64
		s.Each(func(m []byte) bool { n += allocSize(len(m)); return true })
		return n
	}
	s := NewSet()
	for i := range 600 { // converts at 513
		s.Add([]byte(strconv.Itoa(i*7)), 512)
	}
	for i := range 300 {
		s.Remove([]byte(strconv.Itoa(i * 14)))
		s.Add([]byte("long member "+strconv.Itoa(i)), 512)
	}
	if s.ht.strBytes != recount(s) {
		t.Fatalf("kept %d, recount %d", s.ht.strBytes, recount(s))
	}
	d, err := decodeSet(EncHashtable, s.AppendSnapshot(nil))
	// (Sizes differ by the slices' spare capacity; the members' bytes not.)
	if err != nil || d.(*Set).ht.strBytes != s.ht.strBytes || s.Clone().(*Set).ht.strBytes != s.ht.strBytes {
		t.Fatalf("members' bytes %d (decoded, %v), %d (clone), %d", d.(*Set).ht.strBytes, err, s.Clone().(*Set).ht.strBytes, s.ht.strBytes)
	}
}
