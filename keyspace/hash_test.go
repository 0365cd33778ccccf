package keyspace

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// sampleHash returns a hash of n fields f0, f1, ... (a hashtable past the
// listpack limit) with one deleted, so snapshots see a hole.
func sampleHash(n int, lim EncodingLimits) *Hash {
	h := NewHash()
	for i := range n + 1 {
		h.Set(fmt.Appendf(nil, "f%d", i), fmt.Appendf(nil, "v%d", i), lim, 0)
	}
	h.Delete([]byte("f0"), 0)
	return h
}

func hashFields(h *Hash) string {
	var b strings.Builder
	h.Each(0, func(f, v string) bool { b.WriteString(f + "=" + v + " "); return true })
	return b.String()
}

// TestHashEncoding: Redis's conversion rules, one way only, and the
// listpack's insertion order kept through deletes.
func TestHashEncoding(t *testing.T) {
	lim := DefaultEncodingLimits()
	lim.HashMaxListpackEntries = 3
	lim.HashMaxListpackValue = 4
	h := NewHash()
	for _, f := range []string{"c", "a", "b"} {
		if !h.Set([]byte(f), []byte("1"), lim, 0) {
			t.Fatal("new field not reported new")
		}
	}
	if h.Set([]byte("a"), []byte("2"), lim, 0) || h.Encoding() != EncListpack {
		t.Fatal("update reported new or converted")
	}
	h.Delete([]byte("a"), 0)
	h.Set([]byte("d"), []byte("3"), lim, 0)
	if got := hashFields(h); got != "c=1 b=1 d=3 " || h.Encoding() != EncListpack {
		t.Fatalf("listpack order %q %s", got, h.Encoding())
	}
	h.Set([]byte("e"), []byte("4"), lim, 0)
	if h.Encoding() != EncHashtable || h.Len() != 4 {
		t.Fatal("more entries than the limit kept a listpack")
	}
	h.Delete([]byte("e"), 0)
	h.Delete([]byte("d"), 0)
	if h.Encoding() != EncHashtable {
		t.Fatal("a hashtable went back to listpack")
	}
	long := NewHash()
	long.Set([]byte("f"), []byte("12345"), lim, 0)
	if long.Encoding() != EncHashtable {
		t.Fatal("a long value kept a listpack")
	}
	cv := NewHash()
	cv.ConvertIfLong([][]byte{[]byte("x"), []byte("12345")}, lim)
	if cv.Encoding() != EncHashtable {
		t.Fatal("ConvertIfLong")
	}
}

// TestHashCloneAndSnapshot: a clone shares nothing that changes; a
// snapshot round trip keeps fields, order and encoding; corrupt bytes fail.
func TestHashCloneAndSnapshot(t *testing.T) {
	lim := DefaultEncodingLimits()
	for _, n := range []int{1, 5, 700} {
		h := sampleHash(n, lim)
		c := h.Clone().(*Hash)
		h.Set([]byte("f1"), []byte("changed"), lim, 0)
		h.Delete([]byte("f2"), 0)
		if v, _ := c.Get([]byte("f1"), 0); v != "v1" || (n >= 2 && c.Len() != n) {
			t.Fatalf("clone changed with its original: %q %d", v, c.Len())
		}
		b := c.AppendSnapshot(nil)
		o, err := decodeObject(KindHash, c.Encoding(), b)
		if err != nil {
			t.Fatal(err)
		}
		if hashFields(o.(*Hash)) != hashFields(c) || o.Encoding() != c.Encoding() || o.Size() != c.Size()-(c.Size()-o.Size()) {
			t.Fatal("round trip differs")
		}
		for i := 0; i < len(b); i++ { // truncated
			if _, err := decodeObject(KindHash, c.Encoding(), b[:i]); err == nil {
				t.Fatalf("truncated at %d decoded", i)
			}
		}
	}
	dup := []byte("\x02\x01a\x01b\x01a\x01c")
	if _, err := decodeObject(KindHash, EncListpack, dup); err == nil {
		t.Fatal("a field twice decoded")
	}
	if _, err := decodeObject(KindHash, EncIntset, []byte("\x01\x01a\x01b")); err == nil {
		t.Fatal("a hash encoded as an intset decoded")
	}
}

// TestHashMemory: Size grows with the data and comes back down.
func TestHashMemory(t *testing.T) {
	lim := DefaultEncodingLimits()
	d := New(1).DB(0)
	d.Set([]byte("s"), NewString([]byte("v")), 0) // the index's first room, counted once
	before := d.UsedMemory()
	set := func(f, v string) {
		d.Update([]byte("h"), t0, KindHash, func() Object { return NewHash() },
			func(o Object) { o.(*Hash).Set([]byte(f), []byte(v), lim, 0) })
	}
	set("a", "1")
	small := d.UsedMemory()
	set("b", strings.Repeat("x", 1000))
	if d.UsedMemory() < small+1000 {
		t.Fatalf("a 1000-byte value counted %d", d.UsedMemory()-small)
	}
	for _, f := range []string{"a", "b"} {
		d.Update([]byte("h"), t0, KindHash, nil, func(o Object) { o.(*Hash).Delete([]byte(f), 0) })
	}
	if d.Exists([]byte("h"), t0) || d.UsedMemory() != before {
		t.Fatalf("empty hash kept or memory %d != %d", d.UsedMemory(), before)
	}
}

// TestHashScan: every field present for a whole scan is returned, while
// other fields come and go and the slice is compacted.
func TestHashScan(t *testing.T) {
	lim := DefaultEncodingLimits()
	h := NewHash()
	for i := range 2000 {
		h.Set(fmt.Appendf(nil, "keep%d", i), []byte("v"), lim, 0)
		h.Set(fmt.Appendf(nil, "tmp%d", i), []byte("v"), lim, 0)
	}
	seen := map[string]int{}
	var cursor uint64
	r := rand.New(rand.NewPCG(1, 2))
	for calls := 0; ; calls++ {
		cursor = h.Scan(0, cursor, 10, func(f, _ string) { seen[f]++ })
		for range 20 {
			i := r.IntN(2000)
			h.Delete(fmt.Appendf(nil, "tmp%d", i), 0)
			h.Set(fmt.Appendf(nil, "new%d", r.IntN(5000)), []byte("v"), lim, 0)
		}
		if cursor == 0 {
			break
		}
		if calls > 10000 {
			t.Fatal("scan does not end")
		}
	}
	for i := range 2000 {
		if n := seen[fmt.Sprintf("keep%d", i)]; n != 1 {
			t.Fatalf("keep%d returned %d times", i, n)
		}
	}
	small := sampleHash(3, lim)
	var got bytes.Buffer
	if c := small.Scan(0, 0, 1, func(f, v string) { got.WriteString(f) }); c != 0 || got.String() != "f1f2f3" {
		t.Fatalf("listpack scan %q cursor %d", got.String(), c)
	}
}

// A hashtable's HSCAN cursors are its sequence numbers: a snapshot keeps
// them, so a node restored from it continues a scan as the node it came
// from would, skipping none of the fields present throughout.
func TestHashSnapshotKeepsCursors(t *testing.T) {
	lim := DefaultEncodingLimits()
	lim.HashMaxListpackEntries = 2
	h := NewHash()
	for i := 0; i < 20; i++ {
		h.Set([]byte(fmt.Sprintf("f%d", i)), []byte("v"), lim, 0)
	}
	for i := 0; i < 20; i += 3 {
		h.Delete([]byte(fmt.Sprintf("f%d", i)), 0)
	}
	got, err := decodeHash(h.Encoding(), h.AppendSnapshot(nil))
	if err != nil {
		t.Fatal(err)
	}
	r := got.(*Hash).t
	if r.nextSeq != h.t.nextSeq {
		t.Fatalf("next sequence %d, restored %d", h.t.nextSeq, r.nextSeq)
	}
	for _, p := range h.t.pairs {
		if p.dead {
			continue
		}
		if i := r.find([]byte(p.field)); i < 0 || r.pairs[i].seq != p.seq {
			t.Fatalf("field %s: sequence %d not kept", p.field, p.seq)
		}
	}
}

// TestHashSizeHonest: Size is what building listpack hashes really takes
// from the Go heap, for hashes as bench/types.sh loads (5 fields of 8-byte
// values) and larger.
func TestHashSizeHonest(t *testing.T) {
	if allocSize(int(hashBytes)) != hashBytes {
		t.Fatalf("a Hash (%d B) is not a size class", hashBytes)
	}
	lim := DefaultEncodingLimits()
	for _, fields := range []int{5, 40} {
		var f, v [20]byte
		size := sizeHonest(t, fmt.Sprintf("hashes of %d", fields), func(i int) Object {
			h := NewHash()
			for j := range fields {
				h.Set(fmt.Appendf(f[:0], "f%d", j), fmt.Appendf(v[:0], "%08d", i), lim, 0)
			}
			if h.Encoding() != EncListpack {
				t.Fatalf("a hash of %d fields is %s", fields, h.Encoding())
			}
			return h
		})
		if fields == 5 && size > 130 {
			t.Errorf("a hash of 5 fields takes %d bytes", size)
		}
	}
}

// TestHashPackedAsPairs: a packed listpack answers every read as the
// hashPairs it converts to would, through random sets and deletes, and
// snapshots, clones and conversions keep its fields and order.
func TestHashPackedAsPairs(t *testing.T) {
	lim := DefaultEncodingLimits()
	lim.HashMaxListpackEntries = 30
	r := rand.New(rand.NewPCG(3, 4))
	h, ref := NewHash(), &Hash{t: &hashPairs{enc: EncListpackEx, nextSeq: 1}}
	for step := range 20000 {
		f := fmt.Appendf(nil, "f%d", r.IntN(40))
		v := bytes.Repeat([]byte{'v'}, r.IntN(3)*r.IntN(20))
		if r.IntN(3) == 0 {
			if h.Delete(f, 0) != ref.Delete(f, 0) {
				t.Fatalf("step %d: Delete %s differs", step, f)
			}
		} else if h.Set(f, v, lim, 0) != ref.Set(f, v, lim, 0) {
			t.Fatalf("step %d: Set %s differs", step, f)
		}
		if h.Encoding() == EncHashtable || ref.Encoding() == EncHashtable {
			if h.Encoding() != ref.Encoding() || hashFields(h) != hashFields(ref) {
				t.Fatalf("step %d: converted %s and %s", step, h.Encoding(), ref.Encoding())
			}
			h, ref = NewHash(), &Hash{t: &hashPairs{enc: EncListpackEx, nextSeq: 1}}
			continue
		}
		if h.Encoding() != EncListpack || ref.Encoding() != EncListpackEx {
			t.Fatalf("step %d: %s and %s", step, h.Encoding(), ref.Encoding())
		}
		g1, g2 := fmt.Sprint(h.Get(f, 0)), fmt.Sprint(ref.Get(f, 0))
		if hashFields(h) != hashFields(ref) || h.Len() != ref.Len() || h.Visible(0) != h.Len() || g1 != g2 {
			t.Fatalf("step %d: %q %d, want %q %d", step, hashFields(h), h.Len(), hashFields(ref), ref.Len())
		}
		if h.Len() == 0 {
			continue
		}
		k := r.IntN(h.Len())
		pick := func(int) int { return k }
		if f1, _ := h.Random(0, pick); f1 != func() string { f2, _ := ref.Random(0, pick); return f2 }() {
			t.Fatalf("step %d: Random(%d) differs", step, k)
		}
		var picks [2]strings.Builder
		for i, x := range []*Hash{h, ref} {
			x.RandomN(0, 3, pick, func(f, v string) { picks[i].WriteString(f + "=" + v + " ") })
		}
		if picks[0].String() != picks[1].String() {
			t.Fatalf("step %d: RandomN(%d) %q, want %q", step, k, picks[0].String(), picks[1].String())
		}
		if step%50 == 0 {
			c := h.Clone().(*Hash)
			o, err := decodeHash(EncListpack, h.AppendSnapshot(nil))
			if err != nil || hashFields(o.(*Hash)) != hashFields(h) || o.Size() != h.Size() {
				t.Fatalf("step %d: snapshot round trip: %v", step, err)
			}
			c.toPairs(EncHashtable)
			if hashFields(c) != hashFields(h) || c.t.nextSeq != uint64(h.Len())+1 {
				t.Fatalf("step %d: conversion %q", step, hashFields(c))
			}
		}
	}
}

// TestHashOldSnapshots: a listpack written before it was packed, its
// fields numbered with gaps, loads to the same fields in order, and is
// numbered from 1 when written back and when it converts.
func TestHashOldSnapshots(t *testing.T) {
	old := "\x02\x09\x01b\x021x\x03\x01a\x00\x07"
	o, err := decodeHash(EncListpack, []byte(old))
	if err != nil {
		t.Fatal(err)
	}
	h := o.(*Hash)
	if got := hashFields(h); got != "b=1x a= " || h.Encoding() != EncListpack {
		t.Fatalf("loaded %q %s", got, h.Encoding())
	}
	if got := string(h.AppendSnapshot(nil)); got != "\x02\x03\x01b\x021x\x01\x01a\x00\x02" {
		t.Fatalf("written back %q", got)
	}
	for _, bad := range []string{
		"\x02\x09\x01b\x021x\x03\x01a\x00\x03", // numbers not increasing
		"\x02\x09\x01b\x021x\x03\x01a\x00\x09", // a number past the next
		"\x02\x09\x01b\x021x\x03\x01b\x00\x07", // a field twice
		old + "\x01\x00\x05",                   // deadlines in a listpack
	} {
		if _, err := decodeHash(EncListpack, []byte(bad)); err == nil {
			t.Fatalf("%q decoded", bad)
		}
	}
}
