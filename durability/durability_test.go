package durability

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// waitFor polls cond until it holds; the bound only turns a hang into a
// failure.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestGroupCommit runs N concurrent writers (one connection each, one SET
// in flight per connection) against a node and reports how many writes
// and log entries each fsync covered (writes proposed together share an
// entry, entries appended together a WAL commit) and the throughput. The
// only assertion is the behaviour: with 50 writers under --fsync always,
// an fsync covers more than one write.
func TestGroupCommit(t *testing.T) {
	type figure struct {
		fsync          string
		writers, ops   int
		perSync, perB  float64
		opsPerSync     float64
		opsPerSec      float64
		syncs, batches uint64
	}
	var figures []figure
	for _, fsync := range []string{"always", "no"} {
		p := nodetest.StartProcess(t, "", "--fsync", fsync)
		for _, writers := range []int{1, 10, 50} {
			perWriter := max(40, 1500/writers)
			before := info(t, p.Addr, "persistence")
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := 0; w < writers; w++ {
				c := mustDial(t, p.Addr)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perWriter; i++ {
						v, err := c.do("SET", fmt.Sprintf("gc:%s:%d:%d:%d", fsync, writers, w, i), "value")
						if err != nil || v != "OK" {
							errs <- fmt.Errorf("SET: %v %v", v, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			close(errs)
			for err := range errs {
				t.Fatalf("fsync %s, %d writers: %v", fsync, writers, err)
			}
			after := info(t, p.Addr, "persistence")
			d := func(name string) uint64 { return infoUint(t, after, name) - infoUint(t, before, name) }
			entries, syncs, batches := d("wal_entries"), d("wal_syncs"), d("wal_batches")
			f := figure{fsync: fsync, writers: writers, ops: writers * perWriter, syncs: syncs, batches: batches,
				opsPerSec: float64(writers*perWriter) / elapsed.Seconds()}
			if syncs > 0 {
				f.perSync = float64(entries) / float64(syncs)
				f.opsPerSync = float64(f.ops) / float64(syncs)
			}
			if batches > 0 {
				f.perB = float64(entries) / float64(batches)
			}
			figures = append(figures, f)
			if fsync == "always" && syncs != batches {
				t.Errorf("fsync always: %d syncs for %d batches", syncs, batches)
			}
			if fsync == "no" && syncs != 0 {
				t.Errorf("fsync no: %d syncs", syncs)
			}
			if fsync == "always" && writers == 50 && f.opsPerSync <= 1 {
				t.Errorf("50 writers, fsync always: %.2f writes per fsync, want > 1 (group commit)", f.opsPerSync)
			}
		}
		p.Stop()
	}
	t.Logf("%-6s %7s %6s %8s %8s %10s %9s %9s %9s", "fsync", "writers", "ops", "batches", "syncs", "entr/batch", "entr/sync", "ops/sync", "ops/s")
	for _, f := range figures {
		t.Logf("%-6s %7d %6d %8d %8d %10.2f %9.2f %9.2f %9.0f", f.fsync, f.writers, f.ops, f.batches, f.syncs, f.perB, f.perSync, f.opsPerSync, f.opsPerSec)
	}
}

// TestKillNineKeepsAcknowledgedWrites: 8 clients write distinct keys and
// increment shared counters; the node is SIGKILLed mid-stream and
// restarted on the same data dir, three times. Every acknowledged SET must
// be there with its value, and every counter must hold at least its
// acknowledged increments and at most its attempted ones.
func TestKillNineKeepsAcknowledgedWrites(t *testing.T) {
	p := nodetest.StartProcess(t, "")
	const (
		writers  = 8
		counters = 4
		cycles   = 3
		perCycle = 600 // acknowledged ops before the kill
	)
	var (
		mu        sync.Mutex
		acked     = map[string]string{}
		ackedIncr [counters]int64
		triedIncr [counters]int64
	)
	for cycle := 0; cycle < cycles; cycle++ {
		var (
			done  atomic.Int64
			stop  = make(chan struct{})
			wg    sync.WaitGroup
			lost  atomic.Int64 // requests that got no reply (the kill cut them off)
			ackd0 = len(acked)
		)
		for w := 0; w < writers; w++ {
			c := mustDial(t, p.Addr)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if i%4 == 3 {
						ctr := (w + i) % counters
						mu.Lock()
						triedIncr[ctr]++
						mu.Unlock()
						v, err := c.do("INCR", fmt.Sprint("ctr", ctr))
						if _, ok := v.(int64); err != nil || !ok {
							lost.Add(1)
							return
						}
						mu.Lock()
						ackedIncr[ctr]++
						mu.Unlock()
					} else {
						key := fmt.Sprintf("k:%d:%d:%d", cycle, w, i)
						val := "value-of-" + key
						v, err := c.do("SET", key, val)
						if err != nil || v != "OK" {
							lost.Add(1)
							return
						}
						mu.Lock()
						acked[key] = val
						mu.Unlock()
					}
					done.Add(1)
				}
			}()
		}
		waitFor(t, "writes before the kill", func() bool { return done.Load() >= perCycle })
		p.Kill()
		close(stop)
		wg.Wait()
		t.Logf("cycle %d: killed after %d acknowledged ops (%d new keys), %d requests cut off", cycle, done.Load(), len(acked)-ackd0, lost.Load())

		p.Start()
		checkAcked(t, p.Addr, acked)
		c := mustDial(t, p.Addr)
		for i := 0; i < counters; i++ {
			v, err := c.do("GET", fmt.Sprint("ctr", i))
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			if v != nil {
				n, err = strconv.ParseInt(string(v.([]byte)), 10, 64)
				if err != nil {
					t.Fatalf("ctr%d = %q", i, v)
				}
			}
			if n < ackedIncr[i] || n > triedIncr[i] {
				t.Errorf("cycle %d: ctr%d = %d, want between %d acknowledged and %d attempted", cycle, i, n, ackedIncr[i], triedIncr[i])
			}
		}
	}
}

// checkAcked reads every key of want back, pipelined, and fails on any
// missing or different value.
func checkAcked(t testing.TB, addr string, want map[string]string) {
	t.Helper()
	c := mustDial(t, addr)
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	const chunk = 500
	missing := 0
	for i := 0; i < len(keys); i += chunk {
		part := keys[i:min(i+chunk, len(keys))]
		for _, k := range part {
			c.send("GET", k)
		}
		if err := c.flush(); err != nil {
			t.Fatal(err)
		}
		for _, k := range part {
			v, err := c.read()
			if err != nil {
				t.Fatalf("GET %s: %v", k, err)
			}
			if b, _ := v.([]byte); string(b) != want[k] {
				if missing < 5 {
					t.Errorf("acknowledged %s = %q, got %q", k, want[k], v)
				}
				missing++
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes missing or wrong", missing, len(keys))
	}
}

// writeKeys SETs key<i> = val<i> for i in [from, to) over conns
// connections, each pipelining its share in chunks.
func writeKeys(t testing.TB, addr string, from, to, conns int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	per := (to - from + conns - 1) / conns
	for k := 0; k < conns; k++ {
		lo, hi := from+k*per, min(from+(k+1)*per, to)
		if lo >= hi {
			break
		}
		c := mustDial(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			const chunk = 100
			for i := lo; i < hi; i += chunk {
				end := min(i+chunk, hi)
				for j := i; j < end; j++ {
					c.send("SET", fmt.Sprint("key", j), fmt.Sprint("val", j))
				}
				if err := c.flush(); err != nil {
					errs <- err
					return
				}
				for j := i; j < end; j++ {
					if v, err := c.read(); err != nil || v != "OK" {
						errs <- fmt.Errorf("SET key%d: %v %v", j, v, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestSnapshotAndReplay writes 25,000 keys (with the default snapshot
// threshold of 10,000 ops), restarts the node with SIGTERM, and shows
// from INFO raft that the newest snapshot was restored and only the log
// after it replayed, that the log was compacted, and that every key reads
// back. Concurrent writes share log entries, so 24,000 of them make far
// fewer entries than the 1,024 a compaction keeps by default: the node
// keeps 10.
func TestSnapshotAndReplay(t *testing.T) {
	p := nodetest.StartProcess(t, "", "--trailing-logs", "10")
	const total, tail = 25000, 1000
	start := time.Now()
	writeKeys(t, p.Addr, 0, total-tail, 50)
	t.Logf("wrote %d keys in %v", total-tail, time.Since(start).Round(time.Millisecond))
	// The node checks every second whether SnapshotThreshold ops have
	// been applied since its last snapshot; once one is taken the log
	// before it, but for the last 10 entries, is compacted.
	waitFor(t, "a snapshot and log compaction", func() bool {
		r := info(t, p.Addr, "raft")
		return infoUint(t, r, "raft_first_log_index") > 1 &&
			infoUint(t, r, "raft_last_snapshot_index")+10000 > infoUint(t, r, "raft_last_log_index")
	})
	writeKeys(t, p.Addr, total-tail, total, 10)
	pre := info(t, p.Addr, "raft")
	prePersist := info(t, p.Addr, "persistence")
	t.Logf("before restart: first_log_index %s last_log_index %s last_snapshot_index %s; rdb_saves %s wal_compactions %s",
		pre["raft_first_log_index"], pre["raft_last_log_index"], pre["raft_last_snapshot_index"],
		prePersist["rdb_saves"], prePersist["wal_compactions"])

	p.Stop()
	if code := p.ExitCode(); code != 0 {
		t.Fatalf("SIGTERM: exit code %d\n%s", code, p.Output())
	}
	restart := time.Now()
	p.Start()
	t.Logf("restart to first acknowledged write: %v", time.Since(restart).Round(time.Millisecond))

	post := info(t, p.Addr, "raft")
	u := func(name string) uint64 { return infoUint(t, post, name) }
	restored, snap := u("raft_restored_snapshot_index"), u("raft_last_snapshot_index")
	startLog, replayed := u("raft_start_log_index"), u("raft_replayed_entries")
	t.Logf("after restart: restored_snapshot_index %d start_log_index %d replayed_entries %d applied_since_start %d first_log_index %d",
		restored, startLog, replayed, u("raft_applied_since_start"), u("raft_first_log_index"))
	if restored == 0 || restored != snap {
		t.Errorf("restored snapshot %d, newest snapshot %d: want the newest restored", restored, snap)
	}
	if restored < infoUint(t, pre, "raft_last_snapshot_index") {
		t.Errorf("restored snapshot %d older than the %s seen before the restart", restored, pre["raft_last_snapshot_index"])
	}
	if startLog < infoUint(t, pre, "raft_last_log_index") {
		t.Errorf("start log index %d < last log index %s before the restart", startLog, pre["raft_last_log_index"])
	}
	// Only the tail is replayed: every command entry after the snapshot,
	// and nothing before it. The few entries between are raft's own
	// (a new leader's no-op, barriers), which never reach the FSM.
	if replayed > startLog-restored || startLog-restored-replayed > 8 {
		t.Errorf("replayed %d entries; the log after the snapshot holds %d", replayed, startLog-restored)
	}
	if replayed >= 10000 {
		t.Errorf("replayed %d entries, more than a snapshot interval", replayed)
	}
	if u("raft_first_log_index") <= 1 {
		t.Errorf("first_log_index %d after restart: log not compacted", u("raft_first_log_index"))
	}
	want := make(map[string]string, total)
	for i := 0; i < total; i++ {
		want[fmt.Sprint("key", i)] = fmt.Sprint("val", i)
	}
	checkAcked(t, p.Addr, want)
	if n := dbsize(t, p.Addr); n != total {
		t.Errorf("DBSIZE %d, want %d", n, total)
	}
}

func dbsize(t testing.TB, addr string) int64 {
	t.Helper()
	c := mustDial(t, addr)
	v, err := c.do("DBSIZE")
	if err != nil {
		t.Fatal(err)
	}
	n, _ := v.(int64)
	return n
}
