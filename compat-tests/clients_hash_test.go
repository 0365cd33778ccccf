package compattests

import (
	"context"
	"fmt"
	"sort"

	"github.com/redis/go-redis/v9"
)

// goRedisHashChecks are the hash calls of go-redis users: HSet from a map
// and a struct-like list, HGetAll into a map (RESP3 map or RESP2 pairs),
// HIncrBy/HIncrByFloat, HRandField with values, HScan to the end, and a
// hash in a MULTI/EXEC pipeline.
func goRedisHashChecks() []goRedisCheck {
	return []goRedisCheck{
		{"Hash", func(ctx context.Context, c *redis.Client, _ int) error {
			if err := want(c.HSet(ctx, "h:user", map[string]any{"name": "ann", "age": 41}).Result())(2); err != nil {
				return fmt.Errorf("HSet map: %w", err)
			}
			if err := want(c.HSet(ctx, "h:user", "city", "Oslo", "age", "42").Result())(1); err != nil {
				return fmt.Errorf("HSet pairs: %w", err)
			}
			if err := want(c.HGetAll(ctx, "h:user").Result())(map[string]string{"name": "ann", "age": "42", "city": "Oslo"}); err != nil {
				return fmt.Errorf("HGetAll: %w", err)
			}
			if err := want(c.HMGet(ctx, "h:user", "name", "nosuch").Result())([]any{"ann", nil}); err != nil {
				return fmt.Errorf("HMGet: %w", err)
			}
			if err := want(c.HIncrBy(ctx, "h:user", "age", 2).Result())(int64(44)); err != nil {
				return fmt.Errorf("HIncrBy: %w", err)
			}
			if err := want(c.HIncrByFloat(ctx, "h:user", "score", 1.5).Result())(1.5); err != nil {
				return fmt.Errorf("HIncrByFloat: %w", err)
			}
			if err := want(c.HExists(ctx, "h:user", "city").Result())(true); err != nil {
				return fmt.Errorf("HExists: %w", err)
			}
			kv, err := c.HRandFieldWithValues(ctx, "h:user", 10).Result()
			if err != nil || len(kv) != 4 {
				return fmt.Errorf("HRandFieldWithValues: %v %v", kv, err)
			}
			for i := range 600 { // a hashtable, scanned in several calls
				c.HSet(ctx, "h:big", fmt.Sprintf("f%d", i), i)
			}
			seen := map[string]bool{}
			var cursor uint64
			for {
				keys, next, err := c.HScan(ctx, "h:big", cursor, "", 50).Result()
				if err != nil {
					return fmt.Errorf("HScan: %w", err)
				}
				for i := 0; i < len(keys); i += 2 {
					seen[keys[i]] = true
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			if len(seen) != 600 {
				return fmt.Errorf("HScan saw %d fields of 600", len(seen))
			}
			cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.HSet(ctx, "h:tx", "a", "1")
				p.HIncrBy(ctx, "h:tx", "a", 5)
				p.HDel(ctx, "h:user", "city", "score")
				return nil
			})
			if err != nil || cmds[1].(*redis.IntCmd).Val() != 6 || cmds[2].(*redis.IntCmd).Val() != 2 {
				return fmt.Errorf("hash transaction: %v %v", cmds, err)
			}
			keys, err := c.HKeys(ctx, "h:user").Result()
			sort.Strings(keys)
			return want(keys, err)([]string{"age", "name"})
		}},
	}
}
