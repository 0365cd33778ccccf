package persistence

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/hashicorp/raft"
)

// TestSnapshotStoreWritesBehind: the store finds the file hashicorp/raft's
// sink writes (so write-behind is on: a change of its layout fails here),
// and a snapshot of several chunks written through it reads back whole;
// a cancelled one is not listed.
func TestSnapshotStoreWritesBehind(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSnapshotStore(dir, 2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	create := func(index uint64) raft.SnapshotSink {
		sink, err := s.Create(raft.SnapshotVersionMax, index, 1, raft.Configuration{}, 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		return sink
	}
	sink := create(10)
	wb, ok := sink.(*writeBehindSink)
	if !ok {
		t.Fatalf("sink %T: the state file was not found at %s", sink, s.statePath(sink.ID()))
	}
	data := make([]byte, 3*writeBehindChunk+12345)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	for off := 0; off < len(data); off += 100_000 {
		if _, err := sink.Write(data[off:min(off+100_000, len(data))]); err != nil {
			t.Fatal(err)
		}
	}
	if wb.kicked == 0 || wb.waited == 0 {
		t.Fatalf("no writeback started (%d kicked, %d waited of %d)", wb.kicked, wb.waited, wb.written)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	cancelled := create(20)
	cancelled.Write([]byte("partial"))
	if err := cancelled.Cancel(); err != nil {
		t.Fatal(err)
	}
	metas, err := s.List()
	if err != nil || len(metas) != 1 || metas[0].Index != 10 || metas[0].Size != int64(len(data)) {
		t.Fatalf("list: %v %+v", err, metas)
	}
	_, rc, err := s.Open(metas[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), wrote %d", len(got), err, len(data))
	}
}

// TestSnapshotStoreStop: a snapshot being written at its pace fails at
// its next write once the store is stopped, and is not kept.
func TestSnapshotStoreStop(t *testing.T) {
	s, err := NewSnapshotStore(t.TempDir(), 2, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sink, err := s.Create(raft.SnapshotVersionMax, 5, 1, raft.Configuration{}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	if _, err := sink.Write(chunk); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	if _, err := sink.Write(chunk); err != ErrSnapshotStopped {
		t.Fatalf("write after Stop: %v", err)
	}
	sink.Cancel()
	if metas, err := s.List(); err != nil || len(metas) != 0 {
		t.Fatalf("list: %v %v", metas, err)
	}
}
