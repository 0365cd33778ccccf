package compattests

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
	"github.com/redis/go-redis/v9"
)

// migrateFill stores one key of every type, one of them with a TTL.
var migrateFill = [][]any{
	{"SET", "s", "hello"}, {"SET", "n", "12345"}, {"RPUSH", "l", "a", "b", "1"},
	{"HSET", "h", "f", "v", "g", "1"}, {"SADD", "st", "x", "y"}, {"SADD", "si", "1", "2"},
	{"ZADD", "z", "1", "a", "2.5", "b"}, {"XADD", "x", "1-1", "f", "v"}, {"PFADD", "hll", "a", "b"},
	{"SET", "t", "v", "PX", "100000"},
}

var migrateKeys = []string{"s", "n", "l", "h", "st", "si", "z", "x", "hll", "t"}

func do(t *testing.T, c *redis.Client, args ...any) string {
	t.Helper()
	v, err := c.Do(context.Background(), args...).Result()
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

func hostPort(addr string) (string, string) {
	h, p, _ := net.SplitHostPort(addr)
	return h, p
}

// The same MIGRATEs from redis-server and from LoomCache, to redis-server
// and to another LoomCache node, reply alike and move every type with its
// value and TTL; errors from the target, a refused and a silent target
// reply as Redis's do.
func TestMigrate(t *testing.T) {
	rs, rs2 := nodetest.StartRedis(t), nodetest.StartRedis(t)
	la := nodetest.Start(t, server.Config{})
	lb := nodetest.Start(t, server.Config{})
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() { // accepts and never answers, until the test closes it
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	refused := nodetest.FreeAddr(t)
	clients := map[string]*redis.Client{}
	addrs := map[string]string{"redis": rs.Addr, "redis2": rs2.Addr, "loomA": la.Addr().String(), "loomB": lb.Addr().String()}
	for name, addr := range addrs {
		c := redis.NewClient(&redis.Options{Addr: addr, Protocol: 2})
		defer c.Close()
		clients[name] = c
	}

	// run plays the scenario from src to dst and returns every reply.
	run := func(src, dst string) []string {
		s, d := clients[src], clients[dst]
		host, port := hostPort(addrs[dst])
		var out []string
		note := func(what string, r string) { out = append(out, what+" -> "+r) }
		for _, c := range []*redis.Client{s, d} {
			do(t, c, "FLUSHALL")
		}
		do(t, d, "CONFIG", "SET", "requirepass", "")
		for _, f := range migrateFill {
			do(t, s, f...)
		}
		// A hashtable set's DUMP lists its members in dict order, which
		// differs between processes even on Redis: compare them sorted.
		value := func(c *redis.Client, k string) string {
			if k == "st" {
				return do(t, c, "SORT", k, "ALPHA")
			}
			return do(t, c, "DUMP", k)
		}
		dumps := map[string]string{}
		for _, k := range migrateKeys {
			dumps[k] = value(s, k)
		}
		args := []any{"MIGRATE", host, port, "", "0", "5000", "KEYS"}
		for _, k := range migrateKeys {
			args = append(args, k)
		}
		note("migrate keys", do(t, s, append(args, "missing")...))
		for _, k := range migrateKeys {
			note("source exists "+k, do(t, s, "EXISTS", k))
			note("target dump "+k, fmt.Sprint(value(d, k) == dumps[k]))
		}
		pttl, _ := d.PTTL(context.Background(), "t").Result()
		note("ttl kept", fmt.Sprint(pttl > 0 && pttl <= 100*time.Second))
		note("persistent", do(t, d, "TTL", "s"))
		note("nokey", do(t, s, "MIGRATE", host, port, "s", "0", "5000"))

		do(t, s, "SET", "k", "mine")
		do(t, d, "SET", "k", "theirs")
		note("busykey", do(t, s, "MIGRATE", host, port, "k", "0", "5000"))
		note("busykey kept", do(t, s, "GET", "k"))
		note("copy replace", do(t, s, "MIGRATE", host, port, "k", "0", "5000", "COPY", "REPLACE"))
		note("copy kept", do(t, s, "GET", "k")+" "+do(t, d, "GET", "k"))
		note("db 3", do(t, s, "MIGRATE", host, port, "k", "3", "5000"))
		note("db 3 moved", do(t, s, "EXISTS", "k")+" "+do(t, d, "SELECT", "3")+" "+do(t, d, "GET", "k")+" "+do(t, d, "SELECT", "0"))

		// AUTH: a password on the target for the default user.
		do(t, s, "SET", "a", "1")
		do(t, d, "CONFIG", "SET", "requirepass", "pw")
		note("auth wrong", do(t, s, "MIGRATE", host, port, "a", "0", "5000", "COPY", "AUTH", "nope"))
		note("auth", do(t, s, "MIGRATE", host, port, "a", "0", "5000", "COPY", "AUTH", "pw"))
		note("auth busykey", do(t, s, "MIGRATE", host, port, "a", "0", "5000", "AUTH", "pw"))
		note("auth2", do(t, s, "MIGRATE", host, port, "a", "0", "5000", "REPLACE", "AUTH2", "default", "pw"))
		do(t, d, "AUTH", "pw")
		do(t, d, "CONFIG", "SET", "requirepass", "")
		note("auth moved", do(t, s, "EXISTS", "a")+" "+do(t, d, "GET", "a"))
		note("cached", fmt.Sprint(!strings.Contains(do(t, s, "INFO", "stats"), "migrate_cached_sockets:0\r\n")))

		// A refused target, and one that never answers (the timeout).
		do(t, s, "SET", "k", "v")
		rh, rp := hostPort(refused)
		note("refused", do(t, s, "MIGRATE", rh, rp, "k", "0", "1000"))
		sh, sp := hostPort(silent.Addr().String())
		note("silent", do(t, s, "MIGRATE", sh, sp, "k", "0", "100"))
		note("kept", do(t, s, "GET", "k"))
		return out
	}
	// Each LoomCache run against the same scenario with redis-server as
	// the source (or, to redis-server, from a second redis-server).
	for _, c := range [][3]string{{"loomA", "loomB", "redis"}, {"loomA", "redis", "redis2"}, {"redis", "loomA", "redis2"}} {
		src, dst, ref := c[0], c[1], c[2]
		got := run(src, dst)
		want := run(ref, dst)
		if dst == "loomA" {
			want = run(ref, "redis")
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s -> %s:\n%s\nwant (from %s):\n%s", src, dst, strings.Join(got, "\n"), ref, strings.Join(want, "\n"))
		}
		for _, line := range got {
			if strings.Contains(line, "target dump") && !strings.HasSuffix(line, "true") {
				t.Errorf("%s -> %s: %s", src, dst, line)
			}
		}
	}
}
