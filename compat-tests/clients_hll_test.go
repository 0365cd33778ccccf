package compattests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestGoRedisHLL runs the HyperLogLog commands as go-redis users call
// them against redis-server and LoomCache, RESP3 and RESP2, and checks
// both hold the same bytes afterwards.
func TestGoRedisHLL(t *testing.T) {
	targets := startTargets(t)
	for _, proto := range []int{3, 2} {
		var bytes [2]string
		for i, tg := range targets {
			t.Run(fmt.Sprintf("resp%d/%s", proto, tg.name), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				c := redis.NewClient(&redis.Options{Addr: tg.addr, Protocol: proto})
				defer c.Close()
				if err := c.FlushAll(ctx).Err(); err != nil {
					t.Fatalf("FLUSHALL: %v", err)
				}
				check := func(err error) {
					t.Helper()
					if err != nil {
						t.Error(err)
					}
				}
				elems := make([]any, 3000)
				for j := range elems {
					elems[j] = fmt.Sprintf("visitor:%d", j)
				}
				check(want(c.PFAdd(ctx, "hll:a", elems[:1000]...).Result())(1))
				check(want(c.PFAdd(ctx, "hll:a", elems[:10]...).Result())(0))
				check(want(c.PFAdd(ctx, "hll:b", elems[500:]...).Result())(1))
				check(want(c.PFCount(ctx, "hll:a").Result())(990)) // the estimate, as Redis gives it
				check(want(c.PFCount(ctx, "hll:a", "hll:b").Result())(3007))
				check(want(c.PFMerge(ctx, "hll:u", "hll:a", "hll:b").Result())("OK"))
				check(want(c.PFCount(ctx, "hll:u").Result())(3007))
				c.Set(ctx, "hll:s", "x", 0)
				check(wantErr(c.PFAdd(ctx, "hll:s", "y").Err(), "WRONGTYPE Key is not a valid HyperLogLog string value."))
				cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
					p.PFAdd(ctx, "hll:a", "late")
					p.PFCount(ctx, "hll:a")
					return nil
				})
				if err != nil || cmds[1].(*redis.IntCmd).Val() != 991 {
					t.Errorf("PFADD and PFCOUNT in a transaction: %v %v", cmds, err)
				}
				v, err := c.MGet(ctx, "hll:a", "hll:b", "hll:u").Result()
				check(err)
				bytes[i] = fmt.Sprint(v...)
			})
		}
		if bytes[0] != bytes[1] {
			t.Errorf("resp%d: the HLLs' bytes differ from Redis's", proto)
		}
	}
}
