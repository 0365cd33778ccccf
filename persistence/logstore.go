// Package persistence owns LoomCache's durable state: the Raft log and
// stable store (the write-ahead log) in a Pebble database, synced per batch
// under --fsync always, and the snapshot store. It knows nothing of
// commands or data.
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
	db   *pebble.DB
	sync syncer // fsync policy (syncmode.go)

	// life guards db against use after Close: every method of every
	// Store holds it for reading, Close for writing.
	life   sync.RWMutex
	closed bool
}

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

// OpenDB opens (creating if needed) the database in dir; see Open.
func OpenDB(dir string, sync bool) (*DB, error) {
	opts := &pebble.Options{
		Logger:       quietLogger{},
		MemTableSize: 8 << 20,
	}
	// The log's entries live until the next snapshot: compressing the
	// tables they are flushed to, and again at each compaction, cost a
	// fifth to a quarter of a node's CPU while a large value replicated.
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	db, err := pebble.Open(filepath.Clean(dir), opts)
	if err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	d := &DB{db: db}
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
	s := &Store{DB: d, logPrefix: []byte{prefixLog}, stablePrefix: []byte{prefixStable}}
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
	opts := s.writeOpts()
	if err := b.Commit(opts); err != nil {
		return fmt.Errorf("commit wal batch: %w", err)
	}
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

// encodeLog: term, type, appended-at (unix ns), data, extensions.
func encodeLog(b []byte, l *raft.Log) []byte {
	b = binary.AppendUvarint(b, l.Term)
	b = append(b, byte(l.Type))
	b = binary.AppendVarint(b, appendedAt(l))
	b = binary.AppendUvarint(b, uint64(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.AppendUvarint(b, uint64(len(l.Extensions)))
	return append(b, l.Extensions...)
}

// logSize is the length of encodeLog's encoding of l.
func logSize(l *raft.Log) int {
	return uvarintLen(l.Term) + 1 + uvarintLen(uint64(zigzag(appendedAt(l)))) +
		uvarintLen(uint64(len(l.Data))) + len(l.Data) + uvarintLen(uint64(len(l.Extensions))) + len(l.Extensions)
}

func appendedAt(l *raft.Log) int64 {
	if l.AppendedAt.IsZero() {
		return 0
	}
	return l.AppendedAt.UnixNano()
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// zigzag is binary.AppendVarint's mapping of a signed value to the
// unsigned one it writes.
func zigzag(x int64) uint64 { return uint64(x<<1) ^ uint64(x>>63) }

// The layout of a Pebble batch (batchrepr): a header, then per record a
// kind byte, the key's and the value's lengths (uvarints of at most 5
// bytes) and their bytes.
const (
	batchHeader = 12
	batchRecord = 1 + 2*5
)

var errCorruptLog = errors.New("corrupt log entry")

// errLogSize: an entry's encoding was not the size logSize said.
var errLogSize = errors.New("log entry encoding size mismatch")

func decodeLog(b []byte, index uint64, l *raft.Log) error {
	term, n := binary.Uvarint(b)
	if n <= 0 || len(b) < n+1 {
		return errCorruptLog
	}
	b = b[n:]
	typ := raft.LogType(b[0])
	b = b[1:]
	at, n := binary.Varint(b)
	if n <= 0 {
		return errCorruptLog
	}
	b = b[n:]
	data, b, ok := readChunk(b)
	if !ok {
		return errCorruptLog
	}
	ext, _, ok := readChunk(b)
	if !ok {
		return errCorruptLog
	}
	*l = raft.Log{Index: index, Term: term, Type: typ, Data: data, Extensions: ext}
	if at != 0 {
		l.AppendedAt = time.Unix(0, at)
	}
	return nil
}

// readChunk reads a length-prefixed byte string, copying it out of b
// (which belongs to Pebble).
func readChunk(b []byte) (chunk, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	b = b[k:]
	if n == 0 {
		return nil, b, true
	}
	return append([]byte(nil), b[:n]...), b[n:], true
}

// quietLogger keeps Pebble's routine chatter out of the server's output but
// passes on errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...interface{})      {}
func (quietLogger) Errorf(f string, a ...interface{}) { log.Printf("pebble: "+f, a...) }
func (quietLogger) Fatalf(f string, a ...interface{}) { log.Fatalf("pebble: "+f, a...) }
