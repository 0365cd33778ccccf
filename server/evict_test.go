package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/server"
)

// Eviction under maxmemory: the limit is what a keyspace holding
// evictRoom keys of 5 bytes with values of 100 counts. A write is let in
// while used memory is not over the limit, so evictRoom+1 keys fit.
const (
	evictRoom = 100
	// entryBytes is about what one such key adds: its allocation and its
	// share of the index.
	entryBytes = 128
	// slack is what a write may add after the eviction that made room
	// for it: its own key (and a little).
	slack = 2 * entryBytes
	oom   = "-OOM command not allowed when used memory > 'maxmemory'."
)

var (
	value100  = strings.Repeat("v", 100)
	maxmemory = usedFor(evictRoom)
)

// usedFor is the used memory of a node holding n of the tests' keys.
func usedFor(n int) int {
	ks := keyspace.New(16)
	for i := 0; i < n; i++ {
		ks.DB(0).Set([]byte(evictKey("k", i)), keyspace.NewString([]byte(value100)), 0)
	}
	return int(ks.UsedMemory())
}

func evictKey(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }

func infoInt(t *testing.T, c *rawConn, section, field string) int {
	t.Helper()
	n, err := strconv.Atoi(infoField(c.str("INFO", section), field))
	if err != nil {
		t.Fatalf("INFO %s %s: %v", section, field, err)
	}
	return n
}

// evictNode starts a node with maxmemory and the policy, and a client.
func evictNode(t *testing.T, policy string) *rawConn {
	t.Helper()
	n := nodetest.Start(t, server.Config{Directives: [][2]string{
		{"maxmemory", strconv.Itoa(maxmemory)}, {"maxmemory-policy", policy},
	}})
	return dialRaw(t, n.Addr().String())
}

// setWithin writes key and checks that used memory stays within the
// bound; it returns the reply.
func setWithin(t *testing.T, c *rawConn, args ...string) string {
	t.Helper()
	r := c.str(append([]string{"SET"}, args...)...)
	if used := infoInt(t, c, "memory", "used_memory"); used > maxmemory+slack {
		t.Fatalf("after SET %s: used_memory %d, maxmemory %d", args[0], used, maxmemory)
	}
	return r
}

func keySet(t *testing.T, c *rawConn) map[string]bool {
	t.Helper()
	keys := map[string]bool{}
	for _, k := range c.do("KEYS", "*").([]any) {
		keys[k.(string)] = true
	}
	return keys
}

func survivors(keys map[string]bool, prefix string, n int) int {
	alive := 0
	for i := 0; i < n; i++ {
		if keys[evictKey(prefix, i)] {
			alive++
		}
	}
	return alive
}

// noeviction refuses denyoom writes with Redis's OOM error and keeps
// every key; reads and deletes still run, and make room again.
func TestMaxmemoryNoEviction(t *testing.T) {
	c := evictNode(t, "noeviction")
	written := 0
	for ; written < 2*evictRoom; written++ {
		if r := c.str("SET", evictKey("k", written), value100); r != "OK" {
			if r != oom {
				t.Fatalf("SET past maxmemory: %q, want %q", r, oom)
			}
			break
		}
	}
	if written != evictRoom+1 {
		t.Fatalf("%d keys written before OOM, room for %d", written, evictRoom)
	}
	for _, cmd := range [][]string{{"APPEND", "k0000", "x"}, {"INCR", "n"}, {"SETNX", "x", "1"}, {"MSET", "a", "1"}} {
		if r := c.str(cmd...); r != oom {
			t.Errorf("%v over maxmemory: %q", cmd, r)
		}
	}
	if r := c.do("GET", "k0000"); r != value100 {
		t.Errorf("GET over maxmemory: %v", r)
	}
	if r := c.str("EXPIRE", "k0000", "100"); r != "1" {
		t.Errorf("EXPIRE (not denyoom) over maxmemory: %q", r)
	}
	if n := len(keySet(t, c)); n != written {
		t.Errorf("%d keys after OOM, want all %d", n, written)
	}
	if n := infoInt(t, c, "stats", "evicted_keys"); n != 0 {
		t.Errorf("evicted_keys %d under noeviction", n)
	}
	if r := c.str("DEL", "k0001", "k0002"); r != "2" {
		t.Fatalf("DEL over maxmemory: %q", r)
	}
	if r := c.str("SET", "again", "v"); r != "OK" {
		t.Errorf("SET once under maxmemory again: %q", r)
	}
}

// allkeys-lru keeps the keys read lately over those nobody touched.
func TestMaxmemoryAllkeysLRU(t *testing.T) {
	c := evictNode(t, "allkeys-lru")
	for i := 0; i < evictRoom; i++ {
		setWithin(t, c, evictKey("o", i), value100)
	}
	// Access times have Redis's resolution, a second.
	time.Sleep(1100 * time.Millisecond)
	for i := 0; i < 20; i++ { // the hot keys: o0000..o0019
		c.do("GET", evictKey("o", i))
	}
	time.Sleep(1100 * time.Millisecond)
	for i := 0; i < 50; i++ {
		setWithin(t, c, evictKey("n", i), value100)
	}
	keys := keySet(t, c)
	if hot := survivors(keys, "o", 20); hot < 18 {
		t.Errorf("%d of the 20 keys read lately survived", hot)
	}
	if fresh := survivors(keys, "n", 50); fresh < 45 {
		t.Errorf("%d of the 50 keys written last survived", fresh)
	}
	if ev := infoInt(t, c, "stats", "evicted_keys"); ev < 45 || ev > 60 {
		t.Errorf("evicted_keys %d, want about 50", ev)
	}
}

// allkeys-lfu keeps the keys read often over the rest.
func TestMaxmemoryAllkeysLFU(t *testing.T) {
	c := evictNode(t, "allkeys-lfu")
	for i := 0; i < evictRoom; i++ {
		setWithin(t, c, evictKey("o", i), value100)
	}
	for round := 0; round < 10; round++ {
		for i := 0; i < 20; i++ {
			c.do("GET", evictKey("o", i))
		}
	}
	if f := c.str("OBJECT", "FREQ", "o0000"); f == "5" || strings.HasPrefix(f, "-") {
		t.Errorf("OBJECT FREQ of a key read 10 times: %q", f)
	}
	for i := 0; i < 50; i++ {
		setWithin(t, c, evictKey("n", i), value100)
	}
	if hot := survivors(keySet(t, c), "o", 20); hot < 18 {
		t.Errorf("%d of the 20 keys read often survived", hot)
	}
}

func TestMaxmemoryAllkeysRandom(t *testing.T) {
	c := evictNode(t, "allkeys-random")
	for i := 0; i < 3*evictRoom; i++ {
		setWithin(t, c, evictKey("k", i), value100)
	}
	if n := len(keySet(t, c)); n < evictRoom-5 || n > evictRoom+1 {
		t.Errorf("%d keys left, room for %d", n, evictRoom)
	}
	if ev := infoInt(t, c, "stats", "evicted_keys"); ev < 2*evictRoom-1 {
		t.Errorf("evicted_keys %d, want at least %d", ev, 2*evictRoom-1)
	}
}

// volatile-lru, -lfu and -random evict only keys with a TTL; once none is
// left, a write is refused as under noeviction.
func TestMaxmemoryVolatile(t *testing.T) {
	for _, policy := range []string{"volatile-lru", "volatile-lfu", "volatile-random"} {
		t.Run(policy, func(t *testing.T) {
			c := evictNode(t, policy)
			for i := 0; i < evictRoom/2; i++ {
				setWithin(t, c, evictKey("t", i), value100, "EX", "1000")
				setWithin(t, c, evictKey("p", i), value100)
			}
			written := 0
			for ; written < evictRoom; written++ {
				r := c.str("SET", evictKey("n", written), value100)
				if r == oom {
					break
				}
				if r != "OK" {
					t.Fatalf("SET: %q", r)
				}
			}
			keys := keySet(t, c)
			if ttl := survivors(keys, "t", evictRoom/2); ttl > 1 {
				t.Errorf("%d keys with a TTL left at OOM", ttl)
			}
			if p := survivors(keys, "p", evictRoom/2); p != evictRoom/2 {
				t.Errorf("%d of %d keys without a TTL survived", p, evictRoom/2)
			}
			if n := survivors(keys, "n", written); n != written {
				t.Errorf("%d of the %d keys written survived", n, written)
			}
			if written < evictRoom/2-2 || written == evictRoom {
				t.Errorf("%d writes before OOM, want about %d", written, evictRoom/2)
			}
		})
	}
}

// volatile-ttl evicts the nearest deadlines first, and never a key
// without one.
func TestMaxmemoryVolatileTTL(t *testing.T) {
	c := evictNode(t, "volatile-ttl")
	const withTTL = 60
	for i := 0; i < withTTL; i++ {
		setWithin(t, c, evictKey("t", i), value100, "EX", strconv.Itoa(1000+10*i))
	}
	for i := 0; i < evictRoom-withTTL; i++ {
		setWithin(t, c, evictKey("p", i), value100)
	}
	for i := 0; i < 30; i++ {
		if r := setWithin(t, c, evictKey("n", i), value100); r != "OK" {
			t.Fatalf("SET: %q", r)
		}
	}
	keys := keySet(t, c)
	var evicted []int
	for i := 0; i < withTTL; i++ {
		if !keys[evictKey("t", i)] {
			evicted = append(evicted, i)
		}
	}
	near := 0
	for _, i := range evicted {
		if i < 30 {
			near++
		}
	}
	if len(evicted) < 28 || near < 2*len(evicted)/3 || slices.Max(evicted) >= withTTL-10 {
		t.Errorf("evicted the keys of deadline ranks %v, want mostly the 30 nearest", evicted)
	}
	if p := survivors(keys, "p", evictRoom-withTTL); p != evictRoom-withTTL {
		t.Errorf("%d of %d keys without a TTL survived", p, evictRoom-withTTL)
	}
}

// A maxmemory lowered at run time is reached by the background eviction,
// with no write to trigger it.
func TestMaxmemoryLoweredEvictsInBackground(t *testing.T) {
	n := nodetest.Start(t, server.Config{Directives: [][2]string{{"maxmemory-policy", "allkeys-random"}}})
	c := dialRaw(t, n.Addr().String())
	for i := 0; i < 2*evictRoom; i++ {
		c.str("SET", evictKey("k", i), value100)
	}
	if r := c.str("CONFIG", "SET", "maxmemory", strconv.Itoa(maxmemory)); r != "OK" {
		t.Fatalf("CONFIG SET maxmemory: %q", r)
	}
	eventually(t, "used memory under the new maxmemory", func() bool {
		return infoInt(t, c, "memory", "used_memory") <= maxmemory
	})
}

// On a cluster the leader evicts for everyone: every node holds the bound
// and ends with the same keys and the same evicted_keys, whichever node
// the writes came through; noeviction's refusal comes back through a
// follower as it is.
func TestMaxmemoryCluster(t *testing.T) {
	cl := nodetest.StartCluster(t, 3, func(_ int, cfg *server.Config) {
		cfg.Directives = [][2]string{{"maxmemory", strconv.Itoa(maxmemory)}, {"maxmemory-policy", "allkeys-lru"}}
	})
	leader := cl.Leader()
	var conns []*rawConn
	for _, n := range append([]*nodetest.InProcess{leader}, cl.Followers()...) {
		conns = append(conns, dialRaw(t, n.Addr().String()))
	}
	for i := 0; i < 3*evictRoom; i++ {
		if r := setWithin(t, conns[i%3], evictKey("k", i), value100); r != "OK" {
			t.Fatalf("SET through node %d: %q", i%3, r)
		}
	}
	for _, c := range conns[1:] {
		if r := c.str("READONLY"); r != "OK" {
			t.Fatalf("READONLY: %q", r)
		}
	}
	// The leader's background eviction may still be proposing after the
	// last SET returned, so each follower is compared with the leader as it
	// is now, until they agree.
	for i, c := range conns[1:] {
		eventually(t, fmt.Sprintf("follower %d to have the leader's keys", i+1), func() bool {
			return sameKeys(keySet(t, conns[0]), keySet(t, c)) &&
				infoInt(t, c, "stats", "evicted_keys") == infoInt(t, conns[0], "stats", "evicted_keys")
		})
		if used := infoInt(t, c, "memory", "used_memory"); used > maxmemory+slack {
			t.Errorf("follower %d: used_memory %d, maxmemory %d", i+1, used, maxmemory)
		}
	}
	want := keySet(t, conns[0])
	if ev := infoInt(t, conns[0], "stats", "evicted_keys"); len(want) > evictRoom+1 || ev < 2*evictRoom-1 {
		t.Fatalf("leader: %d keys, %d evicted", len(want), ev)
	}

	for _, c := range conns {
		if r := c.str("CONFIG", "SET", "maxmemory-policy", "noeviction"); r != "OK" {
			t.Fatalf("CONFIG SET: %q", r)
		}
	}
	f := dialRaw(t, cl.Followers()[0].Addr().String())
	for i := 0; i < 5; i++ {
		if r := f.str("SET", evictKey("x", i), value100); r != "OK" && r != oom {
			t.Fatalf("SET through a follower: %q", r)
		}
	}
	if r := f.str("SET", "one-more", value100); r != oom {
		t.Errorf("SET through a follower over maxmemory under noeviction: %q, want %q", r, oom)
	}
}

// Every eviction directive is settable at startup, under its Redis name,
// with CONFIG SET's checks; a bad one stops the node, naming it.
func TestMaxmemoryDirectivesAtStartup(t *testing.T) {
	set := [][2]string{
		{"maxmemory", "2mb"}, {"maxmemory-policy", "VOLATILE-TTL"}, {"maxmemory-samples", "10"},
		{"maxmemory-eviction-tenacity", "0"}, {"lfu-log-factor", "0"}, {"lfu-decay-time", "0"},
	}
	n := nodetest.Start(t, server.Config{Directives: set})
	c := dialRaw(t, n.Addr().String())
	for _, want := range [][2]string{
		{"maxmemory", "2097152"}, {"maxmemory-policy", "volatile-ttl"}, {"maxmemory-samples", "10"},
		{"maxmemory-eviction-tenacity", "0"}, {"lfu-log-factor", "0"}, {"lfu-decay-time", "0"},
	} {
		if got := c.do("CONFIG", "GET", want[0]); fmt.Sprint(got) != fmt.Sprint([]any{want[0], want[1]}) {
			t.Errorf("CONFIG GET %s = %v, want %s", want[0], got, want[1])
		}
	}
	refusedAtStartup(t, [][2]string{
		{"maxmemory-samples", "0"}, {"maxmemory-eviction-tenacity", "101"},
		{"lfu-log-factor", "-1"}, {"lfu-decay-time", "x"}, {"maxmemory", "lots"},
	})
}

// An LFU policy given at startup reaches the keyspace: OBJECT FREQ counts.
func TestMaxmemoryLFUAtStartup(t *testing.T) {
	n := nodetest.Start(t, server.Config{Directives: [][2]string{{"maxmemory-policy", "allkeys-lfu"}, {"lfu-log-factor", "0"}}})
	c := dialRaw(t, n.Addr().String())
	c.str("SET", "k", "v")
	for i := 0; i < 3; i++ {
		c.do("GET", "k")
	}
	if got := c.str("OBJECT", "FREQ", "k"); got != "8" {
		t.Errorf("OBJECT FREQ after 3 reads with lfu-log-factor 0: %q, want 8", got)
	}
}

func sameKeys(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}
