package server_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// Loading (loading.go): these tests hold loading open with the test hooks
// (HoldRestore, HoldLoading), so what a client sees at each step does not
// depend on how fast the machine is; loading_process_test.go has the
// same with real processes and no hooks.

const loadingErr = "-LOADING Redis is loading the dataset in memory\r\n"

// fill writes n keys "key:<i>" = "value:<i>" in pipelined batches.
func fill(t *testing.T, addr string, from, n int) {
	t.Helper()
	nc, br := dial(t, addr)
	for lo := from; lo < from+n; lo += 1000 {
		hi := min(lo+1000, from+n)
		var buf bytes.Buffer
		for i := lo; i < hi; i++ {
			encode(&buf, "SET", fmt.Sprintf("key:%d", i), fmt.Sprintf("value:%d", i))
		}
		if _, err := nc.Write(buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		for i := lo; i < hi; i++ {
			if rep, err := readReply(br); err != nil || string(rep) != "+OK\r\n" {
				t.Fatalf("SET key:%d: %q %v", i, rep, err)
			}
		}
	}
}

// checkKeys reads keys [0, n) back with MGET.
func checkKeys(t *testing.T, addr string, n int) {
	t.Helper()
	c := dialRaw(t, addr)
	for lo := 0; lo < n; lo += 1000 {
		hi := min(lo+1000, n)
		args := []string{"MGET"}
		for i := lo; i < hi; i++ {
			args = append(args, fmt.Sprintf("key:%d", i))
		}
		vals, ok := c.do(args...).([]any)
		if !ok || len(vals) != hi-lo {
			t.Fatalf("MGET key:%d..: %v", lo, vals)
		}
		for i, v := range vals {
			if want := fmt.Sprintf("value:%d", lo+i); v != want {
				t.Fatalf("key:%d = %v, want %s", lo+i, v, want)
			}
		}
	}
}

// dialWhenListening connects to addr as soon as it listens.
func dialWhenListening(t *testing.T, addr string) *client {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := net.Dial("tcp", addr)
		if err == nil {
			return connectConn(t, nc)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never listened: %v", addr, err)
		}
		time.Sleep(time.Millisecond)
	}
}

// connectConn is connect on a connection already made.
func connectConn(t *testing.T, nc net.Conn) *client {
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	return &client{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// restarted is a node started again on a data dir with loading held.
type restarted struct {
	cfg         server.Config
	logs        *logBuf
	holdRestore chan struct{}
	holdLoading chan struct{}
	opened      chan *server.Server
	s           *server.Server
	stop        func()
}

// restart starts a node on dir, its loading held at both hooks: New
// runs in the background (it returns once the snapshot is restored).
func restart(t *testing.T, dir string, directives [][2]string) *restarted {
	r := &restarted{
		logs:        &logBuf{},
		holdRestore: make(chan struct{}),
		holdLoading: make(chan struct{}),
		opened:      make(chan *server.Server, 1),
	}
	r.cfg = server.Config{ID: "n1", Addr: nodetest.FreeAddr(t), RaftAddr: nodetest.FreeAddr(t), DataDir: dir,
		MaxBulk: 512 << 20, LogOutput: r.logs, Directives: directives,
		HoldRestore: r.holdRestore, HoldLoading: r.holdLoading}
	go func() {
		s, err := server.New(r.cfg)
		if err != nil {
			t.Errorf("restart: %v", err)
		}
		r.opened <- s
	}()
	t.Cleanup(func() {
		r.release()
		if r.stop != nil {
			r.stop()
		}
	})
	return r
}

// restored lets the restore go, waits for New and runs the server.
func (r *restarted) restored(t *testing.T) {
	t.Helper()
	close(r.holdRestore)
	r.s = <-r.opened
	if r.s == nil {
		t.FailNow()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.s.Run(ctx) }()
	r.stop = func() { cancel(); <-done }
}

// release lets loading end (both hooks), as far as they go.
func (r *restarted) release() {
	for _, h := range []chan struct{}{r.holdRestore, r.holdLoading} {
		select {
		case <-h:
		default:
			close(h)
		}
	}
}

// loaded releases loading and waits for its end.
func (r *restarted) loaded(t *testing.T) {
	t.Helper()
	r.release()
	if r.s == nil {
		r.restored(t) // closes nothing twice: release closed it
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.s.WaitLoaded(ctx); err != nil {
		t.Fatalf("never loaded: %v\n%s", err, r.logs.String())
	}
}

var loadingFields = regexp.MustCompile(`(?s)loading:1\r\nasync_loading:0\r\n.*aof_last_write_status:ok\r\n` +
	`loading_start_time:(\d+)\r\nloading_total_bytes:(\d+)\r\nloading_rdb_used_mem:0\r\n` +
	`loading_loaded_bytes:(\d+)\r\nloading_loaded_perc:(\d+\.\d\d)\r\nloading_eta_seconds:(\d+)\r\nwal_fsync:`)

// TestLoadingSnapshotRestart restarts a node with a snapshot and WAL
// entries after it, holding loading at each step: while the snapshot is
// held before its first byte, while the WAL replays (held), and after.
func TestLoadingSnapshotRestart(t *testing.T) {
	dir := t.TempDir()
	node := nodetest.Start(t, server.Config{DataDir: dir})
	addr := node.Addr().String()
	const keys = 3000
	fill(t, addr, 0, keys-100)
	if err := node.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	fill(t, addr, keys-100, 100) // in the WAL after the snapshot
	node.Stop()

	r := restart(t, dir, nil)
	c := dialWhenListening(t, r.cfg.Addr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", "key:1"}, loadingErr},
		{[]string{"SET", "key:1", "x"}, loadingErr},
		{[]string{"PING"}, loadingErr},   // no loading flag in Redis 7.0
		{[]string{"DBSIZE"}, loadingErr}, // nor here
		{[]string{"NOSUCH"}, "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
		{[]string{"ECHO", "hi"}, "$2\r\nhi\r\n"},
		{[]string{"SELECT", "15"}, "+OK\r\n"},
		{[]string{"SELECT", "16"}, "-ERR DB index is out of range\r\n"},
		{[]string{"SELECT", "0"}, "+OK\r\n"},
		{[]string{"CLIENT", "SETNAME", "early"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "maxclients"}, loadingErr}, // admin: the users are not known
		{[]string{"AUTH", "secret"}, loadingErr},
		{[]string{"HELLO", "2", "AUTH", "default", "secret"}, loadingErr},
		{[]string{"RAFT.INFO"}, loadingErr}, // the node is not open
	} {
		if got := c.do(tc.args...); got != tc.want {
			t.Errorf("while restoring, %q: %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := c.do("HELLO", "2"); !strings.Contains(got, "$5\r\nproto\r\n:2\r\n") {
		t.Errorf("HELLO 2 while restoring: %q", got)
	}
	// The snapshot's size is known once the data dir is open; nothing of
	// it is read while held.
	var m []string
	for m == nil || m[2] == "0" {
		time.Sleep(time.Millisecond)
		info := c.do("INFO", "persistence")
		if m = loadingFields.FindStringSubmatch(info); m == nil {
			t.Fatalf("INFO persistence while restoring:\n%s", info)
		}
	}
	if m[3] != "0" || m[4] != "0.00" {
		t.Errorf("while held before its first byte: total %s, loaded %s (%s%%)", m[2], m[3], m[4])
	}
	if got := c.do("INFO", "keyspace"); got != "$12\r\n# Keyspace\r\n\r\n" {
		t.Errorf("INFO keyspace while restoring: %q", got)
	}
	if got := c.do("INFO", "raft"); !strings.Contains(got, "raft_state:loading\r\n") {
		t.Errorf("INFO raft while restoring: %q", got)
	}

	r.restored(t) // the WAL replays, loading still held
	info := c.do("INFO", "persistence")
	if m = loadingFields.FindStringSubmatch(info); m == nil || m[2] != m[3] || m[4] != "100.00" {
		t.Fatalf("INFO persistence once restored:\n%s", info)
	}
	if got := c.do("GET", "key:1"); got != loadingErr {
		t.Errorf("GET once restored, still loading: %q", got)
	}
	if got := c.do("RAFT.INFO"); !strings.Contains(got, "node_id:n1") {
		t.Errorf("RAFT.INFO once restored: %q", got)
	}

	r.loaded(t)
	if got := c.do("GET", "key:1"); got != "$7\r\nvalue:1\r\n" {
		t.Errorf("GET after loading: %q", got)
	}
	if got := c.do("CLIENT", "GETNAME"); got != "$5\r\nearly\r\n" {
		t.Errorf("the name set while loading: %q", got)
	}
	info = c.do("INFO", "persistence")
	if !strings.Contains(info, "\r\nloading:0\r\n") || strings.Contains(info, "loading_") {
		t.Errorf("INFO persistence after loading:\n%s", info)
	}
	checkKeys(t, r.cfg.Addr, keys)
	logs := r.logs.String()
	for _, want := range []string{"Snapshot at index ", "DB loaded from disk: ", "WAL entries", "Ready to accept connections"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

// TestLoadingRequirepass: with requirepass given, NOAUTH comes before
// LOADING (Redis's order), AUTH answers -LOADING while loading, and
// after loading the right password is OK and the wrong one WRONGPASS.
// The second part restarts with another password: the node stays
// loading until the new one is applied through Raft.
func TestLoadingRequirepass(t *testing.T) {
	dir := t.TempDir()
	pass := [][2]string{{"requirepass", "first"}}
	node := nodetest.Start(t, server.Config{DataDir: dir, Directives: pass})
	admin := connect(t, node.Addr().String())
	if got := admin.do("AUTH", "first"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	admin.do("SET", "k", "v")
	node.Stop()

	for _, step := range []struct {
		pass, old string
	}{{"first", "wrong"}, {"second", "first"}} {
		r := restart(t, dir, [][2]string{{"requirepass", step.pass}})
		c := dialWhenListening(t, r.cfg.Addr)
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"GET", "k"}, "-NOAUTH Authentication required.\r\n"},
			{[]string{"INFO"}, "-NOAUTH Authentication required.\r\n"},
			{[]string{"AUTH", step.pass}, loadingErr},
			{[]string{"AUTH", step.old}, loadingErr},
			{[]string{"HELLO", "2", "AUTH", "default", step.pass}, loadingErr},
		} {
			if got := c.do(tc.args...); got != tc.want {
				t.Errorf("%s: while restoring, %q: %q, want %q", step.pass, tc.args, got, tc.want)
			}
		}
		r.restored(t)
		if got := c.do("AUTH", step.pass); got != loadingErr {
			t.Errorf("%s: AUTH once restored: %q", step.pass, got)
		}
		r.loaded(t)
		if got := c.do("AUTH", step.old); got != "-WRONGPASS invalid username-password pair or user is disabled.\r\n" {
			t.Errorf("%s: AUTH %s after loading: %q", step.pass, step.old, got)
		}
		if got := c.do("GET", "k"); got != "-NOAUTH Authentication required.\r\n" {
			t.Errorf("%s: GET before AUTH: %q", step.pass, got)
		}
		if got := c.do("AUTH", step.pass); got != "+OK\r\n" {
			t.Errorf("%s: AUTH after loading: %q", step.pass, got)
		}
		if got := c.do("GET", "k"); got != "$1\r\nv\r\n" {
			t.Errorf("%s: GET after AUTH: %q", step.pass, got)
		}
		r.stop()
		r.stop = nil
	}
}

// TestLoadingUsersFromSnapshot: a password set at run time (no startup
// setting) is in the replicated users. A client that connects while the
// snapshot restores runs INFO as the default user known then (no
// password yet), and once the restored users say the default user needs
// a password it must authenticate like any other.
func TestLoadingUsersFromSnapshot(t *testing.T) {
	dir := t.TempDir()
	node := nodetest.Start(t, server.Config{DataDir: dir})
	admin := connect(t, node.Addr().String())
	if got := admin.do("CONFIG", "SET", "requirepass", "runtime"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if err := node.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	node.Stop()

	r := restart(t, dir, nil)
	c := dialWhenListening(t, r.cfg.Addr)
	if got := c.do("INFO", "server"); !strings.HasPrefix(got, "$") {
		t.Errorf("INFO while restoring: %q", got)
	}
	r.restored(t)
	if got := c.do("INFO", "server"); got != "-NOAUTH Authentication required.\r\n" {
		t.Errorf("INFO once the users are restored: %q", got)
	}
	r.loaded(t)
	if got := c.do("GET", "k"); got != "-NOAUTH Authentication required.\r\n" {
		t.Errorf("GET after loading: %q", got)
	}
	if got := c.do("AUTH", "runtime"); got != "+OK\r\n" {
		t.Errorf("AUTH after loading: %q", got)
	}
}

// TestLoadingFollowerRestart restarts a follower of a three-node cluster:
// it loads once its leader has said what is committed, and then holds
// every key it had on disk (read with READONLY, from its own state). It
// stays loaded when the rest of the cluster goes: then the usual
// -CLUSTERDOWN, not -LOADING.
func TestLoadingFollowerRestart(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	const keys = 500
	fill(t, leader.Addr().String(), 0, keys)
	f := c.Followers()[0]
	waitApplied(t, f, leader)
	cfg := f.Cfg
	f.Stop()
	fill(t, leader.Addr().String(), keys, 100) // while it is down

	logs := &logBuf{}
	cfg.LogOutput = logs
	s, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	if err := s.WaitLoaded(wctx); err != nil {
		t.Fatalf("follower never loaded: %v\n%s", err, logs.String())
	}
	r := dialRaw(t, cfg.Addr)
	if got := r.str("READONLY"); got != "OK" {
		t.Fatal(got)
	}
	for i := 0; i < keys; i++ {
		if got := r.do("GET", fmt.Sprintf("key:%d", i)); got != fmt.Sprintf("value:%d", i) {
			t.Fatalf("loaded follower, READONLY GET key:%d = %v", i, got)
		}
	}
	for _, n := range c.Nodes {
		if n != f {
			n.Stop()
		}
	}
	r.send("SET", "k", "v")
	if got, err := r.read(); err != nil || !strings.HasPrefix(fmt.Sprint(got), "-CLUSTERDOWN ") {
		t.Errorf("SET on a loaded follower with no leader: %v %v", got, err)
	}
}

// waitApplied waits until f has applied what the leader has.
func waitApplied(t *testing.T, f, leader *nodetest.InProcess) {
	t.Helper()
	want := leader.Node().Stats().AppliedIndex
	deadline := time.Now().Add(30 * time.Second)
	for f.Node().Stats().AppliedIndex < want {
		if time.Now().After(deadline) {
			t.Fatal("the follower never caught up")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLoadingUnderMaxmemory: with maxmemory set, the commands a loading
// node serves (ECHO, SELECT) pass the memory check, which has no evictor
// before the node is open, and eviction works once it is.
func TestLoadingUnderMaxmemory(t *testing.T) {
	dir := t.TempDir()
	node := nodetest.Start(t, server.Config{DataDir: dir})
	fill(t, node.Addr().String(), 0, 100)
	node.Stop()

	r := restart(t, dir, [][2]string{{"maxmemory", "1048576"}, {"maxmemory-policy", "allkeys-lru"}})
	c := dialWhenListening(t, r.cfg.Addr)
	if got := c.do("ECHO", "hi"); got != "$2\r\nhi\r\n" {
		t.Errorf("ECHO while restoring: %q", got)
	}
	if got := c.do("GET", "key:1"); got != loadingErr {
		t.Errorf("GET while restoring: %q", got)
	}
	r.restored(t)
	r.loaded(t)
	if got := c.do("SET", "key:1", "x"); got != "+OK\r\n" {
		t.Errorf("SET after loading: %q", got)
	}
}
