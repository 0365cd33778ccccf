package compattests

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestMemoryStats compares MEMORY STATS's shape with redis-server's, over
// RESP2 and RESP3: the same fields in the same order with replies of the
// same types, a db.N map for each database holding keys. Its values
// differ by nature; LoomCache's must add up as Redis's definitions say.
// INFO memory's fields must come in Redis's order. MEMORY DOCTOR's
// report of a near-empty instance is Redis's.
func TestMemoryStats(t *testing.T) {
	redis := nodetest.StartRedis(t)
	loom := nodetest.Start(t, server.Config{})
	setup := []string{"FLUSHALL", "SET a 1", "SET b bb EX 1000", "SELECT 3", "SET c ccc"}
	for _, addr := range []string{redis.Addr, loom.Addr().String()} {
		c, err := dial(addr, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range setup {
			r, err := c.do(words(line))
			if err != nil || r.Type == '-' {
				t.Fatalf("%s: %s: %q %v", addr, line, r.Raw, err)
			}
		}
		c.close()
	}
	for _, proto := range []int{2, 3} {
		want := memoryStats(t, redis.Addr, proto)
		got := memoryStats(t, loom.Addr().String(), proto)
		if w, g := statsShape(want), statsShape(got); !slices.Equal(w, g) {
			t.Errorf("RESP%d MEMORY STATS fields\nredis:     %v\nloomcache: %v", proto, w, g)
		}
		if !slices.Contains(statsShape(got), "db.3") || slices.Contains(statsShape(got), "db.1") {
			t.Errorf("RESP%d MEMORY STATS lists %v: want db.0 and db.3 only", proto, statsShape(got))
		}
	}

	// MEMORY DOCTOR on an instance holding almost nothing says so, as
	// Redis's does; compared here, on a redis-server that ran nothing
	// else, because its answer follows the allocator's history.
	for _, proto := range []int{2, 3} {
		var replies []string
		for _, addr := range []string{redis.Addr, loom.Addr().String()} {
			c, err := dial(addr, proto)
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.do(words("MEMORY DOCTOR"))
			c.close()
			if err != nil {
				t.Fatal(err)
			}
			replies = append(replies, string(r.Raw))
		}
		if replies[0] != replies[1] {
			t.Errorf("RESP%d MEMORY DOCTOR\nredis:     %q\nloomcache: %q", proto, replies[0], replies[1])
		}
	}

	// LoomCache's figures, and INFO memory's, add up.
	c, err := dial(loom.Addr().String(), 3)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	st := statsValues(t, memoryStatsOn(t, c))
	info := infoMemory(t, c)
	n := func(name string) int64 {
		v, err := strconv.ParseInt(st[name], 10, 64)
		if err != nil {
			t.Fatalf("%s = %q", name, st[name])
		}
		return v
	}
	f := func(name string) float64 {
		v, err := strconv.ParseFloat(st[name], 64)
		if err != nil {
			t.Fatalf("%s = %q", name, st[name])
		}
		return v
	}
	total, startup, overhead, dataset := n("total.allocated"), n("startup.allocated"), n("overhead.total"), n("dataset.bytes")
	if overhead+dataset != total {
		t.Errorf("overhead.total %d + dataset.bytes %d != total.allocated %d", overhead, dataset, total)
	}
	sum := startup
	for _, name := range []string{"replication.backlog", "clients.slaves", "clients.normal", "cluster.links",
		"aof.buffer", "lua.caches", "functions.caches",
		"db.0.overhead.hashtable.main", "db.0.overhead.hashtable.expires", "db.0.overhead.hashtable.slot-to-keys",
		"db.3.overhead.hashtable.main", "db.3.overhead.hashtable.expires", "db.3.overhead.hashtable.slot-to-keys"} {
		sum += n(name)
	}
	if sum != overhead {
		t.Errorf("overhead.total %d, its parts add up to %d", overhead, sum)
	}
	if n("db.0.overhead.hashtable.main") <= 0 || n("db.3.overhead.hashtable.main") <= 0 || dataset <= 0 {
		t.Errorf("an index or the dataset takes no memory: %v", st)
	}
	if n("keys.count") != 3 || n("keys.bytes-per-key") != (total-startup)/3 {
		t.Errorf("keys.count %d, keys.bytes-per-key %d; total %d, startup %d", n("keys.count"), n("keys.bytes-per-key"), total, startup)
	}
	peak := n("peak.allocated")
	if peak < total {
		t.Errorf("peak.allocated %d < total.allocated %d", peak, total)
	}
	near := func(name string, got, want float64) {
		if math.Abs(got-want) > want*1e-5 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("dataset.percentage", f("dataset.percentage"), float64(dataset)*100/float64(total-startup))
	near("peak.percentage", f("peak.percentage"), float64(total)*100/float64(peak))
	alloc, active, resident := n("allocator.allocated"), n("allocator.active"), n("allocator.resident")
	if !(0 < alloc && alloc <= active && active <= resident) {
		t.Errorf("allocator.allocated %d, active %d, resident %d", alloc, active, resident)
	}
	if n("allocator-fragmentation.bytes") != active-alloc || n("allocator-rss.bytes") != resident-active {
		t.Errorf("allocator byte figures do not follow: %v", st)
	}
	near("allocator-fragmentation.ratio", f("allocator-fragmentation.ratio"), float64(active)/float64(alloc))
	near("allocator-rss.ratio", f("allocator-rss.ratio"), float64(resident)/float64(active))
	rss := resident + n("rss-overhead.bytes")
	near("rss-overhead.ratio", f("rss-overhead.ratio"), float64(rss)/float64(resident))
	if n("fragmentation.bytes") != rss-total {
		t.Errorf("fragmentation.bytes %d, want RSS %d - total.allocated %d", n("fragmentation.bytes"), rss, total)
	}
	near("fragmentation", f("fragmentation"), float64(rss)/float64(total))

	// Nothing was written between: INFO agrees with MEMORY STATS.
	for field, stat := range map[string]string{
		"used_memory": "total.allocated", "used_memory_overhead": "overhead.total",
		"used_memory_startup": "startup.allocated", "used_memory_dataset": "dataset.bytes",
	} {
		if info[field] != st[stat] {
			t.Errorf("INFO %s = %q, MEMORY STATS %s = %q", field, info[field], stat, st[stat])
		}
	}
	if p, _ := strconv.ParseInt(info["used_memory_peak"], 10, 64); p < peak {
		t.Errorf("used_memory_peak %d < peak.allocated %d seen before", p, peak)
	}
	if !strings.HasSuffix(info["used_memory_peak_perc"], "%") || !strings.HasSuffix(info["used_memory_dataset_perc"], "%") {
		t.Errorf("INFO percentages: %q %q", info["used_memory_peak_perc"], info["used_memory_dataset_perc"])
	}
	rc, err := dial(redis.Addr, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.close()
	// Every field INFO memory shows is Redis's, in Redis's order, the
	// peak's and the overhead's among them.
	wantOrder, gotOrder := infoMemoryNames(t, rc), infoMemoryNames(t, c)
	if !isSubsequence(gotOrder, wantOrder) {
		t.Errorf("INFO memory fields out of Redis's order\nredis:     %v\nloomcache: %v", wantOrder, gotOrder)
	}
	for _, name := range []string{"used_memory_peak", "used_memory_peak_human", "used_memory_peak_perc",
		"used_memory_overhead", "used_memory_startup", "used_memory_dataset", "used_memory_dataset_perc"} {
		if _, ok := info[name]; !ok {
			t.Errorf("INFO memory has no %s", name)
		}
	}
}

func words(line string) [][]byte {
	var a [][]byte
	for _, w := range strings.Fields(line) {
		a = append(a, []byte(w))
	}
	return a
}

func memoryStats(t *testing.T, addr string, proto int) Reply {
	t.Helper()
	c, err := dial(addr, proto)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	return memoryStatsOn(t, c)
}

func memoryStatsOn(t *testing.T, c *conn) Reply {
	t.Helper()
	r, err := c.do(words("MEMORY STATS"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// statsShape lists a MEMORY STATS reply's header and fields, each field
// with its value's type byte; a db.N field's nested map is listed after
// it the same way.
func statsShape(r Reply) []string {
	out := []string{string(r.Header)}
	for i := 0; i+1 < len(r.Elems); i += 2 {
		name, v := string(bulk(r.Elems[i])), r.Elems[i+1]
		out = append(out, name, string(v.Type))
		if v.Type == '%' || v.Type == '*' {
			out = append(out, statsShape(v)...)
		}
	}
	return out
}

// statsValues indexes a MEMORY STATS reply's values by name, a db.N map's
// as "db.N.field".
func statsValues(t *testing.T, r Reply) map[string]string {
	t.Helper()
	m := make(map[string]string)
	var walk func(prefix string, r Reply)
	walk = func(prefix string, r Reply) {
		for i := 0; i+1 < len(r.Elems); i += 2 {
			name, v := prefix+string(bulk(r.Elems[i])), r.Elems[i+1]
			switch v.Type {
			case '%', '*':
				walk(name+".", v)
			case ':', ',':
				m[name] = string(v.Header[1:])
			default:
				m[name] = string(bulk(v))
			}
		}
	}
	walk("", r)
	return m
}

// infoMemoryText returns INFO memory's text.
func infoMemoryText(t *testing.T, c *conn) string {
	t.Helper()
	r, err := c.do(words("INFO memory"))
	if err != nil || (r.Type != '$' && r.Type != '=') {
		t.Fatalf("INFO memory: %q %v", r.Raw, err)
	}
	text := string(r.Raw[strings.Index(string(r.Raw), "\r\n")+2:])
	return strings.TrimPrefix(text, "txt:")
}

func infoMemory(t *testing.T, c *conn) map[string]string {
	t.Helper()
	m := make(map[string]string)
	for _, l := range strings.Split(infoMemoryText(t, c), "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = v
		}
	}
	return m
}

func infoMemoryNames(t *testing.T, c *conn) []string {
	t.Helper()
	var names []string
	for _, l := range strings.Split(infoMemoryText(t, c), "\r\n") {
		if k, _, ok := strings.Cut(l, ":"); ok {
			names = append(names, k)
		}
	}
	return names
}

// isSubsequence reports whether every element of sub is in seq, in the
// same order.
func isSubsequence(sub, seq []string) bool {
	i := 0
	for _, s := range seq {
		if i < len(sub) && sub[i] == s {
			i++
		}
	}
	return i == len(sub)
}
