package persistence

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/hashicorp/raft"
)

// TestWALFileWrittenAhead: a WAL file holds zeros walAhead past what was
// written, written before the log reaches them, never over the log; a
// reused file counts as written up to its size; other files are Pebble's
// own.
func TestWALFileWrittenAhead(t *testing.T) {
	mem := vfs.NewMem()
	fs := newWALFS(mem, nil, 8<<20)
	f, err := fs.Create("000001.log", walCategory)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh slice each time: vfs.File.Write may change its input (the
	// memory FS flips its bits in race builds).
	log := func() []byte { return bytes.Repeat([]byte{'x'}, 1000) }
	for range 3 {
		if _, err := f.Write(log()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := size(t, f), int64(1000+walAhead); got != want {
		t.Fatalf("size %d after 3,000 bytes of log, want %d (zeros written once)", got, want)
	}
	// Past the zeros: the next ones are written first, the log over them.
	if _, err := f.Write(make([]byte, walAhead)); err != nil {
		t.Fatal(err)
	}
	if got, want := size(t, f), int64(3000+walAhead+walAhead); got != want {
		t.Fatalf("size %d, want %d", got, want)
	}
	data := contents(t, mem, "000001.log")
	if !bytes.Equal(data[:3000], bytes.Repeat([]byte{'x'}, 3000)) {
		t.Fatal("the log was overwritten")
	}
	if bytes.ContainsFunc(data[3000:], func(r rune) bool { return r != 0 }) {
		t.Fatal("non-zero bytes past the log")
	}
	f.Close()

	// A reused file is written up to its size: no zeros until the log
	// passes it.
	r, err := fs.ReuseForWrite("000001.log", "000002.log", walCategory)
	if err != nil {
		t.Fatal(err)
	}
	held := size(t, r)
	if _, err := r.Write(log()); err != nil {
		t.Fatal(err)
	}
	if got := size(t, r); got != held {
		t.Fatalf("reused file grew from %d to %d", held, got)
	}
	r.Close()

	o, err := fs.Create("000003.sst", "pebble-sst")
	if err != nil {
		t.Fatal(err)
	}
	o.Write(log())
	if got := size(t, o); got != 1000 {
		t.Fatalf("a table file is %d bytes for 1,000 written", got)
	}
	o.Close()
}

func size(t *testing.T, f vfs.File) int64 {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func contents(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWALZeroTailReplays: a store whose WAL ends in written-ahead zeros
// (a node that stopped without closing: its files copied while it runs)
// opens with every entry it committed, over more than one stretch of
// zeros, and goes on writing.
func TestWALZeroTailReplays(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir, true)
	defer closeStore(t, s)
	value := bytes.Repeat([]byte{'v'}, 4000)
	const n = 600 // 2.4 MB: past walAhead twice
	for i := uint64(1); i <= n; i++ {
		if err := s.StoreLog(&raft.Log{Index: i, Term: 1, Type: raft.LogCommand, Data: value}); err != nil {
			t.Fatal(err)
		}
	}
	wals, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(wals) == 0 {
		t.Fatalf("no WAL files in %s: %v", dir, err)
	}
	zeroTail := false
	for _, w := range wals {
		b, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		zeroTail = zeroTail || len(b) > walAhead/2 && !bytes.ContainsFunc(b[len(b)-walAhead/2:], func(r rune) bool { return r != 0 })
	}
	if !zeroTail {
		t.Fatal("no WAL file ends in zeros")
	}

	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	c := openStore(t, crashed, true)
	defer closeStore(t, c)
	if first, last := edges(t, c); first != 1 || last != n {
		t.Fatalf("edges after replay %d-%d, want 1-%d", first, last, n)
	}
	var l raft.Log
	for _, i := range []uint64{1, n / 2, n} {
		if err := c.GetLog(i, &l); err != nil || !bytes.Equal(l.Data, value) {
			t.Fatalf("entry %d after replay: %v", i, err)
		}
	}
	if err := c.StoreLog(&raft.Log{Index: n + 1, Term: 1, Type: raft.LogCommand, Data: value}); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the files of src (and of its directories) into dst, as
// they are now.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		if strings.HasSuffix(p, "LOCK") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("copy %s: %w", p, err)
		}
		return os.WriteFile(to, b, info.Mode())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWALNoZerosInReserve: zeros are written ahead only while they leave
// the space guard's reserve free; short of that the log is appended to.
func TestWALNoZerosInReserve(t *testing.T) {
	d := &fakeDisk{size: 10 << 20} // a 2 MB reserve: Free below stays on its count
	space := newSpace(t.TempDir(), d.stat)
	d.set(space, space.Reserve()+walAhead/2)
	fs := newWALFS(vfs.NewMem(), space, 8<<20)
	f, err := fs.Create("000001.log", walCategory)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if got := size(t, f); got != 1000 {
		t.Fatalf("size %d with %d bytes free, want 1000 (no zeros)", got, space.Free())
	}
	d.set(space, space.Reserve()+4*walAhead)
	if _, err := f.Write(make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if got, want := size(t, f), int64(2000+walAhead); got != want {
		t.Fatalf("size %d with room, want %d", got, want)
	}
	// The count since the last statfs (Free would take a new one once it
	// is old, which a slow run can make it).
	if free := space.free.Load(); free > int64(space.Reserve()+3*walAhead) {
		t.Fatalf("%d bytes free after the zeros: they were not counted", free)
	}
}

// TestLogBytes: the zeros at a WAL file's end are not log (walBytes, what
// opening flushes, leaves them out).
func TestLogBytes(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		log, zeros int
	}{{0, 0}, {3, 0}, {0, 100}, {3, 100}, {70000, 200000}, {1, 64 << 10}} {
		path := filepath.Join(dir, "000001.log")
		data := append(bytes.Repeat([]byte{'x'}, tc.log), make([]byte, tc.zeros)...)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := logBytes(path); got != uint64(tc.log) {
			t.Errorf("%d bytes of log and %d of zeros: logBytes %d", tc.log, tc.zeros, got)
		}
		if got := walBytes(dir); got != uint64(tc.log) {
			t.Errorf("%d bytes of log and %d of zeros: walBytes %d", tc.log, tc.zeros, got)
		}
	}
}
