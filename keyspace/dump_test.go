package keyspace

import (
	"fmt"
	"slices"
	"testing"
)

func TestAppendNodeKeepsLayout(t *testing.T) {
	l := NewList()
	l.AppendNode([][]byte{[]byte("a"), []byte("b")})
	l.AppendNode(nil)
	l.AppendNode([][]byte{[]byte("1"), []byte("2"), []byte("3")})
	if got := l.NodeLens(); !slices.Equal(got, []int{2, 3}) || l.Len() != 5 {
		t.Fatalf("nodes %v, len %d", got, l.Len())
	}
	var all []string
	for it := l.Iter(0, false); ; {
		e, ok := it.Next()
		if !ok {
			break
		}
		all = append(all, string(e))
	}
	if fmt.Sprint(all) != "[a b 1 2 3]" {
		t.Fatalf("elements %v", all)
	}
	l.Push([]byte("z"), true, -2) // the tail node takes it
	if got := l.NodeLens(); !slices.Equal(got, []int{2, 4}) {
		t.Fatalf("after a push: %v", got)
	}
}

func TestEachBlockShowsTombstones(t *testing.T) {
	s := NewStream()
	lim := DefaultEncodingLimits()
	lim.StreamNodeMaxEntries = 2
	for i := uint64(1); i <= 3; i++ {
		if err := s.Add(StreamID{i, 0}, [][]byte{[]byte("f"), []byte("v")}, lim); err != nil {
			t.Fatal(err)
		}
	}
	s.Delete(StreamID{2, 0})
	var got []string
	s.EachBlock(func(master StreamID, fields [][]byte, es []StreamBlockEntry) {
		for _, e := range es {
			got = append(got, fmt.Sprintf("%d@%d:%v", e.ID.Ms, master.Ms, e.Deleted))
		}
	})
	if fmt.Sprint(got) != "[1@1:false 2@1:true 3@3:false]" {
		t.Fatalf("blocks %v", got)
	}
}

func TestSetAccess(t *testing.T) {
	s := New(1)
	d := s.DB(0)
	const now = int64(1_700_000_000_000)
	d.Set([]byte("k"), NewString([]byte("v")), 0)
	e := d.Get([]byte("k"), now)
	d.SetAccess(e, now, 100, -1)
	if got := e.Accessed(); got != now-100_000 {
		t.Fatalf("LRU: accessed %d, want %d", got, now-100_000)
	}
	d.SetAccess(e, now, -1, 7) // FREQ under LRU: nothing
	if got := e.Accessed(); got != now-100_000 {
		t.Fatalf("FREQ under LRU changed the access time: %d", got)
	}
	s.SetAccessPolicy(true, 10, 1)
	d.SetAccess(e, now, -1, 42)
	if got := d.Freq(e, now); got != 42 {
		t.Fatalf("LFU: freq %d", got)
	}
}
