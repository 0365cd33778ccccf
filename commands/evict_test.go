package commands

import (
	"testing"

	"github.com/loomcache/loomcache/op"
)

func TestApplyEvictKeys(t *testing.T) {
	x := newTester(t)
	for _, line := range []string{"SET a 1", "SET b 1 PX 5000", "SET c 1 PX 10", "SET d 1", "SET e 1 PX 5000"} {
		x.do(line)
	}
	x.node.now += 10 // c expired, not yet deleted
	evict := func(flags uint32, keys ...string) any {
		o := &op.Op{Type: op.EvictKeys, Now: x.node.now, Flags: flags}
		for _, k := range keys {
			o.Args = append(o.Args, []byte(k))
		}
		res, err := x.node.Propose(o)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, c := range []struct {
		name  string
		flags uint32
		keys  []string
		want  int64
	}{
		{"present, absent and expired keys", 0, []string{"a", "nosuch", "c", "a"}, 2},
		{"volatile: only keys with a deadline", op.FlagVolatile, []string{"d", "b"}, 1},
		{"nothing left to delete", 0, []string{"a", "b", "c"}, 0},
	} {
		if got := evict(c.flags, c.keys...); got != c.want {
			t.Errorf("%s: evicted %v, want %d", c.name, got, c.want)
		}
	}
	x.expect("DBSIZE", ":2\r\n") // d and e
	if n := x.ctx.Table.EvictedKeys(); n != 3 {
		t.Errorf("EvictedKeys = %d, want 3", n)
	}
	x.ctx.Table.ResetEvictedKeys()
	if n := x.ctx.Table.EvictedKeys(); n != 0 {
		t.Errorf("EvictedKeys after reset = %d", n)
	}
}

const (
	errNotLFU = "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
	errIsLFU  = "-ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"
)

// Replies recorded from redis-server 7.0.15 for the deterministic steps
// (a new key's counter is 5 and its first access always counts).
func TestObjectFreqAndIdleTimeUnderLFU(t *testing.T) {
	x := newTester(t)
	lfu := func(on bool, logFactor int) {
		x.node.ks.SetAccessPolicy(on, logFactor, 1)
	}
	lfu(true, 10)
	steps := []struct{ line, want string }{
		{"SET k v", "+OK\r\n"},
		{"OBJECT FREQ k", ":5\r\n"},
		{"OBJECT FREQ k", ":5\r\n"}, // OBJECT does not count as an access
		{"GET k", "$1\r\nv\r\n"},
		{"OBJECT FREQ k", ":6\r\n"},
		{"OBJECT IDLETIME k", errIsLFU},
		{"OBJECT FREQ nosuch", "$-1\r\n"},
		{"OBJECT IDLETIME nosuch", "$-1\r\n"},
		{"!advance 180000", ""},
		{"OBJECT FREQ k", ":3\r\n"}, // a minute per lfu-decay-time
		{"!lru", ""},
		{"OBJECT FREQ k", errNotLFU},
		// One access word, as Redis's lru bits: LFU data has no time, so
		// the key counts as just used until an access under LRU.
		{"OBJECT IDLETIME k", ":0\r\n"},
		{"GET k", "$1\r\nv\r\n"},
		{"!advance 180000", ""},
		{"OBJECT IDLETIME k", ":180\r\n"},
		// lfu-log-factor 0 counts every access, so the counts show that a
		// write's lookup of its key is one access, as lookupKeyWrite is.
		{"!lfu0", ""},
		{"SET r v", "+OK\r\n"},
		{"RENAME r r2", "+OK\r\n"},
		{"OBJECT FREQ r2", ":6\r\n"},
		{"EXPIRE r2 100", ":1\r\n"},
		{"PERSIST r2", ":1\r\n"},
		{"OBJECT FREQ r2", ":8\r\n"},
		{"SET r2 w", "+OK\r\n"}, // an overwrite carries the counter on
		{"OBJECT FREQ r2", ":9\r\n"},
		{"COPY r2 c", ":1\r\n"}, // a copy is a new object
		{"OBJECT FREQ c", ":5\r\n"},
		{"OBJECT FREQ r2", ":10\r\n"},
	}
	for _, st := range steps {
		switch st.line {
		case "!advance 180000":
			x.node.now += 180000
		case "!lru":
			lfu(false, 10)
		case "!lfu0":
			lfu(true, 0)
		default:
			x.expect(st.line, st.want)
		}
	}
}
