package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestImportRDB does what docs/migration.md tells a user to do: fill a
// real redis-server with every type and encoding (small and large,
// expiries, several databases, a function library), take its RDB with
// redis-cli --rdb, import it into a LoomCache node, and compare every
// key: type, encoding, value, deadline.
func TestImportRDB(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed: no way to take an RDB from redis-server here")
	}
	ctx := context.Background()
	rs := nodetest.StartRedis(t)
	fillForImport(t, ctx, rs.Addr)
	file := filepath.Join(t.TempDir(), "dump.rdb")
	host, port, _ := strings.Cut(rs.Addr, ":")
	if out, err := exec.Command(cli, "-h", host, "-p", port, "--rdb", file).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --rdb: %v: %s", err, out)
	}
	node := nodetest.Start(t, server.Config{})
	var log bytes.Buffer
	// The import runs a minute later, as it were: "gone" is then past its
	// deadline and skipped, and Redis's copy is deleted for the comparison.
	later := func() time.Time { return time.Now().Add(time.Minute) }
	sum, err := importRDB(importOptions{file: file, addr: node.Addr().String(), pipeline: 64, batch: 7, progress: "lines"}, &log, later)
	if err != nil || sum.errors != 0 {
		t.Fatalf("import: %v\n%s\n%s", err, sum, log.String())
	}
	if sum.expired != 1 || sum.functions != 1 || len(sum.dbs) != 3 {
		t.Errorf("summary: %s", sum)
	}
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	rc.Del(ctx, "gone")
	rc.Close()
	for _, db := range []int{0, 1, 5} {
		want := redis.NewClient(&redis.Options{Addr: rs.Addr, DB: db})
		got := redis.NewClient(&redis.Options{Addr: node.Addr().String(), DB: db})
		defer want.Close()
		defer got.Close()
		keys, err := want.Keys(ctx, "*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if n := got.DBSize(ctx).Val(); n != int64(len(keys)) {
			t.Errorf("db %d: %d keys, Redis %d", db, n, len(keys))
		}
		for _, k := range keys {
			compareKey(t, ctx, db, k, want, got)
		}
	}
	w := redis.NewClient(&redis.Options{Addr: rs.Addr})
	g := redis.NewClient(&redis.Options{Addr: node.Addr().String()})
	defer w.Close()
	defer g.Close()
	wl, _ := w.Do(ctx, "FUNCTION", "LIST", "WITHCODE").Result()
	gl, _ := g.Do(ctx, "FUNCTION", "LIST", "WITHCODE").Result()
	if fmt.Sprint(wl) != fmt.Sprint(gl) {
		t.Errorf("FUNCTION LIST: %v, Redis %v", gl, wl)
	}
}

// compareKey compares one key: its type, encoding, deadline, and its
// DUMP bytes, or for a hash table (whose order is Redis's dict's) its
// contents.
func compareKey(t *testing.T, ctx context.Context, db int, k string, want, got *redis.Client) {
	t.Helper()
	checks := [][]any{{"TYPE", k}, {"PEXPIRETIME", k}}
	if want.Type(ctx, k).Val() != "string" {
		// A string's encoding is what loading makes it (tryObjectEncoding:
		// a 40-byte HLL written raw loads embstr), in Redis as here.
		checks = append(checks, []any{"OBJECT", "ENCODING", k})
	}
	for _, c := range checks {
		wv, _ := want.Do(ctx, c...).Result()
		gv, _ := got.Do(ctx, c...).Result()
		if fmt.Sprint(wv) != fmt.Sprint(gv) {
			t.Errorf("db %d %q: %v is %v, Redis %v", db, k, c[0], gv, wv)
		}
	}
	enc := want.ObjectEncoding(ctx, k).Val()
	if enc != "hashtable" {
		wd, gd := want.Dump(ctx, k).Val(), got.Dump(ctx, k).Val()
		if wd != gd {
			t.Errorf("db %d %q (%s): DUMP differs\n%q\nRedis\n%q", db, k, enc, gd, wd)
		}
		return
	}
	var wv, gv []string
	switch want.Type(ctx, k).Val() {
	case "set":
		wv, gv = want.SMembers(ctx, k).Val(), got.SMembers(ctx, k).Val()
	case "hash":
		for f, v := range want.HGetAll(ctx, k).Val() {
			wv = append(wv, f+"="+v)
		}
		for f, v := range got.HGetAll(ctx, k).Val() {
			gv = append(gv, f+"="+v)
		}
	}
	slices.Sort(wv)
	slices.Sort(gv)
	if !slices.Equal(wv, gv) {
		t.Errorf("db %d %q: contents differ (%d members, Redis %d)", db, k, len(gv), len(wv))
	}
}

// fillForImport writes every type in each of its encodings, small and
// large, in databases 0, 1 and 5, some with deadlines, one already gone
// by the time of the import, and a function library.
func fillForImport(t *testing.T, ctx context.Context, addr string) {
	for _, db := range []int{0, 1, 5} {
		c := redis.NewClient(&redis.Options{Addr: addr, DB: db})
		defer c.Close()
		p := c.Pipeline()
		big := strings.Repeat("compressible text ", 40)
		p.Set(ctx, "str:int", "12345", 0)
		p.Set(ctx, "str:small", "hello", time.Hour)
		p.Set(ctx, "str:big", big, 0)
		p.Set(ctx, "str:huge", strings.Repeat("x", 200000), 0)
		p.RPush(ctx, "list:small", "a", 1, -300, 70000, "")
		for i := range 2000 {
			p.RPush(ctx, "list:big", fmt.Sprintf("item-%d-%s", i, strings.Repeat("y", i%90)))
		}
		p.SAdd(ctx, "set:intset", 1, 2, 3, -40000, 1<<40)
		p.SAdd(ctx, "set:table", "a", "b", "c")
		for i := range 1000 {
			p.SAdd(ctx, "set:bigint", i*3)
			p.HSet(ctx, "hash:table", fmt.Sprintf("f%d", i), i)
			p.ZAdd(ctx, "zset:skiplist", redis.Z{Score: float64(i) / 7, Member: fmt.Sprintf("m%d", i)})
			p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:big", ID: fmt.Sprintf("%d-1", i+1), Values: []any{"n", i, "pad", strings.Repeat("z", i%30)}})
		}
		p.HSet(ctx, "hash:listpack", "a", "1", "b", "two", "c", "-3")
		p.HSet(ctx, "hash:long", "f", strings.Repeat("v", 100))
		p.ZAdd(ctx, "zset:listpack", redis.Z{Score: 1.5, Member: "a"}, redis.Z{Score: -2, Member: "b"}, redis.Z{Score: 1e300, Member: "c"})
		p.PFAdd(ctx, "hll", "a", "b", "c", "d")
		p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:small", ID: "1-1", Values: []any{"f", "v"}})
		p.XAdd(ctx, &redis.XAddArgs{Stream: "stream:small", ID: "2-1", Values: []any{"f", "w", "g", "x"}})
		p.XDel(ctx, "stream:big", "5-1", "6-1", "500-1")
		p.XGroupCreate(ctx, "stream:big", "g1", "0")
		p.XGroupCreate(ctx, "stream:big", "g2", "$")
		p.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g1", Consumer: "alice", Streams: []string{"stream:big", ">"}, Count: 10})
		p.Expire(ctx, "list:small", 10*time.Hour)
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	code := "#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return args[1] end)"
	if err := c.FunctionLoad(ctx, code).Err(); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, "gone", "soon", 50*time.Second)
}
