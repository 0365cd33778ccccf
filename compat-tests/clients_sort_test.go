package compattests

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// goRedisSortChecks are SORT and SORT_RO as go-redis users call them: a
// leaderboard sorted by weights, fields fetched with GET (a missing one a
// nil), a stored result, and SORT inside a transaction.
func goRedisSortChecks() []goRedisCheck {
	return []goRedisCheck{
		{"Sort", func(ctx context.Context, c *redis.Client, _ int) error {
			c.RPush(ctx, "sort:ids", 3, 1, 2, 10)
			if err := want(c.Sort(ctx, "sort:ids", &redis.Sort{}).Result())([]string{"1", "2", "3", "10"}); err != nil {
				return err
			}
			if err := want(c.Sort(ctx, "sort:ids", &redis.Sort{Alpha: true, Order: "DESC", Offset: 1, Count: 2}).Result())([]string{"2", "10"}); err != nil {
				return err
			}
			c.MSet(ctx, "sort:w_1", 40, "sort:w_2", 10, "sort:w_3", 30, "sort:w_10", 20)
			c.HSet(ctx, "sort:u_1", "name", "ann")
			c.HSet(ctx, "sort:u_2", "name", "bob")
			c.HSet(ctx, "sort:u_10", "name", "cid")
			if err := want(c.SortRO(ctx, "sort:ids", &redis.Sort{By: "sort:w_*", Get: []string{"#", "sort:u_*->name"}}).Result())(
				[]string{"2", "bob", "10", "cid", "3", "", "1", "ann"}); err != nil {
				return err
			}
			got, err := c.SortInterfaces(ctx, "sort:ids", &redis.Sort{By: "sort:w_*", Get: []string{"sort:u_*->name"}, Order: "DESC"}).Result()
			if err != nil || fmt.Sprint(got) != "[ann <nil> cid bob]" {
				return fmt.Errorf("SORT ... GET with a missing field: %v %v", got, err)
			}
			if err := want(c.SortStore(ctx, "sort:ids", "sort:out", &redis.Sort{By: "sort:w_*", Count: 2}).Result())(2); err != nil {
				return err
			}
			if err := want(c.LRange(ctx, "sort:out", 0, -1).Result())([]string{"2", "10"}); err != nil {
				return err
			}
			c.Set(ctx, "sort:str", "x", 0)
			if err := wantErr(c.Sort(ctx, "sort:str", &redis.Sort{}).Err(), "WRONGTYPE Operation against a key holding the wrong kind of value"); err != nil {
				return err
			}
			c.RPush(ctx, "sort:words", "b", "a")
			if err := wantErr(c.Sort(ctx, "sort:words", &redis.Sort{}).Err(), "ERR One or more scores can't be converted into double"); err != nil {
				return err
			}
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Set(ctx, "sort:w_1", 0, 0)
				p.Sort(ctx, "sort:ids", &redis.Sort{By: "sort:w_*"})
				p.SortStore(ctx, "sort:words", "sort:out", &redis.Sort{Alpha: true})
				return nil
			})
			if err != nil {
				return err
			}
			if got := cmds[1].(*redis.StringSliceCmd).Val(); fmt.Sprint(got) != "[1 2 10 3]" {
				return fmt.Errorf("SORT in a transaction: %q", got)
			}
			if n := cmds[2].(*redis.IntCmd).Val(); n != 2 {
				return fmt.Errorf("SORT STORE in a transaction: %d", n)
			}
			return want(c.LRange(ctx, "sort:out", 0, -1).Result())([]string{"a", "b"})
		}},
	}
}
