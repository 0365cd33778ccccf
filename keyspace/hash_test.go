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
	r := got.(*Hash)
	if r.nextSeq != h.nextSeq {
		t.Fatalf("next sequence %d, restored %d", h.nextSeq, r.nextSeq)
	}
	for _, p := range h.pairs {
		if p.dead {
			continue
		}
		if i := r.find([]byte(p.field)); i < 0 || r.pairs[i].seq != p.seq {
			t.Fatalf("field %s: sequence %d not kept", p.field, p.seq)
		}
	}
}
