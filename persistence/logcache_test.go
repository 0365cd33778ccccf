package persistence

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hashicorp/raft"
)

// countingStore is an in-memory raft.LogStore that counts the reads the
// cache did not answer, and fails writes on demand.
type countingStore struct {
	*raft.InmemStore
	gets      atomic.Int64
	failWrite atomic.Bool
	monotonic bool
}

func newCountingStore() *countingStore { return &countingStore{InmemStore: raft.NewInmemStore()} }

func (s *countingStore) GetLog(index uint64, l *raft.Log) error {
	s.gets.Add(1)
	return s.InmemStore.GetLog(index, l)
}

var errWrite = errors.New("disk on fire")

func (s *countingStore) StoreLogs(logs []*raft.Log) error {
	if s.failWrite.Load() {
		return errWrite
	}
	return s.InmemStore.StoreLogs(logs)
}

func (s *countingStore) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

func (s *countingStore) IsMonotonic() bool { return s.monotonic }

func newCache(t testing.TB, store raft.LogStore, budget int) *LogCache {
	t.Helper()
	c, err := NewLogCache(store, budget)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sized returns entries lo..hi, each with size bytes of data (more if
// that is too few) naming it and gen, which tells rewrites apart.
func sized(lo, hi uint64, size int, gen byte) []*raft.Log {
	var out []*raft.Log
	for i := lo; i <= hi; i++ {
		label := fmt.Sprintf("%d/%d/", i, gen)
		data := make([]byte, max(size, len(label)))
		copy(data, label)
		out = append(out, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: data})
	}
	return out
}

// get reads index through c and reports whether the store was asked.
func get(t *testing.T, c *LogCache, s *countingStore, index uint64) (raft.Log, bool, error) {
	t.Helper()
	before := s.gets.Load()
	var l raft.Log
	err := c.GetLog(index, &l)
	return l, s.gets.Load() != before, err
}

// wantEntry checks that index reads as gen's entry, from the cache or
// from the store as fromStore says.
func wantEntry(t *testing.T, c *LogCache, s *countingStore, index uint64, gen byte, fromStore bool) {
	t.Helper()
	l, asked, err := get(t, c, s, index)
	if err != nil {
		t.Fatalf("GetLog(%d): %v", index, err)
	}
	if want := fmt.Sprintf("%d/%d/", index, gen); l.Index != index || !bytes.HasPrefix(l.Data, []byte(want)) {
		t.Fatalf("GetLog(%d) = index %d data %.20q, want %q", index, l.Index, l.Data, want)
	}
	if asked != fromStore {
		t.Fatalf("GetLog(%d): store asked %v, want %v", index, asked, fromStore)
	}
}

func TestLogCacheServesWhatItStored(t *testing.T) {
	s := newCountingStore()
	c := newCache(t, s, 1<<20)
	if err := c.StoreLogs(sized(1, 10, 32, 0)); err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 10; i++ {
		wantEntry(t, c, s, i, 0, false)
	}
	if _, asked, err := get(t, c, s, 11); !errors.Is(err, raft.ErrLogNotFound) || !asked {
		t.Fatalf("GetLog(11): %v, store asked %v", err, asked)
	}
	if first, _ := c.FirstIndex(); first != 1 {
		t.Errorf("FirstIndex = %d", first)
	}
	if last, _ := c.LastIndex(); last != 10 {
		t.Errorf("LastIndex = %d", last)
	}
	// The cache holds a copy: the caller's entry changing later changes
	// nothing cached.
	l := sized(11, 11, 32, 0)[0]
	if err := c.StoreLog(l); err != nil {
		t.Fatal(err)
	}
	l.Index, l.Term = 99, 99
	if got, _, _ := get(t, c, s, 11); got.Index != 11 || got.Term != 1 {
		t.Errorf("cached entry changed with the caller's: %+v", got)
	}
}

// The cache keeps the newest entries within its budget, and falls back
// to the store for the others.
func TestLogCacheBudget(t *testing.T) {
	s := newCountingStore()
	const budget, size = 10 << 10, 1000
	c := newCache(t, s, budget)
	for i := uint64(1); i <= 100; i += 5 {
		if err := c.StoreLogs(sized(i, i+4, size, 0)); err != nil {
			t.Fatal(err)
		}
		if st := c.Stats(); st.Bytes > budget {
			t.Fatalf("after %d: %d bytes cached", i+4, st.Bytes)
		}
	}
	per := size + logEntryOverhead
	st := c.Stats()
	if want := budget / per; st.Entries != want || st.Bytes != want*per {
		t.Fatalf("stats %+v, want %d entries of %d bytes", st, want, per)
	}
	oldest := uint64(100 - budget/per + 1)
	for i := uint64(1); i <= 100; i++ {
		wantEntry(t, c, s, i, 0, i < oldest)
	}
}

// An entry bigger than a quarter of the budget is stored, not cached;
// the entries around it are, and are found across the gap it leaves.
func TestLogCacheBigEntry(t *testing.T) {
	s := newCountingStore()
	const budget = 64 << 10
	c := newCache(t, s, budget)
	logs := sized(1, 3, 100, 0)
	logs = append(logs, sized(4, 4, budget/logCacheEntryShare, 0)...)
	logs = append(logs, sized(5, 8, 100, 0)...)
	if err := c.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 8; i++ {
		wantEntry(t, c, s, i, 0, i == 4)
	}
	if st := c.Stats(); st.Entries != 7 {
		t.Errorf("%d entries cached, want 7", st.Entries)
	}
}

// A failed store caches nothing and says why.
func TestLogCacheStoreFailure(t *testing.T) {
	s := newCountingStore()
	c := newCache(t, s, 1<<20)
	s.failWrite.Store(true)
	if err := c.StoreLogs(sized(1, 3, 10, 0)); !errors.Is(err, errWrite) {
		t.Fatalf("StoreLogs: %v", err)
	}
	if st := c.Stats(); st.Entries != 0 || st.Bytes != 0 {
		t.Fatalf("a failed store cached %+v", st)
	}
	if _, _, err := get(t, c, s, 1); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog after a failed store: %v", err)
	}
}

// DeleteRange drops the range from the cache and the store; what is left
// is still served from the cache, and what is stored again anew.
func TestLogCacheDeleteRange(t *testing.T) {
	s := newCountingStore()
	c := newCache(t, s, 1<<20)
	if err := c.StoreLogs(sized(1, 20, 16, 0)); err != nil {
		t.Fatal(err)
	}
	// Compaction: a prefix, beginning before the cache's.
	if err := c.DeleteRange(0, 5); err != nil {
		t.Fatal(err)
	}
	// A follower's truncation of a conflicting suffix, and the new entries.
	if err := c.DeleteRange(16, 20); err != nil {
		t.Fatal(err)
	}
	if err := c.StoreLogs(sized(16, 18, 16, 1)); err != nil {
		t.Fatal(err)
	}
	// A hole in the middle (raft makes none, but it must hold).
	if err := c.DeleteRange(9, 10); err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 20; i++ {
		switch {
		case i <= 5 || i == 9 || i == 10 || i > 18:
			if _, asked, err := get(t, c, s, i); !errors.Is(err, raft.ErrLogNotFound) || !asked {
				t.Errorf("GetLog(%d) after its deletion: %v, store asked %v", i, err, asked)
			}
		case i >= 16:
			wantEntry(t, c, s, i, 1, false)
		default:
			wantEntry(t, c, s, i, 0, false)
		}
	}
	if st := c.Stats(); st.Entries != 11 || st.Bytes != 11*(16+logEntryOverhead) {
		t.Errorf("stats %+v, want 11 entries", st)
	}
	// Storing an index already cached, without deleting it first, rewrites
	// it: the new entry is read back.
	if err := c.StoreLogs(sized(12, 12, 16, 2)); err != nil {
		t.Fatal(err)
	}
	wantEntry(t, c, s, 12, 2, true)
	wantEntry(t, c, s, 13, 0, false)
}

// However small the entries, the cache holds at most logCacheMaxEntries.
func TestLogCacheMaxEntries(t *testing.T) {
	s := newCountingStore()
	c := newCache(t, s, 1<<30)
	for i := uint64(1); i <= 2*logCacheMaxEntries; i += 1000 {
		if err := c.StoreLogs(sized(i, i+999, 1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.Entries != logCacheMaxEntries {
		t.Fatalf("%d entries cached, want %d", st.Entries, logCacheMaxEntries)
	}
	last, _ := c.LastIndex()
	wantEntry(t, c, s, last, 0, false)
	wantEntry(t, c, s, last-logCacheMaxEntries+1, 0, false)
	wantEntry(t, c, s, last-logCacheMaxEntries, 0, true)
}

func TestLogCacheMonotonicAndBudget(t *testing.T) {
	s := newCountingStore()
	if newCache(t, s, 1).IsMonotonic() {
		t.Error("monotonic over a store that is not")
	}
	s.monotonic = true
	if !newCache(t, s, 1).IsMonotonic() {
		t.Error("not monotonic over a store that is")
	}
	if _, err := NewLogCache(s, 0); err == nil {
		t.Error("a cache with no budget")
	}
}

// TestLogCacheMatchesRaftLogCache: the same random history of stores,
// compactions and truncations, applied to this cache and to
// hashicorp/raft's over identical stores, reads back the same at every
// index.
func TestLogCacheMatchesRaftLogCache(t *testing.T) {
	ours, theirs := newCountingStore(), raft.NewInmemStore()
	c := newCache(t, ours, 8<<10)
	rc, err := raft.NewLogCache(64, theirs)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var first, last uint64 = 1, 0
	for step := 0; step < 3000; step++ {
		switch r := rng.IntN(10); {
		case r < 7: // append
			n := uint64(1 + rng.IntN(8))
			logs := sized(last+1, last+n, rng.IntN(3000), byte(step))
			for _, s := range []raft.LogStore{c, rc} {
				if err := s.StoreLogs(logs); err != nil {
					t.Fatal(err)
				}
			}
			last += n
		case r < 9 && last > first: // compact a prefix
			upTo := first + uint64(rng.IntN(int(last-first)))
			c.DeleteRange(first, upTo)
			rc.DeleteRange(first, upTo)
			first = upTo + 1
		case last > first: // truncate a suffix
			from := last - uint64(rng.IntN(int(min(last-first, 10))))
			c.DeleteRange(from, last)
			rc.DeleteRange(from, last)
			last = from - 1
		}
		lo := uint64(1)
		if last > 40 {
			lo = last - 40
		}
		for i := lo; i <= last+1; i++ {
			var a, b raft.Log
			ea, eb := c.GetLog(i, &a), rc.GetLog(i, &b)
			if (ea == nil) != (eb == nil) || a.Index != b.Index || !bytes.Equal(a.Data, b.Data) {
				t.Fatalf("step %d, index %d: ours %d %.12q (%v), raft's %d %.12q (%v)", step, i, a.Index, a.Data, ea, b.Index, b.Data, eb)
			}
		}
		if st := c.Stats(); st.Bytes > 8<<10 {
			t.Fatalf("step %d: %d bytes cached", step, st.Bytes)
		}
	}
}

// TestLogCacheConcurrent (for -race): readers read while a writer
// appends, compacts and truncates; every entry read is one that was
// stored at its index.
func TestLogCacheConcurrent(t *testing.T) {
	s := newCountingStore()
	c := newCache(t, s, 64<<10)
	var last atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 0))
			for {
				select {
				case <-stop:
					return
				default:
				}
				hi := last.Load()
				if hi == 0 {
					continue
				}
				i := hi - uint64(rng.IntN(int(min(hi, 200))))
				var l raft.Log
				if err := c.GetLog(i, &l); err != nil {
					continue // compacted or truncated meanwhile
				}
				if l.Index != i || !bytes.HasPrefix(l.Data, []byte(fmt.Sprintf("%d/", i))) {
					t.Errorf("GetLog(%d) = %d %.12q", i, l.Index, l.Data)
					return
				}
			}
		}(uint64(r))
	}
	var first, end uint64 = 1, 0
	for step := 0; step < 5000; step++ {
		switch {
		case step%50 == 49 && end > first+100:
			c.DeleteRange(first, end-100)
			first = end - 99
		case step%97 == 96:
			c.DeleteRange(end-2, end)
			end -= 3
			last.Store(end)
		default:
			if err := c.StoreLogs(sized(end+1, end+4, 200+step%700, byte(step))); err != nil {
				t.Fatal(err)
			}
			end += 4
			last.Store(end)
		}
	}
	close(stop)
	wg.Wait()
}

// nopStore stores nothing: the benchmarks measure the caches alone.
type nopStore struct{}

func (nopStore) FirstIndex() (uint64, error)      { return 0, nil }
func (nopStore) LastIndex() (uint64, error)       { return 0, nil }
func (nopStore) GetLog(uint64, *raft.Log) error   { return raft.ErrLogNotFound }
func (nopStore) StoreLog(*raft.Log) error         { return nil }
func (nopStore) StoreLogs([]*raft.Log) error      { return nil }
func (nopStore) DeleteRange(uint64, uint64) error { return nil }
func (nopStore) IsMonotonic() bool                { return false }

// benchCaches are the caches compared: ours with its default budget, and
// raft.LogCache with the 1024 entries a node used to give it.
func benchCaches(b *testing.B) map[string]raft.LogStore {
	ours := newCache(b, nopStore{}, DefaultLogCacheBytes)
	theirs, err := raft.NewLogCache(1024, nopStore{})
	if err != nil {
		b.Fatal(err)
	}
	return map[string]raft.LogStore{"bytes": ours, "raft": theirs}
}

// BenchmarkLogCacheGet reads small entries the cache holds (the last 1024
// stored, as a leader replicating does), one goroutine per core.
func BenchmarkLogCacheGet(b *testing.B) {
	for _, name := range []string{"bytes", "raft"} {
		b.Run(name, func(b *testing.B) {
			c := benchCaches(b)[name]
			for i := uint64(1); i <= 4096; i += 64 {
				c.StoreLogs(sized(i, i+63, 64, 0))
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var l raft.Log
				i := uint64(0)
				for pb.Next() {
					if err := c.GetLog(4096-i%1024, &l); err != nil {
						b.Fatal(err)
					}
					i++
				}
			})
		})
	}
}

// BenchmarkLogCacheStore stores small entries, 16 per call, as a leader
// under load hands them over.
func BenchmarkLogCacheStore(b *testing.B) {
	for _, name := range []string{"bytes", "raft"} {
		b.Run(name, func(b *testing.B) {
			c := benchCaches(b)[name]
			batches := make([][]*raft.Log, 64)
			for i := range batches {
				batches[i] = sized(1, 16, 64, 0)
			}
			next := uint64(1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				logs := batches[i%len(batches)]
				for _, l := range logs {
					l.Index = next
					next++
				}
				if err := c.StoreLogs(logs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLogCacheStoreWAL stores small entries, 16 per call, through
// each cache into the Pebble WAL (not synced, so the cache's share shows
// as much as it can): what a node pays per StoreLogs.
func BenchmarkLogCacheStoreWAL(b *testing.B) {
	for _, name := range []string{"bytes", "raft"} {
		b.Run(name, func(b *testing.B) {
			s := openStore(b, b.TempDir(), false)
			defer closeStore(b, s)
			var c raft.LogStore = newCache(b, s, DefaultLogCacheBytes)
			if name == "raft" {
				var err error
				if c, err = raft.NewLogCache(1024, s); err != nil {
					b.Fatal(err)
				}
			}
			next := uint64(1)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				logs := sized(next, next+15, 64, 0)
				next += 16
				if err := c.StoreLogs(logs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
