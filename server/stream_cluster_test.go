package server_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// Consumers of one group blocked in XREADGROUP on every node of a
// cluster, most of them through followers, share the entries XADDed on
// the leader: every entry is delivered once, to one consumer, and every
// node ends with the same PEL and the same ids ("*" ids are decided from
// the leader's clock in the op). An XREAD BLOCK through a follower wakes
// too.
func TestStreamGroupsAcrossNodes(t *testing.T) {
	cl := nodetest.StartCluster(t, 3, nil)
	nodes := append([]*nodetest.InProcess{cl.Leader()}, cl.Followers()...)
	ctx := context.Background()
	clients := make([]*redis.Client, len(nodes))
	for i, n := range nodes {
		clients[i] = redis.NewClient(&redis.Options{Addr: n.Addr().String(), MaxRetries: -1, ReadTimeout: -1})
		t.Cleanup(func() { clients[i].Close() })
	}
	leader, follower := clients[0], clients[1]
	if err := follower.XGroupCreateMkStream(ctx, "s", "g", "$").Err(); err != nil {
		t.Fatal(err)
	}

	// A plain reader through a follower.
	type xreadReply struct {
		res []redis.XStream
		err error
	}
	xread := make(chan xreadReply, 1)
	go func() {
		res, err := clients[2].XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "$"}, Block: 0}).Result()
		xread <- xreadReply{res, err}
	}()

	const consumers, entries = 6, 30
	got := make(chan string, entries)
	done := make(chan struct{})
	for i := 0; i < consumers; i++ {
		rc := clients[i%len(clients)]
		name := fmt.Sprintf("c%d", i)
		go func() {
			for {
				res, err := rc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: name,
					Streams: []string{"s", ">"}, Count: 1, Block: 300 * time.Millisecond}).Result()
				select {
				case <-done:
					return
				default:
				}
				if err != nil {
					continue // redis.Nil: timed out, block again
				}
				for _, m := range res[0].Messages {
					got <- m.ID
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // let them block
	var added []string
	for i := 0; i < entries; i++ {
		id, err := leader.XAdd(ctx, &redis.XAddArgs{Stream: "s", Values: []string{"n", fmt.Sprint(i)}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		added = append(added, id)
	}
	var delivered []string
	timeout := time.After(time.Minute)
	for len(delivered) < entries {
		select {
		case id := <-got:
			delivered = append(delivered, id)
		case <-timeout:
			t.Fatalf("delivered %d of %d entries", len(delivered), entries)
		}
	}
	close(done)
	slices.Sort(delivered)
	if !slices.Equal(delivered, added) {
		t.Fatalf("delivered %v, want each of %v once", delivered, added)
	}
	select {
	case r := <-xread:
		if r.err != nil || len(r.res) != 1 || len(r.res[0].Messages) == 0 || r.res[0].Messages[0].ID != added[0] {
			t.Fatalf("XREAD through a follower got %v (%v), want %s first", r.res, r.err, added[0])
		}
	case <-time.After(time.Minute):
		t.Fatal("XREAD BLOCK through a follower was not woken")
	}
	// Every node holds the same ids and the same PEL (stale reads of the
	// node's own keyspace: READONLY).
	for i, n := range nodes {
		rc := redis.NewClient(&redis.Options{Addr: n.Addr().String(), OnConnect: func(ctx context.Context, c *redis.Conn) error {
			return c.ReadOnly(ctx).Err()
		}})
		eventually(t, fmt.Sprintf("node %d's PEL", i), func() bool {
			p, err := rc.XPending(ctx, "s", "g").Result()
			return err == nil && p.Count == entries
		})
		msgs, err := rc.XRange(ctx, "s", "-", "+").Result()
		if err != nil || len(msgs) != entries || msgs[0].ID != added[0] || msgs[entries-1].ID != added[entries-1] {
			t.Fatalf("node %d holds %v (%v)", i, msgs, err)
		}
		rc.Close()
	}
}
