package persistence

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// SnapshotStore is hashicorp/raft's file snapshot store (its files and
// layout unchanged) with write-behind: the file of a snapshot being
// written is handed to the disk as it grows, a few megabytes at a time,
// instead of all at once by the fsync that ends it. Left to the page
// cache, a snapshot of a large keyspace (hundreds of megabytes, every
// --snapshot-threshold ops) reaches the disk in one burst at that fsync,
// and the WAL's fsyncs, which every write waits for, queue behind it.
// It also paces the writing to SnapshotWriteRate: a snapshot is
// background work, and on a disk shared with the WAL its bandwidth is the
// writes' latency. Measured with 1M keys (82MB snapshots every 10,000
// ops) on this project's 2-core test machine, SET p99 was 5.8ms without
// snapshots, 11-12ms with them, 7.4ms with write-behind and pacing.
type SnapshotStore struct {
	*raft.FileSnapshotStore
	dir      string
	stopping chan struct{}
	stopOnce sync.Once
	// space, when set, fails a snapshot before it takes the WAL's room
	// (space.go).
	space *Space
	// short is how much a snapshot that failed for lack of space had
	// written: the next one starts only with room for that much more
	// than the floor, instead of failing the same way every second.
	// A snapshot that completes clears it.
	short atomic.Int64
}

// ErrSnapshotStopped fails the snapshot being written when the store is
// stopped: the node is closing, and the log still holds what it covers.
var ErrSnapshotStopped = errors.New("snapshot: the node is closing")

// Stop makes the snapshot being written, and any later one, fail at its
// next write instead of finishing at its pace, so a node closes at once.
func (s *SnapshotStore) Stop() { s.stopOnce.Do(func() { close(s.stopping) }) }

// SnapshotWriteRate is the pace a snapshot is written at, in bytes per
// second. A snapshot of 1M keys of 64 bytes (82MB) takes 2.6s; the log
// it replaces keeps growing meanwhile and is compacted once it is done.
const SnapshotWriteRate = 32 << 20

// writeBehindChunk is how much of a snapshot is handed to the disk at a
// time; the writer waits for the chunk before the last, so at most about
// two chunks are dirty in the page cache.
const writeBehindChunk = 4 << 20

// NewSnapshotStore opens the snapshots in dir (in dir/snapshots, as
// hashicorp/raft lays them out), keeping retain of them.
func NewSnapshotStore(dir string, retain int, logOutput io.Writer) (*SnapshotStore, error) {
	fs, err := raft.NewFileSnapshotStore(dir, retain, logOutput)
	if err != nil {
		return nil, err
	}
	s := &SnapshotStore{FileSnapshotStore: fs, dir: dir, stopping: make(chan struct{})}
	// No snapshot is being written yet: a directory still being written
	// is what a crash (or a full disk) left.
	s.removePartial()
	return s, nil
}

// Open opens snapshot id as raft.FileSnapshotStore does; the reader
// also says the index the snapshot stands at (SnapshotIndex), so the FSM
// that restores from it knows how far its state then reaches: raft does
// not tell an FSM's Restore.
func (s *SnapshotStore) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := s.FileSnapshotStore.Open(id)
	if err != nil {
		return nil, nil, err
	}
	return meta, &indexedReader{ReadCloser: rc, index: meta.Index}, nil
}

type indexedReader struct {
	io.ReadCloser
	index uint64
}

// SnapshotIndex returns the index of the snapshot rc reads, when rc is
// (or wraps, through raft.ReadCloserWrapper) a reader Open returned.
func SnapshotIndex(rc io.ReadCloser) (uint64, bool) {
	for {
		switch r := rc.(type) {
		case *indexedReader:
			return r.index, true
		case raft.ReadCloserWrapper:
			rc = r.WrappedReadCloser()
		default:
			return 0, false
		}
	}
}

// SetSpace makes snapshots stop short of the space the WAL needs.
func (s *SnapshotStore) SetSpace(sp *Space) { s.space = sp }

// removePartial deletes the directories of unfinished snapshots
// (hashicorp/raft's <id>.tmp). Raft writes one snapshot of a group at a
// time, so when Create is called, none is being written.
func (s *SnapshotStore) removePartial() {
	tmps, _ := filepath.Glob(filepath.Join(s.dir, "snapshots", "*.tmp"))
	for _, t := range tmps {
		os.RemoveAll(t)
	}
}

// Create starts a snapshot, as the file store does, writing behind.
func (s *SnapshotStore) Create(version raft.SnapshotVersion, index, term uint64, configuration raft.Configuration,
	configurationIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	if s.space != nil {
		// Not started when the last snapshot's size would not fit: on a
		// full disk, Raft asks again every second.
		last := s.short.Load()
		if metas, _ := s.List(); len(metas) > 0 {
			last = max(last, metas[0].Size)
		}
		if err := s.space.admitSnapshot(int(last)); err != nil {
			return nil, fmt.Errorf("create snapshot: %w", err)
		}
	}
	sink, err := s.FileSnapshotStore.Create(version, index, term, configuration, configurationIndex, trans)
	if err != nil {
		// The file store leaves the directory of a snapshot whose
		// metadata it failed to write.
		s.removePartial()
		s.space.Fail(err)
		return nil, err
	}
	// The file the store's sink writes (hashicorp/raft's layout:
	// snapshots/<id>.tmp/state.bin), opened again for its writeback.
	f, err := os.OpenFile(s.statePath(sink.ID()), os.O_WRONLY, 0)
	if err != nil {
		return sink, nil // write-behind is an optimization; the sink works without it
	}
	return &writeBehindSink{SnapshotSink: sink, f: f, start: time.Now(), stopping: s.stopping, space: s.space, short: &s.short}, nil
}

func (s *SnapshotStore) statePath(id string) string {
	return filepath.Join(s.dir, "snapshots", id+".tmp", "state.bin")
}

// writeBehindSink counts what is written and, every writeBehindChunk,
// starts the writeback of the new chunk, waits for the one before, and
// waits as long as it takes to keep to SnapshotWriteRate.
type writeBehindSink struct {
	raft.SnapshotSink
	f        *os.File
	stopping <-chan struct{}
	space    *Space
	short    *atomic.Int64 // the store's
	start    time.Time
	written  int64
	kicked   int64 // bytes whose writeback has been started
	waited   int64 // bytes known to be on the disk
}

func (w *writeBehindSink) Write(p []byte) (int, error) {
	select {
	case <-w.stopping:
		return 0, ErrSnapshotStopped
	default:
	}
	if err := w.space.admitSnapshot(len(p)); err != nil {
		w.short.Store(w.written + int64(len(p)))
		return 0, fmt.Errorf("write snapshot: %w", err)
	}
	n, err := w.SnapshotSink.Write(p)
	w.space.spend(n)
	w.written += int64(n)
	// The sink buffers a little: kick only what has surely reached the
	// file.
	if upto := w.written - 64<<10; upto-w.kicked >= writeBehindChunk {
		startWriteback(w.f, w.kicked, upto-w.kicked)
		if w.kicked > w.waited {
			waitWriteback(w.f, w.waited, w.kicked-w.waited)
			w.waited = w.kicked
		}
		w.kicked = upto
		due := w.start.Add(time.Duration(float64(w.written) / SnapshotWriteRate * float64(time.Second)))
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-w.stopping:
				t.Stop()
			}
		}
	}
	return n, err
}

func (w *writeBehindSink) Close() error {
	w.f.Close()
	err := w.SnapshotSink.Close()
	if err == nil {
		w.short.Store(0)
	}
	return err
}

func (w *writeBehindSink) Cancel() error {
	w.f.Close()
	return w.SnapshotSink.Cancel()
}
