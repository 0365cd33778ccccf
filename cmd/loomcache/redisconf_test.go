package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/internal/nodetest"
)

const stockConf = "/etc/redis/redis.conf"

// userConf is Debian's stock redis.conf as a user adapts it: its port,
// dir, pidfile and logfile moved to dir, daemonize as given.
func userConf(t *testing.T, dir string, port int, daemonize string) string {
	t.Helper()
	b, err := os.ReadFile(stockConf)
	if err != nil {
		t.Skipf("%s: %v (Debian's redis-server package installs it)", stockConf, err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		switch f := strings.Fields(l); {
		case len(f) == 0 || strings.HasPrefix(f[0], "#"):
		case f[0] == "port":
			l = "port " + strconv.Itoa(port)
		case f[0] == "dir":
			l = "dir " + filepath.Join(dir, "data")
		case f[0] == "pidfile":
			l = "pidfile " + filepath.Join(dir, "node.pid")
		case f[0] == "logfile":
			l = "logfile " + filepath.Join(dir, "node.log")
		case f[0] == "daemonize":
			l = "daemonize " + daemonize
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func client(t *testing.T, port int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still running", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStockRedisConf starts a node from Debian's redis.conf, daemonized,
// as a Redis user would, and checks what it applied and what it says.
func TestStockRedisConf(t *testing.T) {
	bin := nodetest.Binary(t)
	dir := t.TempDir()
	port := nodetest.FreePort(t)
	conf := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(conf, []byte(userConf(t, dir, port, "yes")), 0o644); err != nil {
		t.Fatal(err)
	}
	raft := nodetest.FreeAddr(t)
	t0 := time.Now()
	defer func() { t.Logf("whole test %v", time.Since(t0)) }()
	// daemonize yes: the command returns once the node listens.
	if out, err := exec.Command(bin, conf, "--raft-addr", raft).CombinedOutput(); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	pidText, err := os.ReadFile(filepath.Join(dir, "node.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil || syscall.Kill(pid, 0) != nil {
		t.Fatalf("pidfile %q: no such process", pidText)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if sid, _ := syscall.Getpgid(pid); sid != pid {
		t.Errorf("the daemon is not its own process group leader (setsid): pgid %d, pid %d", sid, pid)
	}
	ctx := context.Background()
	c := client(t, port)
	// It listens at once and answers LOADING until the log is replayed,
	// as Redis does while it loads.
	if err := nodetest.WaitReady(fmt.Sprintf("127.0.0.1:%d", port), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"bind": "127.0.0.1 -::1", "port": strconv.Itoa(port), "dir": filepath.Join(dir, "data"),
		"appendfsync": "everysec", "appendonly": "no", "save": "3600 1 300 100 60 10000",
		"daemonize": "yes", "tcp-keepalive": "300", "loglevel": "notice", "rdbcompression": "yes",
		"client-output-buffer-limit": "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
	} {
		if got := c.ConfigGet(ctx, name).Val()[name]; got != want {
			t.Errorf("CONFIG GET %s = %q, want %q", name, got, want)
		}
	}
	info := c.Info(ctx, "persistence", "server").Val()
	for _, re := range []string{`wal_fsync:everysec\r\n`, `loomcache_version:\S+\r\n`, `loomcache_git_sha:[0-9a-f]{8,}`, `redis_version:7\.0\.\d+\r\n`} {
		if !regexp.MustCompile(re).MatchString(info) {
			t.Errorf("INFO has no %s", re)
		}
	}
	if err := c.ConfigSet(ctx, "save", "900 1").Err(); err != nil {
		t.Errorf("CONFIG SET save: %v", err)
	}

	// A second node on the same directory says so.
	out, err := exec.Command(bin, conf, "--daemonize", "no", "--logfile", "", "--port", strconv.Itoa(nodetest.FreePort(t)),
		"--raft-addr", nodetest.FreeAddr(t)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is in use by another node") {
		t.Errorf("second node on the same dir: %v\n%s", err, out)
	}

	t1 := time.Now()
	syscall.Kill(pid, syscall.SIGTERM)
	waitGone(t, pid)
	t.Logf("stopped in %v", time.Since(t1))
	logText, _ := os.ReadFile(filepath.Join(dir, "node.log"))
	log := string(logText)
	if strings.Count(log, "directive rdbcompression accepted") != 1 {
		t.Errorf("rdbcompression not noted once in the log:\n%s", log)
	}
	if strings.Contains(log, "election") {
		t.Errorf("a single node's start logs an election:\n%s", log)
	}
	if strings.Count(log, "SIGTERM: ") != 1 {
		t.Errorf("SIGTERM not logged once:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(dir, "node.pid")); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind: %v", err)
	}
}

// TestConfigRewriteAsRedis: redis-server and a node started from the same
// redis.conf, given the same CONFIG SETs, rewrite it alike: every line
// before the "# Generated by CONFIG REWRITE" signature byte for byte, and
// the same lines after it (whose order is Redis's hash table's).
func TestConfigRewriteAsRedis(t *testing.T) {
	redisBin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not installed: %v", err)
	}
	bin := nodetest.Binary(t)
	ctx := context.Background()
	files := map[string]string{}
	for _, who := range []string{"redis", "loomcache"} {
		dir := t.TempDir()
		port := nodetest.FreePort(t)
		conf := filepath.Join(dir, "redis.conf")
		// Duplicates: the later lines go, the first is rewritten.
		text := userConf(t, dir, port, "no") + "\nmaxmemory 100mb\nmaxmemory 200mb\nhz 10\n\n\n"
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(filepath.Join(dir, "data"), 0o755) // Redis wants dir to exist
		cmd := exec.Command(redisBin, conf)
		if who == "loomcache" {
			cmd = exec.Command(bin, conf, "--raft-addr", nodetest.FreeAddr(t))
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if err := nodetest.WaitReady(fmt.Sprintf("127.0.0.1:%d", port), 20*time.Second); err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		c := client(t, port)
		for _, kv := range [][2]string{{"save", "900 1"}, {"maxmemory", "300mb"}, {"hz", "20"}, {"appendfsync", "always"},
			{"tcp-keepalive", "60"}, {"rdbcompression", "no"}, {"notify-keyspace-events", "Kx"}, {"maxmemory-policy", "allkeys-lru"}} {
			if err := c.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
				t.Fatalf("%s: CONFIG SET %s: %v", who, kv[0], err)
			}
		}
		if err := c.Do(ctx, "CONFIG", "REWRITE").Err(); err != nil {
			t.Fatalf("%s: CONFIG REWRITE: %v", who, err)
		}
		b, err := os.ReadFile(conf)
		if err != nil {
			t.Fatal(err)
		}
		files[who] = strings.NewReplacer(dir, "DIR", strconv.Itoa(port), "PORT").Replace(string(b))
	}
	rHead, rTail, _ := strings.Cut(files["redis"], "# Generated by CONFIG REWRITE\n")
	lHead, lTail, _ := strings.Cut(files["loomcache"], "# Generated by CONFIG REWRITE\n")
	if rHead != lHead {
		r, l := strings.Split(rHead, "\n"), strings.Split(lHead, "\n")
		for i := 0; i < min(len(r), len(l)); i++ {
			if r[i] != l[i] {
				t.Fatalf("line %d: redis %q, loomcache %q", i+1, r[i], l[i])
			}
		}
		t.Fatalf("redis has %d lines before the signature, loomcache %d", len(r), len(l))
	}
	rl, ll := strings.Fields(strings.ReplaceAll(rTail, " ", "_")), strings.Fields(strings.ReplaceAll(lTail, " ", "_"))
	slices.Sort(rl)
	slices.Sort(ll)
	if !slices.Equal(rl, ll) {
		t.Errorf("appended lines differ:\nredis:     %q\nloomcache: %q", rl, ll)
	}
	if !strings.Contains(lHead, "\nhz 20\n") || strings.Contains(lHead, "maxmemory 200mb") {
		t.Errorf("rewritten file:\n%s", lHead)
	}
}

// TestConfigRewriteWithoutFile: Redis's error.
func TestConfigRewriteWithoutFile(t *testing.T) {
	bin := nodetest.Binary(t)
	port := nodetest.FreePort(t)
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--raft-addr", nodetest.FreeAddr(t), "--data-dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := nodetest.WaitReady(fmt.Sprintf("127.0.0.1:%d", port), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	err := client(t, port).Do(context.Background(), "CONFIG", "REWRITE").Err()
	if err == nil || err.Error() != "ERR The server is running without a config file" {
		t.Errorf("CONFIG REWRITE = %v", err)
	}
}

// FuzzReadRedisConf: any config file is read or refused, never a panic.
func FuzzReadRedisConf(f *testing.F) {
	for _, seed := range []string{"port 6379\nsave 900 1\nsave 300 10\n", "bind 127.0.0.1 -::1\n", "save \"\"\n", "nosuch 1\n", "dir \"a b\n", "user default on\nrename-command X Y\n"} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, text string) {
		if strings.Contains(strings.ToLower(text), "include") {
			return // would read whatever file it names (a device, say)
		}
		path := filepath.Join(dir, "fuzz.conf")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		readRedisConf(path, map[string]bool{"save": true, "bind": true, "maxmemory": true})
	})
}

// TestRedisConfSyntax: includes are followed, save lines add up (the
// first replacing Redis's default, save "" clearing them), Redis-only
// file directives are noted, and an unknown directive is refused in
// Redis's words with its line.
func TestRedisConfSyntax(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.conf")
	os.WriteFile(inc, []byte("save 60 10000\nappendfsync everysec\n"), 0o644)
	main := filepath.Join(dir, "redis.conf")
	os.WriteFile(main, []byte("save 3600 1\nsave 300 100\ninclude "+inc+"\nrename-command FLUSHALL \"\"\nloglevel warning\n"), 0o644)
	cfg, err := parseArgs([]string{main}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(cfg.Directives, [2]string{"save", "3600 1 300 100 60 10000"}) || cfg.Fsync || !cfg.FsyncEverySec ||
		len(cfg.Redis.Notes) != 1 || cfg.LogLevel != "error" || !slices.Contains(cfg.Directives, [2]string{"loglevel", "warning"}) {
		t.Errorf("config: %+v", cfg)
	}
	os.WriteFile(main, []byte("save 3600 1\nsave \"\"\n"), 0o644)
	if cfg, err := parseArgs([]string{main}, nil); err != nil || !slices.Contains(cfg.Directives, [2]string{"save", ""}) {
		t.Errorf("save \"\": %v %+v", err, cfg.Directives)
	}
	os.WriteFile(main, []byte("port 7000\n\nnosuchthing 1\n"), 0o644)
	_, err = parseArgs([]string{main}, nil)
	if err == nil || !strings.Contains(err.Error(), "at line 3\n>>> 'nosuchthing 1'\nBad directive or wrong number of arguments") {
		t.Errorf("unknown directive: %v", err)
	}
	os.WriteFile(main, []byte("port 7000 7001\n"), 0o644)
	if _, err = parseArgs([]string{main}, nil); err == nil || !strings.Contains(err.Error(), "Bad directive") {
		t.Errorf("two ports: %v", err)
	}
}

// TestEveryRedisDirective: a file holding every parameter redis-server
// reports (CONFIG GET *), with its value, starts a node, which then
// reports the same value for each.
func TestEveryRedisDirective(t *testing.T) {
	r := nodetest.StartRedis(t)
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rc.Close()
	all, err := rc.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// Where the node is, and what only a replica or a file of users has.
	skip := map[string]bool{"port": true, "dir": true, "daemonize": true, "pidfile": true, "logfile": true, "bind": true,
		"unixsocket": true, "aclfile": true, "replicaof": true, "slaveof": true, "requirepass": true, "masterauth": true}
	var lines []string
	for k, v := range all {
		switch {
		case skip[k]:
		case k == "client-output-buffer-limit":
			f := strings.Fields(v)
			for i := 0; i+3 < len(f); i += 4 {
				lines = append(lines, k+" "+strings.Join(f[i:i+4], " "))
			}
		case k == "save" || k == "oom-score-adj-values" || k == "latency-tracking-info-percentiles":
			if v == "" {
				v = `""`
			}
			lines = append(lines, k+" "+v)
		default:
			lines = append(lines, k+" "+strconv.Quote(v))
		}
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "all.conf")
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := nodetest.FreePort(t)
	pidFile := filepath.Join(dir, "node.pid")
	cmd := exec.Command(nodetest.Binary(t), conf, "--port", strconv.Itoa(port), "--raft-addr", nodetest.FreeAddr(t),
		"--dir", filepath.Join(dir, "data"), "--logfile", filepath.Join(dir, "node.log"),
		"--daemonize", "yes", "--pidfile", pidFile)
	if out, err := cmd.CombinedOutput(); err != nil { // says why if a directive is refused
		t.Fatalf("start with every directive: %v\n%s", err, out)
	}
	pidText, _ := os.ReadFile(pidFile)
	pid, _ := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if pid <= 0 {
		t.Fatalf("pidfile %q", pidText)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if err := nodetest.WaitReady(fmt.Sprintf("127.0.0.1:%d", port), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	got, err := client(t, port).ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range all {
		if skip[k] || k == "daemonize" {
			continue
		}
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("CONFIG GET %s = %q (%v), redis-server %q", k, g, ok, v)
		}
	}
	syscall.Kill(pid, syscall.SIGTERM)
	waitGone(t, pid)
}
