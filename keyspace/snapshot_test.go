package keyspace

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// dump describes a store: per database, each key in slot order with its
// slot, kind, encoding, bytes and deadline.
func dump(s *Store) []string {
	var out []string
	for i := range s.NumDBs() {
		d := s.DB(i)
		for slot := d.slots.next(0); slot < d.slots.limit(); slot = d.slots.next(slot + 1) {
			e := (*Entry)(d.slotEntry(slot)) // expired keys included
			val := e.Bytes()
			if o := e.Object(); o != nil && e.Kind() != KindString {
				val = o.AppendSnapshot(nil) // a collection's contents
			}
			out = append(out, fmt.Sprintf("%d %d %q %s %s %q %d", i, slot, e.Key(), e.Kind(), e.Encoding(), val, e.Deadline()))
		}
	}
	return out
}

func sampleStore() *Store {
	s := New(4)
	d := s.DB(0)
	d.Set([]byte("int"), NewString([]byte("12345")), 0)
	d.Set([]byte("embstr"), NewString([]byte("hello")), t0+5000)
	d.Set([]byte("raw"), NewRawString([]byte("x")), 0)
	d.Set([]byte(""), NewString([]byte("")), 0)
	d.Set([]byte("bin\x00\xff"), NewString([]byte("\r\n\x00")), -1)
	for i := range 200 { // leave free slots behind
		d.Set(key(i), NewInt(int64(i)), 0)
	}
	for i := range 150 {
		d.Delete(key(i), t0)
	}
	ints, ht := NewSet(), NewSet()
	for _, m := range []string{"3", "1", "-2"} {
		ints.Add([]byte(m), 512)
	}
	for _, m := range []string{"a", "", "b", "c"} {
		ht.Add([]byte(m), 512)
	}
	ht.Remove([]byte("a"))
	d.Set([]byte("intset"), ObjectValue(ints), 0)
	d.Set([]byte("hashset"), ObjectValue(ht), t0+1)
	s.DB(2).Set([]byte("other"), NewString(bytes.Repeat([]byte("z"), 100)), t0)
	s.DB(1).Set([]byte("hash"), ObjectValue(sampleHash(3, s.EncodingLimits())), 0)
	s.DB(1).Set([]byte("bighash"), ObjectValue(sampleHash(600, s.EncodingLimits())), t0)
	small, big := NewList(), NewList()
	for _, e := range []string{"a", "", "12", "\x00\xff"} {
		small.Push([]byte(e), true, -2)
	}
	for i := range 50 { // several nodes of 4 entries
		big.Push(bytes.Repeat([]byte{byte('a' + i%26)}, i*7), i%3 == 0, 4)
	}
	s.DB(2).Set([]byte("list"), ObjectValue(small), 0)
	s.DB(3).Set([]byte("biglist"), ObjectValue(big), t0+7)
	s.DB(1).Set([]byte("zset"), ObjectValue(sampleZSet(3, s.EncodingLimits())), 0)
	s.DB(1).Set([]byte("bigzset"), ObjectValue(sampleZSet(300, s.EncodingLimits())), t0)
	s.DB(1).Set([]byte("hashttl"), ObjectValue(sampleHashTTL(3, s.EncodingLimits())), 0)
	s.DB(1).Set([]byte("bighashttl"), ObjectValue(sampleHashTTL(600, s.EncodingLimits())), 0)
	return s
}

func TestSnapshotRoundTrip(t *testing.T) {
	src := sampleStore()
	var buf bytes.Buffer
	if err := src.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	dst := New(4)
	dst.DB(1).Set([]byte("stale"), NewString([]byte("v")), 0)
	if err := dst.ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	want, got := dump(src), dump(dst)
	if len(want) != 7+50+1+2+2+2+2 || !slices.Equal(got, want) {
		t.Fatalf("round trip differs: %d entries, want %d", len(got), len(want))
	}
	if dst.DB(1).HashesWithFieldDeadlines() != 2 {
		t.Fatal("index of hashes with field deadlines not rebuilt")
	}
	if dst.DB(0).Expires() != src.DB(0).Expires() || dst.DB(2).Expires() != 1 {
		t.Fatal("expiry index not rebuilt")
	}
	// Writing the restored store gives the same bytes: snapshots are
	// deterministic.
	var again bytes.Buffer
	if err := dst.WriteSnapshot(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Fatal("snapshot of the restored store differs from the original")
	}
}

func TestSnapshotRejectsDamage(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleStore().WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	cases := map[string][]byte{
		"empty":     nil,
		"bad magic": append([]byte("XXXX1"), good[5:]...),
		"truncated": good[:len(good)/2],
		"cut short": good[:len(good)-1],
	}
	for name, b := range cases {
		s := New(4)
		s.DB(3).Set([]byte("keep"), NewString([]byte("v")), 0)
		err := s.ReadSnapshot(bytes.NewReader(b))
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
		if s.DB(3).Len() != 1 {
			t.Errorf("%s: a failed restore changed the store", name)
		}
	}
	// A snapshot of another database count is refused.
	if err := New(16).ReadSnapshot(bytes.NewReader(good)); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("16 databases from a 4-database snapshot: %v", err)
	}
}

// Versions are replicated state: a store restored from a snapshot has the
// versions of the store it was taken from, and goes on counting from the
// same change count, so the same later changes give the same versions.
func TestSnapshotKeepsVersions(t *testing.T) {
	a := New(2)
	a.DB(0).Set([]byte("x"), NewString([]byte("1")), 0)
	a.DB(1).Set([]byte("y"), NewString([]byte("2")), 0)
	a.DB(0).Set([]byte("x"), NewString([]byte("3")), 0)
	a.DB(0).Delete([]byte("gone"), 0)
	var buf bytes.Buffer
	if err := a.WriteSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	b := New(2)
	if err := b.ReadSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{a, b} {
		s.DB(1).Set([]byte("z"), NewString([]byte("4")), 0)
	}
	for _, k := range []struct {
		db  int
		key string
	}{{0, "x"}, {1, "y"}, {1, "z"}, {0, "none"}} {
		va, vb := a.DB(k.db).Version([]byte(k.key), 0), b.DB(k.db).Version([]byte(k.key), 0)
		if va != vb {
			t.Errorf("db %d %s: version %d, restored %d", k.db, k.key, va, vb)
		}
		if (va == 0) != (k.key == "none") {
			t.Errorf("db %d %s: version %d", k.db, k.key, va)
		}
	}
	if a.DB(0).Version([]byte("x"), 0) == a.DB(1).Version([]byte("y"), 0) {
		t.Error("two changes gave one version")
	}
}
