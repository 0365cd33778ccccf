package compattests

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// goRedisBlockingChecks are the blocking pops as go-redis users call
// them: a worker blocked in BLPOP (BZPOPMIN, BLMOVE) on one connection of
// the pool is served by a push on another, a timeout is redis.Nil, and
// BLMPOP's key and values decode.
func goRedisBlockingChecks() []goRedisCheck {
	return []goRedisCheck{
		{"Blocking pops", func(ctx context.Context, c *redis.Client, _ int) error {
			got := make(chan []string, 1)
			errc := make(chan error, 1)
			go func() {
				v, err := c.BLPop(ctx, 10*time.Second, "bl:none", "bl:q").Result()
				got <- v
				errc <- err
			}()
			if err := waitBlocked(ctx, c, 1); err != nil {
				return err
			}
			if err := want(c.RPush(ctx, "bl:q", "job1", "job2").Result())(2); err != nil {
				return err
			}
			if err := want(<-got, <-errc)([]string{"bl:q", "job1"}); err != nil {
				return fmt.Errorf("BLPOP served: %w", err)
			}
			if err := want(c.LRange(ctx, "bl:q", 0, -1).Result())([]string{"job2"}); err != nil {
				return err
			}
			if _, err := c.BRPop(ctx, 10*time.Millisecond, "bl:empty").Result(); !errors.Is(err, redis.Nil) {
				return fmt.Errorf("BRPOP timeout: %v, want redis.Nil", err)
			}
			key, vals, err := c.BLMPop(ctx, time.Second, "left", 5, "bl:q").Result()
			if err != nil || key != "bl:q" || len(vals) != 1 || vals[0] != "job2" {
				return fmt.Errorf("BLMPOP: %q %q %v", key, vals, err)
			}

			moved := make(chan error, 1)
			go func() {
				v, err := c.BLMove(ctx, "bl:src", "bl:dst", "RIGHT", "LEFT", 10*time.Second).Result()
				if err == nil && v != "m" {
					err = fmt.Errorf("BLMOVE moved %q", v)
				}
				moved <- err
			}()
			if err := waitBlocked(ctx, c, 1); err != nil {
				return err
			}
			c.LPush(ctx, "bl:src", "m")
			if err := <-moved; err != nil {
				return err
			}
			if err := want(c.LRange(ctx, "bl:dst", 0, -1).Result())([]string{"m"}); err != nil {
				return err
			}

			zgot := make(chan *redis.ZWithKey, 1)
			go func() {
				z, err := c.BZPopMin(ctx, 10*time.Second, "bl:z").Result()
				if err != nil {
					z = nil
				}
				zgot <- z
			}()
			if err := waitBlocked(ctx, c, 1); err != nil {
				return err
			}
			c.ZAdd(ctx, "bl:z", redis.Z{Score: 2.5, Member: "hi"}, redis.Z{Score: 1, Member: "lo"})
			z := <-zgot
			if z == nil || z.Key != "bl:z" || z.Member != "lo" || z.Score != 1 {
				return fmt.Errorf("BZPOPMIN served %+v", z)
			}
			return nil
		}},
	}
}

// waitBlocked waits until n clients are blocked (INFO blocked_clients).
func waitBlocked(ctx context.Context, c *redis.Client, n int) error {
	want := fmt.Sprintf("blocked_clients:%d\r\n", n)
	for i := 0; i < 500; i++ {
		info, err := c.Info(ctx, "clients").Result()
		if err != nil {
			return err
		}
		if strings.Contains(info, want) {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("never %d blocked clients", n)
}
