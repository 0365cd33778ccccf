package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/partition"
)

// The function libraries are partition 0's state; a function called
// with a key of partition 1 runs on partition 1's leader against that
// node's copy of partition 0. Cut off from partition 0's leader (the
// third node keeps both groups' majorities), that copy falls behind: a
// library replaced meanwhile must not run in its old version there. The
// call is refused (CLUSTERDOWN) until the node can catch up, and then
// runs the new version.
func TestFunctionReplacedWhileBehind(t *testing.T) {
	c := startCluster(t, shape{nodes: 3, partitions: 3})
	l0, x := spreadLeaders(t, c)
	key := keyOf("k", 1, 3)
	lib := func(v int) string {
		return fmt.Sprintf("#!lua name=reg\nredis.register_function('ver', function(keys, args) return %d end)", v)
	}
	call := func(n *node) (reply, error) {
		cn, err := dial(n.addr, time.Second)
		if err != nil {
			return nil, err
		}
		defer cn.Close()
		return cn.do(10*time.Second, "FCALL", "ver", "1", key)
	}
	load := func(v int) {
		t.Helper()
		cn, err := dial(l0.addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer cn.Close()
		if r, err := cn.do(10*time.Second, "FUNCTION", "LOAD", "REPLACE", lib(v)); err != nil || r != "reg" {
			t.Fatalf("FUNCTION LOAD REPLACE version %d via %s: %v %v", v, l0.id, r, err)
		}
	}

	load(1)
	if r, err := call(x); err != nil || r != int64(1) {
		t.Fatalf("FCALL via %s (partition 1's leader): %v %v, want 1", x.id, r, err)
	}
	c.net.Cut([]string{x.id}, []string{l0.id})
	c.net.Cut([]string{l0.id}, []string{x.id})
	load(2)
	r, err := call(x)
	t.Logf("FCALL via %s, cut off from partition 0's leader %s, after version 2 was loaded: %v %v", x.id, l0.id, r, err)
	if r == int64(1) {
		t.Errorf("FCALL via %s ran version 1 of the library after version 2's load was acknowledged", x.id)
	}
	if e, ok := r.(errorReply); r != int64(2) && !(ok && strings.HasPrefix(string(e), "CLUSTERDOWN ")) {
		t.Errorf("FCALL via %s: %v %v, want 2 or CLUSTERDOWN", x.id, r, err)
	}
	c.net.Heal()
	deadline := time.Now().Add(leaderBound)
	for {
		r, err := call(x)
		if err == nil && r == int64(2) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("FCALL via %s after the heal: %v %v, want 2", x.id, r, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// spreadLeaders waits until partitions 0 and 1 are led by two different
// nodes and returns them.
func spreadLeaders(t *testing.T, c *cluster) (l0, l1 *node) {
	t.Helper()
	deadline := time.Now().Add(2 * leaderBound)
	for {
		f, err := raftInfo(c.nodes[0])
		if err == nil {
			leaders := map[string]string{}
			for _, p := range []string{"partition0", "partition1"} {
				for _, kv := range strings.Split(f[p], ",") {
					if v, ok := strings.CutPrefix(kv, "leader="); ok {
						leaders[p] = v
					}
				}
			}
			a, b := leaders["partition0"], leaders["partition1"]
			if a != "" && b != "" && a != b {
				for _, n := range c.nodes {
					if n.id == a {
						l0 = n
					}
					if n.id == b {
						l1 = n
					}
				}
				return l0, l1
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("partitions 0 and 1 not led by two nodes: %v %v", f, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// keyOf returns a key of partition p of n that starts with prefix.
func keyOf(prefix string, p, n int) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("%s%d", prefix, i)
		if partition.Of([]byte(k), n) == p {
			return k
		}
	}
}
