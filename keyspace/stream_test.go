package keyspace

import (
	"bytes"
	"fmt"
	"testing"
)

func sampleStream(t testing.TB, n int, lim EncodingLimits) *Stream {
	s := NewStream()
	for i := 1; i <= n; i++ {
		fv := [][]byte{[]byte("f"), []byte(fmt.Sprint(i))}
		if i%7 == 0 {
			fv = append(fv, []byte("other"), []byte("x"))
		}
		id, err := s.NextID(int64(i/3), false, StreamID{}, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Add(id, fv, lim); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func ids(s *Stream, rev bool) []StreamID {
	var out []StreamID
	s.Range(StreamID{}, MaxStreamID, rev, func(e StreamEntry) bool { out = append(out, e.ID); return true })
	return out
}

func TestStreamNextIDNeverGoesBack(t *testing.T) {
	s := NewStream()
	lim := DefaultEncodingLimits()
	for _, now := range []int64{100, 100, 50, 200, 199} {
		id, _ := s.NextID(now, false, StreamID{}, true)
		if !s.LastID().Less(id) {
			t.Fatalf("id %v after %v", id, s.LastID())
		}
		s.Add(id, [][]byte{[]byte("f"), []byte("v")}, lim)
	}
	want := []StreamID{{100, 0}, {100, 1}, {100, 2}, {200, 0}, {200, 1}}
	if got := ids(s, false); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("ids %v, want %v", got, want)
	}
	if _, err := s.NextID(0, true, StreamID{200, 1}, true); err != ErrStreamIDTooSmall {
		t.Fatalf("equal id: %v", err)
	}
	if id, _ := s.NextID(0, true, StreamID{200, 0}, false); id != (StreamID{200, 2}) {
		t.Fatalf("200-*: %v", id)
	}
}

func TestStreamBlocksAndRanges(t *testing.T) {
	lim := DefaultEncodingLimits()
	s := sampleStream(t, 250, lim)
	if s.Blocks() != 3 || s.Len() != 250 {
		t.Fatalf("%d blocks, %d entries; want 3, 250", s.Blocks(), s.Len())
	}
	fwd, rev := ids(s, false), ids(s, true)
	for i := range fwd {
		if fwd[i] != rev[len(rev)-1-i] {
			t.Fatalf("reverse range differs at %d", i)
		}
	}
	e, ok := s.Get(fwd[6])
	if !ok || len(e.Fields) != 4 || string(e.Fields[2]) != "other" || string(e.Fields[1]) != "7" {
		t.Fatalf("entry 7: %q %v", e.Fields, ok)
	}
	var got []StreamID
	s.Range(fwd[98], fwd[101], false, func(e StreamEntry) bool { got = append(got, e.ID); return true })
	if len(got) != 4 || got[0] != fwd[98] || got[3] != fwd[101] {
		t.Fatalf("range across blocks: %v", got)
	}
}

func TestStreamDeleteAndTrim(t *testing.T) {
	lim := DefaultEncodingLimits()
	s := sampleStream(t, 250, lim)
	all := ids(s, false)
	if !s.Delete(all[0]) || s.Delete(all[0]) || s.Len() != 249 {
		t.Fatal("delete of the first entry")
	}
	s.NoteDeleted(all[0], true)
	if s.FirstID() != all[1] || s.MaxDeletedID() != all[0] {
		t.Fatalf("first %v, max deleted %v", s.FirstID(), s.MaxDeletedID())
	}
	// "~" removes whole blocks only: the first (99 left) goes, the
	// second would leave fewer than asked.
	if n := s.Trim(TrimArgs{MaxLen: 120, Approx: true, Limit: 10000}); n != 99 || s.Len() != 150 {
		t.Fatalf("approx trim removed %d, %d left", n, s.Len())
	}
	if n := s.Trim(TrimArgs{MaxLen: 120}); n != 30 || s.Len() != 120 || s.FirstID() != all[130] {
		t.Fatalf("exact trim removed %d, %d left, first %v", n, s.Len(), s.FirstID())
	}
	if s.WouldTrim(TrimArgs{MinID: true, Min: all[130]}) || !s.WouldTrim(TrimArgs{MinID: true, Min: all[131]}) {
		t.Fatal("WouldTrim by MINID")
	}
	for _, id := range ids(s, false) {
		s.Delete(id)
	}
	if s.Len() != 0 || s.Blocks() != 0 {
		t.Fatalf("emptied stream holds %d entries in %d blocks", s.Len(), s.Blocks())
	}
}

func TestStreamSnapshotRoundTrip(t *testing.T) {
	lim := DefaultEncodingLimits()
	s := sampleStream(t, 230, lim)
	s.Delete(ids(s, false)[5])
	s.CreateGroup([]byte("g"), StreamID{1, 0}, -1)
	g := s.Group([]byte("g"))
	c, _ := g.CreateConsumer([]byte("alice"), 5)
	g.Deliver(ids(s, false)[0], c, 7, false)
	b := s.AppendSnapshot(nil)
	o, err := decodeStream(EncStream, b)
	if err != nil {
		t.Fatal(err)
	}
	s2 := o.(*Stream)
	if !bytes.Equal(s2.AppendSnapshot(nil), b) || fmt.Sprint(ids(s2, false)) != fmt.Sprint(ids(s, false)) {
		t.Fatal("the decoded stream differs")
	}
	if s2.Size() > s.Size() || s2.Group([]byte("g")).Consumer([]byte("alice")).Pending() != 1 {
		t.Fatalf("size %d, over %d; or the PEL is lost", s2.Size(), s.Size())
	}
	if _, err := decodeStream(EncStream, b[:len(b)-1]); err == nil {
		t.Fatal("a truncated stream decoded")
	}
}

func FuzzDecodeStream(f *testing.F) {
	lim := DefaultEncodingLimits()
	for _, n := range []int{0, 3, 120} {
		s := sampleStream(f, n, lim)
		if n > 0 {
			s.CreateGroup([]byte("g"), StreamID{}, 0)
			c, _ := s.Group([]byte("g")).CreateConsumer([]byte("c"), 1)
			s.Group([]byte("g")).Deliver(s.firstLive(), c, 2, false)
		}
		f.Add(s.AppendSnapshot(nil))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := decodeStream(EncStream, data)
		if err != nil {
			return
		}
		b := o.AppendSnapshot(nil)
		o2, err := decodeStream(EncStream, b)
		if err != nil || !bytes.Equal(o2.AppendSnapshot(nil), b) {
			t.Fatalf("%q encodes as %q, which does not decode alike: %v", data, b, err)
		}
		s := o.(*Stream)
		c := s.Clone().(*Stream)
		all := ids(s, false)
		ids(s, true)
		if len(all) > 0 {
			s.Delete(all[len(all)/2])
		}
		id, err := s.NextID(1, false, StreamID{}, true)
		if err == nil {
			s.Add(id, [][]byte{[]byte("f"), []byte("v")}, lim)
		}
		s.Trim(TrimArgs{MaxLen: 1})
		s.RadixNodes()
		if c.Len() != o2.Len() {
			t.Fatalf("a clone changed with its original")
		}
	})
}

// A clone shares the blocks until one side changes them: neither sees the
// other's changes.
func TestStreamCloneCopyOnWrite(t *testing.T) {
	lim := DefaultEncodingLimits()
	s := sampleStream(t, 150, lim)
	before := s.AppendSnapshot(nil)
	c := s.Clone().(*Stream)
	all := ids(s, false)
	s.Delete(all[3])
	s.Delete(all[120])
	id, _ := s.NextID(1000, false, StreamID{}, true)
	s.Add(id, [][]byte{[]byte("f"), []byte("new")}, lim)
	s.Trim(TrimArgs{MaxLen: 140})
	if got := c.AppendSnapshot(nil); !bytes.Equal(got, before) {
		t.Fatal("the clone changed with its original")
	}
	c.Delete(all[10])
	cid, _ := c.NextID(2000, false, StreamID{}, true)
	c.Add(cid, [][]byte{[]byte("f"), []byte("clone")}, lim)
	if _, found := s.Get(cid); found || s.Len() != 140 {
		t.Fatalf("the original changed with its clone: %d entries", s.Len())
	}
	if _, found := s.Get(all[10]); !found {
		t.Fatal("the clone's delete reached the original")
	}
	if e, _ := c.Get(all[120]); string(e.Fields[1]) != "121" {
		t.Fatalf("the clone lost entry 121: %q", e.Fields)
	}
}
