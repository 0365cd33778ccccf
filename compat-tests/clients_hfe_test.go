package compattests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestGoRedisHashFieldExpiry drives Redis 7.4's hash-field expiry with
// go-redis's own methods, over RESP3 and RESP2, against LoomCache only:
// the reference redis-server (7.0) lacks these commands, so the expected
// replies are 7.4's documented ones.
func TestGoRedisHashFieldExpiry(t *testing.T) {
	loom := nodetest.Start(t, server.Config{Fsync: true})
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			c := redis.NewClient(&redis.Options{Addr: loom.Addr().String(), Protocol: proto})
			defer c.Close()
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			for _, ch := range hfeChecks() {
				if err := ch.run(ctx, c, proto); err != nil {
					t.Errorf("%s: %v", ch.name, err)
				}
			}
		})
	}
}

// sleepPast waits until a deadline d ms ahead has passed: a real sleep,
// no duration asserted.
func sleepPast(d int) { time.Sleep(time.Duration(d+30) * time.Millisecond) }

func hfeChecks() []goRedisCheck {
	return []goRedisCheck{
		{"replies", func(ctx context.Context, c *redis.Client, _ int) error {
			c.HSet(ctx, "h", "a", "1", "b", "2", "c", "3")
			if err := want(c.HExpire(ctx, "h", 100*time.Second, "a", "nope").Result())([]int64{1, -2}); err != nil {
				return err
			}
			if err := want(c.ObjectEncoding(ctx, "h").Result())("listpackex"); err != nil {
				return err
			}
			ttl, err := c.HTTL(ctx, "h", "a", "b", "nope").Result()
			if err != nil || len(ttl) != 3 || ttl[0] < 1 || ttl[0] > 100 || ttl[1] != -1 || ttl[2] != -2 {
				return fmt.Errorf("HTTL %v %v", ttl, err)
			}
			at := time.Now().Add(time.Hour).Truncate(time.Second)
			if err := want(c.HExpireAt(ctx, "h", at, "b").Result())([]int64{1}); err != nil {
				return err
			}
			if err := want(c.HExpireTime(ctx, "h", "b", "c").Result())([]int64{at.Unix(), -1}); err != nil {
				return err
			}
			if err := want(c.HPExpireTime(ctx, "h", "b").Result())([]int64{at.UnixMilli()}); err != nil {
				return err
			}
			pttl, err := c.HPTTL(ctx, "h", "b").Result()
			if err != nil || len(pttl) != 1 || pttl[0] <= 100_000 || pttl[0] > time.Hour.Milliseconds() {
				return fmt.Errorf("HPTTL %v %v", pttl, err)
			}
			// NX XX GT LT, per field.
			cond := func(a redis.HExpireArgs, d time.Duration, exp ...int64) error {
				return want(c.HExpireWithArgs(ctx, "h", d, a, "a", "c").Result())(exp)
			}
			if err := cond(redis.HExpireArgs{NX: true}, 50*time.Second, 0, 1); err != nil {
				return fmt.Errorf("NX: %w", err)
			}
			c.HPersist(ctx, "h", "c")
			if err := cond(redis.HExpireArgs{XX: true}, 50*time.Second, 1, 0); err != nil {
				return fmt.Errorf("XX: %w", err)
			}
			if err := cond(redis.HExpireArgs{GT: true}, 40*time.Second, 0, 0); err != nil {
				return fmt.Errorf("GT: %w", err)
			}
			if err := cond(redis.HExpireArgs{LT: true}, 40*time.Second, 1, 1); err != nil {
				return fmt.Errorf("LT: %w", err)
			}
			if err := want(c.HPersist(ctx, "h", "a", "b", "nope").Result())([]int64{1, 1, -2}); err != nil {
				return err
			}
			if err := want(c.HPersist(ctx, "h", "a").Result())([]int64{-1}); err != nil {
				return err
			}
			// A time in the past deletes the field (2); the last one, the key.
			if err := want(c.HPExpireAt(ctx, "h", time.Unix(1, 0), "a").Result())([]int64{2}); err != nil {
				return err
			}
			if err := want(c.HExpire(ctx, "h", 0, "b", "c", "b").Result())([]int64{2, 2, -2}); err != nil {
				return err
			}
			if err := want(c.Exists(ctx, "h").Result())(0); err != nil {
				return err
			}
			if err := want(c.HTTL(ctx, "h", "a").Result())([]int64{-2}); err != nil {
				return err
			}
			return want(c.HPersist(ctx, "nokey", "a", "b").Result())([]int64{-2, -2})
		}},
		{"errors", func(ctx context.Context, c *redis.Client, _ int) error {
			c.HSet(ctx, "he", "a", "1")
			c.Set(ctx, "str", "x", 0)
			for _, e := range []struct {
				args []any
				msg  string
			}{
				{[]any{"HEXPIRE", "he", "10", "FIELDS", "0", "a"}, "ERR Parameter `numFields` should be greater than 0"},
				{[]any{"HEXPIRE", "he", "10", "FIELDS", "x", "a"}, "ERR Parameter `numFields` should be greater than 0"},
				{[]any{"HEXPIRE", "he", "10", "FIELDS", "2", "a"}, "ERR The `numfields` parameter must match the number of arguments"},
				{[]any{"HEXPIRE", "he", "10", "NX", "FIELDS", "1"}, "ERR The `numfields` parameter must match the number of arguments"},
				{[]any{"HEXPIRE", "he", "10", "XY", "FIELDS", "1", "a"}, "ERR Mandatory argument FIELDS is missing or not at the right position"},
				{[]any{"HEXPIRE", "he", "-1", "FIELDS", "1", "a"}, "ERR invalid expire time, must be >= 0"},
				{[]any{"HEXPIRE", "he", "1.5", "FIELDS", "1", "a"}, "ERR value is not an integer or out of range"},
				{[]any{"HEXPIRE", "he", "70368744177", "FIELDS", "1", "a"}, "ERR invalid expire time in 'hexpire' command"},
				{[]any{"HPEXPIREAT", "he", "70368744177664", "FIELDS", "1", "a"}, "ERR invalid expire time in 'hpexpireat' command"},
				{[]any{"HPEXPIRE", "he", "70368744177663", "FIELDS", "1", "a"}, "ERR invalid expire time in 'hpexpire' command"},
				{[]any{"HTTL", "he", "FIELDS", "0", "a"}, "ERR Number of fields must be a positive integer"},
				{[]any{"HTTL", "he", "FIELD", "1", "a"}, "ERR Mandatory argument FIELDS is missing or not at the right position"},
				{[]any{"HPERSIST", "he", "FIELDS", "2", "a"}, "ERR The `numfields` parameter must match the number of arguments"},
				{[]any{"HEXPIRE", "he", "10", "FIELDS", "1"}, "ERR wrong number of arguments for 'hexpire' command"},
				{[]any{"HTTL", "he", "FIELDS", "1"}, "ERR wrong number of arguments for 'httl' command"},
				// The key's type is checked before the arguments.
				{[]any{"HEXPIRE", "str", "-1", "FIELDS", "1", "a"}, "WRONGTYPE Operation against a key holding the wrong kind of value"},
				{[]any{"HTTL", "str", "FIELDS", "0", "a"}, "WRONGTYPE Operation against a key holding the wrong kind of value"},
				{[]any{"HPERSIST", "str", "FIELDS", "1", "a"}, "WRONGTYPE Operation against a key holding the wrong kind of value"},
			} {
				if err := wantErr(c.Do(ctx, e.args...).Err(), e.msg); err != nil {
					return fmt.Errorf("%v: %w", e.args, err)
				}
			}
			// The largest deadline accepted.
			return want(c.Do(ctx, "HPEXPIREAT", "he", "70368744177663", "FIELDS", "1", "a").Int64Slice())([]int64{1})
		}},
		{"visibility", func(ctx context.Context, c *redis.Client, _ int) error {
			c.HSet(ctx, "v", "keep", "1", "gone", "2", "n", "5")
			// 400 ms: HINCRBY and HPTTL (fsync'd writes, on a busy
			// machine) must come before the deadline.
			if err := want(c.HPExpire(ctx, "v", 400*time.Millisecond, "gone", "n").Result())([]int64{1, 1}); err != nil {
				return err
			}
			// HINCRBY keeps a deadline, HSET drops it (7.4).
			c.HIncrBy(ctx, "v", "n", 1)
			if ttl, _ := c.HPTTL(ctx, "v", "n").Result(); len(ttl) != 1 || ttl[0] < 0 {
				return fmt.Errorf("HINCRBY lost the deadline: %v", ttl)
			}
			sleepPast(400)
			checks := []func() error{
				func() error {
					if err := c.HGet(ctx, "v", "gone").Err(); err != redis.Nil {
						return fmt.Errorf("HGET: %v", err)
					}
					return nil
				},
				func() error { return want(c.HMGet(ctx, "v", "gone", "keep").Result())([]any{nil, "1"}) },
				func() error { return want(c.HExists(ctx, "v", "gone").Result())(false) },
				func() error { return want(c.HStrLen(ctx, "v", "gone").Result())(0) },
				func() error { return want(c.HGetAll(ctx, "v").Result())(map[string]string{"keep": "1"}) },
				func() error { return want(c.HKeys(ctx, "v").Result())([]string{"keep"}) },
				func() error { return want(c.HVals(ctx, "v").Result())([]string{"1"}) },
				func() error { return want(c.HRandField(ctx, "v", 5).Result())([]string{"keep"}) },
				func() error { return want(c.HRandField(ctx, "v", -3).Result())([]string{"keep", "keep", "keep"}) },
				func() error {
					ks, cur, err := c.HScan(ctx, "v", 0, "*", 10).Result()
					if cur != 0 {
						return fmt.Errorf("HSCAN cursor %d", cur)
					}
					return want(ks, err)([]string{"keep", "1"})
				},
				func() error { return want(c.HTTL(ctx, "v", "gone", "keep").Result())([]int64{-2, -1}) },
			}
			for i, ch := range checks {
				if err := ch(); err != nil {
					return fmt.Errorf("read %d: %w", i, err)
				}
			}
			// Writes treat an expired field as absent.
			if err := want(c.HSetNX(ctx, "v", "gone", "new").Result())(true); err != nil {
				return err
			}
			if err := want(c.HIncrBy(ctx, "v", "n", 3).Result())(3); err != nil {
				return err
			}
			if err := want(c.HTTL(ctx, "v", "gone", "n").Result())([]int64{-1, -1}); err != nil {
				return err
			}
			// HSET removes a deadline.
			c.HExpire(ctx, "v", time.Hour, "keep")
			c.HSet(ctx, "v", "keep", "2")
			return want(c.HTTL(ctx, "v", "keep").Result())([]int64{-1})
		}},
		{"whole hash expired", func(ctx context.Context, c *redis.Client, _ int) error {
			c.HSet(ctx, "w", "a", "1", "b", "2")
			c.HPExpire(ctx, "w", 30*time.Millisecond, "a", "b")
			sleepPast(30)
			for _, r := range []func() error{
				func() error { return want(c.Exists(ctx, "w").Result())(0) },
				func() error { return want(c.Type(ctx, "w").Result())("none") },
				func() error { return want(c.HGetAll(ctx, "w").Result())(map[string]string{}) },
				func() error { return want(c.HLen(ctx, "w").Result())(0) },
			} {
				if err := r(); err != nil {
					return err
				}
			}
			// A write starts from an empty hash.
			if err := want(c.HSet(ctx, "w", "c", "3").Result())(1); err != nil {
				return err
			}
			return want(c.HGetAll(ctx, "w").Result())(map[string]string{"c": "3"})
		}},
		{"active expiry", func(ctx context.Context, c *redis.Client, _ int) error {
			args := []any{}
			for i := range 600 {
				args = append(args, fmt.Sprintf("f%d", i), "v")
			}
			c.HSet(ctx, "big", args...)
			fields := make([]string, 0, 400)
			for i := range 400 {
				fields = append(fields, fmt.Sprintf("f%d", i))
			}
			c.HPExpire(ctx, "big", 20*time.Millisecond, fields...)
			if err := want(c.ObjectEncoding(ctx, "big").Result())("hashtable"); err != nil {
				return err
			}
			// HLEN counts the fields not deleted yet (7.4): it drops as the
			// leader's active expiry deletes them, with no read of them.
			if err := poll(func() bool { n, _ := c.HLen(ctx, "big").Result(); return n == 200 }); err != nil {
				return fmt.Errorf("hashtable: %w", err)
			}
			c.HSet(ctx, "small", "a", "1", "b", "2", "c", "3")
			c.HPExpire(ctx, "small", 20*time.Millisecond, "a", "c")
			if err := poll(func() bool { n, _ := c.HLen(ctx, "small").Result(); return n == 1 }); err != nil {
				return fmt.Errorf("listpack: %w", err)
			}
			if err := want(c.HGetAll(ctx, "small").Result())(map[string]string{"b": "2"}); err != nil {
				return err
			}
			// A hash whose fields all expire goes with its last field:
			// DBSIZE, which counts keys not deleted yet, drops.
			before, _ := c.DBSize(ctx).Result()
			c.HSet(ctx, "allgone", "a", "1", "b", "2")
			c.HPExpire(ctx, "allgone", 20*time.Millisecond, "a", "b")
			if err := poll(func() bool { n, _ := c.DBSize(ctx).Result(); return n == before }); err != nil {
				return fmt.Errorf("DBSIZE: %w", err)
			}
			return nil
		}},
		{"keys keep field deadlines", func(ctx context.Context, c *redis.Client, _ int) error {
			c.HSet(ctx, "k1", "a", "1", "b", "2")
			at := time.Now().Add(time.Hour).Truncate(time.Millisecond)
			c.HPExpireAt(ctx, "k1", at, "a")
			c.Rename(ctx, "k1", "k2")
			c.Copy(ctx, "k2", "k3", 0, false)
			c.Move(ctx, "k3", 1)
			if err := want(c.HPExpireTime(ctx, "k2", "a", "b").Result())([]int64{at.UnixMilli(), -1}); err != nil {
				return fmt.Errorf("RENAME: %w", err)
			}
			c.Do(ctx, "SELECT", 1)
			got, err := c.Do(ctx, "HPEXPIRETIME", "k3", "FIELDS", "1", "a").Int64Slice()
			c.Do(ctx, "SELECT", 0)
			if err := want(got, err)([]int64{at.UnixMilli()}); err != nil {
				return fmt.Errorf("COPY+MOVE: %w", err)
			}
			// HDEL and DEL take the deadlines with them.
			c.HDel(ctx, "k2", "a")
			c.HSet(ctx, "k2", "a", "x")
			return want(c.HTTL(ctx, "k2", "a").Result())([]int64{-1})
		}},
		{"transaction", func(ctx context.Context, c *redis.Client, _ int) error {
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, "tx", "a", "1")
				p.HExpire(ctx, "tx", time.Hour, "a")
				p.HPersist(ctx, "tx", "a")
				return nil
			})
			if err != nil || len(cmds) != 3 || !strings.Contains(cmds[2].String(), "[1]") {
				return fmt.Errorf("MULTI: %v %v", cmds, err)
			}
			return nil
		}},
	}
}

// poll waits for cond (a hang detector, not a timing assertion).
func poll(cond func() bool) error {
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not reached")
		}
	}
	return nil
}
