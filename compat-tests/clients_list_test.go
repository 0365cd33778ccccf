package compattests

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// goRedisListChecks are the list commands as go-redis users call them:
// a queue (LPUSH and RPOP, BRPOPLPUSH's non-blocking twin), counts,
// LMPOP's key and values, nulls as redis.Nil, and a transaction.
func goRedisListChecks() []goRedisCheck {
	return []goRedisCheck{
		{"Lists", func(ctx context.Context, c *redis.Client, _ int) error {
			if err := want(c.LPush(ctx, "list:q", "a", "b", "c").Result())(3); err != nil {
				return err
			}
			if err := want(c.RPush(ctx, "list:q", 1, 2.5).Result())(5); err != nil {
				return err
			}
			if err := want(c.LRange(ctx, "list:q", 0, -1).Result())([]string{"c", "b", "a", "1", "2.5"}); err != nil {
				return err
			}
			if err := want(c.LPushX(ctx, "list:none", "x").Result())(0); err != nil {
				return err
			}
			if err := want(c.RPop(ctx, "list:q").Result())("2.5"); err != nil {
				return err
			}
			if err := want(c.LPopCount(ctx, "list:q", 2).Result())([]string{"c", "b"}); err != nil {
				return err
			}
			if _, err := c.LPop(ctx, "list:none").Result(); !errors.Is(err, redis.Nil) {
				return fmt.Errorf("LPOP of no list: %v", err)
			}
			if _, err := c.LPopCount(ctx, "list:none", 2).Result(); !errors.Is(err, redis.Nil) {
				return fmt.Errorf("LPOP count of no list: %v", err)
			}
			if err := want(c.LLen(ctx, "list:q").Result())(2); err != nil {
				return err
			}
			if err := want(c.LInsertBefore(ctx, "list:q", "1", "x").Result())(3); err != nil {
				return err
			}
			if err := want(c.LSet(ctx, "list:q", -1, "last").Result())("OK"); err != nil {
				return err
			}
			if err := wantErr(c.LSet(ctx, "list:q", 9, "v").Err(), "ERR index out of range"); err != nil {
				return err
			}
			if err := want(c.LIndex(ctx, "list:q", 1).Result())("x"); err != nil {
				return err
			}
			if err := want(c.LPos(ctx, "list:q", "last", redis.LPosArgs{}).Result())(2); err != nil {
				return err
			}
			if err := want(c.LPosCount(ctx, "list:q", "x", 0, redis.LPosArgs{Rank: -1}).Result())([]int64{1}); err != nil {
				return err
			}
			if err := want(c.LMove(ctx, "list:q", "list:d", "LEFT", "RIGHT").Result())("a"); err != nil {
				return err
			}
			if err := want(c.RPopLPush(ctx, "list:q", "list:d").Result())("last"); err != nil {
				return err
			}
			key, vals, err := c.LMPop(ctx, "left", 5, "list:none", "list:d").Result()
			if err != nil || key != "list:d" || fmt.Sprint(vals) != "[last a]" {
				return fmt.Errorf("LMPOP: %q %q %v", key, vals, err)
			}
			if _, _, err := c.LMPop(ctx, "right", 1, "list:none").Result(); !errors.Is(err, redis.Nil) {
				return fmt.Errorf("LMPOP of no list: %v", err)
			}
			if err := want(c.LRem(ctx, "list:q", 0, "x").Result())(1); err != nil {
				return err
			}
			if err := want(c.Exists(ctx, "list:q", "list:d").Result())(0); err != nil {
				return err
			}
			c.RPush(ctx, "list:t", "a", "b", "c", "d")
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.LTrim(ctx, "list:t", 1, -1)
				p.RPopCount(ctx, "list:t", 2)
				p.LRange(ctx, "list:t", 0, -1)
				return nil
			})
			if err != nil {
				return err
			}
			if popped, left := cmds[1].(*redis.StringSliceCmd).Val(), cmds[2].(*redis.StringSliceCmd).Val(); fmt.Sprint(popped, left) != "[d c] [b]" {
				return fmt.Errorf("in a transaction: popped %q, left %q", popped, left)
			}
			return want(c.ObjectEncoding(ctx, "list:t").Result())("quicklist")
		}},
	}
}
