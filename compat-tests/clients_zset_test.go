package compattests

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// goRedisZSetChecks are the sorted set commands as go-redis users call
// them: scores decoded from RESP2 bulk strings and RESP3 doubles alike,
// WITHSCORES replies flat (RESP2) and paired (RESP3), a pop with its key,
// and a transaction that pops and stores.
func goRedisZSetChecks() []goRedisCheck {
	return []goRedisCheck{
		{"SortedSets", func(ctx context.Context, c *redis.Client, _ int) error {
			err := want(c.ZAdd(ctx, "z:a", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"},
				redis.Z{Score: 3, Member: "c"}).Result())(3)
			if err != nil {
				return err
			}
			if err := want(c.ZAddArgsIncr(ctx, "z:a", redis.ZAddArgs{GT: true, Members: []redis.Z{{Score: 0.5, Member: "a"}}}).Result())(1.5); err != nil {
				return err
			}
			if err := want(c.ZIncrBy(ctx, "z:a", 0.1, "c").Result())(3.1); err != nil {
				return err
			}
			if err := want(c.ZScore(ctx, "z:a", "b").Result())(2.5); err != nil {
				return err
			}
			if err := want(c.ZMScore(ctx, "z:a", "a", "nope").Result())([]float64{1.5, 0}); err != nil {
				return err
			}
			if err := want(c.ZRangeWithScores(ctx, "z:a", 0, -1).Result())([]redis.Z{{Score: 1.5, Member: "a"},
				{Score: 2.5, Member: "b"}, {Score: 3.1, Member: "c"}}); err != nil {
				return err
			}
			if err := want(c.ZRangeByScore(ctx, "z:a", &redis.ZRangeBy{Min: "(1.5", Max: "+inf"}).Result())([]string{"b", "c"}); err != nil {
				return err
			}
			if err := want(c.ZRevRank(ctx, "z:a", "a").Result())(2); err != nil {
				return err
			}
			if err := want(c.ZCount(ctx, "z:a", "-inf", "2.5").Result())(2); err != nil {
				return err
			}
			c.ZAdd(ctx, "z:b", redis.Z{Score: 10, Member: "b"}, redis.Z{Score: 20, Member: "d"})
			if err := want(c.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{"z:a", "z:b"}, Aggregate: "MAX"}).Result())(
				[]redis.Z{{Score: 1.5, Member: "a"}, {Score: 3.1, Member: "c"}, {Score: 10, Member: "b"}, {Score: 20, Member: "d"}}); err != nil {
				return err
			}
			if err := want(c.ZInterCard(ctx, 0, "z:a", "z:b").Result())(1); err != nil {
				return err
			}
			if err := want(c.ZPopMin(ctx, "z:b").Result())([]redis.Z{{Score: 10, Member: "b"}}); err != nil {
				return err
			}
			key, zs, err := c.ZMPop(ctx, "max", 5, "nope", "z:a").Result()
			if err != nil || key != "z:a" || len(zs) != 3 || zs[0].Member != "c" || zs[0].Score != 3.1 {
				return fmt.Errorf("ZMPOP %q %v %v", key, zs, err)
			}
			c.ZAdd(ctx, "z:s", redis.Z{Score: 1, Member: "x"}, redis.Z{Score: 2, Member: "y"})
			keys, cur, err := c.ZScan(ctx, "z:s", 0, "*", 10).Result()
			if err != nil || cur != 0 || !slices.Equal(keys, []string{"x", "1", "y", "2"}) {
				return fmt.Errorf("ZSCAN %q %d %v", keys, cur, err)
			}
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZPopMax(ctx, "z:s", 1)
				p.ZRangeStore(ctx, "z:dst", redis.ZRangeArgs{Key: "z:s", Start: 0, Stop: -1})
				p.ZRandMemberWithScores(ctx, "z:dst", 1)
				return nil
			})
			if err != nil {
				return err
			}
			popped, stored, rand := cmds[0].(*redis.ZSliceCmd).Val(), cmds[1].(*redis.IntCmd).Val(), cmds[2].(*redis.ZSliceCmd).Val()
			if len(popped) != 1 || popped[0].Member != "y" || stored != 1 || len(rand) != 1 || rand[0] != (redis.Z{Score: 1, Member: "x"}) {
				return fmt.Errorf("in a transaction: popped %v, stored %d, random %v", popped, stored, rand)
			}
			return want(c.ZRemRangeByRank(ctx, "z:dst", 0, -1).Result())(1)
		}},
	}
}
