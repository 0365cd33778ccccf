package persistence

import (
	"bytes"
	"testing"

	"github.com/hashicorp/raft"
)

// TestGroupsShareOneDB: the groups of one database keep separate logs and
// stable state (compacting one leaves the others), group 0's keys are the
// ones a single-group store always had, and all of it survives reopening.
func TestGroupsShareOneDB(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDB(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	var groups []*Store
	for g := range 3 {
		s, err := d.Group(g)
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, s)
		lo, hi := uint64(1+10*g), uint64(5+10*g)
		if err := s.StoreLogs(entries(lo, hi)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetUint64([]byte("CurrentTerm"), uint64(100+g)); err != nil {
			t.Fatal(err)
		}
	}
	if err := groups[1].DeleteRange(11, 13); err != nil {
		t.Fatal(err)
	}
	if err := groups[0].Close(); err != nil { // a group's Close leaves the DB open
		t.Fatal(err)
	}
	if err := groups[2].StoreLog(entries(26, 26)[0]); err != nil {
		t.Fatalf("group 2 after group 0's Close: %v", err)
	}
	if _, err := d.Group(MaxGroups); err == nil {
		t.Fatal("Group(MaxGroups) succeeded")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := groups[1].StoreLog(entries(30, 30)[0]); err != ErrClosed {
		t.Fatalf("StoreLog after the DB's Close = %v, want ErrClosed", err)
	}

	// Group 0 is what Open reads.
	s0 := openStore(t, dir, true)
	if f, l := edges(t, s0); f != 1 || l != 5 {
		t.Fatalf("group 0 via Open: edges %d..%d, want 1..5", f, l)
	}
	closeStore(t, s0)

	d, err = OpenDB(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	want := [][2]uint64{{1, 5}, {14, 15}, {21, 26}}
	for g, w := range want {
		s, err := d.Group(g)
		if err != nil {
			t.Fatal(err)
		}
		if f, l := edges(t, s); f != w[0] || l != w[1] {
			t.Errorf("group %d: edges %d..%d, want %d..%d", g, f, l, w[0], w[1])
		}
		if term, err := s.GetUint64([]byte("CurrentTerm")); err != nil || term != uint64(100+g) {
			t.Errorf("group %d: CurrentTerm %d, %v", g, term, err)
		}
		var l raft.Log
		if err := s.GetLog(w[1], &l); err != nil || l.Index != w[1] || !bytes.Equal(l.Data, entries(w[1], w[1])[0].Data) {
			t.Errorf("group %d: GetLog(%d) = %+v, %v", g, w[1], l, err)
		}
	}
}
