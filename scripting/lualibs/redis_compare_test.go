package lualibs

import (
	"context"
	"fmt"
	"net"
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

// TestRedisCompare runs every snippet under real Redis 7.0 and under
// gopher-lua with Open applied, and wants the same reply.
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
	for _, c := range compareCases {
		c := c
		t.Run(c.name, func(t *testing.T) {
			// A fresh Lua state per case, so cjson settings do not leak.
			if err := client.ScriptFlush(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			want := normalizeRedisError(respOfRedis(client.Eval(ctx, prelude+c.script, nil).Result()))
			got := runLua(c.script)
			if got != want {
				t.Errorf("script:\n%s\nredis:  %q\nlualibs: %q", c.script, want, got)
			}
		})
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
