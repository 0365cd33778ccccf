package compattests

import (
	"context"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// goRedisSetChecks are the set commands as go-redis users call them,
// decoding RESP3 sets and RESP2 arrays alike, with a transaction that
// pops and scans.
func goRedisSetChecks() []goRedisCheck {
	sorted := func(ms []string, err error) ([]string, error) { slices.Sort(ms); return ms, err }
	return []goRedisCheck{
		{"Sets", func(ctx context.Context, c *redis.Client, _ int) error {
			if err := want(c.SAdd(ctx, "set:a", "x", "y", "z", 1).Result())(4); err != nil {
				return err
			}
			c.SAdd(ctx, "set:b", "y", "w")
			if err := want(sorted(c.SMembers(ctx, "set:a").Result()))([]string{"1", "x", "y", "z"}); err != nil {
				return err
			}
			if err := want(c.SMIsMember(ctx, "set:a", "x", "nope").Result())([]bool{true, false}); err != nil {
				return err
			}
			if err := want(sorted(c.SInter(ctx, "set:a", "set:b").Result()))([]string{"y"}); err != nil {
				return err
			}
			if err := want(c.SInterCard(ctx, 1, "set:a", "set:b").Result())(1); err != nil {
				return err
			}
			if err := want(c.SUnionStore(ctx, "set:u", "set:a", "set:b").Result())(5); err != nil {
				return err
			}
			if err := want(sorted(c.SDiff(ctx, "set:a", "set:b").Result()))([]string{"1", "x", "z"}); err != nil {
				return err
			}
			if err := want(c.SMove(ctx, "set:a", "set:b", "x").Result())(true); err != nil {
				return err
			}
			keys, cur, err := c.SScan(ctx, "set:u", 0, "*", 100).Result()
			if slices.Sort(keys); err != nil || len(keys) != 5 || cur != 0 {
				return fmt.Errorf("SSCAN %q %d %v", keys, cur, err)
			}
			if err := want(c.SAdd(ctx, "set:i", 3, 1, 2).Result())(3); err != nil {
				return err
			}
			if err := want(c.ObjectEncoding(ctx, "set:i").Result())("intset"); err != nil {
				return err
			}
			if err := want(c.SMembers(ctx, "set:i").Result())([]string{"1", "2", "3"}); err != nil {
				return err
			}
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.SPopN(ctx, "set:i", 2)
				p.SCard(ctx, "set:i")
				p.SRandMemberN(ctx, "set:i", -3)
				return nil
			})
			if err != nil {
				return err
			}
			popped, left, rand := cmds[0].(*redis.StringSliceCmd).Val(), cmds[1].(*redis.IntCmd).Val(), cmds[2].(*redis.StringSliceCmd).Val()
			if len(popped) != 2 || left != 1 || len(rand) != 3 || rand[0] != rand[1] || rand[1] != rand[2] || slices.Contains(popped, rand[0]) {
				return fmt.Errorf("in a transaction: popped %q, %d left, random %q", popped, left, rand)
			}
			if err := want(c.SPop(ctx, "set:i").Result())(rand[0]); err != nil {
				return err
			}
			return want(c.Exists(ctx, "set:i").Result())(0)
		}},
	}
}
