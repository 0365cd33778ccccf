package keyspace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// sampleHashTTL is sampleHash with deadlines on every other field,
// t0+1000*i for field fi.
func sampleHashTTL(n int, lim EncodingLimits) *Hash {
	h := sampleHash(n, lim)
	for i := 1; i <= n; i += 2 {
		h.SetFieldDeadline(fmt.Appendf(nil, "f%d", i), t0+1000*int64(i), 0)
	}
	h.settle()
	return h
}

// TestHashFieldExpiry: a field past its deadline is invisible to every
// read, a write treats it as absent, and a hash of expired fields only
// reads as an absent key.
func TestHashFieldExpiry(t *testing.T) {
	lim := New(1).EncodingLimits()
	h := NewHash()
	for _, f := range []string{"a", "b", "c"} {
		h.Set([]byte(f), []byte("v"+f), lim, t0)
	}
	if !h.SetFieldDeadline([]byte("a"), t0+10, t0) || h.Encoding() != EncListpackEx {
		t.Fatalf("deadline on a listpack: encoding %s", h.Encoding())
	}
	h.SetFieldDeadline([]byte("b"), t0+20, t0)
	if h.SetFieldDeadline([]byte("x"), t0+20, t0) {
		t.Fatal("a deadline on an absent field")
	}
	at := func(now int64) string {
		var b bytes.Buffer
		h.Each(now, func(f, v string) bool { b.WriteString(f); return true })
		return fmt.Sprintf("%s/%d/%d", b.String(), h.Visible(now), h.Len())
	}
	if got := at(t0 + 9); got != "abc/3/3" {
		t.Fatalf("before: %s", got)
	}
	if got := at(t0 + 10); got != "bc/2/3" {
		t.Fatalf("a expired: %s", got)
	}
	if _, found := h.Get([]byte("a"), t0+10); found {
		t.Fatal("HGET sees an expired field")
	}
	if d, found := h.FieldDeadline([]byte("b"), t0+10); !found || d != t0+20 {
		t.Fatalf("deadline of b: %d %v", d, found)
	}
	// HINCRBY keeps the deadline, HSET drops it; an expired field is new.
	h.SetKeepTTL([]byte("b"), []byte("1"), lim, t0)
	if d, _ := h.FieldDeadline([]byte("b"), t0); d != t0+20 {
		t.Fatalf("SetKeepTTL lost the deadline: %d", d)
	}
	if !h.Set([]byte("a"), []byte("new"), lim, t0+10) {
		t.Fatal("setting an expired field is not adding one")
	}
	if d, found := h.FieldDeadline([]byte("a"), t0+10); !found || d != 0 || h.FieldDeadlines() != 1 {
		t.Fatalf("a after HSET: %d %v, %d deadlines", d, found, h.FieldDeadlines())
	}
	// Every field expired: the key reads as absent.
	s := New(1)
	d := s.DB(0)
	d.Update([]byte("h"), t0, KindHash, func() Object { return NewHash() }, func(o Object) {
		hh := o.(*Hash)
		hh.Set([]byte("x"), []byte("1"), lim, t0)
		hh.Set([]byte("y"), []byte("2"), lim, t0)
		hh.SetFieldDeadline([]byte("x"), t0+5, t0)
		hh.SetFieldDeadline([]byte("y"), t0+50, t0)
	})
	d.Update([]byte("h"), t0, KindHash, nil, func(o Object) { o.(*Hash).SetFieldDeadline([]byte("y"), t0+7, t0) })
	if !d.Exists([]byte("h"), t0+6) || d.Exists([]byte("h"), t0+7) {
		t.Fatal("a hash of expired fields still reads as present (or too early absent)")
	}
	if d.HashesWithFieldDeadlines() != 1 {
		t.Fatalf("index: %d", d.HashesWithFieldDeadlines())
	}
	got := d.SampleExpiredFields(20, t0+6)
	if len(got) != 1 || string(got[0].Key) != "h" || len(got[0].Fields) != 1 || string(got[0].Fields[0]) != "x" {
		t.Fatalf("sample: %+v", got)
	}
	d.Update([]byte("h"), t0, KindHash, nil, func(o Object) { o.(*Hash).Delete([]byte("x"), t0+6) })
	d.Update([]byte("h"), t0, KindHash, nil, func(o Object) { o.(*Hash).SetFieldDeadline([]byte("y"), 0, t0) })
	if d.HashesWithFieldDeadlines() != 0 || !d.Exists([]byte("h"), t0+1000) {
		t.Fatalf("persisted: index %d", d.HashesWithFieldDeadlines())
	}
}

// TestHashDeadlinesSnapshot: deadlines survive a snapshot and Clone; a
// hash written before deadlines existed (no trailer) still loads.
func TestHashDeadlinesSnapshot(t *testing.T) {
	lim := New(1).EncodingLimits()
	for _, n := range []int{3, 600} {
		h := sampleHashTTL(n, lim)
		b := h.AppendSnapshot(nil)
		o, err := decodeHash(h.Encoding(), b)
		if err != nil {
			t.Fatal(err)
		}
		r := o.(*Hash)
		c := h.Clone().(*Hash)
		h.SetFieldDeadline([]byte("f1"), 0, 0) // the copies stay
		for _, x := range []*Hash{r, c} {
			if dl, _ := x.FieldDeadline([]byte("f1"), 0); dl != t0+1000 || x.FieldDeadlines() != (n+1)/2 || x.Encoding() != h.Encoding() {
				t.Fatalf("n=%d: f1 %d, %d deadlines, %s", n, dl, x.FieldDeadlines(), x.Encoding())
			}
		}
		if !bytes.Equal(r.AppendSnapshot(nil), b) {
			t.Fatalf("n=%d: snapshot differs after a round trip", n)
		}
		old := sampleHash(n, lim).AppendSnapshot(nil) // the old format
		if _, err := decodeHash(sampleHash(n, lim).Encoding(), old); err != nil {
			t.Fatalf("old format: %v", err)
		}
		if _, err := decodeHash(EncListpack, sampleHashTTL(3, lim).AppendSnapshot(nil)); err == nil {
			t.Fatal("deadlines in a plain listpack accepted")
		}
	}
}

// FuzzDecodeHash: any bytes decode or fail with an error, never a panic;
// what decodes encodes to bytes that decode to the same hash, and its
// deadlines work.
func FuzzDecodeHash(f *testing.F) {
	lim := New(1).EncodingLimits()
	for _, h := range []*Hash{sampleHash(3, lim), sampleHash(600, lim), sampleHashTTL(3, lim), sampleHashTTL(600, lim)} {
		f.Add(byte(h.Encoding()), h.AppendSnapshot(nil))
	}
	f.Fuzz(func(t *testing.T, enc byte, data []byte) {
		o, err := decodeHash(Encoding(enc), data)
		if err != nil {
			return
		}
		b := o.AppendSnapshot(nil)
		o2, err := decodeHash(Encoding(enc), b)
		if err != nil || !bytes.Equal(o2.AppendSnapshot(nil), b) {
			t.Fatalf("%q encodes as %q, which does not decode alike: %v", data, b, err)
		}
		h := o.(*Hash)
		h.ExpiredFields(5, t0+3000)
		h.Each(t0+3000, func(f, _ string) bool {
			h.SetFieldDeadline([]byte(f), t0, t0-1)
			return false
		})
		h.settle()
		h.Visible(t0)
		h.Set([]byte("new"), []byte("v"), lim, t0)
	})
}

// TestHashDeadlineBounds: after any sequence of changes through
// DB.Update, the hash's earliest and latest deadlines (which expiry
// sampling and "every field expired" rely on) agree with its fields.
func TestHashDeadlineBounds(t *testing.T) {
	lim := New(1).EncodingLimits()
	r := rand.New(rand.NewPCG(1, 2))
	s := New(1)
	d := s.DB(0)
	key := []byte("h")
	for step := range 5000 {
		f := fmt.Appendf(nil, "f%d", r.IntN(40))
		now := t0 + int64(r.IntN(100))
		d.Update(key, t0, KindHash, func() Object { return NewHash() }, func(o Object) {
			h := o.(*Hash)
			switch r.IntN(5) {
			case 0:
				h.Set(f, []byte("v"), lim, t0)
			case 1:
				h.Delete(f, t0)
			case 2:
				h.SetFieldDeadline(f, 0, t0)
			default:
				h.SetFieldDeadline(f, t0+1+int64(r.IntN(100)), t0)
			}
		})
		e := d.Get(key, t0)
		if e == nil {
			if d.HashesWithFieldDeadlines() != 0 {
				t.Fatalf("step %d: a deleted hash still indexed", step)
			}
			continue
		}
		h := e.Object().(*Hash)
		var expired, all int
		n := h.Len()
		for i := range pairsOf(h) {
			if p := &h.t.pairs[i]; !p.dead {
				if p.expired(now) {
					expired++
				}
				if p.exp != 0 {
					all++
				}
			}
		}
		if got := len(h.ExpiredFields(1000, now)); got != expired {
			t.Fatalf("step %d: %d expired fields found, %d there", step, got, expired)
		}
		if h.allExpired(now) != (expired == n) || h.FieldDeadlines() != all {
			t.Fatalf("step %d: allExpired %v with %d of %d expired, %d deadlines counted of %d",
				step, h.allExpired(now), expired, n, h.FieldDeadlines(), all)
		}
		if (d.HashesWithFieldDeadlines() == 1) != (all > 0) {
			t.Fatalf("step %d: index %d with %d deadlines", step, d.HashesWithFieldDeadlines(), all)
		}
	}
}

// pairsOf returns h's hashPairs' fields, none for a packed listpack.
func pairsOf(h *Hash) []hashPair {
	if h.t == nil {
		return nil
	}
	return h.t.pairs
}
