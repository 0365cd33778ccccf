package persistence

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"
)

// fakeDisk is a filesystem of a given size whose free space the test
// sets.
type fakeDisk struct {
	size uint64
	free atomic.Uint64
}

func (d *fakeDisk) stat(string) (uint64, uint64, bool) { return d.size, d.free.Load(), true }

// set changes the free space at once; s's last statfs is made old, as if
// the change came more than spaceStale ago.
func (d *fakeDisk) set(s *Space, free uint64) {
	d.free.Store(free)
	s.at.Store(0)
}

func TestReserveScales(t *testing.T) {
	for _, tc := range []struct {
		size, memtable, reserve uint64
	}{
		{30 << 20, 480 << 10, 4*(480<<10) + 1<<20},
		{1 << 30, 8 << 20, 32<<20 + (1<<30)/50},
		{100 << 30, 8 << 20, 32<<20 + 64<<20},
		{4 << 20, 256 << 10, 1<<20 + 1<<20},
	} {
		if m, r := memTableFor(tc.size), reserveFor(tc.size); m != tc.memtable || r != tc.reserve {
			t.Errorf("size %d: memtable %d reserve %d, want %d %d", tc.size, m, r, tc.memtable, tc.reserve)
		}
		if reserveFor(tc.size)/4 < memTableFor(tc.size) {
			t.Errorf("size %d: a flush does not fit in the last quarter of the reserve", tc.size)
		}
	}
}

// Client writes stop at the reserve, snapshots at half of it, log
// entries at a quarter; the refusal is the error until there is room.
func TestSpaceFloors(t *testing.T) {
	d := &fakeDisk{size: 30 << 20}
	d.free.Store(20 << 20)
	s := newSpace(t.TempDir(), d.stat)
	r := s.Reserve()
	if s.Admit(1000) != nil || s.Err() != nil || s.Low() {
		t.Fatal("refused with room")
	}
	for _, tc := range []struct {
		free                uint64
		client, snap, entry bool // admitted
	}{
		{r + 1000, true, true, true},
		{r - 1, false, true, true},
		{r/2 - 1, false, false, true},
		{r/4 - 1, false, false, false},
		{0, false, false, false},
	} {
		d.set(s, tc.free)
		if got := s.Admit(1000) == nil; got != tc.client {
			t.Errorf("free %d: client write admitted %v", tc.free, got)
		}
		if got := s.admitSnapshot(0) == nil; got != tc.snap {
			t.Errorf("free %d: snapshot admitted %v", tc.free, got)
		}
		if got := s.admitLog(0) == nil; got != tc.entry {
			t.Errorf("free %d: log entry admitted %v", tc.free, got)
		}
		if err := s.Err(); (err == nil) != tc.client || err != nil && !errors.Is(err, ErrNoSpace) {
			t.Errorf("free %d: Err() = %v", tc.free, err)
		}
	}
	d.set(s, 20<<20)
	if s.Err() != nil || s.Low() {
		t.Errorf("with room again: Err() = %v", s.Err())
	}
}

// Below the floor, StoreLogs refuses before Pebble sees the batch, and
// the log is as it was.
func TestStoreLogsRefusedWithoutSpace(t *testing.T) {
	dir := t.TempDir()
	d := &fakeDisk{size: 30 << 20}
	d.free.Store(20 << 20)
	db, err := OpenDBWithSpace(filepath.Join(dir, "wal"), false, newSpace(dir, d.stat))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := db.Group(0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLogs([]*raft.Log{{Index: 1, Term: 1, Data: []byte("a")}}); err != nil {
		t.Fatal(err)
	}
	d.set(db.Space(), 0)
	err = s.StoreLogs([]*raft.Log{{Index: 2, Term: 1, Data: []byte("b")}})
	if !errors.Is(err, ErrNoSpace) {
		t.Fatalf("StoreLogs on a full disk: %v", err)
	}
	if last, _ := s.LastIndex(); last != 1 {
		t.Errorf("last index %d after a refused batch", last)
	}
	var l raft.Log
	if err := s.GetLog(2, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("refused entry readable: %v", err)
	}
}

// Without room to open the WAL, the ballast goes; with no ballast
// either, opening fails at once with the cause.
func TestOpenMakesRoomFromBallast(t *testing.T) {
	dir := t.TempDir()
	d := &fakeDisk{size: 30 << 20}
	d.free.Store(20 << 20)
	s := newSpace(dir, d.stat)
	if err := s.KeepBallast(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(s.ballastPath()); err != nil || fi.Size() != s.ballastSize() {
		t.Fatalf("ballast: %v", err)
	}
	d.free.Store(0)
	// The fake's free space does not grow when the ballast goes: the
	// open is refused, and the ballast is gone.
	if _, err := OpenDBWithSpace(filepath.Join(dir, "wal"), false, s); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("open with no space: %v", err)
	}
	if _, err := os.Stat(s.ballastPath()); !os.IsNotExist(err) {
		t.Errorf("the ballast is still there: %v", err)
	}
	d.free.Store(1 << 20) // enough for an empty WAL, not for the ballast
	db, err := OpenDBWithSpace(filepath.Join(dir, "wal"), false, s)
	if err != nil {
		t.Fatalf("open with room: %v", err)
	}
	db.Close()
	if s.KeepBallast(); fileExists(s.ballastPath()) {
		t.Error("ballast written into the reserve")
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// Directories of unfinished snapshots are deleted when the store opens.
func TestSnapshotStoreRemovesPartial(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "snapshots", "1-2-3.tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSnapshotStore(dir, 2, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if fileExists(tmp) {
		t.Error("an unfinished snapshot's directory is still there")
	}
}

// A snapshot that runs out of room fails, leaves no files, and the next
// one does not start until there is room for more than it had written.
func TestSnapshotShortOfSpace(t *testing.T) {
	dir := t.TempDir()
	d := &fakeDisk{size: 30 << 20}
	d.free.Store(20 << 20)
	sp := newSpace(dir, d.stat)
	st, err := NewSnapshotStore(dir, 2, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	st.SetSpace(sp)
	create := func() (raft.SnapshotSink, error) {
		return st.Create(raft.SnapshotVersionMax, 10, 1, raft.Configuration{}, 1, nil)
	}
	sink, err := create()
	if err != nil {
		t.Fatal(err)
	}
	floor := sp.Reserve() / 2
	d.set(sp, floor+100)
	if _, err := sink.Write(make([]byte, 1000)); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("snapshot write under the floor: %v", err)
	}
	sink.Cancel()
	if tmps, _ := filepath.Glob(filepath.Join(dir, "snapshots", "*")); len(tmps) != 0 {
		t.Errorf("left behind: %v", tmps)
	}
	d.set(sp, floor+500)
	if _, err := create(); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("a new snapshot with no more room than the last had: %v", err)
	}
	d.set(sp, 20<<20)
	sink, err = create()
	if err != nil {
		t.Fatalf("with room: %v", err)
	}
	sink.Write([]byte("state"))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if st.short.Load() != 0 {
		t.Error("a completed snapshot left the shortfall")
	}
}
