package compattests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// goRedisTxChecks are the transaction patterns of go-redis users: a
// MULTI/EXEC pipeline, and the WATCH loop with another client changing
// the key under it.
func goRedisTxChecks() []goRedisCheck {
	return []goRedisCheck{
		{"TxPipelined", func(ctx context.Context, c *redis.Client, _ int) error {
			c.Set(ctx, "tx:n", 10, 0)
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, "tx:n")
				p.Get(ctx, "tx:n")
				p.Set(ctx, "tx:s", "x", 0)
				p.Incr(ctx, "tx:s") // an error inside EXEC, the rest applies
				p.Append(ctx, "tx:s", "y")
				return nil
			})
			var rerr redis.Error
			if !errors.As(err, &rerr) || !strings.HasPrefix(err.Error(), "ERR value is not an integer") {
				return fmt.Errorf("TxPipelined error %v, want the INCR's", err)
			}
			if got := fmt.Sprintf("%v %v %v", cmds[0].(*redis.IntCmd).Val(), cmds[1].(*redis.StringCmd).Val(), cmds[4].(*redis.IntCmd).Val()); got != "11 11 2" {
				return fmt.Errorf("replies %s", got)
			}
			return want(c.Get(ctx, "tx:s").Result())("xy")
		}},
		{"Script", func(ctx context.Context, c *redis.Client, _ int) error {
			s := redis.NewScript("return redis.call('incrby', KEYS[1], ARGV[1])")
			c.ScriptFlush(ctx)
			// Run tries EVALSHA and falls back to EVAL on NOSCRIPT.
			if err := want(s.Run(ctx, c, []string{"sc:n"}, 5).Int64())(5); err != nil {
				return err
			}
			if err := want(s.EvalSha(ctx, c, []string{"sc:n"}, 5).Int64())(10); err != nil {
				return err
			}
			if err := want(c.ScriptExists(ctx, s.Hash(), "0000000000000000000000000000000000000000").Result())([]bool{true, false}); err != nil {
				return err
			}
			_, err := c.Eval(ctx, "return redis.call('nosuch')", nil).Result()
			if err == nil || !strings.HasPrefix(err.Error(), "ERR Unknown Redis command called from script") {
				return fmt.Errorf("a bad script: %v", err)
			}
			return nil
		}},
		{"Watch", func(ctx context.Context, c *redis.Client, _ int) error {
			other := redis.NewClient(c.Options())
			defer other.Close()
			c.Set(ctx, "tx:w", 1, 0)
			// The first run meets another client's change and fails.
			err := c.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ctx, "tx:w").Int()
				if err != nil {
					return err
				}
				other.Set(ctx, "tx:w", 100, 0)
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "tx:w", n+1, 0)
					return nil
				})
				return err
			}, "tx:w")
			if !errors.Is(err, redis.TxFailedErr) {
				return fmt.Errorf("Watch with the key changed: %v, want TxFailedErr", err)
			}
			// Then the loop succeeds.
			err = c.Watch(ctx, func(tx *redis.Tx) error {
				n, err := tx.Get(ctx, "tx:w").Int()
				if err != nil {
					return err
				}
				_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, "tx:w", n+1, 0)
					return nil
				})
				return err
			}, "tx:w")
			if err != nil {
				return err
			}
			return want(c.Get(ctx, "tx:w").Result())("101")
		}},
	}
}

// python3 is Debian's, where its python3-redis package installs redis-py
// (a python3 earlier in PATH, such as pyenv's, would not have it).
const python3 = "/usr/bin/python3"

// TestRedisPy runs testdata/redis_py.py (Debian's python3-redis) against
// redis-server and LoomCache: redis-py's pipeline(), which wraps its
// commands in MULTI/EXEC, and its WATCH pattern.
func TestRedisPy(t *testing.T) { runRedisPy(t, "redis_py.py") }

// runRedisPy runs a redis-py script of testdata against redis-server and
// LoomCache; the script prints "all passed" when its assertions hold.
func runRedisPy(t *testing.T, name string) {
	needRedisPy(t)
	script, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range startTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			host, port, _ := strings.Cut(tg.addr, ":")
			cmd := exec.Command(python3, script, host, port)
			cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "all passed") {
				t.Fatalf("unexpected output:\n%s", out)
			}
		})
	}
}
