package compattests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// geoCalls are the geo commands as go-redis users call them; each
// returns what the user sees (values and error) as text.
func geoCalls() []func(ctx context.Context, c *redis.Client) string {
	show := func(v any, err error) string { return fmt.Sprintf("%v %v", v, err) }
	return []func(ctx context.Context, c *redis.Client) string{
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoAdd(ctx, "Sicily", &redis.GeoLocation{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556},
				&redis.GeoLocation{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669},
				&redis.GeoLocation{Name: "Agrigento", Longitude: 13.5765, Latitude: 37.311}).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			pos, err := c.GeoPos(ctx, "Sicily", "Palermo", "nope", "Catania").Result()
			var out []string
			for _, p := range pos {
				if p == nil {
					out = append(out, "nil")
				} else {
					out = append(out, fmt.Sprintf("%v,%v", p.Longitude, p.Latitude))
				}
			}
			return show(out, err)
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoDist(ctx, "Sicily", "Palermo", "Catania", "km").Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoHash(ctx, "Sicily", "Palermo", "nope").Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoRadius(ctx, "Sicily", 15, 37, &redis.GeoRadiusQuery{Radius: 200, Unit: "km",
				WithCoord: true, WithDist: true, WithGeoHash: true, Sort: "ASC"}).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoRadiusByMember(ctx, "Sicily", "Agrigento", &redis.GeoRadiusQuery{Radius: 100, Unit: "mi",
				WithDist: true, Count: 2, Sort: "DESC"}).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoRadiusStore(ctx, "Sicily", 15, 37, &redis.GeoRadiusQuery{Radius: 200, Unit: "km", StoreDist: "dists"}).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.ZRangeWithScores(ctx, "dists", 0, -1).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoSearchLocation(ctx, "Sicily", &redis.GeoSearchLocationQuery{
				GeoSearchQuery: redis.GeoSearchQuery{Member: "Palermo", BoxWidth: 400, BoxHeight: 200, BoxUnit: "km", Sort: "ASC"},
				WithCoord:      true, WithDist: true, WithHash: true}).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoSearchStore(ctx, "Sicily", "near", &redis.GeoSearchStoreQuery{
				GeoSearchQuery: redis.GeoSearchQuery{Longitude: 14, Latitude: 37.5, Radius: 150, RadiusUnit: "km", Count: 2}}).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.ZRangeWithScores(ctx, "near", 0, -1).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoSearch(ctx, "Sicily", &redis.GeoSearchQuery{Member: "nope", Radius: 1, RadiusUnit: "km"}).Result())
		},
		func(ctx context.Context, c *redis.Client) string {
			return show(c.GeoAdd(ctx, "Sicily", &redis.GeoLocation{Name: "x", Longitude: 200, Latitude: 0}).Result())
		},
	}
}

// TestGoRedisGeo runs geoCalls against redis-server and LoomCache under
// RESP2 and RESP3 and compares what the user sees.
func TestGoRedisGeo(t *testing.T) {
	targets := startTargets(t)
	for _, proto := range []int{3, 2} {
		seen := make([][]string, len(targets))
		for i, tg := range targets {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			c := redis.NewClient(&redis.Options{Addr: tg.addr, Protocol: proto})
			if err := c.FlushAll(ctx).Err(); err != nil {
				t.Fatalf("%s: FLUSHALL: %v", tg.name, err)
			}
			for _, call := range geoCalls() {
				seen[i] = append(seen[i], call(ctx, c))
			}
			c.Close()
			cancel()
		}
		for j := range seen[0] {
			if seen[0][j] != seen[1][j] {
				t.Errorf("resp%d call %d:\n%s: %s\n%s: %s", proto, j, targets[0].name, seen[0][j], targets[1].name, seen[1][j])
			}
		}
	}
}
