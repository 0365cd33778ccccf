package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// notifyScript is a command of every family whose events differ: what
// each changes (or does not), "new" keys, deletions of emptied
// collections, renames and moves, deadlines in the past, reads that miss.
var notifyScript = [][]string{
	{"SET", "foo", "bar"}, {"SET", "foo", "bar", "EX", "100"}, {"SETNX", "foo", "x"}, {"SETNX", "foo2", "x"},
	{"GETSET", "foo", "y"}, {"MSET", "a", "1", "b", "2"}, {"MSETNX", "a", "1", "c", "3"},
	{"INCR", "n"}, {"INCRBY", "n", "5"}, {"DECR", "n"}, {"INCRBYFLOAT", "f", "1.5"},
	{"APPEND", "s", "abc"}, {"APPEND", "s", "def"}, {"SETRANGE", "s", "1", "X"}, {"SETRANGE", "s2", "0", ""},
	{"GETDEL", "s"}, {"GETEX", "foo", "EX", "100"}, {"GETEX", "foo", "PERSIST"}, {"GETEX", "foo", "PERSIST"},
	{"SET", "k", "v", "KEEPTTL"}, {"GETEX", "k", "PXAT", "1"},
	{"EXPIRE", "a", "100"}, {"PEXPIRE", "a", "-1"}, {"PERSIST", "b"}, {"DEL", "a", "b", "nothere"},
	{"RENAME", "foo", "foo3"}, {"SET", "dst", "old"}, {"RENAME", "foo3", "dst"}, {"RENAMENX", "dst", "foo4"},
	{"COPY", "foo4", "cp"}, {"COPY", "foo4", "cp", "REPLACE"}, {"MOVE", "cp", "1"},
	{"LPUSH", "l", "a", "b", "c"}, {"RPUSH", "l", "d"}, {"LPUSHX", "nol", "a"}, {"LPOP", "l"}, {"RPOP", "l"},
	{"LSET", "l", "0", "z"}, {"LINSERT", "l", "BEFORE", "z", "y"}, {"LREM", "l", "1", "y"}, {"LREM", "l", "1", "no"},
	{"LTRIM", "l", "0", "0"}, {"LTRIM", "nol", "0", "1"}, {"LMOVE", "l", "l2", "LEFT", "RIGHT"},
	{"RPUSH", "l3", "a", "b"}, {"RPOPLPUSH", "l3", "l3"}, {"LMOVE", "l3", "l4", "LEFT", "LEFT"},
	{"LMOVE", "l3", "l4", "LEFT", "LEFT"}, {"LMPOP", "2", "nol", "l4", "RIGHT", "COUNT", "5"},
	{"SADD", "s1", "a", "b", "c"}, {"SADD", "s1", "a"}, {"SREM", "s1", "a", "x"}, {"SREM", "s1", "x"},
	{"SPOP", "s1"}, {"SADD", "t2", "a", "b"}, {"SMOVE", "t2", "t3", "a"}, {"SMOVE", "t2", "t3", "b"},
	{"SADD", "s4", "x", "y"}, {"SINTERSTORE", "s5", "s4", "t3"}, {"SUNIONSTORE", "s6", "s4", "t3"},
	{"SDIFFSTORE", "s6", "s4", "s4"}, {"SPOP", "s4", "10"},
	{"HSET", "h", "a", "1", "b", "2"}, {"HMSET", "h", "c", "3"}, {"HSETNX", "h", "a", "5"}, {"HDEL", "h", "x"},
	{"HDEL", "h", "a", "b", "c"}, {"HINCRBY", "h2", "a", "1"}, {"HINCRBYFLOAT", "h2", "b", "1.5"},
	{"ZADD", "z", "1", "a", "2", "b"}, {"ZADD", "z", "1", "a"}, {"ZINCRBY", "z", "1", "a"}, {"ZADD", "z", "XX", "5", "no"},
	{"ZREM", "z", "a"}, {"ZADD", "z", "1", "a", "2", "c", "3", "d", "4", "e"}, {"ZREMRANGEBYRANK", "z", "0", "0"},
	{"ZREMRANGEBYSCORE", "z", "2", "2"}, {"ZREMRANGEBYLEX", "z", "[d", "[d"}, {"ZPOPMIN", "z"}, {"ZPOPMAX", "z", "5"},
	{"ZADD", "z1", "1", "a", "2", "b"}, {"ZRANGESTORE", "z2", "z1", "0", "-1"}, {"ZRANGESTORE", "z2", "z1", "5", "6"},
	{"ZUNIONSTORE", "z3", "1", "z1"}, {"ZINTERSTORE", "z4", "2", "z1", "nothere"}, {"ZMPOP", "1", "z1", "MIN"},
	{"RPUSH", "sl", "3", "1", "2"}, {"SORT", "sl", "STORE", "sl2"}, {"SORT", "nothere", "STORE", "sl2"},
	{"PFADD", "hl", "a", "b"}, {"PFADD", "hl", "a"}, {"PFCOUNT", "hl"}, {"PFCOUNT", "hl", "nohl"}, {"PFMERGE", "hl2", "hl", "nohl"}, {"PFMERGE", "hl2"},
	{"MULTI"}, {"SET", "m1", "a"}, {"LPUSH", "m2", "x"}, {"EXEC"},
	{"EVAL", "redis.call('set', KEYS[1], 'x') redis.call('del', KEYS[1]) return redis.call('lpush', KEYS[2], 'a')", "2", "e1", "e2"},
	{"GET", "nokey"}, {"HGET", "noh", "f"}, {"MGET", "sl2", "none"}, {"EXISTS", "nokey"}, {"TYPE", "nokey"},
	{"TTL", "nokey"}, {"SMEMBERS", "nos"}, {"ZUNION", "1", "noz"},
	{"SWAPDB", "0", "1"}, {"SWAPDB", "0", "1"}, {"FLUSHDB"},
}

// keyspaceEvents runs notifyScript against addr with every class of
// event on and returns what a PSUBSCRIBE * client received, as
// "channel payload".
func keyspaceEvents(t *testing.T, addr string) []string {
	c, sub := dialRaw(t, addr), dialRaw(t, addr)
	if r := c.str("CONFIG", "SET", "notify-keyspace-events", "KEAnm"); r != "OK" {
		t.Fatalf("CONFIG SET: %s", r)
	}
	if r := fmt.Sprint(sub.do("PSUBSCRIBE", "*")); r != "[psubscribe * 1]" {
		t.Fatalf("PSUBSCRIBE: %s", r)
	}
	for _, cmd := range notifyScript {
		c.do(cmd...)
	}
	c.do("SET", "__end__", "x")
	var out []string
	sub.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		r, err := sub.read()
		if err != nil {
			t.Fatalf("after %q: %v", out, err)
		}
		m, _ := r.([]any)
		if len(m) != 4 || m[0] != "pmessage" {
			t.Fatalf("not a pmessage: %v", r)
		}
		ev := fmt.Sprint(m[2], " ", m[3])
		if ev == "__keyevent@0__:set __end__" {
			return out
		}
		out = append(out, ev)
	}
}

// Keyspace notifications name the events Redis names, in its order, for
// every family's commands, inside MULTI and scripts, for "new" keys and
// read misses; CONFIG GET prints the classes as Redis does.
func TestKeyspaceEventsAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	got := keyspaceEvents(t, node.Addr().String())
	want := keyspaceEvents(t, redis.Addr)
	if !slices.Equal(got, want) {
		t.Errorf("events differ:\n got %q\nwant %q", got, want)
	}
	if len(want) < 200 {
		t.Fatalf("only %d events from Redis: the script is not exercising them", len(want))
	}
	for _, flags := range []string{"gKE", "$lshzxeKE", "KA", "EA", "Kmn", "", "AKEmn"} {
		var answers []string
		for _, addr := range []string{node.Addr().String(), redis.Addr} {
			c := dialRaw(t, addr)
			c.do("CONFIG", "SET", "notify-keyspace-events", flags)
			answers = append(answers, fmt.Sprint(c.do("CONFIG", "GET", "notify-keyspace-events")))
		}
		if answers[0] != answers[1] {
			t.Errorf("CONFIG GET after %q: %s, Redis %s", flags, answers[0], answers[1])
		}
	}
	c := dialRaw(t, node.Addr().String())
	if r := c.do("CONFIG", "SET", "notify-keyspace-events", "KQ"); !strings.Contains(fmt.Sprint(r), "Invalid event class character") {
		t.Errorf("bad class: %v", r)
	}
}

// Every node publishes the same keyspace events in the same order: a
// subscriber on each node, writers on every node, keys that expire (the
// leader's deletes) and keys evicted (the leader's EvictKeys). With one
// partition the whole sequence is the same everywhere; with several,
// each key's.
func TestKeyspaceEventsSameOnEveryNode(t *testing.T) {
	for _, p := range []int{1, 3} {
		t.Run(fmt.Sprintf("P=%d", p), func(t *testing.T) { eventsOnEveryNode(t, p) })
	}
}

func eventsOnEveryNode(t *testing.T, partitions int) {
	c := startPartitioned(t, partitions)
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr().String())
	}
	const ends = 30 // end keys: in every partition, surely
	type result struct {
		events []string
		err    error
	}
	results := make([]chan result, len(addrs))
	for i, addr := range addrs {
		if r := dialRaw(t, addr).str("CONFIG", "SET", "notify-keyspace-events", "KEA"); r != "OK" {
			t.Fatal(r)
		}
		sub := dialRaw(t, addr)
		if r := fmt.Sprint(sub.do("PSUBSCRIBE", "__keyspace@0__:*")); r != "[psubscribe __keyspace@0__:* 1]" {
			t.Fatal(r)
		}
		results[i] = make(chan result, 1)
		go func() {
			var out []string
			seen := map[string]bool{}
			sub.nc.SetReadDeadline(time.Now().Add(2 * time.Minute))
			for len(seen) < ends {
				r, err := sub.read()
				if err != nil {
					results[i] <- result{out, err}
					return
				}
				m, _ := r.([]any)
				if len(m) != 4 {
					results[i] <- result{out, fmt.Errorf("not a pmessage: %v", r)}
					return
				}
				key := strings.TrimPrefix(m[2].(string), "__keyspace@0__:")
				if strings.HasPrefix(key, "end:") {
					seen[key] = true
					continue
				}
				out = append(out, key+" "+m[3].(string))
			}
			results[i] <- result{out, nil}
		}()
	}
	// Writers on every node at once.
	var wg sync.WaitGroup
	for w, addr := range addrs {
		wc := dialRaw(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				k := fmt.Sprintf("k%d", i%7)
				cmds := [][]string{
					{"SET", k, "v"}, {"INCR", "n" + k}, {"LPUSH", "l" + k, "x", "y"}, {"RPOP", "l" + k},
					{"HSET", "h" + k, "f", strconv.Itoa(i)}, {"ZADD", "z" + k, strconv.Itoa(i), "m"},
					{"DEL", k}, {"SET", fmt.Sprintf("ttl:%d:%d", w, i), "v", "PX", "50"}, {"EXPIRE", "n" + k, "1000"},
				}
				for _, cmd := range cmds {
					if _, err := doQuiet(wc, cmd...); err != nil {
						t.Errorf("writer %d: %v: %v", w, cmd, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	// The TTL keys expire: wait until every node applied their deletes.
	for _, addr := range addrs {
		ac := dialRaw(t, addr)
		deadline := time.Now().Add(30 * time.Second)
		for {
			ks := fmt.Sprint(ac.do("INFO", "keyspace"))
			if strings.Contains(ks, "expires=7,") {
				break // only the EXPIRE'd counters are left
			}
			if time.Now().After(deadline) {
				t.Fatalf("TTL keys not deleted: %s", ks)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// Evict the rest: every leader proposes the deletions.
	for _, addr := range addrs {
		ac := dialRaw(t, addr)
		ac.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
		ac.do("CONFIG", "SET", "maxmemory", "1")
	}
	for _, addr := range addrs {
		ac := dialRaw(t, addr)
		deadline := time.Now().Add(30 * time.Second)
		for ac.str("DBSIZE") != "0" {
			if time.Now().After(deadline) {
				t.Fatalf("%s: DBSIZE %s under maxmemory 1", addr, ac.str("DBSIZE"))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, addr := range addrs {
		dialRaw(t, addr).do("CONFIG", "SET", "maxmemory", "0")
	}
	ec := dialRaw(t, addrs[0])
	for i := range ends {
		if r := ec.str("SET", fmt.Sprintf("end:%d", i), "x"); r != "OK" {
			t.Fatal(r)
		}
	}
	var all [][]string
	for i := range addrs {
		r := <-results[i]
		if r.err != nil {
			t.Fatalf("subscriber on node %d after %d events: %v", i+1, len(r.events), r.err)
		}
		all = append(all, r.events)
	}
	count := func(evs []string, name string) int {
		n := 0
		for _, e := range evs {
			if strings.HasSuffix(e, " "+name) {
				n++
			}
		}
		return n
	}
	if n := count(all[0], "expired"); n != 3*60 {
		t.Errorf("%d expired events, want %d", n, 3*60)
	}
	if count(all[0], "evicted") == 0 {
		t.Error("no evicted events")
	}
	for i := 1; i < len(all); i++ {
		if partitions == 1 {
			if !slices.Equal(all[i], all[0]) {
				t.Errorf("node %d's events differ from node 1's:\n%q\n%q", i+1, all[i], all[0])
			}
			continue
		}
		if a, b := byKey(all[i]), byKey(all[0]); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("node %d's events per key differ from node 1's:\n%v\n%v", i+1, a, b)
		}
	}
}

// byKey groups "key event" lines by key, in order.
func byKey(evs []string) map[string][]string {
	out := map[string][]string{}
	for _, e := range evs {
		k, ev, _ := strings.Cut(e, " ")
		out[k] = append(out[k], ev)
	}
	return out
}
