package keyspace

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// changingWriter applies a burst of random changes to the store each
// time the snapshot writer hands it a chunk, as applies would between
// chunks, with the lock taken the way an applier takes it.
type changingWriter struct {
	bytes.Buffer
	s     *Store
	rng   *rand.Rand
	keys  int
	burst int
}

func (w *changingWriter) Write(p []byte) (int, error) {
	w.s.Lock()
	for range w.burst {
		mutate(w.s, w.rng, w.keys)
	}
	w.s.Unlock()
	return w.Buffer.Write(p)
}

// mutate makes one random change of every kind a command can make to
// strings (inline and, through Append and SetRange, Objects), and to
// lists (whose copies share node buffers).
func mutate(s *Store, rng *rand.Rand, keys int) {
	d := s.DB(rng.IntN(2))
	k := key(rng.IntN(keys))
	switch rng.IntN(10) {
	case 0, 1:
		d.Set(k, NewString([]byte(fmt.Sprint("new", rng.IntN(1000)))), 0)
	case 2:
		d.Delete(k, t0)
	case 3:
		if e := d.GetForWrite(k, t0); e != nil && e.Kind() == KindString {
			d.Append(k, []byte("+"))
		}
	case 4:
		d.SetDeadline(k, t0+int64(rng.IntN(100)))
	case 5:
		if e := d.GetForWrite(k, t0); e != nil {
			v := e.Value()
			d.Set(key(keys+rng.IntN(keys)), v, e.Deadline()) // a rename's first half
			d.Delete(k, t0)
		}
	case 6:
		if e := d.GetForWrite(k, t0); e != nil && e.Kind() == KindString {
			d.SetRange(k, 1, []byte("xy"))
		}
	case 7:
		d.Replace(k, NewInt(int64(rng.IntN(100))))
	case 9:
		fill := int64(1 + rng.IntN(3)) // small nodes: many to share
		d.Update(k, t0, KindList, func() Object { return NewList() }, func(o Object) {
			l := o.(*List)
			switch e := []byte(fmt.Sprint("e", rng.IntN(100))); {
			case rng.IntN(4) == 0:
				l.Pop(rng.IntN(2) == 0)
			case rng.IntN(4) == 0 && l.Len() > 0:
				l.Set(rng.IntN(l.Len()), e, fill)
			default:
				l.Push(e, rng.IntN(2) == 0, fill)
			}
		})
	case 8:
		if rng.IntN(20) == 0 {
			s.FlushDB(rng.IntN(2))
		} else if rng.IntN(20) == 0 {
			s.Swap(0, 1)
		}
	}
}

// pointInTime fills a store with random changes and marks a snapshot's
// point, returning the store, its dump at the point, and the snapshot.
func pointInTime(t *testing.T, rng *rand.Rand, keys int) (*Store, []string, *Snapshot) {
	t.Helper()
	s := New(2)
	for range 2 * keys {
		mutate(s, rng, keys)
	}
	want, sn := markPoint(t, s)
	return s, want, sn
}

// markPoint describes s (dump) and begins a snapshot at that point.
func markPoint(t *testing.T, s *Store) ([]string, *Snapshot) {
	t.Helper()
	want := dump(s)
	s.Lock()
	sn, err := s.BeginSnapshot()
	s.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return want, sn
}

// TestSnapshotIsThePoint: a snapshot written while keys change under it,
// between every chunk, restores to exactly the store as it was at its
// point: the same keys in the same slots with the same values and
// deadlines.
func TestSnapshotIsThePoint(t *testing.T) {
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 3))
		keys := 3 * snapshotChunk
		s, want, sn := pointInTime(t, rng, keys)
		w := &changingWriter{s: s, rng: rng, keys: keys, burst: 1 + rng.IntN(2000)}
		if _, err := sn.WriteTo(w); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		sn.Release()
		got := New(2)
		if err := got.ReadSnapshot(bytes.NewReader(w.Bytes())); err != nil {
			t.Fatalf("seed %d: restore: %v", seed, err)
		}
		if g := dump(got); !slices.Equal(g, want) {
			t.Fatalf("seed %d: restored %d keys, want %d as at the point", seed, len(g), len(want))
		}
		if slices.Equal(dump(s), want) {
			t.Fatalf("seed %d: nothing changed during the snapshot", seed)
		}
		for i := range 2 {
			if s.DB(i).cow.snap != nil || s.DB(i).cow.saved != nil {
				t.Fatal("Release left copies behind")
			}
		}
	}
}

// TestSnapshotWithConcurrentApplies runs the writer and an applier on
// two goroutines, as raft does, for the race detector; the result must
// still be the point.
func TestSnapshotWithConcurrentApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	keys := 4 * snapshotChunk
	s, want, sn := pointInTime(t, rng, keys)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r := rand.New(rand.NewPCG(5, 6))
		for {
			select {
			case <-stop:
				return
			default:
			}
			s.Lock()
			mutate(s, r, keys)
			s.Unlock()
		}
	}()
	var buf bytes.Buffer
	_, err := sn.WriteTo(&buf)
	close(stop)
	wg.Wait()
	sn.Release()
	if err != nil {
		t.Fatal(err)
	}
	got := New(2)
	if err := got.ReadSnapshot(&buf); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dump(got), want) {
		t.Fatal("restored store differs from the point")
	}
}

// TestOneSnapshotAtATime: a second point is refused until the first is
// released.
func TestOneSnapshotAtATime(t *testing.T) {
	s := New(1)
	sn, err := s.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginSnapshot(); err != ErrSnapshotInProgress {
		t.Fatalf("second snapshot: %v", err)
	}
	sn.Release()
	if _, err := s.BeginSnapshot(); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

// lockProbe is a snapshot's writer that, handed a piece of a large
// value, checks that the writer holds no lock (it can take the write
// lock) and changes keys meanwhile, the large ones included.
type lockProbe struct {
	bytes.Buffer
	s       *Store
	change  func()
	unheld  int // large pieces written with no lock held
	touched bool
}

func (w *lockProbe) Write(p []byte) (int, error) {
	if len(p) == snapshotPiece {
		if !w.s.TryLock() {
			return 0, fmt.Errorf("a piece of a large value written with the store locked")
		}
		w.unheld++
		if !w.touched {
			w.change()
			w.touched = true
		}
		w.s.Unlock()
	}
	return w.Buffer.Write(p)
}

// TestSnapshotLargeValuesUnlocked: a large string whose bytes never
// change (inline, or kept), or a large list, is written out with no lock
// held, and the snapshot is still the point, though it and the keys after
// it change meanwhile; a restored large string keeps the buffer it was
// read into.
func TestSnapshotLargeValuesUnlocked(t *testing.T) {
	s := New(1)
	d := s.DB(0)
	big := func(c byte) []byte { return bytes.Repeat([]byte{c}, 2*snapshotDirect+5) }
	d.Set([]byte("before"), NewString([]byte("b")), 0)
	d.Set([]byte("inline"), NewString(big('i')), 0)
	d.Set([]byte("kept"), AdoptString(big('k')), t0+9)
	d.Set([]byte("raw"), NewRawString(big('r')), 0)
	list := func(o Object) {
		for i := range 3 * snapshotDirect / 64 {
			o.(*List).Push(fmt.Appendf(nil, "%063d", i), true, -2)
		}
	}
	d.Update([]byte("list"), t0, KindList, func() Object { return NewList() }, list)
	d.Set([]byte("after"), NewString([]byte("a")), 0)
	want, sn := markPoint(t, s)
	w := &lockProbe{s: s, change: func() {
		for _, k := range []string{"inline", "kept", "raw"} {
			d.SetRange([]byte(k), 1, []byte("changed"))
		}
		d.Update([]byte("list"), t0, KindList, nil, func(o Object) {
			l := o.(*List)
			l.Push([]byte("head"), false, -2)
			l.Set(l.Len()/2, []byte("middle"), -2)
			l.Pop(true)
		})
		d.Set([]byte("after"), NewString([]byte("new")), 0)
		d.Delete([]byte("before"), t0)
		d.Set([]byte("added"), NewString([]byte("x")), 0)
	}}
	got := writeRestored(t, sn, w, 1)
	if w.unheld == 0 {
		t.Fatal("no large value was written without the lock")
	}
	if g := dump(got); !slices.Equal(g, want) {
		t.Fatalf("restored %q\nwant %q", g, want)
	}
	for _, k := range []string{"inline", "kept", "raw"} {
		if e := got.DB(0).Get([]byte(k), t0); e.Object() == nil || e.Encoding() != EncRaw {
			t.Errorf("%s restored inline, or encoded %s", k, e.Encoding())
		}
	}
}

// TestSnapshotLargeListUnlocked: a large list alone is written out in
// pieces with no lock held, from a copy, while it changes: the snapshot
// has it as it was at the point.
func TestSnapshotLargeListUnlocked(t *testing.T) {
	s := New(1)
	d := s.DB(0)
	d.Update([]byte("list"), t0, KindList, func() Object { return NewList() }, func(o Object) {
		for i := range 3 * snapshotDirect / 64 {
			o.(*List).Push(fmt.Appendf(nil, "%063d", i), true, -2)
		}
	})
	want, sn := markPoint(t, s)
	w := &lockProbe{s: s, change: func() {
		d.Update([]byte("list"), t0, KindList, nil, func(o Object) {
			l := o.(*List)
			l.Set(0, []byte("first"), -2)
			l.Set(l.Len()-1, []byte("last"), -2)
			l.Push([]byte("more"), true, -2)
		})
	}}
	got := writeRestored(t, sn, w, 1)
	if w.unheld < 2 {
		t.Fatalf("%d pieces of the list written without the lock", w.unheld)
	}
	if g := dump(got); !slices.Equal(g, want) {
		t.Fatal("the restored list is not as it was at the snapshot's point")
	}
	if slices.Equal(dump(s), want) {
		t.Fatal("the list did not change during the snapshot")
	}
}

// zsetWriter changes every sorted set of db 0 each time the snapshot
// writer hands it a chunk, and counts the values kept for the snapshot as
// their encoding.
type zsetWriter struct {
	bytes.Buffer
	s       *Store
	zsets   [][]byte
	round   int
	encoded int
}

func (w *zsetWriter) Write(p []byte) (int, error) {
	w.s.Lock()
	d := w.s.DB(0)
	for _, pre := range d.cow.saved {
		if _, ok := pre.obj.(*encodedValue); ok {
			w.encoded++
		}
	}
	lim := DefaultEncodingLimits()
	w.round++
	for i, k := range w.zsets {
		d.Update(k, t0, KindZSet, nil, func(o Object) {
			z := o.(*ZSet)
			z.Remove([]byte(fmt.Sprint("m", w.round%300)))
			z.Set([]byte(fmt.Sprint("new", w.round)), float64(i), lim)
		})
	}
	w.s.Unlock()
	return w.Buffer.Write(p)
}

// TestSnapshotKeepsSortedSetsEncoded: big sorted sets changed while a
// snapshot is written, before the writer reaches them, are kept for it as
// their encoding (not cloned), and the snapshot restores them as they
// were at its point.
func TestSnapshotKeepsSortedSetsEncoded(t *testing.T) {
	s := New(1)
	d := s.DB(0)
	for i := range 3 * snapshotChunk { // the sorted sets come after these slots
		d.Set(key(i), NewString(bytes.Repeat([]byte("v"), 40)), 0)
	}
	lim := DefaultEncodingLimits()
	w := &zsetWriter{s: s}
	for i := range 4 {
		k := []byte(fmt.Sprint("zset:", i))
		w.zsets = append(w.zsets, k)
		d.Update(k, t0, KindZSet, func() Object { return &ZSet{} }, func(o Object) {
			for m := range 300 {
				o.(*ZSet).Set([]byte(fmt.Sprint("m", m)), float64(m%7), lim)
			}
		})
		if e := d.Get(k, t0); e.Encoding() != EncSkiplist {
			t.Fatalf("%s is a %s", k, e.Encoding())
		}
	}
	want, sn := markPoint(t, s)
	got := writeRestored(t, sn, w, 1)
	if w.encoded == 0 {
		t.Fatal("no sorted set was kept as its encoding: the test did not change one ahead of the writer")
	}
	if g := dump(got); !slices.Equal(g, want) {
		t.Fatal("the restored sorted sets are not as they were at the snapshot's point")
	}
	if slices.Equal(dump(s), want) {
		t.Fatal("nothing changed during the snapshot")
	}
}

// writeRestored writes sn to w, releases it, and returns a store of dbs
// databases restored from what w holds.
func writeRestored(t *testing.T, sn *Snapshot, w interface {
	io.Writer
	Bytes() []byte
}, dbs int) *Store {
	t.Helper()
	if _, err := sn.WriteTo(w); err != nil {
		t.Fatal(err)
	}
	sn.Release()
	got := New(dbs)
	if err := got.ReadSnapshot(bytes.NewReader(w.Bytes())); err != nil {
		t.Fatal(err)
	}
	return got
}
