package keyspace

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

const t0 = int64(1_700_000_000_000)

func key(i int) []byte { return []byte(fmt.Sprintf("key:%d", i)) }

func TestDBSetGetDelete(t *testing.T) {
	d := New(1).DB(0)
	cases := []struct {
		name string
		run  func() any
		want any
	}{
		{"get absent", func() any { return d.Get([]byte("a"), t0) == nil }, true},
		{"delete absent", func() any { return d.Delete([]byte("a"), t0) }, false},
		{"set", func() any { d.Set([]byte("a"), NewString([]byte("1")), 0); return d.Len() }, 1},
		{"get", func() any { return string(d.Get([]byte("a"), t0).Bytes()) }, "1"},
		{"exists", func() any { return d.Exists([]byte("a"), t0) }, true},
		{"no deadline", func() any { return d.Deadline([]byte("a")) }, int64(0)},
		{"set deadline", func() any { return d.SetDeadline([]byte("a"), t0+10) }, true},
		{"expires counted", func() any { return d.Expires() }, 1},
		{"deadline absent key", func() any { return d.SetDeadline([]byte("b"), t0) }, false},
		{"alive before deadline", func() any { return d.Exists([]byte("a"), t0+9) }, true},
		{"expired at deadline", func() any { return d.Get([]byte("a"), t0+10) == nil }, true},
		{"read leaves it", func() any { return d.Len() }, 1},
		{"replace keeps deadline", func() any {
			d.Replace([]byte("a"), NewString([]byte("2")))
			return d.Deadline([]byte("a"))
		}, t0 + 10},
		{"set clears deadline", func() any { d.Set([]byte("a"), NewString([]byte("3")), 0); return d.Expires() }, 0},
		{"persist via SetDeadline 0", func() any {
			d.SetDeadline([]byte("a"), t0+5)
			d.SetDeadline([]byte("a"), 0)
			return d.Expires()
		}, 0},
		{"get for write deletes expired", func() any {
			d.SetDeadline([]byte("a"), t0)
			return []any{d.GetForWrite([]byte("a"), t0) == nil, d.Len(), d.Expires()}
		}, []any{true, 0, 0}},
		{"delete of expired counts as absent", func() any {
			d.Set([]byte("b"), NewString([]byte("x")), t0)
			return []any{d.Delete([]byte("b"), t0), d.Len()}
		}, []any{false, 0}},
		{"delete live", func() any {
			d.Set([]byte("c"), NewString([]byte("x")), 0)
			return []any{d.Delete([]byte("c"), t0), d.Len()}
		}, []any{true, 0}},
	}
	for _, c := range cases {
		if got := c.run(); fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

// scanAll runs a whole SCAN with count, calling between(callIndex) after
// every call, and returns how many times each key came back.
func scanAll(t *testing.T, d *DB, count int, now int64, between func(int)) map[string]int {
	t.Helper()
	seen := map[string]int{}
	var cursor uint64
	for call := 0; ; call++ {
		cursor = d.Scan(cursor, count, now, func(k string, _ *Entry) { seen[k]++ })
		if cursor == 0 {
			return seen
		}
		if call > 100_000 {
			t.Fatal("scan does not end")
		}
		between(call)
	}
}

func TestScanVisitsEveryKeyOnce(t *testing.T) {
	for _, count := range []int{1, 2, 10, 1000} {
		d := New(1).DB(0)
		for i := range 100 {
			d.Set(key(i), NewString([]byte("v")), 0)
		}
		seen := scanAll(t, d, count, t0, func(int) {})
		if len(seen) != 100 {
			t.Errorf("count %d: %d keys seen", count, len(seen))
		}
		for k, n := range seen {
			if n != 1 {
				t.Errorf("count %d: %s seen %d times", count, k, n)
			}
		}
	}
}

func TestScanSkipsExpired(t *testing.T) {
	d := New(1).DB(0)
	d.Set([]byte("live"), NewString([]byte("v")), t0+1)
	d.Set([]byte("dead"), NewString([]byte("v")), t0)
	seen := scanAll(t, d, 10, t0, func(int) {})
	if len(seen) != 1 || seen["live"] != 1 {
		t.Fatalf("seen %v", seen)
	}
}

// TestScanUnderChurn is the SCAN guarantee: while keys are deleted and
// inserted between calls (first shrinking the keyspace enough to compact
// it, then replacing keys one for one), each key present for the whole
// scan comes back exactly once, none comes back twice, and the scan ends
// even when every call sees more inserts than its COUNT.
func TestScanUnderChurn(t *testing.T) {
	for seed := range uint64(30) {
		rng := rand.New(rand.NewPCG(seed, 7))
		d := New(1).DB(0)
		var stable, pool [][]byte
		for i := range 1000 {
			k := key(i)
			d.Set(k, NewString([]byte("v")), 0)
			if rng.IntN(4) == 0 {
				stable = append(stable, k)
			} else {
				pool = append(pool, k)
			}
		}
		next := 1000
		count := 1 + rng.IntN(8)
		del := func() {
			i := rng.IntN(len(pool))
			if !d.Delete(pool[i], t0) {
				t.Fatalf("delete %s failed", pool[i])
			}
			pool[i] = pool[len(pool)-1]
			pool = pool[:len(pool)-1]
		}
		ins := func() {
			k := key(next)
			next++
			d.Set(k, NewString([]byte("v")), 0)
			pool = append(pool, k)
		}
		seen := scanAll(t, d, count, t0, func(call int) {
			if call < 40 {
				for range 20 {
					del()
				}
				for range 5 {
					ins()
				}
			} else {
				for range 10 {
					del()
					ins()
				}
			}
			// Rewriting a key in place must not move it in scan order.
			d.Set(stable[rng.IntN(len(stable))], NewString([]byte("w")), 0)
		})
		for _, k := range stable {
			if seen[string(k)] != 1 {
				t.Fatalf("seed %d: stable key %s seen %d times", seed, k, seen[string(k)])
			}
		}
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("seed %d: %s seen %d times", seed, k, n)
			}
		}
		// New keys reuse the lowest free slots: 1000 keys at most fit one page.
		if d.slots.limit() > pageSize {
			t.Fatalf("seed %d: slots grew to %d for %d keys", seed, d.slots.limit(), d.Len())
		}
	}
}

// TestSlotsReused: a deleted key's slot goes to the next new key (the
// lowest free slot first), a page left empty is given back, and a cursor
// taken before the deletes resumes where it was.
func TestSlotsReused(t *testing.T) {
	d := New(1).DB(0)
	for i := range 3 * pageSize {
		d.Set(key(i), NewString([]byte("v")), 0)
	}
	full := d.UsedMemory()
	var cursor uint64
	var first []string
	cursor = d.Scan(0, 2*pageSize+50, t0, func(k string, _ *Entry) { first = append(first, k) })
	if cursor != 2*pageSize+50 {
		t.Fatalf("cursor %d after %d keys", cursor, len(first))
	}
	for i := range 2 * pageSize {
		d.Delete(key(i), t0)
	}
	if d.slots.pages[0] != nil || d.slots.pages[1] != nil {
		t.Fatal("empty pages kept")
	}
	if got := d.UsedMemory(); got >= full-2*pageBytes {
		t.Fatalf("used memory %d after freeing two pages of %d", got, full)
	}
	var rest []string
	for cursor != 0 {
		cursor = d.Scan(cursor, 7, t0, func(k string, _ *Entry) { rest = append(rest, k) })
	}
	var want []string
	for i := 2*pageSize + 50; i < 3*pageSize; i++ {
		want = append(want, string(key(i)))
	}
	if !slices.Equal(rest, want) {
		t.Fatalf("resumed scan: got %d keys %q...", len(rest), rest[:min(3, len(rest))])
	}
	d.Set([]byte("new"), NewString([]byte("v")), 0)
	if _, e := d.lookup([]byte("new")); e == nil || d.slotEntry(0) != e {
		t.Fatal("a new key did not take slot 0")
	}
}

func TestEach(t *testing.T) {
	d := New(1).DB(0)
	for i := range 10 {
		d.Set(key(i), NewString([]byte("v")), 0)
	}
	d.SetDeadline(key(3), t0)
	d.Delete(key(5), t0)
	var got []string
	d.Each(t0, func(k string, _ *Entry) bool { got = append(got, k); return len(got) < 5 })
	want := []string{"key:0", "key:1", "key:2", "key:4", "key:6"}
	if !slices.Equal(got, want) {
		t.Fatalf("Each = %q, want %q", got, want)
	}
}

func TestRandomKey(t *testing.T) {
	d := New(1).DB(0)
	if _, ok := d.RandomKey(t0); ok {
		t.Fatal("RandomKey on an empty db")
	}
	d.Set([]byte("dead"), NewString([]byte("v")), t0)
	if k, ok := d.RandomKey(t0); ok {
		t.Fatalf("RandomKey returned expired %q", k)
	}
	for i := range 5 {
		d.Set(key(i), NewString([]byte("v")), 0)
	}
	seen := map[string]bool{}
	for range 500 {
		k, ok := d.RandomKey(t0)
		if !ok || k == "dead" {
			t.Fatalf("RandomKey = %q, %v", k, ok)
		}
		seen[k] = true
	}
	if len(seen) != 5 {
		t.Fatalf("500 draws saw %d of 5 keys", len(seen))
	}
	// Mostly expired keys: the fallback still finds the live one.
	d2 := New(1).DB(0)
	for i := range 1000 {
		d2.Set(key(i), NewString([]byte("v")), t0)
	}
	d2.Set([]byte("live"), NewString([]byte("v")), 0)
	for range 20 {
		if k, ok := d2.RandomKey(t0); !ok || k != "live" {
			t.Fatalf("RandomKey = %q, %v; want live", k, ok)
		}
	}
}

func TestSampleExpired(t *testing.T) {
	d := New(1).DB(0)
	if got := d.SampleExpired(10, t0); len(got) != 0 {
		t.Fatalf("empty db sampled %q", got)
	}
	for i := range 100 {
		deadline := t0 + 1000 // alive
		if i%2 == 0 {
			deadline = t0 - int64(i) // expired
		}
		d.Set(key(i), NewString([]byte("v")), deadline)
	}
	d.Set([]byte("nottl"), NewString([]byte("v")), 0)
	got := d.SampleExpired(10, t0)
	if len(got) == 0 || len(got) > 10 {
		t.Fatalf("sampled %d keys, want 1..10", len(got))
	}
	for _, k := range got {
		if dl := d.Deadline(k); dl == 0 || dl > t0 {
			t.Fatalf("sampled %s with deadline %d", k, dl)
		}
	}
	if d.Len() != 101 {
		t.Fatal("SampleExpired changed the db")
	}
	if got := d.SampleExpired(10, t0-1000); len(got) != 0 {
		t.Fatalf("nothing is expired yet, sampled %q", got)
	}
}

func TestStoreFlushAndSwap(t *testing.T) {
	s := New(3)
	for i := range 3 {
		s.DB(i).Set([]byte("k"), NewString([]byte{byte('0' + i)}), 0)
	}
	s.Swap(0, 2)
	if got := string(s.DB(0).Get([]byte("k"), t0).Bytes()); got != "2" {
		t.Fatalf("after Swap db 0 holds %q", got)
	}
	s.Swap(1, 1)
	s.FlushDB(1)
	if s.DB(1).Len() != 0 || s.DB(0).Len() != 1 || s.DB(2).Len() != 1 {
		t.Fatal("FlushDB touched the wrong databases")
	}
	s.FlushAll()
	for i := range 3 {
		if s.DB(i).Len() != 0 {
			t.Fatalf("db %d not empty after FlushAll", i)
		}
	}
}

// TestValueShared: the values Redis 7.0.15 answers OBJECT REFCOUNT
// 2147483647 for are the int-encoded 0..9999, unless COPY made them.
func TestValueShared(t *testing.T) {
	d := New(1).DB(0)
	d.Set([]byte("five"), NewInt(5), 0)
	d.Set([]byte("copy"), d.Get([]byte("five"), t0).Clone(), 0)
	for _, c := range []struct {
		v    Value
		want bool
	}{
		{NewString([]byte("0")), true},
		{NewString([]byte("9999")), true},
		{NewString([]byte("10000")), false},
		{NewString([]byte("-1")), false},
		{NewString([]byte("01")), false},
		{NewString([]byte("abc")), false},
		{NewInt(5), true},
		{d.Get([]byte("copy"), t0).Clone(), false},
		{NewRawString([]byte("5")), false},
		{NewStringObject([]byte("5")), false},
	} {
		d.Set([]byte("k"), c.v, 0)
		e := d.Get([]byte("k"), t0)
		if got := e.Shared(); got != c.want {
			t.Errorf("%q (%s): Shared = %v, want %v", e.Bytes(), e.Encoding(), got, c.want)
		}
	}
}

// TestAdoptString: a large string given up by its caller is stored as
// those very bytes, encoded as NewString would encode it; a small one is
// copied as NewString's is.
func TestAdoptString(t *testing.T) {
	d := New(1).DB(0)
	big := make([]byte, adoptMin+1)
	for i := range big {
		big[i] = byte(i)
	}
	for _, b := range [][]byte{[]byte("12"), []byte("short"), make([]byte, 100), make([]byte, adoptMin), big} {
		d.Set([]byte("k"), AdoptString(b), 0)
		e := d.Get([]byte("k"), t0)
		d.Set([]byte("n"), NewString(b), 0)
		want := d.Get([]byte("n"), t0).Encoding()
		if e.Encoding() != want || string(e.Bytes()) != string(b) {
			t.Errorf("%d bytes: stored %d bytes encoded %s, want %s", len(b), len(e.Bytes()), e.Encoding(), want)
		}
		if kept := &e.Bytes()[0] == &b[0]; kept != (len(b) > adoptMin) {
			t.Errorf("%d bytes: kept the caller's bytes: %v", len(b), kept)
		}
	}
	// Kept bytes never change: APPEND and SETRANGE change a copy, as they
	// do an inline string's, and COPY shares them.
	d.Set([]byte("k"), AdoptString(big), 0)
	d.Set([]byte("c"), d.Get([]byte("k"), t0).Clone(), 0)
	d.SetRange([]byte("k"), 0, []byte("xy"))
	if n := d.Append([]byte("k"), []byte("z")); n != len(big)+1 {
		t.Errorf("APPEND: length %d", n)
	}
	got, c := d.Get([]byte("k"), t0).Bytes(), d.Get([]byte("c"), t0).Bytes()
	if string(got[:2]) != "xy" || got[len(got)-1] != 'z' || big[0] != 0 || big[1] != 1 || &c[0] != &big[0] {
		t.Errorf("changes after adoption: %q...%q; the kept bytes start %v, the copy shares them: %v", got[:2], got[len(got)-1:], big[:2], &c[0] == &big[0])
	}
}
