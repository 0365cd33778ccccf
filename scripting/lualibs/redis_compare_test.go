package lualibs

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startRedis starts a throwaway redis-server on a free loopback port and
// returns a RESP2 client for it. The test is skipped only when no
// redis-server binary is installed.
func startRedis(t *testing.T) *redis.Client {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed; the differential test needs it")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	client := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), Protocol: 2})
	t.Cleanup(func() { client.Close() })
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := client.Ping(ctx).Err(); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("redis-server on port %d did not answer: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return client
}

var updateGolden = flag.Bool("update-golden", false, "rewrite "+goldenFile+" from the live redis-server")

// goldenFile records Redis 7.0's reply to every compare case, so that
// TestGolden checks this package against Redis where no redis-server runs.
const goldenFile = "testdata/redis-7.0.golden"

// TestRedisCompare runs every snippet under real Redis 7.0 and under
// gopher-lua with Open applied, and wants the same reply. It also checks
// that the golden file still holds Redis's replies.
func TestRedisCompare(t *testing.T) {
	client := startRedis(t)
	ctx := context.Background()
	info, err := client.Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, "redis_version:7.0.") {
		t.Logf("warning: the differential test expects Redis 7.0; INFO says:\n%s", info)
	}
	golden := readGolden(t)
	replies := map[string]string{}
	for _, c := range compareCases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			// A fresh Lua state per case, so cjson settings do not leak.
			if err := client.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			want := normalizeRedisError(respOfRedis(client.Eval(ctx, prelude+c.script, nil).Result()))
			replies[c.name] = want
			if got := runLua(c.script); got != want {
				t.Errorf("script:\n%s\nredis:  %q\nlualibs: %q", c.script, want, got)
			}
			if g, ok := golden[c.name]; !*updateGolden && (!ok || g != want) {
				t.Errorf("%s is stale for this case (run with -update-golden): has %q, redis says %q", goldenFile, g, want)
			}
		})
	}
	if *updateGolden {
		writeGolden(t, replies)
	}
}

// TestGolden checks every compare case against Redis's recorded reply.
func TestGolden(t *testing.T) {
	golden := readGolden(t)
	for _, c := range compareCases {
		want, ok := golden[c.name]
		if !ok {
			if !*updateGolden {
				t.Errorf("case %q has no reply in %s (run TestRedisCompare with -update-golden)", c.name, goldenFile)
			}
			continue
		}
		if got := runLua(c.script); got != want {
			t.Errorf("%s: script:\n%s\nredis:  %q\nlualibs: %q", c.name, c.script, want, got)
		}
	}
}

// readGolden reads lines of "name<TAB>quoted reply".
func readGolden(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	f, err := os.Open(goldenFile)
	if os.IsNotExist(err) && *updateGolden {
		return m
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, quoted, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", goldenFile, sc.Text())
		}
		reply, err := strconv.Unquote(quoted)
		if err != nil {
			t.Fatalf("%s: bad reply for %q: %v", goldenFile, name, err)
		}
		m[name] = reply
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func writeGolden(t *testing.T, replies map[string]string) {
	t.Helper()
	var b strings.Builder
	for _, c := range compareCases {
		if r, ok := replies[c.name]; ok {
			fmt.Fprintf(&b, "%s\t%s\n", c.name, strconv.Quote(r))
		}
	}
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(goldenFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// normalizeRedisError turns the reply to a script that raised an error,
// "ERR <message> script: <sha>, on @user_script:<line>.", into the bare
// message gopher-lua reports.
func normalizeRedisError(s string) string {
	if !strings.HasPrefix(s, "error: ERR ") {
		return s
	}
	s = "error: " + strings.TrimPrefix(s, "error: ERR ")
	if i := strings.LastIndex(s, " script: "); i >= 0 {
		s = s[:i]
	}
	return s
}

func TestCompareCaseNamesUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range compareCases {
		if seen[c.name] {
			t.Errorf("duplicate compare case name %q", c.name)
		}
		seen[c.name] = true
	}
}
