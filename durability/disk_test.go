package durability

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// A full disk (docs/disk.md): each test mounts a 30MB tmpfs of its own,
// puts a filler file on it so that a few MB are left, and writes 10KB
// values until the node refuses them.

const (
	diskSize   = 30 << 20
	diskValue  = 10 << 10
	diskPrefix = "MISCONF Errors writing to the WAL: No space left on device"
)

// smallDisk mounts a tmpfs of diskSize and returns its path; it is
// unmounted when the test ends (after the nodes it holds are stopped:
// cleanups run last first).
func smallDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", diskSize)); err != nil {
		t.Skipf("the full-disk tests mount a %dMB tmpfs and this environment refuses it (%v): run them as root, or where mount is allowed", diskSize>>20, err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// freeBytes is what statfs says is free on dir's filesystem.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// fill writes a filler file on dir's filesystem leaving about leave
// bytes free (0: until the filesystem is full).
func fill(t *testing.T, path string, leave int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for left := freeBytes(t, filepath.Dir(path)) - leave; left > 0; left -= int64(len(buf)) {
		if _, err := f.Write(buf[:min(left, int64(len(buf)))]); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
}

func diskVal(i int) string {
	return strings.Repeat(string(rune('a'+i%26)), diskValue)
}

// setUntilRefused writes keys prefix:0, prefix:1, ... until a write is
// refused, and returns the acknowledged count and the refusal.
func setUntilRefused(t *testing.T, c *conn, prefix string, limit int) (int, error) {
	t.Helper()
	for i := range limit {
		v, err := c.do("SET", fmt.Sprintf("%s:%d", prefix, i), diskVal(i))
		if err != nil {
			return i, err
		}
		if v != "OK" {
			t.Fatalf("SET %s:%d = %v", prefix, i, v)
		}
	}
	t.Fatalf("%d writes of %dKB accepted on a %dMB disk", limit, diskValue>>10, diskSize>>20)
	return 0, nil
}

// readBack reads back every acknowledged key.
func readBack(t *testing.T, c *conn, prefix string, n int) {
	t.Helper()
	for i := range n {
		v, err := c.do("GET", fmt.Sprintf("%s:%d", prefix, i))
		if b, ok := v.([]byte); err != nil || !ok || string(b) != diskVal(i) {
			t.Fatalf("GET %s:%d after %d acknowledged writes: %d bytes, %v", prefix, i, n, len(fmt.Sprint(v)), err)
		}
	}
}

func isMisconf(err error) bool {
	var se serverError
	return errors.As(err, &se) && strings.HasPrefix(string(se), diskPrefix)
}

// countFiles counts the files under dir.
func countFiles(dir string) int {
	n := 0
	filepath.Walk(dir, func(string, os.FileInfo, error) error { n++; return nil })
	return n
}

// A node whose disk fills refuses writes with -MISCONF, loses none it
// acknowledged, serves reads, shows the cause in INFO, and takes writes
// again once there is room, without a restart. Restarted on a disk with
// no byte free, it serves reads, refuses writes, and does not fill its
// data directory with files; room again, it writes.
func TestFullDisk(t *testing.T) {
	disk := smallDisk(t)
	filler := filepath.Join(disk, "filler")
	fill(t, filler, 10<<20)
	start := time.Now()
	p := nodetest.StartProcess(t, filepath.Join(disk, "data"), "--fsync", "always")
	c := mustDial(t, p.Addr)

	acked, err := setUntilRefused(t, c, "k", 5000)
	if !isMisconf(err) {
		t.Fatalf("after %d writes: %v, want %s...", acked, err, diskPrefix)
	}
	if acked == 0 {
		t.Fatal("no write accepted before the disk was full")
	}
	readBack(t, c, "k", acked)
	t.Logf("[%s] %d writes of %dKB acknowledged, then: %v", time.Since(start).Round(time.Millisecond), acked, diskValue>>10, err)
	misconfLikeRedis(t, c)
	pers := info(t, p.Addr, "persistence")
	if pers["aof_last_write_status"] != "err" || !strings.HasPrefix(pers["disk_write_error"], "No space left on device") {
		t.Errorf("INFO persistence on a full disk: aof_last_write_status:%s disk_write_error:%s",
			pers["aof_last_write_status"], pers["disk_write_error"])
	}

	os.Remove(filler)
	waitFor(t, "writes to resume", func() bool {
		_, err := c.do("SET", "after", "room")
		return err == nil
	})
	if pers := info(t, p.Addr, "persistence"); pers["aof_last_write_status"] != "ok" || pers["disk_write_error"] != "" {
		t.Errorf("INFO persistence with room again: aof_last_write_status:%s disk_write_error:%s",
			pers["aof_last_write_status"], pers["disk_write_error"])
	}
	more, err := setUntilRefused(t, c, "m", 5000)
	if !isMisconf(err) {
		t.Fatalf("after %d more writes: %v, want %s...", more, err, diskPrefix)
	}

	t.Logf("[%s] %d more acknowledged once the filler was gone", time.Since(start).Round(time.Millisecond), more)
	// Restart with not one byte free.
	p.Stop()
	fill(t, filler, 0)
	p.Launch()
	waitFor(t, "reads after a restart on a full disk", func() bool {
		c2, err := dial(p.Addr)
		if err != nil {
			return false
		}
		defer c2.Close()
		v, _ := c2.do("GET", "k:0")
		return bytes.Equal(asBytes(v), []byte(diskVal(0)))
	})
	c = mustDial(t, p.Addr)
	readBack(t, c, "k", acked)
	readBack(t, c, "m", more)
	if _, err := c.do("SET", "x", "y"); !isMisconf(err) {
		t.Fatalf("SET after a restart on a full disk: %v, want %s...", err, diskPrefix)
	}
	t.Logf("[%s] restarted with no byte free: reads served, writes refused", time.Since(start).Round(time.Millisecond))
	files := countFiles(disk)
	time.Sleep(2 * time.Second) // a node retrying Pebble's flush made thousands of files a second
	if now := countFiles(disk); now > files+5 {
		t.Errorf("files on the full disk: %d, then %d", files, now)
	}

	os.Remove(filler)
	waitFor(t, "writes to resume after the restart", func() bool {
		_, err := c.do("SET", "x", "y")
		return err == nil
	})
}

// misconfLikeRedis checks what Redis 7.0 does with an AOF it cannot
// write (processCommand): PING and every write command are refused
// before they run (a syntax error too), a write queued in MULTI fails
// the transaction, a script's write is refused, reads are served.
func misconfLikeRedis(t *testing.T, c *conn) {
	t.Helper()
	for _, cmd := range [][]string{{"PING"}, {"SET", "k", "v", "BAD"}, {"DEL", "nokey"}, {"EVAL", "return redis.call('set','a','b')", "0"}} {
		if _, err := c.do(cmd...); !isMisconf(err) {
			t.Errorf("%v on a full disk: %v, want %s...", cmd, err, diskPrefix)
		}
	}
	c.do("MULTI")
	if _, err := c.do("SET", "x", "y"); !isMisconf(err) {
		t.Errorf("SET queued on a full disk: %v", err)
	}
	if _, err := c.do("EXEC"); err == nil || err.Error() != "EXECABORT Transaction discarded because of previous errors." {
		t.Errorf("EXEC of a transaction with a refused write: %v", err)
	}
	if v, err := c.do("EVAL", "return 1", "0"); err != nil || v != int64(1) {
		t.Errorf("EVAL of a script that does not write: %v %v", v, err)
	}
	if v, err := c.do("GET", "nokey"); err != nil || v != nil {
		t.Errorf("GET on a full disk: %v %v", v, err)
	}
}

func asBytes(v any) []byte {
	b, _ := v.([]byte)
	return b
}

// A follower whose disk is full does not stop the cluster: the leader
// commits every write with the other two, and the follower catches up
// once it has room.
func TestFullDiskFollower(t *testing.T) {
	disk := smallDisk(t)
	filler := filepath.Join(disk, "filler")
	cl := nodetest.StartCluster(t, 3, func(i int, cfg *server.Config) {
		if i == 2 {
			cfg.DataDir = filepath.Join(disk, "n3")
		}
	})
	full := cl.Nodes[2]
	if cl.Leader() == full {
		if err := full.Node().TransferLeadership("n1"); err != nil {
			t.Fatal(err)
		}
	}
	fill(t, filler, 6<<20)
	c := mustDial(t, cl.Leader().Cfg.Addr)
	const writes = 1000 // 10MB: more than n3's disk holds
	for i := range writes {
		if v, err := c.do("SET", fmt.Sprintf("f:%d", i), diskVal(i)); err != nil || v != "OK" {
			t.Fatalf("SET f:%d with a follower's disk full: %v %v", i, v, err)
		}
	}
	leader := cl.Leader()
	if st := full.Node().Stats(); st.LastLogIndex >= leader.Node().Stats().CommitIndex {
		t.Fatalf("n3 has the whole log (%d) on a full disk", st.LastLogIndex)
	} else if st.DiskErr == nil {
		t.Errorf("n3's disk is full and its INFO shows no error")
	}

	os.Remove(filler)
	commit := leader.Node().Stats().CommitIndex
	waitFor(t, "n3 to catch up", func() bool { return full.Node().Stats().AppliedIndex >= commit })
	c3 := mustDial(t, full.Cfg.Addr)
	c3.do("READONLY")
	readBack(t, c3, "f", writes)
}

// A leader whose disk fills hands its leadership to a voter with room,
// so the cluster takes writes again.
func TestFullDiskLeader(t *testing.T) {
	disk := smallDisk(t)
	cl := nodetest.StartCluster(t, 3, func(i int, cfg *server.Config) {
		if i == 2 {
			cfg.DataDir = filepath.Join(disk, "n3")
		}
	})
	full := cl.Nodes[2]
	if l := cl.Leader(); l != full {
		if err := l.Node().TransferLeadership("n3"); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "n3 to lead", func() bool { return cl.Leader() == full })
	fill(t, filepath.Join(disk, "filler"), 1<<20) // under the reserve
	waitFor(t, "another node to lead", func() bool { return cl.Leader() != full })
	c := mustDial(t, cl.Nodes[0].Cfg.Addr)
	if _, err := c.do("SET", "k", "v"); err != nil {
		t.Fatalf("SET with the full node's leadership handed over: %v", err)
	}
}
