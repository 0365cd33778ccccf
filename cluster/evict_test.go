package cluster

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Eviction under faults. Every cluster of the suite runs with maxmemory
// and volatile-lru, and a filler writes keys with a TTL through every
// node for the whole run, so the leader proposes EvictKeys throughout
// every fault, interleaved with the workload's writes (and forwarded
// batches, restarts, snapshots). The workload's keys have no TTL:
// eviction never takes them, so porcupine's checks stand as they are.
// What eviction must keep is checked after the run: every node within
// the bound, every node with the same keys, and evictions done.

const (
	faultMaxmemory = 1 << 20
	fillValue      = 4096
	// fillSlack is what used memory may exceed the bound by: the writes
	// let in after the eviction that made room for them.
	fillSlack = 256 << 10
)

// evictionArgs are the eviction settings every node of the suite gets.
func evictionArgs() []string {
	return []string{"--maxmemory", strconv.Itoa(faultMaxmemory), "--maxmemory-policy", "volatile-lru"}
}

// fill writes keys with a TTL through the nodes in turn, 50 at a time in
// one pipeline, until ctx ends, then closes done. Its replies are not
// checked: faults refuse some writes and leave others unknown.
func fill(ctx context.Context, c *cluster, done chan<- struct{}) {
	defer close(done)
	val := strings.Repeat("f", fillValue)
	cmds := make([][]string, 50)
	for i, seq := 0, 0; ctx.Err() == nil; i++ {
		time.Sleep(20 * time.Millisecond)
		n := c.nodes[i%len(c.nodes)]
		if !n.serving() {
			continue
		}
		cn, err := dial(n.addr, 200*time.Millisecond)
		if err != nil {
			continue
		}
		// One hashtag per pipeline: with several partitions, a pipeline
		// of one partition goes to its leader as one batch.
		for j := range cmds {
			cmds[j] = []string{"SET", fmt.Sprintf("fill:{%d}:%d", i, seq), val, "EX", "3600"}
			seq++
		}
		cn.pipeline(2*time.Second, cmds, func(int, reply) {})
		cn.Close()
	}
}

// checkEviction reads every node's own state (READONLY) once the nodes
// have converged: the same number of keys everywhere, used memory within
// the bound, and, with counted, evictions counted. The nodes are read one
// after the other, and a write still in flight (a forward or a native
// client's retry outliving the workload) may be applied between two
// reads: only numbers that still differ once the nodes have converged
// again, a few times over, are a divergence.
func checkEviction(c *cluster, counted bool) (evicted int, err error) {
	for try := 0; ; try++ {
		evicted, err = checkEvictionOnce(c, counted)
		if !errors.Is(err, errSizesDiffer) || try == 4 {
			return evicted, err
		}
		time.Sleep(200 * time.Millisecond)
		if err := c.waitConverged(); err != nil {
			return 0, err
		}
	}
}

var errSizesDiffer = errors.New("the nodes hold different numbers of keys")

func checkEvictionOnce(c *cluster, counted bool) (evicted int, err error) {
	var sizes []string
	for _, n := range c.launchedNodes() {
		cn, err := dial(n.addr, time.Second)
		if err != nil {
			return 0, fmt.Errorf("%s: %v", n.id, err)
		}
		r, err := cn.do(5*time.Second, "READONLY")
		if err == nil && r != "OK" {
			err = fmt.Errorf("READONLY: %v", r)
		}
		var size reply
		if err == nil {
			size, err = cn.do(5*time.Second, "DBSIZE")
		}
		var mem, stats reply
		if err == nil {
			mem, err = cn.do(5*time.Second, "INFO", "memory")
		}
		if err == nil {
			stats, err = cn.do(5*time.Second, "INFO", "stats")
		}
		cn.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %v", n.id, err)
		}
		sizes = append(sizes, fmt.Sprint(size))
		used, _ := strconv.Atoi(infoValue(fmt.Sprint(mem), "used_memory"))
		if used == 0 || used > faultMaxmemory+fillSlack {
			return 0, fmt.Errorf("%s: used_memory %d, maxmemory %d", n.id, used, faultMaxmemory)
		}
		e, _ := strconv.Atoi(infoValue(fmt.Sprint(stats), "evicted_keys"))
		evicted += e
	}
	if !same(sizes) {
		return 0, fmt.Errorf("%w: %s", errSizesDiffer, strings.Join(sizes, ", "))
	}
	if counted && evicted == 0 {
		return 0, fmt.Errorf("no eviction happened (DBSIZE %s)", sizes[0])
	}
	return evicted, nil
}

// infoValue returns a field of an INFO reply, "" if absent.
func infoValue(info, field string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}
