package compattests

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// goRedisHLLChecks are the HyperLogLog commands as go-redis users call
// them; the estimates are Redis's own for these elements.
func goRedisHLLChecks() []goRedisCheck {
	return []goRedisCheck{
		{"HyperLogLogs", func(ctx context.Context, c *redis.Client, _ int) error {
			elems := make([]any, 3000)
			for j := range elems {
				elems[j] = fmt.Sprintf("visitor:%d", j)
			}
			if err := want(c.PFAdd(ctx, "hll:a", elems[:1000]...).Result())(1); err != nil {
				return err
			}
			if err := want(c.PFAdd(ctx, "hll:a", elems[:10]...).Result())(0); err != nil {
				return err
			}
			c.PFAdd(ctx, "hll:b", elems[500:]...)
			if err := want(c.PFCount(ctx, "hll:a").Result())(990); err != nil {
				return err
			}
			if err := want(c.PFCount(ctx, "hll:a", "hll:b").Result())(3007); err != nil {
				return err
			}
			if err := want(c.PFMerge(ctx, "hll:u", "hll:a", "hll:b").Result())("OK"); err != nil {
				return err
			}
			if err := want(c.PFCount(ctx, "hll:u").Result())(3007); err != nil {
				return err
			}
			if err := want(c.StrLen(ctx, "hll:u").Result())(12304); err != nil { // dense
				return err
			}
			c.Set(ctx, "hll:s", "x", 0)
			if err := wantErr(c.PFAdd(ctx, "hll:s", "y").Err(), "WRONGTYPE Key is not a valid HyperLogLog string value."); err != nil {
				return err
			}
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.PFAdd(ctx, "hll:a", "late")
				p.PFCount(ctx, "hll:a")
				return nil
			})
			if err != nil || cmds[1].(*redis.IntCmd).Val() != 991 {
				return fmt.Errorf("PFADD and PFCOUNT in a transaction: %v %v", cmds, err)
			}
			return want(c.GetRange(ctx, "hll:a", 8, 15).Result())("\xdf\x03\x00\x00\x00\x00\x00\x00")
		}},
	}
}
