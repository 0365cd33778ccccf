package keyspace

import (
	"errors"
	"testing"
)

// testList is a minimal collection behind the Object seam.
type testList struct{ items []string }

func (l *testList) Kind() Kind         { return KindList }
func (l *testList) Encoding() Encoding { return EncListpack }
func (l *testList) Len() int           { return len(l.items) }
func (l *testList) Size() int64 {
	n := int64(24 + 16*cap(l.items))
	for _, s := range l.items {
		n += allocSize(len(s))
	}
	return n
}
func (l *testList) Clone() Object { return &testList{items: append([]string(nil), l.items...)} }
func (l *testList) AppendSnapshot(b []byte) []byte {
	for _, s := range l.items {
		b = appendString(b, s)
	}
	return b
}

// TestUpdate: the seam's rules, in one place for every kind: WRONGTYPE
// for another kind, creation only when asked, memory counted as the
// collection changes, and a collection left empty deleted with its key
// (and its deadline).
func TestUpdate(t *testing.T) {
	d := New(1).DB(0)
	d.Set([]byte("s"), NewString([]byte("v")), 0)
	push := func(o Object) { l := o.(*testList); l.items = append(l.items, "x") }
	pop := func(o Object) { l := o.(*testList); l.items = l.items[1:] }
	mk := func() Object { return &testList{} }
	if _, err := d.Update([]byte("s"), t0, KindList, mk, push); !errors.Is(err, ErrWrongType) {
		t.Fatalf("update of a string as a list: %v", err)
	}
	if _, err := d.Lookup([]byte("s"), t0, KindList); !errors.Is(err, ErrWrongType) {
		t.Fatalf("lookup of a string as a list: %v", err)
	}
	if found, err := d.Update([]byte("l"), t0, KindList, nil, push); found || err != nil || d.Exists([]byte("l"), t0) {
		t.Fatal("update without create made a key")
	}
	d.SetDeadline([]byte("s"), t0+1) // the deadline table's room, counted once
	d.SetDeadline([]byte("s"), 0)
	before := d.UsedMemory()
	for range 3 {
		if found, err := d.Update([]byte("l"), t0, KindList, mk, push); !found || err != nil {
			t.Fatal("push failed")
		}
	}
	e, err := d.Lookup([]byte("l"), t0, KindList)
	if err != nil || e == nil || e.Object().Len() != 3 || e.Encoding() != EncListpack || e.Kind().String() != "list" {
		t.Fatalf("after three pushes: %v %v", e, err)
	}
	if d.UsedMemory() <= before {
		t.Fatal("memory not counted")
	}
	d.SetDeadline([]byte("l"), t0+1000)
	for range 3 {
		d.Update([]byte("l"), t0, KindList, nil, pop)
	}
	if d.Exists([]byte("l"), t0) || d.Len() != 1 || d.Expires() != 0 {
		t.Fatalf("empty list kept: len %d expires %d", d.Len(), d.Expires())
	}
	if d.UsedMemory() != before {
		t.Fatalf("memory %d after the list went, %d before", d.UsedMemory(), before)
	}
}
