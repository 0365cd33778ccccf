package server_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
	"github.com/redis/go-redis/v9"
)

// startPartitioned runs 3 in-process nodes with p partitions and waits
// until every partition has a leader with reads ready, and the
// leaderships are spread over the nodes (balancing).
func startPartitioned(t *testing.T, p int) *nodetest.Cluster {
	t.Helper()
	return startPartitionedWith(t, p, nil)
}

// startPartitionedWith is startPartitioned with startup directives.
func startPartitionedWith(t *testing.T, p int, directives [][2]string) *nodetest.Cluster {
	t.Helper()
	c := nodetest.StartCluster(t, 3, func(_ int, cfg *server.Config) {
		cfg.Partitions = p
		cfg.Directives = directives
	})
	c.WaitSpread()
	return c
}

// nodeClients returns a go-redis client of each node, closed at cleanup.
func nodeClients(t *testing.T, c *nodetest.Cluster) []*redis.Client {
	var out []*redis.Client
	for _, n := range c.Nodes {
		rc := redis.NewClient(&redis.Options{Addr: n.Addr().String(), MaxRetries: -1})
		t.Cleanup(func() { rc.Close() })
		out = append(out, rc)
	}
	return out
}

// TestPartitionsServeAsOneRedis: with 3 partitions on 3 nodes, every node
// serves every key (forwarding to its partition's leader), commands over
// keys of several partitions get CROSSSLOT (hashtags put keys together),
// and the whole-keyspace commands answer for all partitions at once.
func TestPartitionsServeAsOneRedis(t *testing.T) {
	const P = 3
	c := startPartitioned(t, P)
	ctx := context.Background()
	clients := nodeClients(t, c)
	var all []string
	for i := range 60 {
		k := fmt.Sprintf("key:%d", i)
		all = append(all, k)
		if err := clients[i%3].Set(ctx, k, "v"+k, 0).Err(); err != nil {
			t.Fatalf("SET %s via n%d: %v", k, i%3+1, err)
		}
	}
	for i, rc := range clients {
		for _, k := range all[:10] {
			if v, err := rc.Get(ctx, k).Result(); err != nil || v != "v"+k {
				t.Errorf("GET %s via n%d = %q, %v", k, i+1, v, err)
			}
		}
		if n, err := rc.DBSize(ctx).Result(); err != nil || n != int64(len(all)) {
			t.Errorf("DBSIZE via n%d = %d, %v; want %d", i+1, n, err, len(all))
		}
		keys, err := rc.Keys(ctx, "key:*").Result()
		slices.Sort(keys)
		if want := slices.Sorted(slices.Values(all)); err != nil || !slices.Equal(keys, want) {
			t.Errorf("KEYS via n%d = %v, %v", i+1, keys, err)
		}
		// SCAN: every key once, over the partitions one after another.
		seen := map[string]int{}
		var cursor uint64
		for steps := 0; ; steps++ {
			ks, next, err := rc.Scan(ctx, cursor, "*", 7).Result()
			if err != nil || steps > 1000 {
				t.Fatalf("SCAN %d via n%d: %v (step %d)", cursor, i+1, err, steps)
			}
			for _, k := range ks {
				seen[k]++
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		if len(seen) != len(all) {
			t.Errorf("SCAN via n%d saw %d keys, want %d", i+1, len(seen), len(all))
		}
		if k, err := rc.RandomKey(ctx).Result(); err != nil || !strings.HasPrefix(k, "key:") {
			t.Errorf("RANDOMKEY via n%d = %q, %v", i+1, k, err)
		}
	}

	a, b := nodetest.KeysIn(0, P, 1, "x")[0], nodetest.KeysIn(1, P, 1, "x")[0]
	crossslot := "CROSSSLOT Keys in request don't hash to the same slot"
	for _, cmd := range []*redis.StatusCmd{
		clients[0].MSet(ctx, a, 1, b, 2),
		clients[1].Rename(ctx, a, b),
	} {
		if err := cmd.Err(); err == nil || err.Error() != crossslot {
			t.Errorf("%v: %v, want CROSSSLOT", cmd.Args(), err)
		}
	}
	if err := clients[2].MGet(ctx, a, b).Err(); err == nil || err.Error() != crossslot {
		t.Errorf("MGET over two partitions: %v, want CROSSSLOT", err)
	}
	// Hashtags: one partition.
	if err := clients[0].MSet(ctx, "{u}a", 1, "{u}b", 2).Err(); err != nil {
		t.Fatalf("MSET with a hashtag: %v", err)
	}
	if v, err := clients[1].MGet(ctx, "{u}a", "{u}b").Result(); err != nil || fmt.Sprint(v) != "[1 2]" {
		t.Errorf("MGET with a hashtag = %v, %v", v, err)
	}
	// A transaction over one partition runs; over two it is aborted.
	_, err := clients[2].TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "{u}n")
		p.Incr(ctx, "{u}n")
		return nil
	})
	if v, _ := clients[0].Get(ctx, "{u}n").Result(); err != nil || v != "2" {
		t.Errorf("MULTI over one partition: %v, {u}n = %q", err, v)
	}
	_, err = clients[1].TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, a, 1, 0)
		p.Set(ctx, b, 1, 0)
		return nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
		t.Errorf("MULTI over two partitions: %v, want EXECABORT", err)
	}
	// Scripts run on their keys' partition.
	if v, err := clients[0].Eval(ctx, "return redis.call('incr', KEYS[1])", []string{"{u}n"}).Int(); err != nil || v != 3 {
		t.Errorf("EVAL on {u}n = %d, %v", v, err)
	}
	if err := clients[0].Eval(ctx, "return 1", []string{a, b}).Err(); err == nil || err.Error() != crossslot {
		t.Errorf("EVAL over two partitions: %v, want CROSSSLOT", err)
	}

	if err := clients[1].FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for i, rc := range clients {
		if n, err := rc.DBSize(ctx).Result(); err != nil || n != 0 {
			t.Errorf("DBSIZE via n%d after FLUSHALL = %d, %v", i+1, n, err)
		}
	}
}

// TestPartitionRedirect: RAFT.PARTITIONS names each partition's leader
// and its RESP address, and a RAFT.REDIRECT ON connection gets -MOVED to
// it for a partition another node leads.
func TestPartitionRedirect(t *testing.T) {
	const P = 3
	c := startPartitioned(t, P)
	ls := c.WaitSpread()
	ctx := context.Background()
	n1 := c.Nodes[0]
	rc := redis.NewClient(&redis.Options{Addr: n1.Addr().String(), MaxRetries: -1, PoolSize: 1})
	defer rc.Close()
	// A follower learns a new leader (the balancer's last transfer) with
	// its first message.
	deadline := time.Now().Add(30 * time.Second)
	for g := 0; g < P; {
		if id, _ := n1.Host().Group(g).Leader(); id == ls[g].Cfg.ID {
			g++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("n1 does not know partition %d's leader", g)
		}
		time.Sleep(10 * time.Millisecond)
	}
	parts, err := rc.Do(ctx, "RAFT.PARTITIONS").Slice()
	if err != nil || len(parts) != P {
		t.Fatalf("RAFT.PARTITIONS = %v, %v", parts, err)
	}
	for g, p := range parts {
		m := map[string]any{}
		switch p := p.(type) {
		case map[any]any:
			for k, v := range p {
				m[k.(string)] = v
			}
		default:
			t.Fatalf("partition %d: %T", g, p)
		}
		if m["partition"] != int64(g) || m["leader"] != ls[g].Cfg.ID || m["leader-addr"] != ls[g].Addr().String() {
			t.Errorf("partition %d: %v; want leader %s at %s", g, m, ls[g].Cfg.ID, ls[g].Addr())
		}
		addrs := fmt.Sprint(m["voter-addrs"])
		for _, n := range c.Nodes {
			if !strings.Contains(addrs, n.Addr().String()) {
				t.Errorf("partition %d: voter-addrs %s lacks %s's %s", g, addrs, n.Cfg.ID, n.Addr())
			}
		}
	}
	if err := rc.Do(ctx, "RAFT.REDIRECT", "ON").Err(); err != nil {
		t.Fatal(err)
	}
	for g := range P {
		k := nodetest.KeysIn(g, P, 1, "r")[0]
		err := rc.Set(ctx, k, "v", 0).Err()
		if ls[g] == n1 {
			if err != nil {
				t.Errorf("SET %s (partition %d, led here): %v", k, g, err)
			}
			continue
		}
		if want := fmt.Sprintf("MOVED %d %s", g, ls[g].Addr()); err == nil || err.Error() != want {
			t.Errorf("SET %s (partition %d): %v, want %s", k, g, err, want)
		}
	}
}

// TestPartitionLeaderLossBlocksNoOther: stopping the node that leads one
// partition leaves the other partitions' leaders in place, serving
// writes (their terms do not move), while that partition elects anew.
func TestPartitionLeaderLossBlocksNoOther(t *testing.T) {
	const P = 3
	c := startPartitioned(t, P)
	ls := c.WaitSpread()
	victim := ls[0]
	terms := map[int]uint64{}
	for g, l := range ls {
		if l != victim {
			terms[g] = l.Host().Group(g).Stats().Term
		}
	}
	if len(terms) == 0 {
		t.Fatal("the stopped node led every partition")
	}
	var via *nodetest.InProcess
	for _, n := range c.Nodes {
		if n != victim {
			via = n
		}
	}
	if err := victim.Stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("stop %s: %v", victim.Cfg.ID, err)
	}
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: via.Addr().String(), MaxRetries: -1})
	defer rc.Close()
	for g := range terms {
		for _, k := range nodetest.KeysIn(g, P, 5, "live") {
			if err := rc.Set(ctx, k, "v", 0).Err(); err != nil {
				t.Errorf("SET %s (partition %d) with partition 0's leader gone: %v", k, g, err)
			}
		}
	}
	for g, term := range terms {
		if now := ls[g].Host().Group(g).Stats().Term; now != term {
			t.Errorf("partition %d: term %d -> %d, a leader change", g, term, now)
		}
	}
	// Partition 0 elects a new leader and serves again.
	var err error
	for range 100 {
		if err = rc.Set(ctx, nodetest.KeysIn(0, P, 1, "after")[0], "v", 0).Err(); err == nil {
			break
		}
	}
	if err != nil {
		t.Errorf("partition 0 after its leader stopped: %v", err)
	}
}

// TestPartitionMembership: a node that joins a cluster of 3 partitions
// becomes a voter of every partition's group, holds every partition's
// data, and RAFT.NODE REMOVE takes it out of all of them.
func TestPartitionMembership(t *testing.T) {
	const P = 3
	c := startPartitioned(t, P)
	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: c.Nodes[0].Addr().String(), MaxRetries: -1})
	defer rc.Close()
	for g := range P {
		for _, k := range nodetest.KeysIn(g, P, 3, "m") {
			if err := rc.Set(ctx, k, "v", 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	n4 := c.Join(func(cfg *server.Config) { cfg.Partitions = P })
	voterIn := func(want bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok := n4.Host() != nil
			for g := 0; ok && g < P; g++ {
				members, err := c.Nodes[0].Host().Group(g).Members()
				found := false
				for _, m := range members {
					found = found || m.ID == "n4" && m.Voter
				}
				ok = err == nil && found == want
			}
			if ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("n4 a voter of every partition: want %v", want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	voterIn(true)
	// Its own stores catch up with every partition (READONLY reads them).
	r4 := redis.NewClient(&redis.Options{Addr: n4.Addr().String(), MaxRetries: -1, PoolSize: 1,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error { return cn.ReadOnly(ctx).Err() }})
	defer r4.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := r4.DBSize(ctx).Result()
		if err == nil && n == 3*P {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n4's own DBSIZE = %d, %v; want %d", n, err, 3*P)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := rc.Do(ctx, "RAFT.NODE", "REMOVE", "n4").Err(); err != nil {
		t.Fatalf("RAFT.NODE REMOVE n4: %v", err)
	}
	voterIn(false)
}

// TestPartitionPipelineThroughOneNode: a pipeline sent to one node whose
// commands alternate between the partitions other nodes lead gets the
// replies of the same commands sent one at a time, and goes to those
// leaders as one batch per partition, not one per change of partition.
func TestPartitionPipelineThroughOneNode(t *testing.T) {
	const P = 3
	c := startPartitioned(t, P)
	ls := c.WaitSpread()
	via := c.Nodes[0]
	var others []int
	for g, l := range ls {
		if l != via {
			others = append(others, g)
		}
	}
	var reqs [][]string
	keys := [][]string{nodetest.KeysIn(others[0], P, 10, "pp"), nodetest.KeysIn(others[1], P, 10, "pp")}
	for i := range 10 {
		for _, ks := range keys {
			reqs = append(reqs, []string{"INCR", ks[i]}, []string{"GET", ks[i]})
		}
	}
	forwarded := func() (n uint64) {
		for _, g := range via.Host().Groups() {
			n += g.Stats().ForwardRequests
		}
		return n
	}
	before := forwarded()
	got := pipelined(t, via.Addr().String(), reqs)
	if sent := forwarded() - before; sent > 2 {
		t.Errorf("a pipeline of %d commands over 2 partitions went in %d forwarding requests, want 2", len(reqs), sent)
	}
	again := oneByOne(t, via.Addr().String(), reqs)
	for i := range reqs {
		// The second round finds each counter at 1 and leaves it at 2.
		want := strings.NewReplacer(":1\r\n", ":2\r\n", "$1\r\n1\r\n", "$1\r\n2\r\n").Replace(string(got[i]))
		if string(again[i]) != want {
			t.Errorf("%v: pipelined %q, then one by one %q", reqs[i], got[i], again[i])
		}
	}
}

// TestPartitionLeadersRebalance: the node that led a partition stops, the
// others take its leaderships; once it is back it is handed one again
// (3 partitions on 3 nodes: one each).
func TestPartitionLeadersRebalance(t *testing.T) {
	const P = 3
	c := startPartitioned(t, P)
	ls := c.WaitSpread()
	i := slices.Index(c.Nodes, ls[0])
	if err := c.Nodes[i].Stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Logf("stop: %v", err)
	}
	for g, l := range c.WaitSpread() {
		if l == ls[0] {
			t.Fatalf("partition %d still led by the stopped node", g)
		}
	}
	back := c.Restart(i)
	led := 0
	for _, l := range c.WaitSpread() {
		if l == back {
			led++
		}
	}
	if led != 1 {
		t.Errorf("the returned node leads %d partitions, want 1", led)
	}
}
