package server_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/redis/go-redis/v9"
)

// TestPartitionEvictionAndScripts: under maxmemory each node evicts from
// the partitions it leads, so writes spread over every partition keep
// being served and every node's memory settles under the limit; and a
// script may touch only keys of its own partition, nor SORT name keys
// by a pattern.
func TestPartitionEvictionAndScripts(t *testing.T) {
	const P = 3
	// Every node holds all partitions: P keyspaces with room for about
	// evictRoom keys in all.
	limit := P * usedFor(evictRoom/P)
	c := startPartitionedWith(t, P, [][2]string{{"maxmemory", strconv.Itoa(limit)}, {"maxmemory-policy", "allkeys-lru"}})
	ctx := context.Background()
	clients := nodeClients(t, c)
	for i := range 4 * evictRoom {
		if err := clients[i%3].Set(ctx, evictKey("k", i), value100, 0).Err(); err != nil {
			t.Fatalf("SET %d: %v", i, err)
		}
	}
	evicted := 0
	for i, rc := range clients {
		deadline := time.Now().Add(30 * time.Second)
		for {
			used, _ := strconv.Atoi(infoValue(t, rc, "memory", "used_memory"))
			if used <= limit+slack {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("n%d: used_memory %d, maxmemory %d", i+1, used, limit)
			}
			time.Sleep(20 * time.Millisecond)
		}
		n, _ := strconv.Atoi(infoValue(t, rc, "stats", "evicted_keys"))
		evicted += n
	}
	if n, err := clients[0].DBSize(ctx).Result(); err != nil || n > evictRoom+P || evicted == 0 {
		t.Errorf("after eviction: DBSIZE %d (%v), %d evicted (node counts)", n, err, evicted)
	}

	// The rest is not about eviction: without a limit, the keys it
	// writes stay (allkeys-lru may take a key just written, its idle
	// time tied with the oldest's).
	for i, rc := range clients {
		if err := rc.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
			t.Fatalf("n%d: CONFIG SET maxmemory 0: %v", i+1, err)
		}
	}

	// Scripts: their declared keys' partition, and nothing else.
	a, b := nodetest.KeysIn(0, P, 1, "s")[0], nodetest.KeysIn(1, P, 1, "s")[0]
	err := clients[1].Eval(ctx, "redis.call('set', KEYS[1], 1) return redis.call('get', ARGV[1])", []string{a}, b).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "ERR Script attempted to access a non local key in a cluster node") {
		t.Errorf("EVAL touching another partition's key: %v", err)
	}
	if v, err := clients[2].Eval(ctx, "redis.call('set', KEYS[1], 7) return redis.call('get', KEYS[1])", []string{a}).Text(); err != nil || v != "7" {
		t.Errorf("EVAL on its own partition = %q, %v", v, err)
	}

	// SORT's BY and GET patterns name keys of any partition: refused, as
	// Redis Cluster refuses them; BY without a pattern (no sorting) runs.
	l := nodetest.KeysIn(0, P, 1, "sortlist")[0]
	if err := clients[0].RPush(ctx, l, 3, 1, 2).Err(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"SORT", l, "BY", "w_*"}, "ERR BY option of SORT denied in Cluster mode."},
		{[]any{"SORT", l, "GET", "#"}, "ERR GET option of SORT denied in Cluster mode."},
	} {
		for i, rc := range clients {
			if err := rc.Do(ctx, c.args...).Err(); err == nil || err.Error() != c.want {
				t.Errorf("%v via n%d: %v, want %s", c.args, i+1, err, c.want)
			}
		}
	}
	if v, err := clients[1].Do(ctx, "SORT", l, "BY", "nosort").StringSlice(); err != nil || strings.Join(v, ",") != "3,1,2" {
		t.Errorf("SORT BY nosort = %v, %v", v, err)
	}
	if v, err := clients[1].Sort(ctx, l, &redis.Sort{}).Result(); err != nil || strings.Join(v, ",") != "1,2,3" {
		t.Errorf("SORT = %v, %v", v, err)
	}
}

// infoValue reads one field of an INFO section.
func infoValue(t *testing.T, rc *redis.Client, section, field string) string {
	t.Helper()
	s, err := rc.Info(context.Background(), section).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(s, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s", section, field)
	return ""
}

// TestPartitionScriptsCatchUp: a node that does not lead partition 0
// (whose state the scripts are) catches up with what its leader applied
// before it runs a script it does not find: FUNCTION LOAD through one
// node, then FCALL with keys of every partition through every node,
// finds the library every time.
func TestPartitionScriptsCatchUp(t *testing.T) {
	const P = 3
	c := startPartitioned(t, P)
	ls := c.WaitSpread()
	ctx := context.Background()
	clients := nodeClients(t, c)
	for i := range 20 {
		lib := fmt.Sprintf("#!lua name=lib%d\nredis.register_function('f%d', function(keys) return redis.call('incr', keys[1]) end)", i, i)
		leader0 := clients[slices.Index(c.Nodes, ls[0])]
		if err := leader0.FunctionLoad(ctx, lib).Err(); err != nil {
			t.Fatal(err)
		}
		// At once, through every node, on every partition: a leader
		// that does not find f<i> catches up with partition 0 first.
		for g := range P {
			k := nodetest.KeysIn(g, P, 1, "fc")[0]
			for j, rc := range clients {
				if err := rc.FCall(ctx, fmt.Sprintf("f%d", i), []string{k}).Err(); err != nil {
					t.Errorf("round %d: FCALL f%d on partition %d via n%d: %v", i, i, g, j+1, err)
				}
			}
		}
		for j, n := range c.Nodes {
			if n != ls[0] && !n.CatchUpScripts() {
				t.Errorf("round %d: n%d did not catch up with partition 0", i, j+1)
			}
		}
	}
}
