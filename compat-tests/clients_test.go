package compattests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// target is a server a client test runs against. Every check runs against
// redis-server too, which proves the check's expectations are Redis's.
type target struct{ name, addr string }

func startTargets(t *testing.T) []target {
	t.Helper()
	r := nodetest.StartRedis(t)
	loom := nodetest.Start(t, server.Config{Fsync: true})
	return []target{{"redis", r.Addr}, {"loomcache", loom.Addr().String()}}
}

// goRedisCheck is one behaviour a go-redis user relies on; it returns an
// error describing what differed from the expectation.
type goRedisCheck struct {
	name string
	run  func(ctx context.Context, c *redis.Client, proto int) error
}

func goRedisChecks() []goRedisCheck {
	return []goRedisCheck{
		{"protocol negotiated", func(ctx context.Context, c *redis.Client, proto int) error {
			// go-redis falls back to RESP2 quietly when HELLO 3 fails: ask.
			v, err := c.Do(ctx, "HELLO").Result()
			if err != nil {
				return err
			}
			got := helloField(v, "proto")
			if got != int64(proto) {
				return fmt.Errorf("HELLO says proto %v (%#v), want %d", got, v, proto)
			}
			return nil
		}},
		{"SET GET", func(ctx context.Context, c *redis.Client, _ int) error {
			if err := want(c.Set(ctx, "k", "v", 0).Result())("OK"); err != nil {
				return err
			}
			if err := want(c.Get(ctx, "k").Result())("v"); err != nil {
				return err
			}
			if _, err := c.Get(ctx, "missing").Result(); err != redis.Nil {
				return fmt.Errorf("GET missing: %v, want redis.Nil", err)
			}
			bin := "a\r\nb\x00c\xff"
			if err := want(c.Set(ctx, "bin", bin, 0).Result())("OK"); err != nil {
				return err
			}
			return want(c.Get(ctx, "bin").Result())(bin)
		}},
		{"big value", func(ctx context.Context, c *redis.Client, _ int) error {
			big := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
			if err := want(c.Set(ctx, "big", big, 0).Result())("OK"); err != nil {
				return err
			}
			return want(c.Get(ctx, "big").Result())(big)
		}},
		{"INCR", func(ctx context.Context, c *redis.Client, _ int) error {
			for i := int64(1); i <= 3; i++ {
				if err := want(c.Incr(ctx, "n").Result())(i); err != nil {
					return err
				}
			}
			c.Set(ctx, "notnum", "abc", 0)
			_, err := c.Incr(ctx, "notnum").Result()
			return wantErr(err, "ERR value is not an integer or out of range")
		}},
		{"MSET MGET", func(ctx context.Context, c *redis.Client, _ int) error {
			if err := want(c.MSet(ctx, "a", "1", "b", "2").Result())("OK"); err != nil {
				return err
			}
			return want(c.MGet(ctx, "a", "missing", "b").Result())([]any{"1", nil, "2"})
		}},
		{"EXPIRE TTL", func(ctx context.Context, c *redis.Client, _ int) error {
			c.Set(ctx, "e", "v", 0)
			if err := want(c.TTL(ctx, "e").Result())(time.Duration(-1)); err != nil {
				return err
			}
			if err := want(c.Expire(ctx, "e", 100*time.Second).Result())(true); err != nil {
				return err
			}
			// 100 unless the write took over half a second to commit.
			if ttl, err := c.TTL(ctx, "e").Result(); err != nil || ttl < 99*time.Second || ttl > 100*time.Second {
				return fmt.Errorf("TTL after EXPIRE 100: %v, %v", ttl, err)
			}
			if err := want(c.Expire(ctx, "missing", 100*time.Second).Result())(false); err != nil {
				return err
			}
			return want(c.TTL(ctx, "missing").Result())(time.Duration(-2))
		}},
		{"DEL", func(ctx context.Context, c *redis.Client, _ int) error {
			c.MSet(ctx, "d1", "x", "d2", "y")
			if err := want(c.Del(ctx, "d1", "d2", "missing").Result())(int64(2)); err != nil {
				return err
			}
			return want(c.Exists(ctx, "d1", "d2").Result())(int64(0))
		}},
		{"pipeline of 100", func(ctx context.Context, c *redis.Client, _ int) error {
			pipe := c.Pipeline()
			for i := 0; i < 50; i++ {
				pipe.Set(ctx, fmt.Sprintf("p:%d", i), i, 0)
			}
			for i := 0; i < 50; i++ {
				pipe.Incr(ctx, fmt.Sprintf("p:%d", i))
			}
			cmds, err := pipe.Exec(ctx)
			if err != nil {
				return err
			}
			if len(cmds) != 100 {
				return fmt.Errorf("%d replies, want 100", len(cmds))
			}
			for i, cmd := range cmds {
				var got, exp any
				if i < 50 {
					got, exp = cmd.(*redis.StatusCmd).Val(), "OK"
				} else {
					got, exp = cmd.(*redis.IntCmd).Val(), int64(i-50+1)
				}
				if got != exp || cmd.Err() != nil {
					return fmt.Errorf("reply %d (%v): %v, %v; want %v", i, cmd.Args(), got, cmd.Err(), exp)
				}
			}
			return want(c.Get(ctx, "p:49").Result())("50")
		}},
		{"errors", func(ctx context.Context, c *redis.Client, _ int) error {
			_, err := c.Do(ctx, "NOSUCHCOMMAND", "x").Result()
			if err := wantErr(err, "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' "); err != nil {
				return err
			}
			_, err = c.Do(ctx, "GET").Result()
			return wantErr(err, "ERR wrong number of arguments for 'get' command")
		}},
	}
}

// want returns a checker comparing a go-redis result with the expected one.
func want[T any](got T, err error) func(T) error {
	return func(exp T) error {
		if err != nil {
			return fmt.Errorf("error %v, want %v", err, exp)
		}
		if !reflect.DeepEqual(got, exp) {
			return fmt.Errorf("got %#v, want %#v", got, exp)
		}
		return nil
	}
}

func wantErr(err error, msg string) error {
	if err == nil || err.Error() != msg {
		return fmt.Errorf("error %v, want %q", err, msg)
	}
	return nil
}

// helloField finds a field of HELLO's reply: a map under RESP3, a flat
// list of names and values under RESP2.
func helloField(v any, name string) any {
	switch v := v.(type) {
	case map[any]any:
		return v[name]
	case []any:
		for i := 0; i+1 < len(v); i += 2 {
			if v[i] == name {
				return v[i+1]
			}
		}
	}
	return nil
}

func TestGoRedis(t *testing.T) {
	targets := startTargets(t)
	for _, proto := range []int{3, 2} {
		for _, tg := range targets {
			t.Run(fmt.Sprintf("resp%d/%s", proto, tg.name), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				c := redis.NewClient(&redis.Options{Addr: tg.addr, Protocol: proto})
				defer c.Close()
				if err := c.FlushAll(ctx).Err(); err != nil {
					t.Fatalf("FLUSHALL: %v", err)
				}
				checks := append(append(append(append(goRedisChecks(), goRedisTxChecks()...), goRedisHashChecks()...), goRedisSetChecks()...), goRedisListChecks()...)
				checks = append(checks, goRedisHLLChecks()...)
				for _, ch := range append(append(append(checks, goRedisZSetChecks()...), goRedisSortChecks()...), goRedisBlockingChecks()...) {
					if err := ch.run(ctx, c, proto); err != nil {
						t.Errorf("%s: %v", ch.name, err)
					}
				}
			})
		}
	}
}

// cliResult is what a redis-cli run shows its user.
type cliResult struct {
	stdout string
	exit   int
}

// redisCLI runs the real redis-cli against addr.
func redisCLI(t *testing.T, addr string, stdin []byte, args ...string) cliResult {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", host, "-p", port}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, errOut.Bytes())
	}
	return cliResult{out.String(), cmd.ProcessState.ExitCode()}
}

func TestRedisCLI(t *testing.T) {
	targets := startTargets(t)
	// Each line runs against both servers in turn, so the data each sees
	// evolves the same way. Flags first: --no-raw shows types as a
	// terminal user sees them, -3 speaks RESP3.
	lines := [][]string{
		{"FLUSHALL"},
		{"PING"},
		{"--no-raw", "PING"},
		{"SET", "foo", "bar"},
		{"GET", "foo"},
		{"--no-raw", "GET", "foo"},
		{"-3", "GET", "foo"},
		{"GET", "missing"},
		{"--no-raw", "GET", "missing"},
		{"-3", "--no-raw", "GET", "missing"},
		{"INCR", "n"},
		{"--no-raw", "INCR", "n"},
		{"MSET", "a", "1", "b", "two words"},
		{"--no-raw", "MGET", "a", "missing", "b"},
		// A fixed deadline: TTL's answer would depend on how long the
		// machine took between two redis-cli processes.
		{"EXPIREAT", "a", "4102444800"},
		{"EXPIRETIME", "a"},
		{"--no-raw", "DEL", "a", "b", "missing"},
		{"ECHO", "line\nbreak"},
		{"--no-raw", "ECHO", "line\nbreak"},
		{"-n", "3", "SET", "x", "in db 3"},
		{"-n", "3", "GET", "x"},
		{"GET", "x"},
		{"NOSUCHCOMMAND", "x"},
		{"--no-raw", "GET"},
		{"SET", "onlykey"},
	}
	for _, args := range lines {
		res := make([]cliResult, len(targets))
		for i, tg := range targets {
			res[i] = redisCLI(t, tg.addr, nil, args...)
		}
		if res[0] != res[1] {
			t.Errorf("redis-cli %q:\n\tredis:     %q exit %d\n\tloomcache: %q exit %d",
				args, res[0].stdout, res[0].exit, res[1].stdout, res[1].exit)
		}
	}
}

func TestRedisCLIPipe(t *testing.T) {
	const n = 10000
	var in bytes.Buffer
	for i := 0; i < n; i++ {
		k, v := "mass:"+strconv.Itoa(i), "value-"+strconv.Itoa(i*7)
		fmt.Fprintf(&in, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
	}
	for _, tg := range startTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			if r := redisCLI(t, tg.addr, nil, "FLUSHALL"); r.stdout != "OK\n" {
				t.Fatalf("FLUSHALL: %q", r.stdout)
			}
			r := redisCLI(t, tg.addr, in.Bytes(), "--pipe")
			wantOut := "All data transferred. Waiting for the last reply...\n" +
				"Last reply received from server.\n" +
				fmt.Sprintf("errors: 0, replies: %d\n", n)
			if r.stdout != wantOut || r.exit != 0 {
				t.Fatalf("--pipe: %q exit %d, want %q exit 0", r.stdout, r.exit, wantOut)
			}
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"GET", "mass:0"}, "value-0\n"},
				{[]string{"GET", "mass:4321"}, "value-30247\n"},
				{[]string{"GET", "mass:9999"}, "value-69993\n"},
				{[]string{"GET", "mass:10000"}, "\n"},
				{[]string{"DBSIZE"}, "10000\n"},
			} {
				if r := redisCLI(t, tg.addr, nil, c.args...); r.stdout != c.want || r.exit != 0 {
					t.Errorf("%v: %q exit %d, want %q", c.args, r.stdout, r.exit, c.want)
				}
			}
		})
	}
}

// TestRedisBenchmark is a smoke test: redis-benchmark runs to the end and
// its writes are there. It asserts nothing about speed.
func TestRedisBenchmark(t *testing.T) {
	loom := nodetest.Start(t, server.Config{Fsync: true})
	host, port, _ := strings.Cut(loom.Addr().String(), ":")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "redis-benchmark", "-h", host, "-p", port, "-t", "set,get", "-n", "2000", "-c", "10", "-q")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	for _, test := range []string{"SET: ", "GET: "} {
		if !strings.Contains(string(out), test) {
			t.Errorf("no %q result in output:\n%s", test, out)
		}
	}
	if strings.Contains(string(out), "ERR") {
		t.Errorf("errors in output:\n%s", out)
	}
	// Without -r every SET writes the literal key with a 3-byte value.
	if r := redisCLI(t, loom.Addr().String(), nil, "GET", "key:__rand_int__"); len(r.stdout) != 4 {
		t.Errorf("GET key:__rand_int__ = %q, want 3 bytes", r.stdout)
	}
}

// TestGoRedisACL: go-redis authenticating as an ACL user (HELLO 3 AUTH
// under RESP3, AUTH under RESP2) gets what redis-server gives it: its own
// keys, NOPERM elsewhere, and a refused login for a wrong password.
func TestGoRedisACL(t *testing.T) {
	for _, tg := range startTargets(t) {
		for _, proto := range []int{3, 2} {
			t.Run(fmt.Sprintf("resp%d/%s", proto, tg.name), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				admin := redis.NewClient(&redis.Options{Addr: tg.addr, Protocol: proto})
				defer admin.Close()
				if err := admin.Do(ctx, "ACL", "SETUSER", "app", "reset", "on", ">apppw", "~app:*", "+@read", "+@write", "-del").Err(); err != nil {
					t.Fatalf("ACL SETUSER: %v", err)
				}
				defer admin.Do(ctx, "ACL", "DELUSER", "app")
				app := redis.NewClient(&redis.Options{Addr: tg.addr, Protocol: proto, Username: "app", Password: "apppw"})
				defer app.Close()
				if err := app.Set(ctx, "app:k", "v", 0).Err(); err != nil {
					t.Errorf("SET app:k as app: %v", err)
				}
				if v, err := app.Get(ctx, "app:k").Result(); err != nil || v != "v" {
					t.Errorf("GET app:k as app: %q %v", v, err)
				}
				if err := app.Set(ctx, "other", "v", 0).Err(); err == nil || err.Error() != "NOPERM this user has no permissions to access one of the keys used as arguments" {
					t.Errorf("SET other as app: %v", err)
				}
				if err := app.Del(ctx, "app:k").Err(); err == nil || err.Error() != "NOPERM this user has no permissions to run the 'del' command" {
					t.Errorf("DEL as app: %v", err)
				}
				if who, err := app.Do(ctx, "ACL", "WHOAMI").Result(); err == nil {
					t.Errorf("ACL WHOAMI as app (no @slow? it is allowed by neither @read nor @write): %v", who)
				}
				bad := redis.NewClient(&redis.Options{Addr: tg.addr, Protocol: proto, Username: "app", Password: "wrong", MaxRetries: -1})
				defer bad.Close()
				if err := bad.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
					t.Errorf("PING with a wrong password: %v", err)
				}
			})
		}
	}
}
