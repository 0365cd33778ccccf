package server_test

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// trackingCache is a RESP3 client-side cache as a client library keeps
// one: GET on a miss, the value kept until an invalidation drops it.
type trackingCache struct {
	c      *rawConn
	cached map[string]int64 // 0: the key was absent
}

// handle applies a push; it reports whether frame was one.
func (tc *trackingCache) handle(frame any) (bool, error) {
	p, ok := frame.(push)
	if !ok {
		return false, nil
	}
	if len(p) != 2 || p[0] != "invalidate" {
		return true, fmt.Errorf("unexpected push %v", p)
	}
	if p[1] == nil { // FLUSHALL, FLUSHDB
		clear(tc.cached)
		return true, nil
	}
	keys, _ := p[1].([]any)
	for _, k := range keys {
		delete(tc.cached, k.(string))
	}
	return true, nil
}

// do sends args and returns the reply, handling the pushes before it.
func (tc *trackingCache) do(args ...string) (any, error) {
	tc.c.send(args...)
	for {
		r, err := tc.c.read()
		if err != nil {
			return nil, err
		}
		if isPush, err := tc.handle(r); err != nil || !isPush {
			return r, err
		}
	}
}

// get returns key's value from the cache, or from the server (and caches
// it).
func (tc *trackingCache) get(key string) (int64, error) {
	if v, ok := tc.cached[key]; ok {
		return v, nil
	}
	r, err := tc.do("GET", key)
	if err != nil {
		return 0, err
	}
	var v int64
	if r != nil {
		if v, err = strconv.ParseInt(r.(string), 10, 64); err != nil {
			return 0, fmt.Errorf("GET %s: %v", key, r)
		}
	}
	tc.cached[key] = v
	return v, nil
}

// The client-side caching guarantee (docs/consistency.md, Client-side
// caching) across a cluster. Writers INCR keys through one follower;
// a RESP3 tracking client on every node keeps a cache. At random points
// a client reads the key from its node's own applied state (READONLY: s),
// then sends two PINGs, reading what comes before their replies: every
// invalidation the node generated before s was read has then arrived (the
// first PING's reply releases what its queue held). A cached value older
// than s is a value the client would serve forever: the node applied a
// newer write, and the invalidation it owed was lost or came before the
// reply it invalidates. This fails if the keys of a read are recorded
// after the read is served, or if invalidations are not held until the
// reply of the command in flight.
func TestTrackingGuaranteeAcrossNodes(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader := c.Leader()
	writeNode := c.Followers()[0]
	keys := []string{"k0", "k1", "k2"}
	const writers = 4
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range writers {
		wc := dialRaw(t, writeNode.Addr().String())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				if r, err := doQuiet(wc, "INCR", keys[(w+i)%len(keys)]); err != nil || r == "" {
					t.Errorf("writer %d: %q %v", w, r, err)
					return
				}
			}
		}()
	}
	checks := make([]int, len(c.Nodes))
	for i, n := range c.Nodes {
		tc := &trackingCache{c: dialRaw(t, n.Addr().String()), cached: map[string]int64{}}
		local := dialRaw(t, n.Addr().String())
		if r := local.do("READONLY"); r != "OK" {
			t.Fatalf("READONLY: %v", r)
		}
		tc.c.do("HELLO", "3")
		if r := tc.c.do("CLIENT", "TRACKING", "ON"); r != "OK" {
			t.Fatalf("CLIENT TRACKING ON: %v", r)
		}
		role := "follower"
		if n == leader {
			role = "leader"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for !stop.Load() {
				key := keys[rng.IntN(len(keys))]
				if _, err := tc.get(key); err != nil {
					t.Errorf("node %d: %v", i, err)
					return
				}
				if rng.IntN(4) != 0 {
					continue
				}
				r, err := doQuiet(local, "GET", key)
				if err != nil {
					t.Errorf("node %d: local GET: %v", i, err)
					return
				}
				applied, _ := strconv.ParseInt(r, 10, 64)
				for range 2 {
					if r, err := tc.do("PING"); err != nil || r != "PONG" {
						t.Errorf("node %d: PING: %v %v", i, r, err)
						return
					}
				}
				if v, ok := tc.cached[key]; ok && v < applied {
					t.Errorf("%s node %d: %s cached as %d, but the node had applied %d and no invalidation followed it", role, i, key, v, applied)
					return
				}
				checks[i]++
			}
		}()
	}
	time.Sleep(3 * time.Second)
	stop.Store(true)
	wg.Wait()
	for i, n := range checks {
		if n == 0 {
			t.Errorf("node %d: no check ran", i)
		}
	}
	t.Logf("checks per node: %v", checks)
}
