package persistence

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Space keeps the filesystem of the data directory from filling up.
// Pebble cannot survive a failed WAL write (it panics, or calls
// Logger.Fatalf on a failed sync: its log would no longer match its
// memtable), and a Pebble opened on a disk too full to flush its replayed
// WAL waits for that flush for ever. So the node stops short of the
// end: below a reserve that scales with the filesystem, new writes are
// refused with ErrNoSpace (clients see -MISCONF) while reads go on, and
// the reserve is there for what still has to be written: Raft's own
// entries and state, a snapshot (which lets the log be compacted), and
// Pebble's flushes. Writes resume by themselves once space is back.
//
// Three floors, in free bytes, from the highest:
//
//	reserve      new client writes are refused below it
//	reserve/2    a snapshot being written fails below it
//	reserve/4    the WAL refuses log entries below it (Raft's own too; on a
//	             follower, the leader retries later); a Pebble flush (at
//	             most a memtable, reserve/4 or less) still fits
type Space struct {
	dir     string
	size    uint64 // the filesystem's size
	reserve uint64
	// stat is statfs (tests give their own).
	stat func(dir string) (size, free uint64, ok bool)

	// free is the space free at the last statfs, less what was written
	// since; at is when that statfs ran (unix ns). mu serializes statfs.
	mu   sync.Mutex
	free atomic.Int64
	at   atomic.Int64

	// failed is the error of the last write refused or failed; a later
	// write that succeeds clears it.
	failed atomic.Pointer[error]
}

// ErrNoSpace is what a write refused for lack of space wraps.
var ErrNoSpace = errors.New("No space left on device")

// spaceStale is how old a statfs may be before it is taken again while
// free space is well above the reserve. Below twice the reserve every
// check takes a fresh one.
const spaceStale = 100 * time.Millisecond

// NewSpace watches the filesystem holding dir. It returns nil (no guard)
// where the filesystem's size cannot be read.
func NewSpace(dir string) *Space { return newSpace(dir, statfs) }

func newSpace(dir string, stat func(string) (size, free uint64, ok bool)) *Space {
	size, free, ok := stat(dir)
	if !ok {
		return nil
	}
	s := &Space{dir: dir, size: size, reserve: reserveFor(size), stat: stat}
	s.free.Store(int64(free))
	s.at.Store(time.Now().UnixNano())
	return s
}

// memTableFor scales Pebble's memtable to the filesystem: a flush writes
// up to a memtable, and must fit in the last quarter of the reserve.
func memTableFor(size uint64) uint64 {
	return min(max(size/64, 256<<10), 8<<20)
}

// reserveFor is the space kept free on a filesystem of size bytes: room
// for four memtables and a margin of 2% (between 1MB and 64MB). 2.9MB on
// a 30MB filesystem, 96MB on one of 100GB.
func reserveFor(size uint64) uint64 {
	return 4*memTableFor(size) + min(max(size/50, 1<<20), 64<<20)
}

// Reserve is the space kept free, in bytes.
func (s *Space) Reserve() uint64 { return s.reserve }

// Dir is the directory whose filesystem is watched.
func (s *Space) Dir() string { return s.dir }

// Free returns the bytes free now (a recent statfs, less what was
// written since).
func (s *Space) Free() uint64 {
	f := s.free.Load()
	if f < 2*int64(s.reserve) || time.Now().UnixNano()-s.at.Load() > int64(spaceStale) {
		f = s.refresh()
	}
	return uint64(max(f, 0))
}

func (s *Space) refresh() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, free, ok := s.stat(s.dir)
	if !ok {
		return s.free.Load()
	}
	s.free.Store(int64(free))
	s.at.Store(time.Now().UnixNano())
	return int64(free)
}

// Admit reports whether a client write of n bytes may be proposed: nil,
// or an error wrapping ErrNoSpace.
func (s *Space) Admit(n int) error {
	if s == nil {
		return nil
	}
	return s.room(n, s.reserve)
}

// admitLog is Admit's floor for log entries (any entry: Raft's too).
func (s *Space) admitLog(n int) error {
	if s == nil {
		return nil
	}
	return s.room(n, s.reserve/4)
}

// admitSnapshot is Admit's floor for a snapshot's bytes.
func (s *Space) admitSnapshot(n int) error {
	if s == nil {
		return nil
	}
	return s.room(n, s.reserve/2)
}

// Low reports whether new writes are being refused.
func (s *Space) Low() bool { return s != nil && s.Free() < s.reserve }

// room checks that n bytes leave floor free. It records a refusal, and
// clears a past one when there is room.
func (s *Space) room(n int, floor uint64) error {
	if s == nil {
		return nil
	}
	free := s.Free()
	if free >= uint64(n) && free-uint64(n) >= floor {
		if floor == s.reserve && s.failed.Load() != nil {
			s.failed.Store(nil)
		}
		return nil
	}
	var err error = &SpaceError{Free: free, Reserve: s.reserve, Dir: s.dir}
	s.failed.Store(&err)
	return err
}

// SpaceError is a write refused for lack of space.
type SpaceError struct {
	Free, Reserve uint64 // bytes
	Dir           string
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("%v (%s free in %s, %s kept in reserve)", ErrNoSpace, mb(e.Free), e.Dir, mb(e.Reserve))
}

// Is makes errors.Is(err, ErrNoSpace) true.
func (e *SpaceError) Is(target error) bool { return target == ErrNoSpace }

// NoSpace marks the error for the server, which answers -MISCONF.
func (e *SpaceError) NoSpace() {}

// spend notes n bytes written, until the next statfs sees them.
func (s *Space) spend(n int) {
	if s != nil {
		s.free.Add(-int64(n))
	}
}

// Fail records a write error (a failed snapshot, say) as the cause shown
// until writes succeed again.
func (s *Space) Fail(err error) {
	if s != nil && err != nil {
		s.failed.Store(&err)
	}
}

// Err returns the cause writes are (or the last one was) refused for,
// nil when all is well: below the reserve, the lack of space.
func (s *Space) Err() error {
	if s == nil {
		return nil
	}
	if err := s.Admit(0); err != nil {
		return err
	}
	if p := s.failed.Load(); p != nil {
		return *p
	}
	return nil
}

func mb(n uint64) string { return fmt.Sprintf("%.1fMB", float64(n)/(1<<20)) }

// statfs returns the size of dir's filesystem and the bytes an
// unprivileged writer may still use.
func statfs(dir string) (size, free uint64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil || st.Blocks == 0 {
		return 0, 0, false
	}
	bs := uint64(st.Bsize)
	return st.Blocks * bs, st.Bavail * bs, true
}

// The ballast is a file of zeros the node keeps in the data directory
// while there is room, and deletes when it opens on a disk that has
// filled up (by another process, or past the reserve): Pebble's open
// needs to write (a flush of the WAL it replays, a new MANIFEST and
// WAL), and Raft's election its term and first entry. The node then
// serves reads and refuses writes until space returns.
const ballastName = "space-ballast"

// ballastSize is what opening needs at most (a flush of the WAL's
// memtables and a margin for Raft's own first entries), and no more
// than half the reserve, which leaves it above the WAL's floor.
func (s *Space) ballastSize() int64 {
	return int64(min(s.reserve/2, 2*memTableFor(s.size)+1<<20))
}

func (s *Space) ballastPath() string { return filepath.Join(s.dir, ballastName) }

// MakeRoom reports whether need bytes are free, deleting the ballast to
// free them if it must.
func (s *Space) MakeRoom(need uint64) bool {
	if s.refresh() >= int64(need) {
		return true
	}
	before := s.free.Load()
	if err := os.Remove(s.ballastPath()); err != nil {
		return false
	}
	log.Printf("disk: %s free in %s, %s needed to open the WAL: deleted the ballast (%s); writes are refused until there is room",
		mb(uint64(max(before, 0))), s.dir, mb(need), mb(uint64(s.ballastSize())))
	return s.refresh() >= int64(need)
}

// KeepBallast writes the ballast if it is missing and there is room for
// it above the reserve. Its owner calls it now and then.
func (s *Space) KeepBallast() error {
	if s == nil {
		return nil
	}
	size := s.ballastSize()
	if fi, err := os.Stat(s.ballastPath()); err == nil && fi.Size() == size {
		return nil
	}
	if s.Free() < s.reserve+2*uint64(size) {
		return nil
	}
	tmp := s.ballastPath() + ".tmp"
	err := writeZeros(tmp, size)
	if err == nil {
		err = os.Rename(tmp, s.ballastPath())
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write the ballast: %w", err)
	}
	s.refresh()
	return nil
}

// writeZeros writes a file of size zero bytes, synced, and allocated
// (fallocate where there is one, or written: not sparse).
func writeZeros(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err = allocate(f, size); err != nil && !errors.Is(err, syscall.ENOSPC) {
		err = nil
		buf := make([]byte, 64<<10)
		for left := size; left > 0 && err == nil; left -= int64(len(buf)) {
			_, err = f.Write(buf[:min(left, int64(len(buf)))])
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// walBytes is the size of the WAL files in a Pebble directory: what
// opening it flushes. The zeros written ahead of each log (walfs.go) are
// not counted.
func walBytes(dir string) uint64 {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var n uint64
	for _, l := range logs {
		n += logBytes(l)
	}
	return n
}
