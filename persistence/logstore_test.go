package persistence

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftbench "github.com/hashicorp/raft/bench"
)

func openStore(t testing.TB, dir string, sync bool) *Store {
	t.Helper()
	s, err := Open(dir, sync)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func closeStore(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

func edges(t testing.TB, s *Store) (uint64, uint64) {
	t.Helper()
	first, err := s.FirstIndex()
	if err != nil {
		t.Fatalf("FirstIndex: %v", err)
	}
	last, err := s.LastIndex()
	if err != nil {
		t.Fatalf("LastIndex: %v", err)
	}
	return first, last
}

// diskEdges reads the edges from Pebble, bypassing the cache.
func diskEdges(t testing.TB, s *Store) (uint64, uint64) {
	t.Helper()
	first, err := s.edge(false)
	if err != nil {
		t.Fatal(err)
	}
	last, err := s.edge(true)
	if err != nil {
		t.Fatal(err)
	}
	return first, last
}

func entries(lo, hi uint64) []*raft.Log {
	var out []*raft.Log
	for i := lo; i <= hi; i++ {
		out = append(out, &raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("entry-%d", i))})
	}
	return out
}

func TestEmptyStore(t *testing.T) {
	s := openStore(t, t.TempDir(), true)
	defer closeStore(t, s)
	if first, last := edges(t, s); first != 0 || last != 0 {
		t.Fatalf("empty store edges = %d, %d; want 0, 0", first, last)
	}
	var l raft.Log
	if err := s.GetLog(1, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Fatalf("GetLog on empty store: %v, want ErrLogNotFound", err)
	}
}

// TestLogRoundTrip stores entries with every field of raft.Log set (and
// unset) and reads them back unchanged.
func TestLogRoundTrip(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	cases := []struct {
		name string
		log  raft.Log
	}{
		{"command", raft.Log{Index: 1, Term: 3, Type: raft.LogCommand, Data: []byte("set k v"), Extensions: []byte{0, 1, 2}, AppendedAt: at}},
		{"empty data", raft.Log{Index: 2, Term: 3, Type: raft.LogNoop}},
		{"no appended-at", raft.Log{Index: 3, Term: 4, Type: raft.LogBarrier, Data: []byte{0xff}}},
		{"configuration", raft.Log{Index: 4, Term: 1 << 40, Type: raft.LogConfiguration, Data: bytes.Repeat([]byte("c"), 70000)}},
		{"extensions only", raft.Log{Index: 5, Term: 5, Type: raft.LogCommand, Extensions: []byte("ext")}},
		{"pre-epoch appended-at", raft.Log{Index: 6, Term: 5, Type: raft.LogCommand, AppendedAt: time.Unix(-5, 7)}},
	}
	dir := t.TempDir()
	s := openStore(t, dir, true)
	for _, c := range cases {
		l := c.log
		if err := s.StoreLog(&l); err != nil {
			t.Fatalf("%s: StoreLog: %v", c.name, err)
		}
	}
	check := func(s *Store, when string) {
		for _, c := range cases {
			var got raft.Log
			if err := s.GetLog(c.log.Index, &got); err != nil {
				t.Fatalf("%s %s: GetLog: %v", when, c.name, err)
			}
			if !got.AppendedAt.Equal(c.log.AppendedAt) {
				t.Errorf("%s %s: AppendedAt = %v, want %v", when, c.name, got.AppendedAt, c.log.AppendedAt)
			}
			want := c.log
			got.AppendedAt, want.AppendedAt = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: got %+v, want %+v", when, c.name, got, want)
			}
		}
	}
	check(s, "before reopen")
	closeStore(t, s)
	s = openStore(t, dir, true)
	defer closeStore(t, s)
	check(s, "after reopen")
	if first, last := edges(t, s); first != 1 || last != uint64(len(cases)) {
		t.Fatalf("edges after reopen = %d, %d; want 1, %d", first, last, len(cases))
	}
}

// TestGetLogCopies checks that a returned entry does not alias Pebble's
// memory: it must survive later writes and reads.
func TestGetLogCopies(t *testing.T) {
	s := openStore(t, t.TempDir(), false)
	defer closeStore(t, s)
	if err := s.StoreLogs(entries(1, 2)); err != nil {
		t.Fatal(err)
	}
	var a raft.Log
	if err := s.GetLog(1, &a); err != nil {
		t.Fatal(err)
	}
	if err := s.StoreLogs(entries(3, 500)); err != nil {
		t.Fatal(err)
	}
	var b raft.Log
	for i := uint64(2); i <= 500; i++ {
		if err := s.GetLog(i, &b); err != nil {
			t.Fatal(err)
		}
	}
	if string(a.Data) != "entry-1" {
		t.Fatalf("entry 1 data changed to %q", a.Data)
	}
}

// TestEdgesAndDeleteRange walks a store through the writes raft makes
// (appends, prefix compaction, suffix truncation, overwrite) and checks
// the cached edges against the disk after each, and after a reopen.
func TestEdgesAndDeleteRange(t *testing.T) {
	type step struct {
		name        string
		store       [2]uint64 // entries lo..hi to store, if hi != 0
		del         [2]uint64 // range to delete, if del[1] != 0
		first, last uint64
		missing     []uint64
		present     []uint64
	}
	steps := []step{
		{name: "append 1-100", store: [2]uint64{1, 100}, first: 1, last: 100, present: []uint64{1, 50, 100}, missing: []uint64{0, 101}},
		{name: "append 101-150", store: [2]uint64{101, 150}, first: 1, last: 150},
		{name: "compact 1-60", del: [2]uint64{1, 60}, first: 61, last: 150, missing: []uint64{1, 60}, present: []uint64{61}},
		{name: "truncate suffix 140-150", del: [2]uint64{140, 150}, first: 61, last: 139, missing: []uint64{140, 150}, present: []uint64{139}},
		{name: "append 140-145", store: [2]uint64{140, 145}, first: 61, last: 145, present: []uint64{140, 145}},
		{name: "overwrite 100-110", store: [2]uint64{100, 110}, first: 61, last: 145},
		{name: "delete a range past both ends", del: [2]uint64{1, 1000}, first: 0, last: 0, missing: []uint64{61, 145}},
		{name: "append after emptying", store: [2]uint64{1001, 1010}, first: 1001, last: 1010, present: []uint64{1001}},
		{name: "delete to the largest index", del: [2]uint64{1005, ^uint64(0)}, first: 1001, last: 1004, missing: []uint64{1005}},
		{name: "empty range is a no-op", del: [2]uint64{9, 8}, first: 1001, last: 1004},
	}
	dir := t.TempDir()
	s := openStore(t, dir, true)
	defer func() { closeStore(t, s) }()
	for _, st := range steps {
		if st.store[1] != 0 {
			if err := s.StoreLogs(entries(st.store[0], st.store[1])); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		if st.del[1] != 0 {
			if err := s.DeleteRange(st.del[0], st.del[1]); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
		}
		for round, when := range []string{"", " (reopened)"} {
			if round == 1 {
				closeStore(t, s)
				s = openStore(t, dir, true)
			}
			if first, last := edges(t, s); first != st.first || last != st.last {
				t.Fatalf("%s%s: edges = %d, %d; want %d, %d", st.name, when, first, last, st.first, st.last)
			}
			if first, last := diskEdges(t, s); first != st.first || last != st.last {
				t.Fatalf("%s%s: disk edges = %d, %d; want %d, %d", st.name, when, first, last, st.first, st.last)
			}
			var l raft.Log
			for _, i := range st.missing {
				if err := s.GetLog(i, &l); !errors.Is(err, raft.ErrLogNotFound) {
					t.Fatalf("%s%s: GetLog(%d) = %v, want ErrLogNotFound", st.name, when, i, err)
				}
			}
			for _, i := range st.present {
				if err := s.GetLog(i, &l); err != nil || l.Index != i || string(l.Data) != fmt.Sprintf("entry-%d", i) {
					t.Fatalf("%s%s: GetLog(%d) = %+v, %v", st.name, when, i, l, err)
				}
			}
		}
	}
}

func TestStableStore(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, false)
	// hashicorp/raft tells "no value yet" from a failure by this exact text.
	if _, err := s.Get([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
		t.Fatalf("Get missing: %v, want \"not found\"", err)
	}
	if _, err := s.GetUint64([]byte("CurrentTerm")); err == nil || err.Error() != "not found" {
		t.Fatalf("GetUint64 missing: %v, want \"not found\"", err)
	}
	cases := []struct {
		key, val string
	}{
		{"LastVoteCand", "n2"},
		{"empty", ""},
		{"binary", "\x00\xff\r\n"},
	}
	for _, c := range cases {
		if err := s.Set([]byte(c.key), []byte(c.val)); err != nil {
			t.Fatal(err)
		}
	}
	ints := map[string]uint64{"CurrentTerm": 7, "LastVoteTerm": 0, "big": ^uint64(0)}
	for k, v := range ints {
		if err := s.SetUint64([]byte(k), v); err != nil {
			t.Fatal(err)
		}
	}
	// A stable key and a log key never collide: entry 7's key is not
	// "CurrentTerm"'s.
	if err := s.StoreLogs(entries(1, 10)); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	s = openStore(t, dir, false)
	defer closeStore(t, s)
	for _, c := range cases {
		v, err := s.Get([]byte(c.key))
		if err != nil || string(v) != c.val {
			t.Errorf("Get(%q) = %q, %v; want %q", c.key, v, err, c.val)
		}
	}
	for k, want := range ints {
		if v, err := s.GetUint64([]byte(k)); err != nil || v != want {
			t.Errorf("GetUint64(%q) = %d, %v; want %d", k, v, err, want)
		}
	}
	if _, err := s.GetUint64([]byte("LastVoteCand")); err == nil {
		t.Errorf("GetUint64 of a 2-byte value succeeded")
	}
	if first, last := edges(t, s); first != 1 || last != 10 {
		t.Errorf("edges = %d, %d; want 1, 10 (stable keys must not count as log entries)", first, last)
	}
}

// TestHasExistingState checks the store as raft sees it at start.
func TestHasExistingState(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, true)
	snaps := raft.NewInmemSnapshotStore()
	if has, err := raft.HasExistingState(s, s, snaps); err != nil || has {
		t.Fatalf("fresh store: HasExistingState = %v, %v", has, err)
	}
	if err := s.SetUint64([]byte("CurrentTerm"), 1); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	s = openStore(t, dir, true)
	defer closeStore(t, s)
	if has, err := raft.HasExistingState(s, s, snaps); err != nil || !has {
		t.Fatalf("after a term: HasExistingState = %v, %v", has, err)
	}
}

func TestStats(t *testing.T) {
	for _, sync := range []bool{true, false} {
		s := openStore(t, t.TempDir(), sync)
		if err := s.StoreLogs(entries(1, 10)); err != nil {
			t.Fatal(err)
		}
		if err := s.StoreLog(&raft.Log{Index: 11}); err != nil {
			t.Fatal(err)
		}
		if err := s.StoreLogs(nil); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRange(1, 5); err != nil {
			t.Fatal(err)
		}
		want := Stats{Batches: 2, Entries: 11, Deletes: 1}
		if sync {
			want.Syncs = 2
		}
		if got := s.Stats(); got != want {
			t.Errorf("sync=%v: Stats = %+v, want %+v", sync, got, want)
		}
		closeStore(t, s)
	}
}

// TestLogSize: logSize is the length of every entry's encoding, which
// StoreLogs writes straight into a batch of that size.
func TestLogSize(t *testing.T) {
	s := openStore(t, t.TempDir(), false)
	defer closeStore(t, s)
	var logs []*raft.Log
	for i, l := range []raft.Log{
		{},
		{Term: 1 << 63, Type: raft.LogConfiguration, Data: make([]byte, 300), Extensions: make([]byte, 200)},
		{Term: 7, Type: raft.LogCommand, Data: make([]byte, 256<<10), AppendedAt: time.Unix(0, -1)},
		{Term: 127, Data: []byte("x"), AppendedAt: time.Unix(1_700_000_000, 5)},
		{Term: 128, Extensions: []byte("e"), AppendedAt: time.Unix(0, 1<<62)},
	} {
		if got, want := logSize(&l), len(encodeLog(nil, &l)); got != want {
			t.Errorf("entry %d: logSize %d, encoding %d bytes", i, got, want)
		}
		l.Index = uint64(i + 1)
		logs = append(logs, &l)
	}
	if err := s.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	for _, want := range logs {
		var got raft.Log
		if err := s.GetLog(want.Index, &got); err != nil || got.Term != want.Term || got.Type != want.Type ||
			!bytes.Equal(got.Data, want.Data) || !bytes.Equal(got.Extensions, want.Extensions) || !got.AppendedAt.Equal(want.AppendedAt) {
			t.Errorf("entry %d read back as %+v, %v", want.Index, got, err)
		}
	}
}

func TestCorruptEntry(t *testing.T) {
	s := openStore(t, t.TempDir(), false)
	defer closeStore(t, s)
	good := encodeLog(nil, &raft.Log{Term: 2, Type: raft.LogCommand, Data: []byte("abc"), Extensions: []byte("x")})
	for n := 0; n < len(good); n++ {
		if err := s.db.Set(s.logKey(1), good[:n], nil); err != nil {
			t.Fatal(err)
		}
		var l raft.Log
		if err := s.GetLog(1, &l); !errors.Is(err, errCorruptLog) {
			t.Fatalf("entry truncated to %d bytes: GetLog = %v, want errCorruptLog", n, err)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	for _, bc := range []struct {
		name string
		fn   func(*testing.B, raft.LogStore)
	}{
		{"FirstIndex", raftbench.FirstIndex},
		{"LastIndex", raftbench.LastIndex},
		{"GetLog", raftbench.GetLog},
		{"StoreLog", raftbench.StoreLog},
		{"StoreLogs", raftbench.StoreLogs},
		{"DeleteRange", raftbench.DeleteRange},
	} {
		for _, sync := range []bool{true, false} {
			b.Run(fmt.Sprintf("%s/sync=%v", bc.name, sync), func(b *testing.B) {
				s := openStore(b, b.TempDir(), sync)
				defer closeStore(b, s)
				bc.fn(b, s)
			})
		}
	}
}

// TestUseAfterClose checks that every method fails with ErrClosed, rather
// than reaching Pebble (which panics), once the store is closed.
func TestUseAfterClose(t *testing.T) {
	s := openStore(t, t.TempDir(), true)
	if err := s.StoreLogs(entries(1, 3)); err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)
	var l raft.Log
	calls := map[string]func() error{
		"Close":       s.Close,
		"GetLog":      func() error { return s.GetLog(1, &l) },
		"StoreLog":    func() error { return s.StoreLog(&raft.Log{Index: 4}) },
		"StoreLogs":   func() error { return s.StoreLogs(entries(4, 5)) },
		"DeleteRange": func() error { return s.DeleteRange(1, 2) },
		"Set":         func() error { return s.Set([]byte("k"), []byte("v")) },
		"Get":         func() error { _, err := s.Get([]byte("k")); return err },
		"SetUint64":   func() error { return s.SetUint64([]byte("k"), 1) },
		"GetUint64":   func() error { _, err := s.GetUint64([]byte("k")); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	// The cached edges stay readable: raft's metrics goroutine may ask.
	if first, last := edges(t, s); first != 1 || last != 3 {
		t.Errorf("edges after Close = %d, %d; want 1, 3", first, last)
	}
}

// TestDeleteRangeEdges checks the cached edges after deletions raft does
// not make (holes, gaps) as well as those it does, against the disk.
func TestDeleteRangeEdges(t *testing.T) {
	cases := []struct {
		name        string
		stored      [][2]uint64
		del         [2]uint64
		first, last uint64
	}{
		{"prefix", [][2]uint64{{1, 30}}, [2]uint64{1, 10}, 11, 30},
		{"prefix from below first", [][2]uint64{{5, 30}}, [2]uint64{1, 10}, 11, 30},
		{"prefix up to a gap", [][2]uint64{{1, 10}, {20, 30}}, [2]uint64{1, 10}, 20, 30},
		{"prefix into a gap", [][2]uint64{{1, 10}, {20, 30}}, [2]uint64{1, 15}, 20, 30},
		{"suffix", [][2]uint64{{1, 30}}, [2]uint64{25, 40}, 1, 24},
		{"suffix down to a gap", [][2]uint64{{1, 10}, {20, 30}}, [2]uint64{20, 30}, 1, 10},
		{"hole", [][2]uint64{{1, 30}}, [2]uint64{5, 9}, 1, 30},
		{"below the log", [][2]uint64{{10, 30}}, [2]uint64{1, 5}, 10, 30},
		{"above the log", [][2]uint64{{10, 30}}, [2]uint64{31, 50}, 10, 30},
		{"everything", [][2]uint64{{10, 30}}, [2]uint64{10, 30}, 0, 0},
		{"empty store", nil, [2]uint64{1, 5}, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := openStore(t, t.TempDir(), false)
			defer closeStore(t, s)
			for _, r := range c.stored {
				if err := s.StoreLogs(entries(r[0], r[1])); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.DeleteRange(c.del[0], c.del[1]); err != nil {
				t.Fatal(err)
			}
			if first, last := edges(t, s); first != c.first || last != c.last {
				t.Errorf("edges = %d, %d; want %d, %d", first, last, c.first, c.last)
			}
			if first, last := diskEdges(t, s); first != c.first || last != c.last {
				t.Errorf("disk edges = %d, %d; want %d, %d", first, last, c.first, c.last)
			}
		})
	}
}
