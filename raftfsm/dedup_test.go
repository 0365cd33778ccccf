package raftfsm

import (
	"bytes"
	"io"
	"strconv"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func incrEntry(index uint64, origin string, seq uint64) *raft.Log {
	o := op.Op{Type: op.IncrBy, Int: 1, Args: [][]byte{[]byte("n")}, Req: op.ReqID{Origin: origin, Seq: seq}}
	return &raft.Log{Index: index, Type: raft.LogCommand, Data: o.Encode(nil)}
}

// TestDedupAppliesOnce: an op whose request id was applied before changes
// nothing and gets the first reply; ops without an id, or with another
// origin or sequence, apply normally.
func TestDedupAppliesOnce(t *testing.T) {
	f := &fsm{ks: keyspace.New(1), apply: testApply}
	steps := []struct {
		entry *raft.Log
		want  any
	}{
		{incrEntry(1, "n2", 10), int64(1)},
		{incrEntry(2, "n2", 10), int64(1)}, // retried: the first reply, not applied
		{incrEntry(3, "n3", 10), int64(2)}, // same sequence, other origin
		{incrEntry(4, "n2", 11), int64(3)},
		{incrEntry(5, "", 0), int64(4)}, // no request id: always applied
		{incrEntry(6, "", 0), int64(5)},
		{incrEntry(7, "n2", 9), int64(6)}, // an older sequence not yet seen applies
		{incrEntry(8, "n3", 10), int64(2)},
	}
	for i, s := range steps {
		if got := f.ApplyBatch([]*raft.Log{s.entry})[0]; got != s.want {
			t.Errorf("step %d: reply %v, want %v", i, got, s.want)
		}
	}
	if v, _ := lookupStore(f.ks, "n"); v != "6" {
		t.Errorf("n = %q, want 6", v)
	}
}

func lookupStore(ks *keyspace.Store, key string) (string, bool) {
	ks.RLock()
	defer ks.RUnlock()
	v := ks.DB(0).Get([]byte(key), 0)
	if v == nil {
		return "", false
	}
	return string(v.Bytes()), true
}

// TestDedupWindow: the ids a window below an origin's newest are
// forgotten, and a forgotten (or older) id is refused rather than
// applied.
func TestDedupWindow(t *testing.T) {
	var d dedup
	for seq := uint64(1); seq <= dedupWindow+2; seq++ {
		d.record(op.ReqID{Origin: "n1", Seq: seq}, int64(seq))
	}
	cases := []struct {
		seq  uint64
		want any
		dup  bool
	}{
		{1, errRetried, true}, // forgotten
		{2, errRetried, true},
		{3, int64(3), true},
		{dedupWindow + 2, int64(dedupWindow + 2), true},
		{dedupWindow + 3, nil, false},
	}
	for _, c := range cases {
		got, dup := d.lookup(op.ReqID{Origin: "n1", Seq: c.seq})
		if dup != c.dup || got != c.want {
			t.Errorf("seq %d: %v %v, want %v %v", c.seq, got, dup, c.want, c.dup)
		}
	}
	if n := len(d.origins["n1"].ids()); n != dedupWindow {
		t.Errorf("%d ids remembered, want %d", n, dedupWindow)
	}
	// A big reply is remembered as lost.
	d.record(op.ReqID{Origin: "n2", Seq: 1}, make([]byte, dedupMaxReply+1))
	if got, dup := d.lookup(op.ReqID{Origin: "n2", Seq: 1}); !dup || got != errRetried {
		t.Errorf("big reply: %v %v", got, dup)
	}
}

// TestDedupSnapshot: the ids survive a snapshot and restore (their
// replies do not), and a snapshot of the keyspace alone, as written before
// request ids, still restores.
func TestDedupSnapshot(t *testing.T) {
	f := &fsm{ks: keyspace.New(1), apply: testApply}
	for i := uint64(1); i <= dedupWindow+5; i++ {
		f.ApplyBatch([]*raft.Log{incrEntry(i, "n2", i)})
	}
	f.ApplyBatch([]*raft.Log{incrEntry(dedupWindow+6, "n3", 1)})
	g := restored(t, f)
	for _, id := range []op.ReqID{{Origin: "n2", Seq: 1}, {Origin: "n2", Seq: 6}, {Origin: "n2", Seq: dedupWindow + 5}, {Origin: "n3", Seq: 1}} {
		if got, dup := g.dedup.lookup(id); !dup || got != errRetried {
			t.Errorf("restored %v: %v %v, want errRetried", id, got, dup)
		}
	}
	if got := g.ApplyBatch([]*raft.Log{incrEntry(1, "n3", 1)})[0]; got != errRetried {
		t.Errorf("retry after restore: %v", got)
	}
	if got := g.ApplyBatch([]*raft.Log{incrEntry(2, "n3", 2)})[0]; got != int64(dedupWindow+7) {
		t.Errorf("new id after restore: %v", got)
	}

	// The keyspace alone (the format before request ids).
	var old bytes.Buffer
	f.ks.WriteSnapshot(&old)
	h := &fsm{ks: keyspace.New(1), apply: testApply}
	h.dedup.record(op.ReqID{Origin: "x", Seq: 1}, nil)
	if err := h.Restore(io.NopCloser(bytes.NewReader(old.Bytes()))); err != nil {
		t.Fatal(err)
	}
	if v, _ := lookupStore(h.ks, "n"); v != strconv.Itoa(dedupWindow+6) {
		t.Errorf("old-format restore: n = %q", v)
	}
	if _, dup := h.dedup.lookup(op.ReqID{Origin: "x", Seq: 1}); dup {
		t.Error("restore kept ids that the snapshot does not have")
	}
}

// restored is a new fsm restored from f's snapshot, checked to snapshot
// to the same bytes.
func restored(t *testing.T, f *fsm) *fsm {
	t.Helper()
	data := snapshotBytes(t, f)
	g := &fsm{ks: keyspace.New(1), apply: testApply}
	if err := g.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(snapshotBytes(t, g), data) {
		t.Fatal("a restored snapshot does not snapshot to the same bytes")
	}
	return g
}

func snapshotBytes(t *testing.T, f *fsm) []byte {
	t.Helper()
	s, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return persisted(t, s)
}

// TestDedupSnapshotCorrupt: a damaged id section fails the restore with
// an error, never a panic, and leaves the state as it was.
func TestDedupSnapshotCorrupt(t *testing.T) {
	f := &fsm{ks: keyspace.New(1), apply: testApply}
	f.ApplyBatch([]*raft.Log{incrEntry(1, "n2", 7)})
	data := snapshotBytes(t, f)
	idsEnd := len(fsmSnapshotMagic) + 1 + int(data[len(fsmSnapshotMagic)])
	cases := map[string][]byte{
		"cut in the ids":          data[:idsEnd-1],
		"section longer":          append(append([]byte(fsmSnapshotMagic), 0xff, 0xff, 0xff, 0xff, 0x0f), data[len(fsmSnapshotMagic)+1:]...),
		"section shorter":         append(append([]byte(fsmSnapshotMagic), data[len(fsmSnapshotMagic)]-1), data[len(fsmSnapshotMagic)+1:]...),
		"origin too long":         append([]byte(fsmSnapshotMagic), 4, 1, 0x80, 0x02, 0),
		"too many ids":            append([]byte(fsmSnapshotMagic), 7, 1, 1, 'a', 0, 0x81, 0x80, 0x01),
		"no keyspace after ids":   data[:idsEnd],
		"magic only":              []byte(fsmSnapshotMagic),
		"garbage":                 []byte("garbage"),
		"trailing in the section": append(append([]byte(fsmSnapshotMagic), data[len(fsmSnapshotMagic)]+1), append(append([]byte{}, data[len(fsmSnapshotMagic)+1:idsEnd]...), append([]byte{0}, data[idsEnd:]...)...)...),
	}
	for name, in := range cases {
		g := &fsm{ks: keyspace.New(1), apply: testApply}
		g.dedup.record(op.ReqID{Origin: "keep", Seq: 1}, nil)
		if err := g.Restore(io.NopCloser(bytes.NewReader(in))); err == nil {
			t.Errorf("%s: restored", name)
			continue
		}
		if _, dup := g.dedup.lookup(op.ReqID{Origin: "keep", Seq: 1}); !dup {
			t.Errorf("%s: a failed restore dropped the ids", name)
		}
	}
}
