// Package persistence owns LoomCache's durable state: the Raft log and
// stable store (the write-ahead log) in a Pebble database, synced per batch
// under --fsync always, the snapshot store, and the guard that keeps
// them from filling the disk (space.go). It knows nothing of commands or
// data.
package persistence

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"
)

// Key prefixes in the Pebble store. Group 0 (the only group of a node
// with one partition) has the bare prefixes; group g > 0 has them after
// prefixGroup and g as two big-endian bytes.
const (
	prefixLog    byte = 'l' // 'l' + big-endian index -> encoded raft.Log
	prefixStable byte = 's' // 's' + key -> value
	prefixGroup  byte = 'g'
)

// MaxGroups bounds the Raft groups one database holds.
const MaxGroups = 1 << 16

// errNotFound is what hashicorp/raft expects from a StableStore for a
// missing key (it compares the message).
var errNotFound = errors.New("not found")

// ErrClosed is returned by every method called after Close. (Pebble
// panics on a closed database; raft has a metrics goroutine that may read
// the log after raft.Shutdown returns.)
var ErrClosed = errors.New("wal closed")

// Stats counts the WAL's work, for INFO and the group-commit figure.
// Entries/Syncs is the number of log entries one fsync made durable.
type Stats struct {
	Batches uint64 // StoreLogs calls committed (one fsync each under Sync)
	Entries uint64 // log entries committed
	Syncs   uint64 // synced StoreLogs commits (stable-store and compaction syncs are not counted)
	Deletes uint64 // DeleteRange calls (log compaction and truncation)
}

// DB is a node's Pebble database, shared by its Raft groups: each
// group's log and stable state are a Store in it, under the group's key
// prefix, and concurrent commits of several groups share Pebble's fsyncs.
type DB struct {
	dir  string
	db   *pebble.DB
	sync syncer // fsync policy (syncmode.go)
	// space, when set, refuses log entries before the disk is full
	// (space.go).
	space *Space

	// life guards db against use after Close: every method of every
	// Store holds it for reading, Close for writing.
	life   sync.RWMutex
	closed bool

	// synced, when set, is told how long each synced log commit took
	// (LATENCY's aof-fsync-always). Set before the groups run.
	synced func(d time.Duration)
}

// OnSync has f told how long each synced log commit takes; call it
// before any group stores logs.
func (d *DB) OnSync(f func(d time.Duration)) { d.synced = f }

// Store is one Raft group's raft.LogStore and raft.StableStore in a DB.
type Store struct {
	*DB
	// owner: Close closes the DB (a Store from Open, the only one in it).
	owner bool
	// logPrefix starts every log key, stablePrefix every stable key.
	logPrefix, stablePrefix []byte

	// first and last cache the log's edges: raft asks for LastIndex on
	// every append and FirstIndex on every compaction, and an iterator
	// seek over Pebble's range tombstones is not free. Readers load them
	// without a lock; writeMu serializes the writers (StoreLogs and
	// DeleteRange) so an edge recomputed from disk cannot overwrite a
	// newer one.
	writeMu sync.Mutex
	first   atomic.Uint64
	last    atomic.Uint64

	batches atomic.Uint64
	entries atomic.Uint64
	syncs   atomic.Uint64
	deletes atomic.Uint64
	// syncLatency and perSync: each synced commit's duration and its
	// entries, for the metrics endpoint (histogram.go).
	syncLatency, perSync *Histogram
}

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// Open opens (creating if needed) the database in dir and returns group
// 0's store, which owns it. With sync false, log writes are left to the
// OS to flush; stable state is always synced.
func Open(dir string, sync bool) (*Store, error) {
	d, err := OpenDB(dir, sync)
	if err != nil {
		return nil, err
	}
	s, err := d.Group(0)
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	s.owner = true
	return s, nil
}

// openSlack is what opening the database writes besides the flush of its
// WAL: a MANIFEST, an OPTIONS file, a new WAL's first blocks.
const openSlack = 256 << 10

// OpenDB opens (creating if needed) the database in dir; see Open.
func OpenDB(dir string, sync bool) (*DB, error) { return OpenDBWithSpace(dir, sync, nil) }

// OpenDBWithSpace is OpenDB with a guard on the filesystem's free space
// (nil: none): log entries are refused with ErrNoSpace below its floor.
func OpenDBWithSpace(dir string, sync bool, space *Space) (*DB, error) {
	opts := &pebble.Options{
		Logger:       quietLogger{dir: dir},
		MemTableSize: 8 << 20,
	}
	if space != nil {
		opts.MemTableSize = memTableFor(space.size)
		// A Pebble opened without room to flush the WAL it replays waits
		// for that flush for ever, retrying it with a new file each time.
		if need := walBytes(dir) + openSlack; !space.MakeRoom(need) {
			return nil, fmt.Errorf("open wal %s: %s free, %s needed to open the WAL: %w; make room on the disk and restart",
				dir, mb(space.Free()), mb(need), ErrNoSpace)
		}
	}
	opts.FS = newWALFS(vfs.Default, space, opts.MemTableSize) // WAL files written ahead (walfs.go)
	// The log's entries live until the next snapshot: compressing the
	// tables they are flushed to, and again at each compaction, cost a
	// fifth to a quarter of a node's CPU while a large value replicated.
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	db, err := pebble.Open(filepath.Clean(dir), opts)
	if err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	d := &DB{dir: dir, db: db, space: space}
	mode := SyncNo
	if sync {
		mode = SyncAlways
	}
	d.startSyncer(mode)
	return d, nil
}

// Group returns group g's store (0 <= g < MaxGroups), reading its log's
// edges. Closing it leaves the database open.
func (d *DB) Group(g int) (*Store, error) {
	if g < 0 || g >= MaxGroups {
		return nil, fmt.Errorf("wal group %d out of range", g)
	}
	s := &Store{DB: d, logPrefix: []byte{prefixLog}, stablePrefix: []byte{prefixStable},
		syncLatency: NewHistogram(SyncLatencyBounds()), perSync: NewHistogram(EntriesPerSyncBounds())}
	if g > 0 {
		grp := []byte{prefixGroup, byte(g >> 8), byte(g)}
		s.logPrefix = append(grp[:3:3], prefixLog)
		s.stablePrefix = append(grp[:3:3], prefixStable)
	}
	if !s.open() {
		return nil, ErrClosed
	}
	defer s.life.RUnlock()
	if err := s.loadEdges(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the database; every Store in it then returns ErrClosed.
func (d *DB) Close() error {
	d.stopSyncer()
	d.life.Lock()
	defer d.life.Unlock()
	if d.closed {
		return ErrClosed
	}
	d.closed = true
	return d.db.Close()
}

// loadEdges reads the log's first and last index from disk into the cache.
// The caller holds writeMu (or is Open).
func (s *Store) loadEdges() error {
	first, err := s.edge(false)
	if err != nil {
		return err
	}
	last, err := s.edge(true)
	if err != nil {
		return err
	}
	s.first.Store(first)
	s.last.Store(last)
	return nil
}

// Close closes the database if s owns it (Open's store): later calls,
// and every method called after it, return ErrClosed. A group's store
// from DB.Group leaves the database to its owner's Close.
func (s *Store) Close() error {
	if !s.owner {
		return nil
	}
	return s.DB.Close()
}

// open holds the database open for one method call; the caller defers
// d.life.RUnlock() when it returns true.
func (s *DB) open() bool {
	s.life.RLock()
	if s.closed {
		s.life.RUnlock()
		return false
	}
	return true
}

// SyncHistograms returns the histograms of synced commits: their
// latency (nanoseconds, the batch's write and its fsync) and the entries
// each made durable.
func (s *Store) SyncHistograms() (latency, entries HistogramSnapshot) {
	return s.syncLatency.Snapshot(), s.perSync.Snapshot()
}

// Stats returns the counters so far.
func (s *Store) Stats() Stats {
	return Stats{Batches: s.batches.Load(), Entries: s.entries.Load(), Syncs: s.syncs.Load(), Deletes: s.deletes.Load()}
}

func (s *Store) logKey(index uint64) []byte {
	return binary.BigEndian.AppendUint64(append(make([]byte, 0, len(s.logPrefix)+8), s.logPrefix...), index)
}

// logEnd is the first key past the group's log.
func (s *Store) logEnd() []byte {
	end := append([]byte(nil), s.logPrefix...)
	end[len(end)-1]++
	return end
}

func (s *Store) edge(last bool) (uint64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: s.logPrefix, UpperBound: s.logEnd()})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	ok := it.First()
	if last {
		ok = it.Last()
	}
	if !ok {
		return 0, it.Error()
	}
	return binary.BigEndian.Uint64(it.Key()[len(s.logPrefix):]), nil
}

// FirstIndex returns the first index written, 0 for none.
func (s *Store) FirstIndex() (uint64, error) { return s.first.Load(), nil }

// LastIndex returns the last index written, 0 for none.
func (s *Store) LastIndex() (uint64, error) { return s.last.Load(), nil }

// GetLog reads the entry at index into l.
func (s *Store) GetLog(index uint64, l *raft.Log) error {
	if !s.open() {
		return ErrClosed
	}
	defer s.life.RUnlock()
	v, closer, err := s.db.Get(s.logKey(index))
	if errors.Is(err, pebble.ErrNotFound) {
		return raft.ErrLogNotFound
	}
	if err != nil {
		return err
	}
	defer closer.Close()
	return decodeLog(v, index, l)
}

// StoreLog stores one entry.
func (s *Store) StoreLog(l *raft.Log) error { return s.StoreLogs([]*raft.Log{l}) }

// StoreLogs stores entries in one batch: one fsync covers all of them,
// which is how concurrent writes share a sync (hashicorp/raft hands the
// leader's pending applies over together).
func (s *Store) StoreLogs(logs []*raft.Log) error {
	if len(logs) == 0 {
		return nil
	}
	if !s.open() {
		return ErrClosed
	}
	defer s.life.RUnlock()
	// The batch is sized once and each entry encoded straight into it:
	// built up by copies, a batch of 16 MB of a large value's pieces
	// allocated and copied twice that.
	size := batchHeader
	for _, l := range logs {
		size += batchRecord + len(s.logPrefix) + 8 + logSize(l)
	}
	if err := s.space.admitLog(size); err != nil {
		return fmt.Errorf("commit wal batch: %w", err)
	}
	b := s.db.NewBatchWithSize(size)
	defer b.Close()
	lo, hi := logs[0].Index, logs[0].Index
	for _, l := range logs {
		d := b.SetDeferred(len(s.logPrefix)+8, logSize(l))
		binary.BigEndian.PutUint64(d.Key[copy(d.Key, s.logPrefix):], l.Index)
		if enc := encodeLog(d.Value[:0:len(d.Value)], l); len(enc) != len(d.Value) || &enc[0] != &d.Value[0] {
			return errLogSize // logSize is wrong: nothing is committed
		}
		if err := d.Finish(); err != nil {
			return err
		}
		lo, hi = min(lo, l.Index), max(hi, l.Index)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	start := time.Now()
	defer exitOnPanic(s.dir)
	opts := s.writeOpts()
	if err := b.Commit(opts); err != nil {
		s.space.Fail(err)
		return fmt.Errorf("commit wal batch: %w", err)
	}
	took := time.Since(start)
	if s.synced != nil && opts == pebble.Sync {
		s.synced(took)
	}
	s.space.spend(size)
	if f := s.first.Load(); f == 0 || lo < f {
		s.first.Store(lo)
	}
	if hi > s.last.Load() {
		s.last.Store(hi)
	}
	s.batches.Add(1)
	s.entries.Add(uint64(len(logs)))
	if opts == pebble.Sync {
		s.syncs.Add(1)
		s.syncLatency.Observe(uint64(took))
		s.perSync.Observe(uint64(len(logs)))
	}
	return nil
}

// DeleteRange deletes entries min..max inclusive: log compaction (a
// prefix) or a follower truncating a conflicting suffix.
func (s *Store) DeleteRange(min, max uint64) error {
	if min > max {
		return nil
	}
	if !s.open() {
		return ErrClosed
	}
	defer s.life.RUnlock()
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	defer exitOnPanic(s.dir)
	end := s.logKey(max + 1)
	if max == ^uint64(0) { // max+1 would wrap to 0: end at the prefix's end
		end = s.logEnd()
	}
	if err := s.db.DeleteRange(s.logKey(min), end, s.writeOpts()); err != nil {
		return fmt.Errorf("compact wal %d-%d: %w", min, max, err)
	}
	s.deletes.Add(1)
	if err := s.updateEdges(min, max); err != nil {
		return fmt.Errorf("compact wal %d-%d: %w", min, max, err)
	}
	return nil
}

// updateEdges moves the cached edges past a deletion of min..max. Raft
// deletes a prefix (compaction) or a suffix (truncation) of a contiguous
// log, so the new edge is next to the deleted range; a point read checks
// that, and anything else reads the edges back. (Seeking to the first
// entry right after a compaction means skipping every deleted key still in
// the memtable: milliseconds for 10,000 entries.) The caller holds
// writeMu.
func (s *Store) updateEdges(min, max uint64) error {
	first, last := s.first.Load(), s.last.Load()
	switch {
	case first == 0 || max < first || min > last: // nothing deleted
		return nil
	case min <= first && max >= last:
		s.first.Store(0)
		s.last.Store(0)
		return nil
	case min <= first:
		if ok, err := s.has(max + 1); err != nil || ok {
			if ok {
				s.first.Store(max + 1)
			}
			return err
		}
	case max >= last:
		if ok, err := s.has(min - 1); err != nil || ok {
			if ok {
				s.last.Store(min - 1)
			}
			return err
		}
	default: // a hole in the middle leaves both edges
		return nil
	}
	return s.loadEdges()
}

// has reports whether the entry at index exists.
func (s *Store) has(index uint64) (bool, error) {
	_, closer, err := s.db.Get(s.logKey(index))
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	closer.Close()
	return true, nil
}

func (s *Store) stableKey(k []byte) []byte {
	return append(append(make([]byte, 0, len(s.stablePrefix)+len(k)), s.stablePrefix...), k...)
}

// Set stores a stable value, synced.
func (s *Store) Set(k, v []byte) error {
	if !s.open() {
		return ErrClosed
	}
	defer s.life.RUnlock()
	defer exitOnPanic(s.dir)
	return s.db.Set(s.stableKey(k), v, pebble.Sync)
}

// Get reads a stable value.
func (s *Store) Get(k []byte) ([]byte, error) {
	if !s.open() {
		return nil, ErrClosed
	}
	defer s.life.RUnlock()
	v, closer, err := s.db.Get(s.stableKey(k))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte(nil), v...), nil
}

// SetUint64 stores a stable integer, synced.
func (s *Store) SetUint64(k []byte, v uint64) error {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], v)
	return s.Set(k, b[:])
}

// GetUint64 reads a stable integer.
func (s *Store) GetUint64(k []byte) (uint64, error) {
	v, err := s.Get(k)
	if err != nil {
		return 0, err
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("stable key %q: %d bytes, want 8", k, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// quietLogger keeps Pebble's routine chatter out of the server's output but
// passes on errors. Pebble calls Fatalf when it cannot go on (a WAL sync
// or MANIFEST write failed: its files no longer match its memory), and
// Fatalf must not return; the process exits with the cause and what to
// do. Nothing acknowledged is lost: an entry is acknowledged only after
// its batch committed.
type quietLogger struct{ dir string }

func (quietLogger) Infof(string, ...interface{})      {}
func (quietLogger) Errorf(f string, a ...interface{}) { log.Printf("pebble: "+f, a...) }
func (l quietLogger) Fatalf(f string, a ...interface{}) {
	log.Fatalf("pebble: %s; %s", fmt.Sprintf(f, a...), fatalHint(l.dir))
}

// exitOnPanic turns Pebble's panic on a failed WAL write (it panics
// rather than leave its log and memtable apart) into Fatalf's exit.
func exitOnPanic(dir string) {
	if r := recover(); r != nil {
		quietLogger{dir: dir}.Fatalf("WAL write failed: %v", r)
	}
}

func fatalHint(dir string) string {
	return "the node stops: nothing acknowledged is lost; make room on the disk of " + dir +
		" (or repair it) and restart the node"
}

// Space returns the guard on the database's free space (nil: none).
func (d *DB) Space() *Space { return d.space }
