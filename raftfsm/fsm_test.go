package raftfsm

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// TestFSMApplyBatch: non-command entries are skipped and an entry that does
// not decode fails the same way on every node instead of panicking.
func TestFSMApplyBatch(t *testing.T) {
	f := &fsm{ks: keyspace.New(16), apply: testApply, replayTo: 2}
	good := (&op.Op{Type: op.Set, Args: [][]byte{[]byte("k"), []byte("v")}}).Encode(nil)
	out := f.ApplyBatch([]*raft.Log{
		{Index: 1, Type: raft.LogCommand, Data: good},
		{Index: 2, Type: raft.LogCommand, Data: []byte{op.Version, 0xff}},
		{Index: 3, Type: raft.LogConfiguration},
	})
	if out[0] != "OK" {
		t.Errorf("good entry: %v", out[0])
	}
	if _, ok := out[1].(decodeError); !ok {
		t.Errorf("corrupt entry: %T %v, want decodeError", out[1], out[1])
	}
	if out[2] != nil {
		t.Errorf("configuration entry: %v", out[2])
	}
	if f.lastIndex.Load() != 3 || f.applied.Load() != 3 || f.replayed.Load() != 2 {
		t.Errorf("lastIndex %d applied %d replayed %d; want 3 3 2", f.lastIndex.Load(), f.applied.Load(), f.replayed.Load())
	}
}

// BenchmarkFSMSnapshot measures the part of a snapshot that stalls
// applies: its point, taken on the FSM goroutine (the keyspace is written
// out by Persist, with applies going on).
func BenchmarkFSMSnapshot(b *testing.B) {
	for _, keys := range []int{25_000, 250_000} {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			f := &fsm{ks: keyspace.New(16), apply: testApply}
			val := make([]byte, 100)
			db := f.ks.DB(0)
			for i := 0; i < keys; i++ {
				db.Set([]byte(fmt.Sprint("key:", i)), keyspace.NewString(val), 0)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var size int
			for i := 0; i < b.N; i++ {
				s, err := f.Snapshot()
				if err != nil {
					b.Fatal(err)
				}
				s.Release()
			}
			b.StopTimer()
			s, _ := f.Snapshot()
			size = len(persisted(b, s))
			b.ReportMetric(float64(size)/1e6, "MB")
		})
	}
}

// auxStub is replicated state outside the keyspace, for snapshot tests.
type auxStub struct{ data []byte }

func (a *auxStub) Snapshot() []byte { return append([]byte(nil), a.data...) }
func (a *auxStub) Restore(b []byte) error {
	a.data = append([]byte(nil), b...)
	return nil
}

// TestSnapshotCarriesAux: the aux state and the request ids come back
// from a snapshot with the keyspace, whatever their sizes, and a snapshot
// written before the aux section existed restores it as empty.
func TestSnapshotCarriesAux(t *testing.T) {
	// 40,000 ids from 8 origins make a section larger than the restore's
	// read buffer.
	for _, n := range []int{0, 10, 40000} {
		src := &fsm{ks: keyspace.New(16), apply: testApply, aux: &auxStub{data: bytes.Repeat([]byte("a"), n)}}
		for i := 0; i < n; i++ {
			o := op.Op{Type: op.Set, Args: [][]byte{[]byte(fmt.Sprint("k", i)), []byte("v")}, Req: op.ReqID{Origin: fmt.Sprint("n", i%8), Seq: uint64(i + 1)}}
			src.ApplyBatch([]*raft.Log{{Index: uint64(i + 1), Type: raft.LogCommand, Data: o.Encode(nil)}})
		}
		snap, err := src.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		dst := &fsm{ks: keyspace.New(16), apply: testApply, aux: &auxStub{data: []byte("old")}}
		if err := dst.Restore(io.NopCloser(bytes.NewReader(persisted(t, snap)))); err != nil {
			t.Fatalf("%d: restore: %v", n, err)
		}
		if got := dst.aux.(*auxStub).data; len(got) != n {
			t.Errorf("%d: aux of %d bytes restored", n, len(got))
		}
		if n > 0 {
			if _, dup := dst.dedup.lookup(op.ReqID{Origin: fmt.Sprint("n", (n-1)%8), Seq: uint64(n)}); !dup {
				t.Errorf("%d: request ids not restored", n)
			}
			if v, ok := lookupStore(dst.ks, fmt.Sprint("k", n-1)); !ok || v != "v" {
				t.Errorf("%d: keyspace not restored", n)
			}
		}
	}
}

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (m *memSink) ID() string    { return "mem" }
func (m *memSink) Close() error  { m.closed = true; return nil }
func (m *memSink) Cancel() error { m.cancelled = true; return nil }

// persisted writes out and releases a snapshot, returning its bytes.
func persisted(tb testing.TB, s raft.FSMSnapshot) []byte {
	tb.Helper()
	defer s.Release()
	var sink memSink
	if err := s.Persist(&sink); err != nil || !sink.closed {
		tb.Fatalf("persist: %v (closed %v)", err, sink.closed)
	}
	return sink.Bytes()
}
