package raftfsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

func clientID(c int, seq uint64) op.ReqID {
	return op.ReqID{Origin: op.ClientOrigin + fmt.Sprintf("c%d", c), Seq: seq}
}

// TestDedupClientWindow: a client origin remembers the ids in a span of
// clientWindow sequences below its newest, a node origin dedupWindow,
// whatever the other does.
func TestDedupClientWindow(t *testing.T) {
	var d dedup
	for seq := uint64(1); seq <= clientWindow+10; seq++ {
		d.record(clientID(1, seq), int64(seq))
		d.record(op.ReqID{Origin: "n1", Seq: seq}, int64(seq))
	}
	for _, c := range []struct {
		id   op.ReqID
		want any
		dup  bool
	}{
		{clientID(1, 10), errRetried, true}, // forgotten: past the window
		{clientID(1, 11), int64(11), true},
		{clientID(1, clientWindow+10), int64(clientWindow + 10), true},
		{clientID(1, clientWindow+11), nil, false},
		{op.ReqID{Origin: "n1", Seq: 1}, int64(1), true}, // a node's window is larger
	} {
		if got, dup := d.lookup(c.id); dup != c.dup || got != c.want {
			t.Errorf("%q %d: %v %v, want %v %v", c.id.Origin, c.id.Seq, got, dup, c.want, c.dup)
		}
	}
	if n := len(d.origins[clientID(1, 0).Origin].ids()); n != clientWindow {
		t.Errorf("client origin holds %d ids, want %d", n, clientWindow)
	}
}

// TestDedupLateRetry: an id held back (a retry in backoff) while
// thousands of the client's later ids are applied keeps its place: never
// applied, it applies; applied, its retry gets the first reply.
func TestDedupLateRetry(t *testing.T) {
	var d dedup
	d.record(clientID(1, 3), int64(3))
	for seq := uint64(6); seq < clientWindow; seq++ {
		d.record(clientID(1, seq), int64(seq))
	}
	if got, dup := d.lookup(clientID(1, 3)); !dup || got != int64(3) {
		t.Errorf("seq 3, applied first: %v %v", got, dup)
	}
	if got, dup := d.lookup(clientID(1, 5)); dup {
		t.Errorf("seq 5, never applied: %v", got)
	}
	d.record(clientID(1, 5), int64(5))
	if got, dup := d.lookup(clientID(1, 5)); !dup || got != int64(5) {
		t.Errorf("seq 5 once applied: %v %v", got, dup)
	}
	if got, dup := d.lookup(clientID(1, 4)); dup {
		t.Errorf("seq 4, never applied: %v", got)
	}
	// A window past it, its fate is forgotten: refused, never applied.
	d.record(clientID(1, clientWindow+5), nil)
	if got, dup := d.lookup(clientID(1, 4)); !dup || got != errRetried {
		t.Errorf("seq 4 a window below the newest: %v %v", got, dup)
	}
	// A leap of many windows forgets all before it, replies too.
	d.record(clientID(1, 10*clientWindow), int64(1))
	if ids := d.origins[clientID(1, 0).Origin].ids(); len(ids) != 1 || ids[0] != 10*clientWindow {
		t.Errorf("after a leap, ids %v", ids)
	}
	if n, _ := heldReplies(t, &d); n != 1 {
		t.Errorf("after a leap, %d replies held", n)
	}
}

// TestDedupSectionAnyOrder: a section lists an origin's ids in any order
// (as snapshots did when they kept them in the order applied), some at or
// below the floor; it reads as if they were applied so, and writes back
// ascending.
func TestDedupSectionAnyOrder(t *testing.T) {
	sec := []byte{1, 2, 'n', '2', 10, 4, 15, 3, 12, 15}
	var d dedup
	if err := d.read(bufio.NewReader(bytes.NewReader(sec))); err != nil {
		t.Fatal(err)
	}
	for seq, want := range map[uint64]bool{3: true, 10: true, 11: false, 12: true, 13: false, 15: true, 16: false} {
		if _, dup := d.lookup(op.ReqID{Origin: "n2", Seq: seq}); dup != want {
			t.Errorf("seq %d: applied %v, want %v", seq, dup, want)
		}
	}
	if got, want := d.appendTo(nil), []byte{1, 2, 'n', '2', 10, 2, 12, 15}; !bytes.Equal(got, want) {
		t.Errorf("written back as % x, want % x", got, want)
	}
}

// TestDedupClientEviction: past dedupMaxClients client origins, the one
// least recently applied is forgotten whole (its ids apply again, its
// replies leave the budget); node origins are never forgotten so.
func TestDedupClientEviction(t *testing.T) {
	var d dedup
	d.record(op.ReqID{Origin: "n1", Seq: 1}, int64(1))
	for c := range dedupMaxClients {
		d.record(clientID(c, 1), make([]byte, 100))
	}
	// c0 applies again: c1 is now the least recent.
	d.record(clientID(0, 2), int64(2))
	d.record(clientID(dedupMaxClients, 1), int64(3))
	if _, dup := d.lookup(clientID(1, 1)); dup {
		t.Error("c1, the least recently applied, is still remembered")
	}
	for _, id := range []op.ReqID{clientID(0, 1), clientID(2, 1), clientID(dedupMaxClients, 1), {Origin: "n1", Seq: 1}} {
		if _, dup := d.lookup(id); !dup {
			t.Errorf("%q %d forgotten", id.Origin, id.Seq)
		}
	}
	if d.clients.n != dedupMaxClients || len(d.origins) != dedupMaxClients+1 {
		t.Errorf("%d client origins, %d in all", d.clients.n, len(d.origins))
	}
	heldReplies(t, &d) // the forgotten origin's reply left the budget
	// Eviction order is recency: c2, c3, ... follow.
	for c := 2; c < 6; c++ {
		d.record(clientID(dedupMaxClients+c, 1), nil)
		if _, dup := d.lookup(clientID(c, 1)); dup {
			t.Errorf("c%d not forgotten in its turn", c)
		}
		if _, dup := d.lookup(clientID(c+1, 1)); !dup {
			t.Errorf("c%d forgotten before its turn", c+1)
		}
	}
	// The queue drops the stale entries of forgotten origins.
	for i := range 20000 {
		d.record(clientID(5000+i%dedupMaxClients, uint64(i)), make([]byte, 1000))
	}
	heldReplies(t, &d)
	if q := d.replies.queued(); q > 2*(dedupMaxBytes/1000)+replyQueueCompactMin {
		t.Errorf("%d entries queued", q)
	}
}

// TestDedupClientSnapshot: a snapshot keeps the client origins in their
// recency order, so a restored node forgets the same origin next; one
// without client origins is as before they existed.
func TestDedupClientSnapshot(t *testing.T) {
	f := &fsm{ks: keyspace.New(1), apply: testApply}
	index := uint64(0)
	apply := func(f *fsm, id op.ReqID) any {
		index++
		return f.ApplyBatch([]*raft.Log{incrEntry(index, id.Origin, id.Seq)})[0]
	}
	apply(f, op.ReqID{Origin: "n2", Seq: 1})
	noClients := snapshotBytes(t, f)
	// The section of node origins alone, written by hand as before.
	want := binary.AppendUvarint([]byte(fsmSnapshotMagic), 7)
	want = append(want, 1, 2, 'n', '2', 0, 1, 1)
	if !bytes.HasPrefix(noClients, want) {
		t.Errorf("without client origins the section is % x, want % x", noClients[:len(want)], want)
	}

	for c := range dedupMaxClients {
		apply(f, clientID(c, 1))
	}
	for c := dedupMaxClients - 1; c >= 0; c -= 2 { // odd ones, newest first
		apply(f, clientID(c, 2))
	}
	g := restored(t, f)
	// Both forget the same origins: the even ones, in order, then the
	// odd ones from the highest.
	for i := range dedupMaxClients / 2 {
		for _, x := range []*fsm{f, g} {
			apply(x, clientID(10000+i, 1))
		}
	}
	for c := range dedupMaxClients {
		_, fdup := f.dedup.lookup(clientID(c, 1))
		_, gdup := g.dedup.lookup(clientID(c, 1))
		if fdup != gdup || fdup != (c%2 == 1) {
			t.Fatalf("c%d: remembered %v before the snapshot, %v after, want %v", c, fdup, gdup, c%2 == 1)
		}
	}
	apply(f, clientID(20000, 1))
	apply(g, clientID(20000, 1))
	if _, dup := g.dedup.lookup(clientID(dedupMaxClients-1, 2)); dup {
		t.Error("the oldest odd origin was not the next forgotten")
	}
	if !bytes.Equal(snapshotBytes(t, f), snapshotBytes(t, g)) {
		t.Error("the original and the restored node differ after the same applies")
	}
	// A retry of a restored client id is not applied again.
	if got := apply(g, clientID(dedupMaxClients-3, 2)); got != errRetried {
		t.Errorf("restored client id: %v", got)
	}
}

// TestDedupClientSectionCorrupt: the client part is checked as strictly
// as the nodes'.
func TestDedupClientSectionCorrupt(t *testing.T) {
	nodes := []byte{1, 2, 'n', '2', 0, 0} // one node origin, no ids
	client := func(name string, ids ...byte) []byte {
		b := append([]byte{byte(len(name))}, name...)
		return append(append(b, 0, byte(len(ids))), ids...)
	}
	cases := map[string][]byte{
		"empty client part":        append(nodes, 0),
		"node origin in it":        append(append(nodes, 1), client("n3")...),
		"client origin in nodes'":  append([]byte{1}, client("\x00c")[:4]...),
		"twice":                    append(append(append(nodes, 2), client("\x00c", 1)...), client("\x00c", 2)...),
		"too many":                 append(nodes, 0x81, 0x08),
		"window over":              append(append(nodes, 1), append(binary.AppendUvarint([]byte{2, 0, 'c', 0}, clientWindow+1), bytes.Repeat([]byte{1}, clientWindow+1)...)...),
		"cut":                      append(append(nodes, 1), client("\x00c", 1)[:3]...),
		"trailing after the part:": append(append(append(nodes, 1), client("\x00c", 1)...), 0),
	}
	for name, sec := range cases {
		var d dedup
		err := d.read(bufio.NewReader(bytes.NewReader(sec)))
		if err == nil {
			// Restore refuses what read leaves unread.
			err = restoreSection(sec)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	var d dedup
	good := append(append(nodes, 1), client("\x00c", 1)...)
	if err := d.read(bufio.NewReader(bytes.NewReader(good))); err != nil {
		t.Fatalf("a good section: %v", err)
	}
	if !bytes.Equal(d.appendTo(nil), good) {
		t.Error("a good section does not write back the same")
	}
}

// restoreSection restores a snapshot made of an id section and an empty
// keyspace.
func restoreSection(sec []byte) error {
	var ks bytes.Buffer
	keyspace.New(1).WriteSnapshot(&ks)
	b := binary.AppendUvarint([]byte(fsmSnapshotMagicV1), uint64(len(sec)))
	b = append(append(b, sec...), ks.Bytes()...)
	f := &fsm{ks: keyspace.New(1), apply: testApply}
	return f.Restore(io.NopCloser(bytes.NewReader(b)))
}

// FuzzDedupSection: the id section decoder never panics, and what it
// accepts writes back to bytes it reads the same way.
func FuzzDedupSection(f *testing.F) {
	var d dedup
	d.record(op.ReqID{Origin: "n1", Seq: 5}, nil)
	f.Add(d.appendTo(nil))
	for c := range 3 {
		d.record(clientID(c, uint64(c+1)), nil)
	}
	d.record(clientID(0, 9), nil)
	f.Add(d.appendTo(nil))
	f.Add([]byte{0, 1, 1, 0, 'c', 0, 1, 7})
	f.Fuzz(func(t *testing.T, sec []byte) {
		var d dedup
		if d.read(bufio.NewReader(bytes.NewReader(sec))) != nil {
			return
		}
		if d.clients.n > dedupMaxClients {
			t.Fatalf("%d client origins", d.clients.n)
		}
		out := d.appendTo(nil)
		var e dedup
		if err := e.read(bufio.NewReader(bytes.NewReader(out))); err != nil {
			t.Fatalf("what appendTo wrote does not read: %v", err)
		}
		if !bytes.Equal(e.appendTo(nil), out) {
			t.Fatal("read and written again, the section changed")
		}
	})
}
