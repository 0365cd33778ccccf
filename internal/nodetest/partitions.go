package nodetest

import (
	"fmt"
	"time"

	"github.com/loomcache/loomcache/partition"
)

// PartitionLeaders returns, per partition, the running node whose group
// leads it with reads ready (nil for none).
func (c *Cluster) PartitionLeaders() []*InProcess {
	p := c.Nodes[0].Host().Partitions()
	out := make([]*InProcess, p)
	for _, n := range c.Nodes {
		if n.Host() == nil || !n.Running() {
			continue
		}
		for g, grp := range n.Host().Groups() {
			if grp.Stats().ReadsReady {
				out[g] = n
			}
		}
	}
	return out
}

// WaitSpread waits until every partition is led and no running node
// leads two more partitions than another (the balancing is done), and
// returns the leaders; the test fails after a generous bound.
func (c *Cluster) WaitSpread() []*InProcess {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ls := c.PartitionLeaders()
		counts := map[string]int{}
		for _, n := range c.Nodes {
			if n.Running() {
				counts[n.Cfg.ID] = 0
			}
		}
		led := 0
		for _, l := range ls {
			if l != nil {
				counts[l.Cfg.ID]++
				led++
			}
		}
		lo, hi := len(ls), 0
		for _, k := range counts {
			lo, hi = min(lo, k), max(hi, k)
		}
		if led == len(ls) && hi-lo < 2 {
			return ls
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("partitions not led and spread: %v", counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ForwardRequests is the number of requests the running nodes' groups
// forwarded to a leader, all partitions together.
func (c *Cluster) ForwardRequests() uint64 {
	var sum uint64
	for _, n := range c.Nodes {
		if n.Host() == nil || !n.Running() {
			continue
		}
		for _, g := range n.Host().Groups() {
			sum += g.Stats().ForwardRequests
		}
	}
	return sum
}

// KeysIn returns n keys ("prefix:i") of partition g of p.
func KeysIn(g, p, n int, prefix string) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		k := fmt.Sprintf("%s:%d", prefix, i)
		if partition.Of([]byte(k), p) == g {
			out = append(out, k)
		}
	}
	return out
}
