package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// TestFollowerReadsNotStale is the stale-read negative test of reads on
// followers (docs/consistency.md, "Reads on followers"). A follower is
// cut off holding k=1 while the leader's side acknowledges k=2. Through
// that follower a READONLY connection (which opts into the follower's
// own state) reads 1: the follower does hold the stale value, and
// porcupine calls the history with that read Illegal, so the check can
// catch a stale read. A default connection to the same follower, whose
// reads the follower serves itself at a read index, must not read 1: with
// no leader reachable it is refused, and once the partition heals it
// reads 2, a history porcupine accepts.
func TestFollowerReadsNotStale(t *testing.T) {
	c := startCluster(t, shape{nodes: 3})
	l, f := c.leader(), c.followers()[0]
	h := newHistory()
	const key = "stale:k"
	open := func(n *node, readonly bool) *conn {
		cn, err := dial(n.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cn.Close() })
		if readonly {
			if r, err := cn.do(5*time.Second, "READONLY"); err != nil || r != "OK" {
				t.Fatalf("READONLY: %v %v", r, err)
			}
		}
		return cn
	}
	leader, def, ro := open(l, false), open(f, false), open(f, true)
	// call sends in on cn as client id and records it.
	call := func(id int, cn *conn, n *node, in input, timeout time.Duration) output {
		args := []string{"GET", key}
		if in.op == opSet {
			args = []string{"SET", key, in.arg}
		}
		start := h.now()
		r, err := cn.do(timeout, args...)
		out, _ := outcome(in, r, err)
		h.add(record{client: id, node: n.id, in: in, out: out, call: start, ret: h.now()})
		return out
	}
	set := func(v string) {
		if out := call(0, leader, l, input{op: opSet, key: key, arg: v}, 10*time.Second); out.res != resOK {
			t.Fatalf("SET %s through the leader: %+v", key, out)
		}
	}
	get := input{op: opGet, key: key}

	set("1")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r, _ := ro.do(5*time.Second, "GET", key); r == "1" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the follower never applied k=1")
		}
		time.Sleep(10 * time.Millisecond)
	}

	c.net.Isolate(f.id)
	set("2")
	if out := call(1, ro, f, get, 5*time.Second); out.res != resOK || out.val != "1" {
		t.Fatalf("READONLY GET on the cut-off follower: %+v, want its own stale 1", out)
	}
	if out := call(2, def, f, get, 15*time.Second); out.res == resOK {
		t.Errorf("default GET on the cut-off follower answered %q after 2 was acknowledged: a stale read", out.val)
	} else {
		t.Logf("default GET on the cut-off follower: %v (%s)", out.res, out.error)
	}
	c.net.Heal()
	if out := call(2, open(f, false), f, get, 15*time.Second); out.res != resOK || out.val != "2" {
		t.Errorf("default GET on the follower after the heal: %+v, want 2", out)
	}

	recs := h.records()
	if res, _, _ := linearizable(recs, nil, 10*time.Second, ""); res != porcupine.Illegal {
		t.Errorf("the history with the READONLY stale read: porcupine says %v, want Illegal", res)
	}
	var reads []record
	for _, r := range recs {
		if r.client != 1 {
			reads = append(reads, r)
		}
	}
	if res, n, _ := linearizable(reads, nil, 10*time.Second, ""); res != porcupine.Ok {
		t.Errorf("the history of default reads through the follower: porcupine says %v on %d ops, want Ok", res, n)
	}
	if t.Failed() {
		var b strings.Builder
		for _, r := range recs {
			b.WriteString(r.in.String() + " via " + r.node + ": " + r.out.show(r.in.op) + "\n")
		}
		t.Log("history:\n" + b.String())
	}
}
