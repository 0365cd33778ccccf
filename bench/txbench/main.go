// Command txbench measures atomic read-modify-writes of several keys
// against a Redis-protocol server: N clients, each with its own
// connection and one request in flight, for a fixed time. redis-benchmark
// sends one command per request and cannot measure a MULTI block as one
// operation; this does, with go-redis as an application would.
//
// Workloads (-workload):
//
//	multi    MULTI, INCR k1, ..., INCR kn, EXEC (go-redis TxPipelined: one
//	         round trip); n is -incrs
//	evalsha  EVALSHA of a script that GETs each of its n keys and SETs it
//	         to the value plus one, loaded once with SCRIPT LOAD
//
// The keys of one operation share a hash tag ({tx:R}:i, R random below
// -keys), as a cluster needs them to. It prints the operations per
// second and the p50/p99 latency of one operation; with -csv, one line
// "workload,ops_per_s,p50_ms,p99_ms,ops,errors", or
// "workload,unsupported,<error>" when the server refuses the workload
// (an unknown command), so a script can report it.
//
// bench/tx.sh runs it against LoomCache and Redis in the same run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/loomcache/loomcache/bench/loadgen"
	"github.com/redis/go-redis/v9"
)

// rmwScript is the evalsha workload's script: a read-modify-write of each
// key, which a server must run as one atomic step.
const rmwScript = `
for i, k in ipairs(KEYS) do
  local v = tonumber(redis.call('GET', k) or '0') + 1
  redis.call('SET', k, v)
end
return #KEYS`

type config struct {
	addr     string
	workload string
	clients  int
	incrs    int
	keys     int
	duration time.Duration
	warmup   time.Duration
	csv      bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "127.0.0.1:6379", "server address")
	flag.StringVar(&cfg.workload, "workload", "multi", "multi or evalsha")
	flag.IntVar(&cfg.clients, "clients", 50, "concurrent clients, one connection each")
	flag.IntVar(&cfg.incrs, "incrs", 3, "keys each operation increments")
	flag.IntVar(&cfg.keys, "keys", 100000, "random key groups to choose from")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "measured time")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured time before it")
	flag.BoolVar(&cfg.csv, "csv", false, "print one CSV line")
	flag.Parse()
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "txbench:", err)
		os.Exit(1)
	}
}

// unsupported is the server's refusal of the workload itself: it does
// not know a command the workload needs.
type unsupported struct{ reply error }

func (u unsupported) Error() string { return "unsupported: " + u.reply.Error() }

func run(ctx context.Context, cfg config) error {
	if cfg.clients < 1 || cfg.incrs < 1 || cfg.keys < 1 || cfg.duration <= 0 {
		return errors.New("-clients, -incrs, -keys and -duration must be positive")
	}
	rc := redis.NewClient(&redis.Options{
		Addr: cfg.addr, Protocol: 2, DisableIdentity: true,
		PoolSize: cfg.clients, MinIdleConns: cfg.clients, MaxRetries: -1,
	})
	defer rc.Close()
	op, err := newOperation(ctx, rc, cfg)
	if u := (unsupported{}); errors.As(err, &u) {
		if cfg.csv {
			fmt.Printf("%s,unsupported,%s\n", cfg.workload, strings.ReplaceAll(u.reply.Error(), ",", ";"))
		} else {
			fmt.Printf("%s: not supported by the server: %v\n", cfg.workload, u.reply)
		}
		return nil
	}
	if err != nil {
		return err
	}
	res := loadgen.Run(ctx, cfg.clients, cfg.warmup, cfg.duration, func(int) loadgen.Op {
		keys := make([]string, 0, cfg.incrs)
		return func(ctx context.Context, rng *rand.Rand) error {
			keys = groupKeys(keys[:0], rng.IntN(cfg.keys), cfg.incrs)
			return op(ctx, keys)
		}
	})
	if res.Ops == 0 {
		return fmt.Errorf("no operation succeeded; the first error: %v", res.FirstErr)
	}
	p50, p99 := loadgen.Ms(res.Percentile(0.50)), loadgen.Ms(res.Percentile(0.99))
	rate := float64(res.Ops) / cfg.duration.Seconds()
	if cfg.csv {
		fmt.Printf("%s,%.0f,%.3f,%.3f,%d,%d\n", cfg.workload, rate, p50, p99, res.Ops, res.Errors)
		return nil
	}
	fmt.Printf("%s on %s: %d clients, %d keys per op, %v: %.0f ops/s, p50 %.3f ms, p99 %.3f ms (%d ops, %d errors)\n",
		cfg.workload, cfg.addr, cfg.clients, cfg.incrs, cfg.duration, rate, p50, p99, res.Ops, res.Errors)
	if res.Errors > 0 {
		fmt.Printf("  the first error: %v\n", res.FirstErr)
	}
	return nil
}

// operation runs one operation on the keys given.
type operation func(ctx context.Context, keys []string) error

// newOperation prepares the workload and checks that the server runs it
// once, so that a refusal is reported as such rather than as errors.
func newOperation(ctx context.Context, rc *redis.Client, cfg config) (operation, error) {
	var op operation
	switch cfg.workload {
	case "multi":
		op = func(ctx context.Context, keys []string) error {
			_, err := rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Incr(ctx, k)
				}
				return nil
			})
			return err
		}
	case "evalsha":
		sha, err := rc.ScriptLoad(ctx, rmwScript).Result()
		if err != nil {
			return nil, refusal(err)
		}
		op = func(ctx context.Context, keys []string) error {
			return rc.EvalSha(ctx, sha, keys).Err()
		}
	default:
		return nil, fmt.Errorf("unknown -workload %q: multi or evalsha", cfg.workload)
	}
	if err := op(ctx, groupKeys(nil, 0, cfg.incrs)); err != nil {
		return nil, refusal(err)
	}
	return op, nil
}

// refusal marks an error reply that says the server lacks the command.
func refusal(err error) error {
	var re redis.Error
	if errors.As(err, &re) && strings.Contains(err.Error(), "unknown command") {
		return unsupported{err}
	}
	return err
}

// groupKeys appends the n keys of group g to dst.
func groupKeys(dst []string, g, n int) []string {
	for i := range n {
		dst = append(dst, "{tx:"+strconv.Itoa(g)+"}:"+strconv.Itoa(i))
	}
	return dst
}
