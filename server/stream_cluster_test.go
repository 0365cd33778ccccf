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

// A leader restart while consumers on the followers read a group: no
// entry is delivered as new to two consumers (a delivery is a replicated
// write), and every entry ends in the group's PEL.
func TestStreamGroupAcrossLeaderRestart(t *testing.T) {
	cl := nodetest.StartCluster(t, 3, nil)
	ctx := context.Background()
	leader := cl.Leader()
	var followers []*redis.Client
	for _, n := range cl.Followers() {
		rc := redis.NewClient(&redis.Options{Addr: n.Addr().String(), MaxRetries: -1, ReadTimeout: -1})
		t.Cleanup(func() { rc.Close() })
		followers = append(followers, rc)
	}
	eventually(t, "the group", func() bool {
		err := followers[0].XGroupCreateMkStream(ctx, "s", "g", "$").Err()
		return err == nil || err.Error() == "BUSYGROUP Consumer Group name already exists"
	})
	got := make(chan string, 100)
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	for i := 0; i < 6; i++ {
		rc := followers[i%2]
		name := fmt.Sprintf("c%d", i)
		go func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				res, err := rc.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "g", Consumer: name,
					Streams: []string{"s", ">"}, Count: 1, Block: 200 * time.Millisecond}).Result()
				if err != nil {
					time.Sleep(20 * time.Millisecond) // timed out, or no leader yet
					continue
				}
				for _, m := range res[0].Messages {
					got <- m.ID
				}
			}
		}()
	}
	const entries = 40
	for i := 1; i <= entries; i++ {
		if i == entries/2 {
			for j, n := range cl.Nodes {
				if n == leader {
					cl.Restart(j)
				}
			}
		}
		id := fmt.Sprintf("%d-0", i)
		eventually(t, "XADD "+id, func() bool {
			err := followers[i%2].XAdd(ctx, &redis.XAddArgs{Stream: "s", ID: id, Values: []string{"n", id}}).Err()
			// An earlier try whose outcome was unknown may have added it.
			return err == nil || err.Error() == "ERR The ID specified in XADD is equal or smaller than the target stream top item"
		})
	}
	eventually(t, "every entry pending", func() bool {
		p, err := followers[0].XPending(ctx, "s", "g").Result()
		return err == nil && p.Count == entries
	})
	seen := map[string]bool{}
	for {
		select {
		case id := <-got:
			if seen[id] {
				t.Fatalf("%s delivered as new twice", id)
			}
			seen[id] = true
			continue
		case <-time.After(500 * time.Millisecond):
		}
		break
	}
	if len(seen) == 0 {
		t.Fatal("nothing was delivered")
	}
	t.Logf("%d of %d entries' deliveries were answered (the rest were lost with the leader)", len(seen), entries)
}
