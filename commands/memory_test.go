package commands

import (
	"strconv"
	"strings"
	"testing"
)

// Replies recorded from redis-server 7.0.15 where they do not depend on
// the instance.
func TestMemoryReplies(t *testing.T) {
	x, _ := newServerTester(t)
	help := "*14\r\n+MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n" +
		"+DOCTOR\r\n+    Return memory problems reports.\r\n" +
		"+MALLOC-STATS\r\n+    Return internal statistics report from the memory allocator.\r\n" +
		"+PURGE\r\n+    Attempt to purge dirty pages for reclamation by the allocator.\r\n" +
		"+STATS\r\n+    Return information about the memory usage of the server.\r\n" +
		"+USAGE <key> [SAMPLES <count>]\r\n" +
		"+    Return memory in bytes used by <key> and its value. Nested values are\r\n" +
		"+    sampled up to <count> times (default: 5, 0 means sample all).\r\n" +
		"+HELP\r\n+    Prints this help.\r\n"
	for _, c := range []struct{ line, want string }{
		{"MEMORY HELP", help},
		{"memory help", help},
		{"MEMORY MALLOC-STATS", "$45\r\nStats not supported for the current allocator\r\n"},
		{"MEMORY PURGE", "+OK\r\n"},
		{"MEMORY", "-ERR wrong number of arguments for 'memory' command\r\n"},
		{"MEMORY USAGE", "-ERR wrong number of arguments for 'memory|usage' command\r\n"},
		{"MEMORY STATS x", "-ERR wrong number of arguments for 'memory|stats' command\r\n"},
		{"MEMORY DOCTOR x", "-ERR wrong number of arguments for 'memory|doctor' command\r\n"},
		{"MEMORY PURGE x", "-ERR wrong number of arguments for 'memory|purge' command\r\n"},
		{"MEMORY MALLOC-STATS x", "-ERR wrong number of arguments for 'memory|malloc-stats' command\r\n"},
		{"MEMORY HELP x", "-ERR wrong number of arguments for 'memory|help' command\r\n"},
		{"MEMORY FOO", "-ERR unknown subcommand 'FOO'. Try MEMORY HELP.\r\n"},
		// USAGE checks its arguments before it looks the key up.
		{"MEMORY USAGE nokey", "$-1\r\n"},
		{"MEMORY USAGE nokey SAMPLES 0", "$-1\r\n"},
		{"MEMORY USAGE nokey samples 10 SAMPLES 3", "$-1\r\n"},
		{"MEMORY USAGE nokey SAMPLES", "-ERR syntax error\r\n"},
		{"MEMORY USAGE nokey SAMPLES -1", "-ERR syntax error\r\n"},
		{"MEMORY USAGE nokey SAMPLES abc", "-ERR value is not an integer or out of range\r\n"},
		{"MEMORY USAGE nokey SAMPLES 99999999999999999999", "-ERR value is not an integer or out of range\r\n"},
		{"MEMORY USAGE nokey FOO", "-ERR syntax error\r\n"},
		{"MEMORY USAGE nokey SAMPLES 5 FOO", "-ERR syntax error\r\n"},
		{"MEMORY USAGE nokey SAMPLES abc SAMPLES -1", "-ERR value is not an integer or out of range\r\n"},
		{"MEMORY USAGE nokey SAMPLES -1 SAMPLES abc", "-ERR syntax error\r\n"},
	} {
		x.expect(c.line, c.want)
	}
}

// MEMORY USAGE is the entry's Usage, whatever SAMPLES says, and grows
// with the value.
func TestMemoryUsage(t *testing.T) {
	x, _ := newServerTester(t)
	usage := func(line string) int64 {
		t.Helper()
		r := x.do(line)
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(r, ":"), "\r\n"), 10, 64)
		if !strings.HasPrefix(r, ":") || err != nil {
			t.Fatalf("%s: %q", line, r)
		}
		return n
	}
	entry := func(key string) int64 {
		ks := x.node.ks
		ks.RLock()
		defer ks.RUnlock()
		return ks.DB(0).Get([]byte(key), x.node.now).Usage()
	}
	var last int64
	for _, size := range []int{1, 64, 65, 200, 5000, 100000} {
		key := "v" + strconv.Itoa(size)
		x.expect("SET "+key+" "+strings.Repeat("x", size), "+OK\r\n")
		got := usage("MEMORY USAGE " + key)
		if want := entry(key); got != want {
			t.Errorf("MEMORY USAGE of %d bytes = %d, Entry.Usage = %d", size, got, want)
		}
		if got < int64(size) || got < last {
			t.Errorf("MEMORY USAGE of %d bytes = %d, after %d", size, got, last)
		}
		for _, samples := range []string{" SAMPLES 0", " SAMPLES 1", " samples 5 SAMPLES 100"} {
			if n := usage("MEMORY USAGE " + key + samples); n != got {
				t.Errorf("MEMORY USAGE %s%s = %d, without = %d", key, samples, n, got)
			}
		}
		last = got
	}
	// A string kept as an Object (APPEND makes one) is counted with it.
	x.expect("APPEND grown "+strings.Repeat("y", 100), ":100\r\n")
	if got, want := usage("MEMORY USAGE grown"), entry("grown"); got != want || got < 100 {
		t.Errorf("MEMORY USAGE of an appended string = %d, Entry.Usage = %d", got, want)
	}
	// An expired key is absent; another database's key too.
	x.expect("SET e v PX 10", "+OK\r\n")
	x.node.now += 10
	x.expect("MEMORY USAGE e", "$-1\r\n")
	x.expect("SELECT 1", "+OK\r\n")
	x.expect("MEMORY USAGE v1", "$-1\r\n")
}

// MEMORY STATS writes the server's figures in Redis 7.0's order: a map
// (a flat array in RESP2), integers, and doubles for the ratios.
func TestMemoryStatsReply(t *testing.T) {
	x, srv := newServerTester(t)
	srv.mem = MemoryStats{
		PeakAllocated: 1000, TotalAllocated: 900, StartupAllocated: 500,
		DBs:           []DBMemory{{DB: 0, Main: 64, Expires: 8}, {DB: 3, Main: 32}},
		OverheadTotal: 604, Keys: 4, BytesPerKey: 100, Dataset: 296,
		DatasetPerc: 74, PeakPerc: 90,
		AllocatorAllocated: 2000, AllocatorActive: 3000, AllocatorResident: 6000,
		AllocatorFrag: 1.5, AllocatorFragBytes: 1000, AllocatorRSS: 2, AllocatorRSSBytes: 3000,
		RSSExtra: 1.25, RSSExtraBytes: 1500, TotalFrag: float64(float32(7500) / 900), TotalFragBytes: 6600,
	}
	ints := func(kv ...string) string {
		var b strings.Builder
		for i := 0; i < len(kv); i += 2 {
			b.WriteString("$" + strconv.Itoa(len(kv[i])) + "\r\n" + kv[i] + "\r\n:" + kv[i+1] + "\r\n")
		}
		return b.String()
	}
	body := func(double func(string) string, mapHdr func(int) string) string {
		dbl := func(name, v string) string { return "$" + strconv.Itoa(len(name)) + "\r\n" + name + "\r\n" + double(v) }
		return mapHdr(29) +
			ints("peak.allocated", "1000", "total.allocated", "900", "startup.allocated", "500",
				"replication.backlog", "0", "clients.slaves", "0", "clients.normal", "0", "cluster.links", "0",
				"aof.buffer", "0", "lua.caches", "0", "functions.caches", "0") +
			"$4\r\ndb.0\r\n" + mapHdr(3) +
			ints("overhead.hashtable.main", "64", "overhead.hashtable.expires", "8", "overhead.hashtable.slot-to-keys", "0") +
			"$4\r\ndb.3\r\n" + mapHdr(3) +
			ints("overhead.hashtable.main", "32", "overhead.hashtable.expires", "0", "overhead.hashtable.slot-to-keys", "0") +
			ints("overhead.total", "604", "keys.count", "4", "keys.bytes-per-key", "100", "dataset.bytes", "296") +
			dbl("dataset.percentage", "74") + dbl("peak.percentage", "90") +
			ints("allocator.allocated", "2000", "allocator.active", "3000", "allocator.resident", "6000") +
			dbl("allocator-fragmentation.ratio", "1.5") + ints("allocator-fragmentation.bytes", "1000") +
			dbl("allocator-rss.ratio", "2") + ints("allocator-rss.bytes", "3000") +
			dbl("rss-overhead.ratio", "1.25") + ints("rss-overhead.bytes", "1500") +
			// 7500/900 in single precision, printed as %.17g.
			dbl("fragmentation", "8.3333330154418945") + ints("fragmentation.bytes", "6600")
	}
	resp2 := body(func(v string) string { return "$" + strconv.Itoa(len(v)) + "\r\n" + v + "\r\n" },
		func(n int) string { return "*" + strconv.Itoa(2*n) + "\r\n" })
	resp3 := body(func(v string) string { return "," + v + "\r\n" },
		func(n int) string { return "%" + strconv.Itoa(n) + "\r\n" })
	x.expect("MEMORY STATS", resp2)
	x.ctx.W.Proto = 3
	x.expect("MEMORY STATS", resp3)
}

func TestMemoryDoctor(t *testing.T) {
	const mb = 1 << 20
	healthy := MemoryStats{
		PeakAllocated: 100 * mb, TotalAllocated: 100 * mb, Clients: 1, Allocator: "go-test",
		AllocatorFrag: 1.05, AllocatorFragBytes: 5 * mb, AllocatorRSS: 1.2, AllocatorRSSBytes: 5 * mb,
		RSSExtra: 1.05, RSSExtraBytes: 50 * mb, TotalFrag: 1.3, TotalFragBytes: 30 * mb,
	}
	with := func(f func(m *MemoryStats)) MemoryStats { m := healthy; f(&m); return m }
	header := "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
	footer := "I'm here to keep you safe, Sam. I want to help you.\n"
	p := func(s string) string { return " * " + s + "\n\n" }
	for _, c := range []struct {
		name string
		m    MemoryStats
		want string
	}{
		{"empty", with(func(m *MemoryStats) { m.TotalAllocated = 5*mb - 1; m.PeakAllocated = 500 * mb }),
			"Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"},
		{"healthy", healthy,
			"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"},
		{"just 5MB", with(func(m *MemoryStats) { m.TotalAllocated, m.PeakAllocated = 5*mb, 5*mb }),
			"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"},
		{"peak", with(func(m *MemoryStats) { m.PeakAllocated = 151 * mb }), header + p(doctorBigPeak) + footer},
		{"peak of exactly 150%", with(func(m *MemoryStats) { m.PeakAllocated = 150 * mb }),
			"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"},
		{"every condition, in Redis's order", with(func(m *MemoryStats) {
			m.PeakAllocated = 200 * mb
			m.TotalFrag, m.TotalFragBytes = 1.5, 11*mb
			m.AllocatorFrag, m.AllocatorFragBytes = 1.2, 11*mb
			m.AllocatorRSS, m.AllocatorRSSBytes = 1.2, 11*mb
			m.RSSExtra, m.RSSExtraBytes = 1.2, 11*mb
			m.ClientsSlaves = 11 * mb
			m.Clients, m.ClientsNormal = 2, 2*200*1024+2
			m.Scripts = 1001
		}), header + p(doctorBigPeak) +
			p(strings.Replace(doctorHighFrag, "%s", "go-test", 1)) +
			p(doctorAllocFrag) + p(doctorAllocRSS) + p(doctorProcRSS) + p(doctorSlaveBuf) + p(doctorClientBuf) +
			p(doctorManyScripts) + footer},
		{"ratios over, bytes under 10MB", with(func(m *MemoryStats) {
			m.TotalFrag, m.AllocatorFrag, m.AllocatorRSS, m.RSSExtra = 3, 3, 3, 3
			m.TotalFragBytes, m.AllocatorFragBytes, m.AllocatorRSSBytes, m.RSSExtraBytes = 10*mb, 10*mb, 10*mb, 10*mb
			m.Clients, m.ClientsNormal = 2, 2*200*1024
		}), "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"},
	} {
		if got := memoryDoctor(c.m); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	if !strings.Contains(doctorHighFrag, `Note: The currently used allocator is "%s".`) {
		t.Error("doctorHighFrag lost its allocator")
	}

	// The reply is a verbatim string (a bulk string in RESP2).
	x, srv := newServerTester(t)
	srv.mem = healthy
	report := "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	x.expect("MEMORY DOCTOR", "$"+strconv.Itoa(len(report))+"\r\n"+report+"\r\n")
	x.ctx.W.Proto = 3
	x.expect("MEMORY DOCTOR", "="+strconv.Itoa(len(report)+4)+"\r\ntxt:"+report+"\r\n")
}
