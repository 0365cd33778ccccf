package compattests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// goRedisBitmapChecks are the bitmap commands as go-redis users call
// them: one by one, pipelined (where a SETBIT that changes nothing still
// goes through the log) and in a transaction.
func goRedisBitmapChecks() []goRedisCheck {
	return []goRedisCheck{
		{"Bitmaps", func(ctx context.Context, c *redis.Client, _ int) error {
			if err := want(c.SetBit(ctx, "bm", 10, 1).Result())(0); err != nil {
				return err
			}
			if err := want(c.SetBit(ctx, "bm", 10, 1).Result())(1); err != nil {
				return err
			}
			if err := want(c.GetBit(ctx, "bm", 10).Result())(1); err != nil {
				return err
			}
			if err := want(c.BitCount(ctx, "bm", &redis.BitCount{Start: 0, End: 9, Unit: "BIT"}).Result())(0); err != nil {
				return err
			}
			if err := want(c.BitPos(ctx, "bm", 1).Result())(10); err != nil {
				return err
			}
			if err := want(c.BitPosSpan(ctx, "bm", 0, 8, 10, "bit").Result())(8); err != nil {
				return err
			}
			c.Set(ctx, "bm2", "\xff", 0)
			if err := want(c.BitOpXor(ctx, "bmx", "bm", "bm2").Result())(2); err != nil {
				return err
			}
			if err := want(c.Get(ctx, "bmx").Result())("\xff\x20"); err != nil {
				return err
			}
			if err := want(c.BitField(ctx, "bf", "SET", "i8", 0, -5, "INCRBY", "u4", "#1", 20, "GET", "u8", 0).Result())([]int64{0, 15, 255}); err != nil {
				return err
			}
			if err := want(c.BitFieldRO(ctx, "bf", "u8", 0, "i4", 4).Result())([]int64{255, -1}); err != nil {
				return err
			}
			_, err := c.SetBit(ctx, "bm", -1, 1).Result()
			if err := wantErr(err, "ERR bit offset is not an integer or out of range"); err != nil {
				return err
			}
			cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := int64(0); i < 20; i++ {
					p.SetBit(ctx, "bp", i%4, 1)
				}
				p.BitCount(ctx, "bp", nil)
				return nil
			})
			if err != nil {
				return err
			}
			for i, cmd := range cmds[:20] {
				if got, exp := cmd.(*redis.IntCmd).Val(), int64(min(i/4, 1)); got != exp {
					return fmt.Errorf("pipelined SETBIT %d: %d, want %d", i, got, exp)
				}
			}
			if err := want(cmds[20].(*redis.IntCmd).Result())(4); err != nil {
				return err
			}
			cmds, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.SetBit(ctx, "bt", 3, 1)
				p.SetBit(ctx, "bt", 3, 1)
				p.BitField(ctx, "bt", "GET", "u8", 0, "OVERFLOW", "FAIL", "INCRBY", "u4", 0, 16)
				return nil
			})
			if err != nil && err != redis.Nil {
				return err
			}
			if got := fmt.Sprint(cmds[0].(*redis.IntCmd).Val(), cmds[1].(*redis.IntCmd).Val(), cmds[2].(*redis.IntSliceCmd).Val()); got != "0 1 [16 0]" {
				return fmt.Errorf("in a transaction: %s", got)
			}
			return nil
		}},
	}
}

func TestGoRedisBitmaps(t *testing.T) {
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
				for _, ch := range goRedisBitmapChecks() {
					if err := ch.run(ctx, c, proto); err != nil {
						t.Errorf("%s: %v", ch.name, err)
					}
				}
			})
		}
	}
}
