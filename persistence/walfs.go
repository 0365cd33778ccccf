package persistence

import (
	"io"
	"os"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Pebble's log writer appends to its WAL file, and on ext4 an fdatasync
// of a file that grew (or whose blocks were just allocated, fallocate
// included) writes the inode after the data: two serial disk writes per
// commit instead of one, each a VM exit and an interrupt here. Measured on
// this machine, 2,000 appends of 2 KB each fdatasync'd: 2.0-2.25 block
// requests per fdatasync appending, 1.6 into fallocated space, 1.2 over
// bytes already written. Pebble reuses old WAL files to avoid it, but
// only once a memtable has been flushed, and the files it reuses are the
// first, small ones (its memtables grow from 256 KB): a node under load
// wrote 2.0 block requests per fdatasync, fresh or after 600,000 writes.
//
// walFS therefore keeps each WAL file written ahead of the log writer:
// before a write would pass the end of what the file holds, it writes
// walAhead bytes of zeros past it first. The next synced commit makes
// those durable with the file's new size (one metadata write per
// walAhead bytes of log); the commits after it overwrite blocks that are
// already there, and their fdatasync writes the data alone.
//
// A zeroed tail is what Pebble expects of a preallocated or recycled WAL:
// replay stops at the first zeroed chunk of the newest WAL (older ones end
// with an EOF trailer). The zeros are advice: they are written only
// while they leave the space guard's reserve free (space.go), and if
// writing them fails the log is appended to as before.
type walFS struct {
	vfs.FS
	// zeros is written ahead of every file, never changed: WriteAt
	// leaves its input alone (vfs.File.Write may not).
	zeros []byte
	space *Space // nil: no guard
}

// walAhead is how far past the log writer's end a WAL file is written
// (less on a small filesystem: a quarter of its memtable; see walFS).
// At ~100 bytes per write and ~25 writes per fsync, one fdatasync in
// about 400 pays for the metadata; the rest write one block.
const walAhead = 1 << 20

// walCategory is the DiskWriteCategory Pebble creates WAL files with.
const walCategory vfs.DiskWriteCategory = "pebble-wal"

// newWALFS writes WAL files ahead on fs; memTable is Pebble's memtable
// size, which a WAL file holds about once.
func newWALFS(fs vfs.FS, space *Space, memTable uint64) *walFS {
	ahead := min(walAhead, max(memTable/4, 64<<10))
	return &walFS{FS: fs, zeros: make([]byte, ahead), space: space}
}

// Create creates name; a WAL file is written ahead of its writer.
func (fs *walFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, c)
	if err != nil || c != walCategory {
		return f, err
	}
	return &walFile{File: f, fs: fs}, nil
}

// ReuseForWrite reuses an old WAL file, whose bytes are already written
// up to its size.
func (fs *walFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.ReuseForWrite(oldname, newname, c)
	if err != nil || c != walCategory {
		return f, err
	}
	w := &walFile{File: f, fs: fs}
	if fi, err := f.Stat(); err == nil {
		w.held = fi.Size()
	}
	return w, nil
}

// walFile is a WAL file being written from its start (see walFS).
type walFile struct {
	vfs.File
	fs   *walFS
	mu   sync.Mutex // Pebble writes from one goroutine at a time; cheap insurance
	off  int64      // where the next Write goes
	held int64      // the file's bytes from 0 are written (log or zeros) up to here
}

// Write writes p at the end of the log, after zeros past it when p would
// pass what the file holds.
func (f *walFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if end := f.off + int64(len(p)); end > f.held {
		f.zeroTo(end + int64(len(f.fs.zeros)))
	}
	n, err := f.File.Write(p)
	f.off += int64(n)
	return n, err
}

// zeroTo writes zeros from the end of what the file holds (never before
// the log's end) to end, unless they would take the space guard's
// reserve; it stops at the first error.
func (f *walFile) zeroTo(end int64) {
	at := max(f.held, f.off)
	if sp := f.fs.space; sp != nil && sp.Free() < sp.reserve+uint64(end-at) {
		return
	}
	zeros := f.fs.zeros
	for at < end {
		n, err := f.File.WriteAt(zeros[:min(end-at, int64(len(zeros)))], at)
		at += int64(n)
		f.fs.space.spend(n)
		if err != nil {
			break
		}
	}
	f.held = max(f.held, at)
}

// logBytes is the size of the WAL file at path less the zeros at its end:
// the log it holds, or a recycled log's old one.
func logBytes(path string) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	end := fi.Size()
	buf := make([]byte, 64<<10)
	for end > 0 {
		n := min(end, int64(len(buf)))
		if _, err := f.ReadAt(buf[:n], end-n); err != nil && err != io.EOF {
			return uint64(fi.Size())
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] != 0 {
				return uint64(end - n + i + 1)
			}
		}
		end -= n
	}
	return 0
}
