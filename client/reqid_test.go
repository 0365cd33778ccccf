package client_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loomcache/loomcache/client"
	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/redis/go-redis/v9"
)

// cutConn closes its connection right after a write, now and then, while
// cutting is on: the request went out, its reply is lost.
type cutConn struct {
	net.Conn
	cutting *atomic.Bool
	cuts    *atomic.Int64
}

func (c *cutConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if err == nil && c.cutting.Load() && rand.N(20) == 0 {
		c.cuts.Add(1)
		c.Conn.Close()
	}
	return n, err
}

// TestWritesResentOnce: INCRs, single, pipelined and in transactions,
// from many goroutines while connections are cut after requests went
// out and partitions' leaderships move: every write whose outcome was
// lost is sent again under its request id, no caller sees an error, and
// each counter ends at the number of INCRs acknowledged on it, every
// reply a different value.
func TestWritesResentOnce(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run("P="+strconv.Itoa(p), func(t *testing.T) { testWritesResentOnce(t, p) })
	}
}

func testWritesResentOnce(t *testing.T, P int) {
	var cutting atomic.Bool
	var cuts atomic.Int64
	c, cl := start(t, P, func(o *client.Options, c *nodetest.Cluster) {
		for _, n := range c.Nodes {
			o.Seeds = append(o.Seeds, n.Addr().String())
		}
		o.MaxAttempts = 40
		o.Node.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &cutConn{Conn: nc, cutting: &cutting, cuts: &cuts}, nil
		}
	})
	ctx := context.Background()
	var counters []string
	for g := range P {
		counters = append(counters, nodetest.KeysIn(g, P, 2, "ctr")...)
	}

	var (
		mu      sync.Mutex
		replies = map[string][]int64{} // per counter, the values INCR acknowledged
		txs     = map[string]int64{}   // per hash tag, the transactions acknowledged
		errs    []error
	)
	note := func(k string, v int64, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
			return
		}
		replies[k] = append(replies[k], v)
	}
	stop := make(chan struct{})
	wg := untilStopped(8, stop, func(w, i int) {
		k := counters[(w+i)%len(counters)]
		switch i % 3 {
		case 0:
			v, err := cl.Incr(ctx, k).Result()
			note(k, v, err)
		case 1:
			var incrs []*redis.IntCmd
			_, err := cl.Pipelined(ctx, func(p redis.Pipeliner) error {
				for j := range 4 {
					incrs = append(incrs, p.Incr(ctx, counters[(w+i+j)%len(counters)]))
				}
				return nil
			})
			if err != nil {
				note(k, 0, err)
				return
			}
			for j, in := range incrs {
				note(counters[(w+i+j)%len(counters)], in.Val(), nil)
			}
		case 2:
			tag := "{" + k + "}"
			_, err := cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, tag+"a")
				p.Incr(ctx, tag+"b")
				return nil
			})
			mu.Lock()
			if err != nil {
				errs = append(errs, fmt.Errorf("MULTI %s: %w", tag, err))
			} else {
				txs[tag]++
			}
			mu.Unlock()
		}
	})
	cutting.Store(true)
	moved := 0
	for i := range 4 {
		time.Sleep(300 * time.Millisecond)
		if err := tryTransfer(c, i%P); err != nil {
			t.Logf("transfer %d: %v", i, err) // a busy machine's election; the cuts go on
		} else {
			moved++
		}
	}
	time.Sleep(300 * time.Millisecond)
	cutting.Store(false)
	close(stop)
	wg.Wait()

	for _, err := range errs {
		t.Errorf("a caller saw %v", err)
	}
	total, ntx := 0, int64(0)
	for _, k := range counters {
		vs := replies[k]
		total += len(vs)
		slices.Sort(vs)
		for i, v := range vs {
			if v != int64(i+1) {
				t.Fatalf("%s: the acknowledged INCRs' replies, sorted, have %d at %d, want each of 1 to %d once", k, v, i, len(vs))
			}
		}
		if got, err := cl.Get(ctx, k).Int64(); err != nil || got != int64(len(vs)) {
			t.Errorf("%s = %d (%v), %d INCRs acknowledged", k, got, err, len(vs))
		}
	}
	for tag, n := range txs {
		ntx += n
		a, _ := cl.Get(ctx, tag+"a").Int64()
		b, _ := cl.Get(ctx, tag+"b").Int64()
		if a != n || b != n {
			t.Errorf("%s: a = %d, b = %d, %d transactions acknowledged", tag, a, b, n)
		}
	}
	st := cl.Stats()
	t.Logf("%d INCRs and %d transactions acknowledged, %d connections cut, %d leaderships moved, %+v", total, ntx, cuts.Load(), moved, st)
	if cuts.Load() == 0 || st.Resent == 0 {
		t.Errorf("no write was sent again (%d cuts, %+v)", cuts.Load(), st)
	}
}

// tryTransfer hands partition g's leadership to another node and waits
// until the new leader serves reads; unlike transfer, a failure (an
// election meanwhile, on a busy machine) is returned.
func tryTransfer(c *nodetest.Cluster, g int) error {
	from := c.PartitionLeaders()[g]
	if from == nil {
		return fmt.Errorf("partition %d has no leader", g)
	}
	to := c.Nodes[0]
	if to == from {
		to = c.Nodes[1]
	}
	if err := from.Host().Group(g).TransferLeadership(to.Cfg.ID); err != nil {
		return err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if to.Host().Group(g).Stats().ReadsReady {
			return nil
		}
	}
	return fmt.Errorf("partition %d: %s never led after the transfer", g, to.Cfg.ID)
}
