package server_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// evictionInvalidation is tracking.tcl's eviction test against addr: a
// RESP3 tracking client reads a volatile key, grows memory past
// maxmemory with SETBIT, and its next command (a read) evicts the key
// first: it returns the frames that command's client receives.
func evictionInvalidation(t *testing.T, addr string) []string {
	c, admin := dialRaw(t, addr), dialRaw(t, addr)
	admin.do("FLUSHALL")
	c.do("HELLO", "3")
	c.do("CLIENT", "TRACKING", "ON")
	m := regexp.MustCompile(`used_memory:(\d+)`).FindStringSubmatch(admin.str("INFO", "memory"))
	used, _ := strconv.Atoi(m[1])
	admin.do("CONFIG", "SET", "maxmemory-policy", "volatile-random")
	admin.do("CONFIG", "SET", "maxmemory", strconv.Itoa(used+100*1024))
	defer admin.do("CONFIG", "SET", "maxmemory", "0")
	defer admin.do("CONFIG", "SET", "maxmemory-policy", "noeviction")
	c.do("SETEX", "volatile-key", "10000", "x")
	c.do("GET", "volatile-key")
	c.do("SETBIT", "big-key", "1600000", "0") // about 200 KB
	c.send("GETBIT", "big-key", "0")
	return readFrames(t, c, 2, nil)
}

// Over maxmemory, eviction runs before every command, a read too, and a
// tracking client is sent the invalidation of an evicted key before the
// reply of the command whose eviction removed it, as in Redis.
func TestEvictionInvalidatesBeforeReply(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	got := evictionInvalidation(t, node.Addr().String())
	want := evictionInvalidation(t, redis.Addr)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %q, Redis %q", got, want)
	}
	if fmt.Sprint(want) != "[[invalidate [volatile-key]] 0]" {
		t.Fatalf("Redis: %q", want)
	}
}
