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
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/hashicorp/raft"
)

// Key prefixes in the Pebble store.
const (
	prefixLog    byte = 'l' // 'l' + big-endian index -> encoded raft.Log
	prefixStable byte = 's' // 's' + key -> value
)

// errNotFound is what hashicorp/raft expects from a StableStore for a
// missing key (it compares the message).
var errNotFound = errors.New("not found")

// Stats counts the WAL's work, for INFO and the group-commit figure.
type Stats struct {
	Batches uint64 // StoreLogs calls committed (one fsync each under Sync)
	Entries uint64 // log entries committed
	Syncs   uint64 // synced commits
}

// Store is a raft.LogStore and raft.StableStore backed by Pebble.
type Store struct {
	db      *pebble.DB
	logOpts *pebble.WriteOptions

	batches atomic.Uint64
	entries atomic.Uint64
	syncs   atomic.Uint64
}

var (
	_ raft.LogStore    = (*Store)(nil)
	_ raft.StableStore = (*Store)(nil)
)

// Open opens (creating if needed) the store in dir. With sync false, log
// writes are left to the OS to flush; stable state is always synced.
func Open(dir string, sync bool) (*Store, error) {
	opts := &pebble.Options{
		Logger:       quietLogger{},
		MemTableSize: 64 << 20,
	}
	db, err := pebble.Open(filepath.Clean(dir), opts)
	if err != nil {
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	s := &Store{db: db, logOpts: pebble.NoSync}
	if sync {
		s.logOpts = pebble.Sync
	}
	return s, nil
}

// Close closes the Pebble database.
func (s *Store) Close() error { return s.db.Close() }

// Stats returns the counters so far.
func (s *Store) Stats() Stats {
	return Stats{Batches: s.batches.Load(), Entries: s.entries.Load(), Syncs: s.syncs.Load()}
}

func logKey(index uint64) []byte {
	var k [9]byte
	k[0] = prefixLog
	binary.BigEndian.PutUint64(k[1:], index)
	return k[:]
}

func (s *Store) edge(last bool) (uint64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixLog}, UpperBound: []byte{prefixLog + 1}})
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
	return binary.BigEndian.Uint64(it.Key()[1:]), nil
}

// FirstIndex returns the first index written, 0 for none.
func (s *Store) FirstIndex() (uint64, error) { return s.edge(false) }

// LastIndex returns the last index written, 0 for none.
func (s *Store) LastIndex() (uint64, error) { return s.edge(true) }

// GetLog reads the entry at index into l.
func (s *Store) GetLog(index uint64, l *raft.Log) error {
	v, closer, err := s.db.Get(logKey(index))
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
	b := s.db.NewBatch()
	defer b.Close()
	var buf []byte
	for _, l := range logs {
		buf = encodeLog(buf[:0], l)
		if err := b.Set(logKey(l.Index), buf, nil); err != nil {
			return err
		}
	}
	if err := b.Commit(s.logOpts); err != nil {
		return fmt.Errorf("commit wal batch: %w", err)
	}
	s.batches.Add(1)
	s.entries.Add(uint64(len(logs)))
	if s.logOpts == pebble.Sync {
		s.syncs.Add(1)
	}
	return nil
}

// DeleteRange deletes entries min..max inclusive (log compaction).
func (s *Store) DeleteRange(min, max uint64) error {
	if err := s.db.DeleteRange(logKey(min), logKey(max+1), s.logOpts); err != nil {
		return fmt.Errorf("compact wal %d-%d: %w", min, max, err)
	}
	return nil
}

func stableKey(k []byte) []byte { return append([]byte{prefixStable}, k...) }

// Set stores a stable value, synced.
func (s *Store) Set(k, v []byte) error { return s.db.Set(stableKey(k), v, pebble.Sync) }

// Get reads a stable value.
func (s *Store) Get(k []byte) ([]byte, error) {
	v, closer, err := s.db.Get(stableKey(k))
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
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	b = binary.AppendVarint(b, at)
	b = binary.AppendUvarint(b, uint64(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.AppendUvarint(b, uint64(len(l.Extensions)))
	return append(b, l.Extensions...)
}

var errCorruptLog = errors.New("corrupt log entry")

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

func (quietLogger) Infof(string, ...interface{})       {}
func (quietLogger) Errorf(f string, a ...interface{}) { log.Printf("pebble: "+f, a...) }
func (quietLogger) Fatalf(f string, a ...interface{}) { log.Fatalf("pebble: "+f, a...) }
