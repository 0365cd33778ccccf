// Command partbench measures SET or GET against a partitioned LoomCache
// cluster from Go: N goroutines, one request in flight each, for a fixed
// time, with random keys (key:<R>, R below -keys) and 3-byte values as
// redis-benchmark sends them.
//
// Modes (-mode):
//
//	native  the native client (package client): each command goes
//	        straight to its partition's leader
//	plain   a plain go-redis client of the first -seeds node: the node
//	        forwards each command whose partition another node leads
//
// Both run the same loop in the same program, so their difference is the
// routing. It prints the operations per second and the p50/p99 latency;
// with -csv one line "mode,test,ops_per_s,p50_ms,p99_ms,ops,errors".
// bench/partitions.sh runs it.
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
	"github.com/loomcache/loomcache/client"
	"github.com/redis/go-redis/v9"
)

type config struct {
	seeds    []string
	mode     string
	test     string
	clients  int
	keys     int
	duration time.Duration
	warmup   time.Duration
	csv      bool
}

func main() {
	var cfg config
	var seeds string
	flag.StringVar(&seeds, "seeds", "127.0.0.1:6379", "node addresses, comma-separated (plain: the first)")
	flag.StringVar(&cfg.mode, "mode", "native", "native or plain")
	flag.StringVar(&cfg.test, "test", "set", "set or get")
	flag.IntVar(&cfg.clients, "clients", 50, "concurrent goroutines, one request in flight each")
	flag.IntVar(&cfg.keys, "keys", 100000, "random keys to choose from")
	flag.DurationVar(&cfg.duration, "duration", 3*time.Second, "measured time")
	flag.DurationVar(&cfg.warmup, "warmup", 500*time.Millisecond, "unmeasured time before it")
	flag.BoolVar(&cfg.csv, "csv", false, "print one CSV line")
	flag.Parse()
	cfg.seeds = strings.Split(seeds, ",")
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "partbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	if cfg.clients < 1 || cfg.keys < 1 || cfg.duration <= 0 {
		return errors.New("-clients, -keys and -duration must be positive")
	}
	node := redis.Options{
		Protocol: 2, DisableIdentity: true, PoolSize: cfg.clients, MinIdleConns: cfg.clients, MaxRetries: -1,
	}
	var rc redis.Cmdable
	switch cfg.mode {
	case "native":
		nc, err := client.New(ctx, client.Options{Seeds: cfg.seeds, Node: node})
		if err != nil {
			return err
		}
		defer func() {
			if st := nc.Stats(); st.Redirects+st.Pauses > 0 {
				fmt.Fprintf(os.Stderr, "partbench: native %s: %d -MOVED followed, %d pauses before a resend\n", cfg.test, st.Redirects, st.Pauses)
			}
			nc.Close()
		}()
		rc = nc
	case "plain":
		node.Addr = cfg.seeds[0]
		pc := redis.NewClient(&node)
		defer pc.Close()
		rc = pc
	default:
		return fmt.Errorf("unknown -mode %q: native or plain", cfg.mode)
	}
	var op func(ctx context.Context, key string) error
	switch cfg.test {
	case "set":
		op = func(ctx context.Context, key string) error { return rc.Set(ctx, key, "xxx", 0).Err() }
	case "get":
		op = func(ctx context.Context, key string) error {
			if err := rc.Get(ctx, key).Err(); err != nil && err != redis.Nil {
				return err
			}
			return nil
		}
	default:
		return fmt.Errorf("unknown -test %q: set or get", cfg.test)
	}
	res := loadgen.Run(ctx, cfg.clients, cfg.warmup, cfg.duration, func(int) loadgen.Op {
		buf := make([]byte, 0, 32)
		return func(ctx context.Context, rng *rand.Rand) error {
			buf = strconv.AppendInt(append(buf[:0], "key:"...), int64(rng.IntN(cfg.keys)), 10)
			return op(ctx, string(buf))
		}
	})
	if res.Ops == 0 {
		return fmt.Errorf("no operation succeeded; the first error: %v", res.FirstErr)
	}
	p50, p99 := loadgen.Ms(res.Percentile(0.50)), loadgen.Ms(res.Percentile(0.99))
	rate := float64(res.Ops) / cfg.duration.Seconds()
	if cfg.csv {
		fmt.Printf("%s,%s,%.0f,%.3f,%.3f,%d,%d\n", cfg.mode, cfg.test, rate, p50, p99, res.Ops, res.Errors)
		return nil
	}
	fmt.Printf("%s %s: %d clients, %v: %.0f ops/s, p50 %.3f ms, p99 %.3f ms (%d ops, %d errors)\n",
		cfg.mode, cfg.test, cfg.clients, cfg.duration, rate, p50, p99, res.Ops, res.Errors)
	if res.Errors > 0 {
		fmt.Printf("  the first error: %v\n", res.FirstErr)
	}
	return nil
}
