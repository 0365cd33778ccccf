package server_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// publishEverywhere runs TestPubSubAcrossNodes's scenario for one kind
// of subscription: subscribers on every node, a publisher on every node
// publishing at once; every subscriber must get every message, all in
// the same order, each publisher's in the order it published them.
func publishEverywhere(t *testing.T, addrs []string, subscribe, publish, channel string) {
	const perNode, perPublisher = 2, 40
	type result struct {
		sub  int
		msgs []string
		err  error
	}
	out := make(chan result, len(addrs)*perNode)
	total := len(addrs) * perPublisher
	for i := 0; i < len(addrs)*perNode; i++ {
		c := dialRaw(t, addrs[i%len(addrs)])
		if r := c.do(subscribe, channel); fmt.Sprint(r) != fmt.Sprintf("[%s %s 1]", strings.ToLower(subscribe), channel) {
			t.Fatalf("%s: %v", subscribe, r)
		}
		go func() {
			var msgs []string
			c.nc.SetReadDeadline(time.Now().Add(time.Minute))
			for len(msgs) < total {
				r, err := c.read()
				if err != nil {
					out <- result{sub: i, msgs: msgs, err: err}
					return
				}
				v, ok := r.([]any)
				if !ok || len(v) != 3 || v[1] != channel {
					out <- result{sub: i, msgs: msgs, err: fmt.Errorf("unexpected %v", r)}
					return
				}
				msgs = append(msgs, v[2].(string))
			}
			out <- result{sub: i, msgs: msgs}
		}()
	}
	var wg sync.WaitGroup
	for p, addr := range addrs {
		pc := dialRaw(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < perPublisher; j++ {
				r, err := doQuiet(pc, publish, channel, fmt.Sprintf("p%d-%03d", p, j))
				// The reply counts this node's receivers.
				if err != nil || r != strconv.Itoa(perNode) {
					t.Errorf("publisher %d: %v %v", p, r, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	var first []string
	for range len(addrs) * perNode {
		r := <-out
		if r.err != nil {
			t.Fatalf("subscriber %d after %d messages: %v", r.sub, len(r.msgs), r.err)
		}
		if first == nil {
			first = r.msgs
			for p := range addrs {
				var own []string
				for _, m := range r.msgs {
					if m[:len("p0")] == "p"+strconv.Itoa(p) {
						own = append(own, m)
					}
				}
				if len(own) != perPublisher || !slices.IsSorted(own) {
					t.Fatalf("publisher %d's messages out of order or missing: %v", p, own)
				}
			}
			continue
		}
		if !slices.Equal(r.msgs, first) {
			t.Fatalf("subscriber %d saw another order:\n%v\n%v", r.sub, r.msgs, first)
		}
	}
}

// doQuiet is rawConn.do for another goroutine: errors are returned.
func doQuiet(c *rawConn, args ...string) (string, error) {
	var b []byte
	b = fmt.Appendf(b, "*%d\r\n", len(args))
	for _, a := range args {
		b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
	}
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.nc.Write(b); err != nil {
		return "", err
	}
	r, err := c.read()
	s, _ := r.(string)
	return s, err
}

// A message published on any node reaches the subscribers of every node,
// and all of them see the messages in one order (the log's): PUBLISH
// through partition 0's log, SPUBLISH through its channel's partition's.
func TestPubSubAcrossNodes(t *testing.T) {
	c := startPartitioned(t, 3)
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr().String())
	}
	t.Run("publish", func(t *testing.T) { publishEverywhere(t, addrs, "SUBSCRIBE", "PUBLISH", "news") })
	t.Run("spublish", func(t *testing.T) { publishEverywhere(t, addrs, "SSUBSCRIBE", "SPUBLISH", "{user7}inbox") })
	// SSUBSCRIBE's channels must share a partition, as keys must.
	rc := dialRaw(t, addrs[0])
	crossed := false
	for i := 1; i < 100 && !crossed; i++ {
		crossed = fmt.Sprint(rc.do("SSUBSCRIBE", "c0", "c"+strconv.Itoa(i))) == "-CROSSSLOT Keys in request don't hash to the same slot"
	}
	if !crossed {
		t.Fatal("no SSUBSCRIBE across partitions refused with CROSSSLOT")
	}
}

// go-redis's PubSub (RESP3 by default) on a follower, the messages
// published through the leader: PUBLISH's reply counts the receivers on
// the node that answers it.
func TestPubSubGoRedisFlow(t *testing.T) {
	c := startPartitioned(t, 1)
	ctx := context.Background()
	sub := redis.NewClient(&redis.Options{Addr: c.Followers()[0].Addr().String()})
	pub := redis.NewClient(&redis.Options{Addr: c.Leader().Addr().String(), Protocol: 2})
	defer sub.Close()
	defer pub.Close()
	ps := sub.Subscribe(ctx, "orders")
	defer ps.Close()
	receive := func() any {
		t.Helper()
		m, err := ps.ReceiveTimeout(ctx, 30*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m, ok := receive().(*redis.Subscription); !ok || m.Kind != "subscribe" || m.Count != 1 {
		t.Fatalf("subscribe: %v", m)
	}
	if err := ps.PSubscribe(ctx, "ord*"); err != nil {
		t.Fatal(err)
	}
	if m, ok := receive().(*redis.Subscription); !ok || m.Kind != "psubscribe" || m.Count != 2 {
		t.Fatalf("psubscribe: %v", m)
	}
	if n, err := pub.Publish(ctx, "orders", "o1").Result(); err != nil || n != 0 {
		t.Fatalf("PUBLISH through the leader: %d %v (its own receivers: none)", n, err)
	}
	if m, ok := receive().(*redis.Message); !ok || m.Channel != "orders" || m.Pattern != "" || m.Payload != "o1" {
		t.Fatalf("message: %v", m)
	}
	if m, ok := receive().(*redis.Message); !ok || m.Channel != "orders" || m.Pattern != "ord*" || m.Payload != "o1" {
		t.Fatalf("pmessage: %v", m)
	}
	if n, err := sub.Publish(ctx, "orders", "o2").Result(); err != nil || n != 2 {
		t.Fatalf("PUBLISH through the follower: %d %v (its own receivers: 2)", n, err)
	}
	for _, pat := range []string{"", "ord*"} {
		if m, ok := receive().(*redis.Message); !ok || m.Pattern != pat || m.Payload != "o2" {
			t.Fatalf("message: %v", m)
		}
	}
	if err := ps.Unsubscribe(ctx, "orders"); err != nil {
		t.Fatal(err)
	}
	if m, ok := receive().(*redis.Subscription); !ok || m.Kind != "unsubscribe" || m.Count != 1 {
		t.Fatalf("unsubscribe: %v", m)
	}
}
