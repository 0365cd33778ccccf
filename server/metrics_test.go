package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// scrape reads addr's /metrics: each sample's value by its name and
// labels as the text format writes them (`name{a="b"}`).
func scrape(t *testing.T, addr string) map[string]float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %s: %s", addr, resp.Status, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sample returns the value of key in m, failing when it is missing.
func sample(t *testing.T, m map[string]float64, key string) float64 {
	t.Helper()
	v, ok := m[key]
	if !ok {
		t.Fatalf("no sample %s", key)
	}
	return v
}

// TestMetricsEndpoint: a node started with a metrics address serves
// /metrics, and the figures follow what clients do: commands, hits and
// misses, keys, the log's indexes, the WAL's fsyncs, snapshots.
func TestMetricsEndpoint(t *testing.T) {
	node := nodetest.Start(t, server.Config{Fsync: true, MetricsAddr: "127.0.0.1:0"})
	addr := node.MetricsAddr().String()
	before := scrape(t, addr)

	c := dialRaw(t, node.Addr().String())
	const n = 20
	for i := range n {
		c.do("SET", "k"+strconv.Itoa(i), "v")
	}
	c.do("EXPIRE", "k0", "1000")
	c.do("GET", "k1")
	c.do("GET", "k2")
	c.do("GET", "missing")
	c.do("LPUSH", "k3", "x") // WRONGTYPE
	if err := node.Node().Snapshot(); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	after := scrape(t, addr)

	grew := func(key string, by float64) {
		t.Helper()
		if d := sample(t, after, key) - before[key]; d < by {
			t.Errorf("%s grew by %v, want at least %v", key, d, by)
		}
	}
	grew(`redis_commands_total{cmd="set"}`, n)
	grew(`redis_commands_total{cmd="get"}`, 3)
	grew(`redis_commands_failed_calls_total{cmd="lpush"}`, 1)
	grew(`redis_commands_duration_seconds_total{cmd="set"}`, 1e-6)
	grew(`redis_commands_processed_total`, n+5)
	grew(`redis_keyspace_hits_total`, 2)
	grew(`redis_keyspace_misses_total`, 1)
	grew(`redis_errors_total{err="WRONGTYPE"}`, 1)
	grew(`loomcache_raft_commit_index{partition="0"}`, n+1)
	grew(`loomcache_raft_applied_index{partition="0"}`, n+1)
	grew(`loomcache_wal_fsync_duration_seconds_count{partition="0"}`, 1)
	grew(`loomcache_wal_entries_per_fsync_sum{partition="0"}`, n+1)
	grew(`loomcache_snapshot_size_bytes_count{partition="0"}`, 1)
	grew(`loomcache_snapshots_taken_total{partition="0"}`, 1)
	for key, want := range map[string]float64{
		`redis_db_keys{db="db0"}`:                              n,
		`redis_db_keys_expiring{db="db0"}`:                     1,
		`redis_db_keys{db="db1"}`:                              0,
		`redis_connected_clients`:                              1,
		`loomcache_raft_leader{partition="0"}`:                 1,
		`loomcache_raft_state{partition="0",state="leader"}`:   1,
		`loomcache_raft_state{partition="0",state="follower"}`: 0,
		`loomcache_raft_leader_changes_total{partition="0"}`:   1,
		`loomcache_raft_apply_lag_entries{partition="0"}`:      0,
	} {
		if got := sample(t, after, key); got != want {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}
	if v := sample(t, after, `loomcache_snapshot_last_size_bytes{partition="0"}`); v <= 0 {
		t.Errorf("last snapshot size %v", v)
	}
	if v := sample(t, after, `redis_memory_used_bytes`); v <= 0 {
		t.Errorf("used memory %v", v)
	}
	for _, key := range []string{`go_goroutines`, `process_resident_memory_bytes`} {
		sample(t, after, key)
	}
}

// TestMetricsStop: the endpoint closes with the node, and its port is
// free again.
func TestMetricsStop(t *testing.T) {
	addr := nodetest.FreeAddr(t)
	node := nodetest.Start(t, server.Config{MetricsAddr: addr})
	scrape(t, addr)
	if err := node.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/metrics"); err == nil {
		t.Fatal("the endpoint still answers after Stop")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the metrics port is still held after Stop: %v", err)
	}
	ln.Close()
}

// TestMetricsAddrInUse: a metrics address that cannot be bound stops the
// start with an error naming it.
func TestMetricsAddrInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = server.New(server.Config{ID: "n1", Addr: nodetest.FreeAddr(t), RaftAddr: nodetest.FreeAddr(t),
		DataDir: t.TempDir(), LogOutput: io.Discard, MetricsAddr: ln.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "metrics-addr") {
		t.Fatalf("New with the metrics address taken: %v", err)
	}
}

// TestMetricsCluster: in three nodes, the leader reports itself leader
// and each follower's replication, the followers report 0 and count the
// writes they forward.
func TestMetricsCluster(t *testing.T) {
	c := nodetest.StartCluster(t, 3, func(i int, cfg *server.Config) { cfg.MetricsAddr = "127.0.0.1:0" })
	leader := c.Leader()
	followers := c.Followers()
	f := followers[0]
	fc := dialRaw(t, f.Addr().String())
	for i := range 5 {
		fc.do("SET", "k"+strconv.Itoa(i), "v")
	}
	fm := scrape(t, f.MetricsAddr().String())
	if v := sample(t, fm, `loomcache_raft_leader{partition="0"}`); v != 0 {
		t.Errorf("follower reports leader %v", v)
	}
	if v := sample(t, fm, `loomcache_raft_forwarded_requests_total{partition="0"}`); v < 1 {
		t.Errorf("follower forwarded %v requests", v)
	}
	if v := sample(t, fm, `redis_commands_total{cmd="set"}`); v != 5 {
		t.Errorf("follower counted %v SETs", v)
	}
	if v := sample(t, fm, `loomcache_raft_leader_changes_total{partition="0"}`); v < 1 {
		t.Errorf("follower saw %v leaders", v)
	}
	// The followers' match indexes reach the leader's last entry once
	// they have acknowledged it (the next heartbeat at the latest).
	eventually(t, "the followers to catch up in the leader's metrics", func() bool {
		lm := scrape(t, leader.MetricsAddr().String())
		if lm[`loomcache_raft_leader{partition="0"}`] != 1 {
			return false
		}
		last := lm[`loomcache_raft_last_log_index{partition="0"}`]
		for _, f := range followers {
			id := `{follower="` + f.Cfg.ID + `",partition="0"}`
			if lm[`loomcache_raft_follower_match_index`+id] != last || lm[`loomcache_raft_follower_lag_entries`+id] != 0 {
				return false
			}
		}
		return last > 5
	})
	if fm2 := scrape(t, followers[1].MetricsAddr().String()); fm2[`loomcache_raft_follower_match_index{follower="`+f.Cfg.ID+`",partition="0"}`] != 0 {
		t.Error("a follower reports follower replication")
	}
}

// TestMetricsProcess: the binary's --metrics-addr serves the endpoint.
func TestMetricsProcess(t *testing.T) {
	addr := nodetest.FreeAddr(t)
	p := nodetest.StartProcess(t, "", "--fsync", "no", "--metrics-addr", addr)
	c := dialRaw(t, p.Addr)
	c.do("SET", "a", "1")
	c.do("GET", "a")
	m := scrape(t, addr)
	if v := sample(t, m, `redis_keyspace_hits_total`); v != 1 {
		t.Errorf("hits %v", v)
	}
	if v := sample(t, m, `redis_db_keys{db="db0"}`); v != 1 {
		t.Errorf("keys %v", v)
	}
	// --fsync no: the WAL is written, never synced.
	if v := sample(t, m, `loomcache_wal_fsync_duration_seconds_count{partition="0"}`); v != 0 {
		t.Errorf("fsyncs under --fsync no: %v", v)
	}
	if v := sample(t, m, `loomcache_wal_entries_total{partition="0"}`); v < 2 {
		t.Errorf("WAL entries %v", v)
	}
	p.Stop()
	if code := p.ExitCode(); code != 0 {
		t.Fatalf("exit code %d; log:\n%s", code, p.Output())
	}
}
