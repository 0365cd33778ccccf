package client_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loomcache/loomcache/client"
	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
	"github.com/redis/go-redis/v9"
)

const crossslot = "CROSSSLOT Keys in request don't hash to the same slot"

// start runs 3 in-process nodes with p partitions, waits until the
// leaderships are spread, and connects a client seeded with one node
// (tweak may change that and the rest of the options).
func start(t *testing.T, p int, tweak func(*client.Options, *nodetest.Cluster)) (*nodetest.Cluster, *client.Client) {
	t.Helper()
	c := nodetest.StartCluster(t, 3, func(_ int, cfg *server.Config) { cfg.Partitions = p })
	c.WaitSpread()
	opt := client.Options{Seeds: []string{c.Nodes[2].Addr().String()}}
	if tweak != nil {
		tweak(&opt, c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := client.New(ctx, opt)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	t.Cleanup(func() { cl.Close() })
	return c, cl
}

// set sets k to v. The client sends a SET whose outcome was lost again
// under its request id, up to MaxAttempts; should they run out (the
// balancer moving leaderships just after a start), a SET is idempotent,
// so it is sent again here.
func set(t *testing.T, cl *client.Client, k, v string) {
	t.Helper()
	for {
		err := cl.Set(context.Background(), k, v, 0).Err()
		if err == nil {
			return
		}
		if !strings.HasPrefix(err.Error(), "UNKNOWN ") {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
}

// TestDirect: every command of a workload over all partitions (single
// commands, pipelines, transactions, scripts, commands whose keys move
// with their arguments, keyless ones) reaches its partition's leader
// directly: no node forwards anything.
func TestDirect(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run("P="+strconv.Itoa(p), func(t *testing.T) {
			c, cl := start(t, p, nil)
			ctx := context.Background()
			before := c.ForwardRequests()
			for g := range p {
				for _, k := range nodetest.KeysIn(g, p, 20, "d") {
					set(t, cl, k, "v"+k)
					if v, err := cl.Get(ctx, k).Result(); err != nil || v != "v"+k {
						t.Fatalf("GET %s = %q, %v", k, v, err)
					}
					if n, err := cl.Incr(ctx, "{"+k+"}n").Result(); err != nil || n != 1 {
						t.Fatalf("INCR = %d, %v", n, err)
					}
				}
				ks := nodetest.KeysIn(g, p, 2, "m")
				if err := cl.RPush(ctx, ks[0], "a", "b").Err(); err != nil {
					t.Fatal(err)
				}
				// Keys found by COMMAND GETKEYS (LMPOP) and by the scripts' layout.
				if v, _, err := cl.LMPop(ctx, "left", 1, ks[0]).Result(); err != nil || v != ks[0] {
					t.Fatalf("LMPOP %s = %q, %v", ks[0], v, err)
				}
				if v, err := cl.Eval(ctx, "return redis.call('get', KEYS[1])", []string{nodetest.KeysIn(g, p, 1, "d")[0]}).Text(); err != nil || !strings.HasPrefix(v, "vd:") {
					t.Fatalf("EVAL = %q, %v", v, err)
				}
				if _, err := cl.TxPipelined(ctx, func(pp redis.Pipeliner) error {
					pp.Incr(ctx, "{"+ks[1]+"}t")
					pp.Incr(ctx, "{"+ks[1]+"}u")
					return nil
				}); err != nil {
					t.Fatalf("MULTI: %v", err)
				}
			}
			if err := cl.Ping(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			// A pipeline over all partitions.
			var keys []string
			for g := range p {
				keys = append(keys, nodetest.KeysIn(g, p, 10, "d")...)
			}
			cmds, err := cl.Pipelined(ctx, func(pp redis.Pipeliner) error {
				for _, k := range keys {
					pp.Get(ctx, k)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, cmd := range cmds {
				if v := cmd.(*redis.StringCmd).Val(); v != "v"+keys[i] {
					t.Fatalf("pipelined GET %s = %q", keys[i], v)
				}
			}
			if n := c.ForwardRequests() - before; n != 0 {
				t.Errorf("the nodes forwarded %d requests", n)
			}
			// Whole-keyspace commands combine every partition on any node.
			if n, err := cl.DBSize(ctx).Result(); err != nil || n == 0 {
				t.Errorf("DBSIZE = %d, %v", n, err)
			}
		})
	}
}

// TestPipelineOrder: a pipeline of reads and writes over several
// partitions gives every command its own reply, in order.
func TestPipelineOrder(t *testing.T) {
	const P = 3
	_, cl := start(t, P, nil)
	ctx := context.Background()
	pipe := cl.Pipeline()
	type check func() error
	var checks []check
	for i := range 90 {
		k := fmt.Sprintf("o:%d", i)
		set := pipe.Set(ctx, k, i, 0)
		incr := pipe.IncrBy(ctx, k, int64(i))
		get := pipe.Get(ctx, k)
		checks = append(checks, func() error {
			if set.Val() != "OK" || incr.Val() != int64(2*i) || get.Val() != strconv.Itoa(2*i) {
				return fmt.Errorf("%s: SET %q INCRBY %d GET %q", k, set.Val(), incr.Val(), get.Val())
			}
			return nil
		})
		if i%10 == 0 {
			lp := pipe.LPush(ctx, "{"+k+"}s", "x") // a WRONGTYPE next: an error in place
			bad := pipe.Incr(ctx, "{"+k+"}s")
			checks = append(checks, func() error {
				if lp.Val() != 1 || bad.Err() == nil || !strings.HasPrefix(bad.Err().Error(), "WRONGTYPE") {
					return fmt.Errorf("LPUSH %d, INCR on a list: %v", lp.Val(), bad.Err())
				}
				return nil
			})
		}
	}
	cmds, err := pipe.Exec(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
		t.Errorf("Exec: %v, want the first error (WRONGTYPE)", err)
	}
	if len(cmds) != 90*3+9*2 {
		t.Fatalf("%d commands", len(cmds))
	}
	for _, c := range checks {
		if err := c(); err != nil {
			t.Error(err)
		}
	}
}

// TestCrossSlot: keys in several partitions get the server's error, in a
// command, a script and a transaction; a hashtag puts them together.
func TestCrossSlot(t *testing.T) {
	const P = 3
	_, cl := start(t, P, nil)
	ctx := context.Background()
	a, b := nodetest.KeysIn(0, P, 1, "x")[0], nodetest.KeysIn(1, P, 1, "x")[0]
	if err := cl.MSet(ctx, a, 1, b, 2).Err(); err == nil || err.Error() != crossslot {
		t.Errorf("MSET over two partitions: %v", err)
	}
	if err := cl.MGet(ctx, b, a).Err(); err == nil || err.Error() != crossslot {
		t.Errorf("MGET over two partitions: %v", err)
	}
	if err := cl.Eval(ctx, "return 1", []string{a, b}).Err(); err == nil || err.Error() != crossslot {
		t.Errorf("EVAL over two partitions: %v", err)
	}
	_, err := cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, a, 1, 0)
		p.Set(ctx, b, 1, 0)
		return nil
	})
	if err == nil || !strings.HasPrefix(err.Error(), "EXECABORT") {
		t.Errorf("MULTI over two partitions: %v", err)
	}
	if err := cl.MSet(ctx, "{h}a", 1, "{h}b", 2).Err(); err != nil {
		t.Errorf("MSET with a hashtag: %v", err)
	}
	if v, err := cl.MGet(ctx, "{h}a", "{h}b").Result(); err != nil || fmt.Sprint(v) != "[1 2]" {
		t.Errorf("MGET with a hashtag = %v, %v", v, err)
	}
}

// TestWatch: a WATCH transaction runs on its keys' leader and sees a
// change made in between.
func TestWatch(t *testing.T) {
	_, cl := start(t, 3, nil)
	ctx := context.Background()
	k := "{w}k"
	if err := cl.Set(ctx, k, 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := cl.Watch(ctx, func(tx *redis.Tx) error {
		if err := cl.Set(ctx, k, 2, 0).Err(); err != nil { // another client's change
			return err
		}
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, k, 3, 0)
			return nil
		})
		return err
	}, k)
	if err != redis.TxFailedErr {
		t.Errorf("WATCH after a change: %v, want %v", err, redis.TxFailedErr)
	}
	err = cl.Watch(ctx, func(tx *redis.Tx) error {
		_, err := tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Incr(ctx, k)
			return nil
		})
		return err
	}, k)
	if v, _ := cl.Get(ctx, k).Result(); err != nil || v != "3" {
		t.Errorf("WATCH, no change: %v, %s = %q", err, k, v)
	}
}

// workload runs SET then GET of its own keys on every partition from a
// few goroutines until stop is closed; it returns the errors the caller
// saw and the number of rounds.
func workload(ctx context.Context, cl *client.Client, p int, stop chan struct{}) func() ([]error, int) {
	var (
		mu     sync.Mutex
		errs   []error
		rounds int
	)
	wg := untilStopped(4, stop, func(w, i int) {
		for g := range p {
			k := nodetest.KeysIn(g, p, 1, fmt.Sprintf("w%d.%d", w, i%50))[0]
			err := cl.Set(ctx, k, i, 0).Err()
			if err == nil {
				var v string
				if v, err = cl.Get(ctx, k).Result(); err == nil && v != strconv.Itoa(i) {
					err = fmt.Errorf("GET %s = %q, want %d", k, v, i)
				}
			}
			mu.Lock()
			rounds++
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		}
	})
	return func() ([]error, int) {
		wg.Wait()
		return errs, rounds
	}
}

// untilStopped runs fn(w, i) for i = 0, 1, ... on goroutines w = 0 to
// n-1 until stop is closed; wait for them on the WaitGroup returned.
func untilStopped(n int, stop chan struct{}, fn func(w, i int)) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				fn(w, i)
			}
		})
	}
	return &wg
}

// TestTransferFollowed: a partition's leadership moves to another node
// mid-workload, with no error to the caller; moved while the client is
// idle, the old leader's -MOVED sends the next command straight to the
// new one.
func TestTransferFollowed(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run("P="+strconv.Itoa(p), func(t *testing.T) { testTransferFollowed(t, p) })
	}
}

func testTransferFollowed(t *testing.T, P int) {
	// No periodic refresh: the client learns a new leader from a -MOVED
	// (or from the refresh a pause asks for).
	c, cl := start(t, P, func(o *client.Options, _ *nodetest.Cluster) { o.RefreshInterval = time.Hour })
	ctx := context.Background()
	g := P - 1 // the last partition

	// Mid-workload: no error reaches the caller.
	stop := make(chan struct{})
	wait := workload(ctx, cl, P, stop)
	time.Sleep(200 * time.Millisecond)
	transfer(t, c, g)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	errs, rounds := wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors in %d rounds across the transfer, first: %v", len(errs), rounds, errs[0])
	}

	// Idle: the next command goes to the old leader, which answers
	// -MOVED (it knows the new one); the client sends it there, and
	// nothing is forwarded.
	settle(t, c, cl, g)
	moved, fwd := cl.Stats().Redirects, c.ForwardRequests()
	transfer(t, c, g)
	k := nodetest.KeysIn(g, P, 1, "after")[0]
	if err := cl.Set(ctx, k, 1, 0).Err(); err != nil {
		t.Fatalf("SET %s after the transfer: %v", k, err)
	}
	if n := cl.Stats().Redirects - moved; n == 0 {
		t.Errorf("no -MOVED followed after the transfer: %+v", cl.Stats())
	}
	if n := c.ForwardRequests() - fwd; n != 0 {
		t.Errorf("%d requests forwarded after the transfer", n)
	}
}

// settle waits until the leaderships are spread and the client's map
// names partition g's leader (the balancer may still be moving one when
// they first look spread).
func settle(t *testing.T, c *nodetest.Cluster, cl *client.Client, g int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ls := c.WaitSpread()
		if err := cl.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		rc, err := cl.Node(g)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Options().Addr == ls[g].Addr().String() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the client's map never named partition %d's leader", g)
}

// transfer hands partition g's leadership to another node and waits
// until the new leader serves reads and the old one knows it.
func transfer(t *testing.T, c *nodetest.Cluster, g int) {
	t.Helper()
	from := c.PartitionLeaders()[g]
	var to *nodetest.InProcess
	for _, n := range c.Nodes {
		if n != from {
			to = n
			break
		}
	}
	if err := from.Host().Group(g).TransferLeadership(to.Cfg.ID); err != nil {
		t.Fatalf("transfer partition %d to %s: %v", g, to.Cfg.ID, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		id, _ := from.Host().Group(g).Leader()
		if id == to.Cfg.ID && to.Host().Group(g).Stats().ReadsReady {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("partition %d: %s never led after the transfer", g, to.Cfg.ID)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStoppedNode: a node that leads a partition stops; reads of that
// partition recover once another node leads it (the client refreshes and
// backs off in between), and writes go on too.
func TestStoppedNode(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run("P="+strconv.Itoa(p), func(t *testing.T) { testStoppedNode(t, p) })
	}
}

func testStoppedNode(t *testing.T, P int) {
	// Seeded with the one node that stops (partition 0's leader): the
	// map names every voter's address, so the client still finds the
	// others.
	var victim *nodetest.InProcess
	_, cl := start(t, P, func(o *client.Options, c *nodetest.Cluster) {
		victim = c.PartitionLeaders()[0]
		o.Seeds = []string{victim.Addr().String()}
		o.MaxAttempts = 40
		o.RefreshInterval = 100 * time.Millisecond
	})
	ctx := context.Background()
	keys := map[int][]string{}
	for g := range P {
		keys[g] = nodetest.KeysIn(g, P, 5, "s")
		for _, k := range keys[g] {
			set(t, cl, k, "v"+k)
		}
	}
	if err := victim.Stop(); err != nil {
		t.Logf("stop %s: %v", victim.Cfg.ID, err)
	}
	for g := range P {
		for _, k := range keys[g] {
			if v, err := cl.Get(ctx, k).Result(); err != nil || v != "v"+k {
				t.Errorf("GET %s (partition %d) after %s stopped = %q, %v (%+v)", k, g, victim.Cfg.ID, v, err, cl.Stats())
			}
		}
	}
	if err := cl.Set(ctx, keys[0][0], "new", 0).Err(); err != nil {
		t.Errorf("SET after the stop: %v", err)
	}
}

// TestCloseStopsRefresher: Close stops the refresher goroutine (and
// closes the nodes' clients); no goroutine the client started runs
// afterwards.
func TestCloseStopsRefresher(t *testing.T) {
	_, cl := start(t, 3, func(o *client.Options, _ *nodetest.Cluster) { o.RefreshInterval = 10 * time.Millisecond })
	if !stacksHave("created by github.com/loomcache/loomcache/client.New") {
		t.Fatal("no refresher goroutine while the client is open")
	}
	if err := cl.Set(context.Background(), "k", 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := cl.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if stacksHave("created by github.com/loomcache/loomcache/client.") {
		t.Fatal("a goroutine of the client still runs after Close")
	}
	if err := cl.Get(context.Background(), "k").Err(); err == nil {
		t.Error("GET after Close succeeded")
	}
}

// stacksHave reports whether the stacks of all goroutines contain s.
// ("created by" names the function that started a goroutine even when a
// deep stack's frames are elided.)
func stacksHave(s string) bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Contains(string(buf[:n]), s)
		}
		buf = make([]byte, 2*len(buf))
	}
}
