package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// NOLOOP, a blocked command's invalidation and scripts' tracking, byte
// for byte as Redis: a NOLOOP connection is sent no invalidation of its
// own writes (a command, a transaction; in BCAST mode, the keys it
// changed are left out of the prefix's push) and is of everyone else's;
// a BLMOVE woken by a push gets its reply before the invalidation its
// move caused; a script's declared keys are tracked only once it calls a
// read-only command.
func TestTrackingNoLoopAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	const (
		nl  = 0 // RESP3, NOLOOP
		wr  = 1 // writer
		bn  = 2 // RESP3, BCAST NOLOOP
		blk = 3 // RESP3, blocked in BLMOVE
		sc  = 4 // RESP3, runs scripts
	)
	steps := []psStep{
		{wr, []string{"FLUSHALL"}, 1},
		{nl, []string{"HELLO", "3"}, 1},
		{nl, []string{"CLIENT", "TRACKING", "ON", "NOLOOP"}, 1},
		{nl, []string{"GET", "a"}, 1},
		{nl, []string{"SET", "a", "1"}, 1},
		{nl, []string{"PING"}, 1}, // nothing before its reply
		{nl, []string{"GET", "a"}, 1},
		{wr, []string{"SET", "a", "2"}, 1},
		{nl, nil, 1},
		{nl, []string{"GET", "b"}, 1},
		{nl, []string{"MULTI"}, 1},
		{nl, []string{"SET", "b", "1"}, 1},
		{nl, []string{"INCR", "c"}, 1},
		{nl, []string{"EXEC"}, 1},
		{nl, []string{"PING"}, 1},
		{nl, []string{"GET", "b"}, 1},
		{wr, []string{"SET", "b", "2"}, 1},
		{nl, nil, 1},
		{nl, []string{"GET", "c"}, 1},
		{nl, []string{"EVAL", "return redis.call('incr', KEYS[1])", "1", "c"}, 1},
		{nl, []string{"PING"}, 1},
		{nl, []string{"CLIENT", "TRACKINGINFO"}, 1},

		{bn, []string{"HELLO", "3"}, 1},
		{bn, []string{"CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "n:", "NOLOOP"}, 1},
		{bn, []string{"SET", "n:1", "x"}, 1},
		{bn, []string{"PING"}, 1},
		{wr, []string{"MSET", "n:2", "y", "n:3", "z"}, 1},
		{bn, nil, 1},
		{bn, []string{"MSET", "n:4", "y", "m:1", "z"}, 1},
		{bn, []string{"PING"}, 1},

		{blk, []string{"HELLO", "3"}, 1},
		{blk, []string{"CLIENT", "TRACKING", "ON"}, 1},
		{wr, []string{"RPUSH", "l2", "a"}, 1},
		{blk, []string{"LRANGE", "l2", "0", "-1"}, 1},
		{blk, []string{"BLMOVE", "l1", "l2", "LEFT", "LEFT", "0"}, 0},
		{wr, []string{"PING"}, 1},
		{wr, []string{"RPUSH", "l1", "foo"}, 1},
		{blk, nil, 2}, // the reply, then the invalidation

		{sc, []string{"HELLO", "3"}, 1},
		{sc, []string{"CLIENT", "TRACKING", "ON"}, 1},
		{sc, []string{"EVAL", "redis.call('set', 's3', 'bar')", "2", "s1", "s2"}, 1},
		{wr, []string{"MSET", "s1", "1", "s2", "1"}, 1},
		{sc, []string{"PING"}, 1}, // nothing was tracked
		{sc, []string{"EVAL", "return redis.call('get', 's3')", "2", "s1", "s2"}, 1},
		{wr, []string{"MSET", "s2", "2", "s1", "2"}, 1},
		{sc, nil, 2},
		{sc, []string{"EVAL_RO", "return redis.call('ping')", "2", "s1", "s2"}, 1},
		{wr, []string{"MSET", "s2", "3", "s1", "3"}, 1},
		{sc, []string{"PING"}, 1},
	}
	comparePubSubScript(t, node.Addr().String(), redis.Addr, 5, steps, "")
}

// NOLOOP across nodes: a NOLOOP client on a follower, whose writes the
// leader applies first, is not sent the invalidations of its own writes
// when its node applies them, and is sent another client's.
func TestTrackingNoLoopAcrossNodes(t *testing.T) {
	c := startPartitioned(t, 1)
	leader, follower := c.Leader(), c.Followers()[0]
	nl := dialRaw(t, follower.Addr().String())
	wr := dialRaw(t, leader.Addr().String())
	nl.do("HELLO", "3")
	if r := nl.str("CLIENT", "TRACKING", "ON", "NOLOOP"); r != "OK" {
		t.Fatal(r)
	}
	for i := range 20 {
		k := fmt.Sprintf("k%d", i%3)
		nl.do("GET", k)
		nl.do("SET", k, "mine")
		nl.do("INCR", "n"+k) // not read: never tracked
		// Its node applied its writes before it replied: an invalidation
		// of them would be here before PONG.
		if r := nl.do("PING"); r != "PONG" {
			t.Fatalf("write %d: %v before PONG", i, r)
		}
	}
	nl.do("GET", "k0")
	if r := wr.str("SET", "k0", "theirs"); r != "OK" {
		t.Fatal(r)
	}
	nl.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := nl.read()
	if err != nil || fmt.Sprint(r) != "[invalidate [k0]]" {
		t.Fatalf("another client's write: %v %v", r, err)
	}
}
