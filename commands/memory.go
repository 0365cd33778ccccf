package commands

import (
	"runtime/debug"
	"strconv"

	"github.com/loomcache/loomcache/keyspace"
)

// MEMORY: memory introspection. USAGE reads one key (forwarded to the
// leader like any read); the other subcommands describe the node they
// run on, with figures the server gathers (Server.MemoryStats).

func registerMemory(t *Table) {
	// The node-wide reports: Redis 7.0 gives them the same tips.
	report := func(name, summary, complexity string, h Handler) *Command {
		return &Command{Name: "memory|" + name, Arity: 2,
			Tips:  []string{"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
			Group: "server", Since: "4.0.0", Complexity: complexity, Summary: summary, Handler: h}
	}
	allocDependent := "Depends on how much memory is allocated, could be slow"
	t.add(&Command{Name: "memory", Arity: -2, Group: "server", Since: "4.0.0",
		Complexity: "Depends on subcommand.", Summary: "A container for memory diagnostics commands",
		Subs: []*Command{
			report("doctor", "Outputs memory problems report", "O(1)", cmdMemoryDoctor),
			{Name: "memory|help", Arity: 2, Flags: FlagLoading | FlagStale,
				Group: "server", Since: "4.0.0", Complexity: "O(1)",
				Summary: "Show helpful text about the different subcommands", Handler: cmdMemoryHelp},
			report("malloc-stats", "Show allocator internal stats", allocDependent, cmdMemoryMallocStats),
			{Name: "memory|purge", Arity: 2,
				Tips:  []string{"request_policy:all_shards", "response_policy:all_succeeded"},
				Group: "server", Since: "4.0.0", Complexity: allocDependent,
				Summary: "Ask the allocator to release memory", Handler: cmdMemoryPurge},
			report("stats", "Show memory usage details", "O(1)", cmdMemoryStats),
			{Name: "memory|usage", Arity: -3, Flags: FlagReadonly,
				Keys:  []KeySpec{{Flags: KeyRO, Index: 2, LastKey: 0, KeyStep: 1}},
				Group: "server", Since: "4.0.0", Complexity: "O(N) where N is the number of samples.",
				Summary: "Estimate the memory usage of a key", Handler: cmdMemoryUsage,
				Args: []Arg{argKey("key", 0), argInt("count").token("SAMPLES").optional()}},
		}})
}

// MemoryStats are the figures of MEMORY STATS, MEMORY DOCTOR and INFO
// memory, named after Redis's struct redisMemOverhead and computed by
// its rules (getMemoryOverheadData): OverheadTotal is StartupAllocated
// plus every other overhead listed, and Dataset is TotalAllocated minus
// OverheadTotal. Ratios are Redis's single-precision floats.
type MemoryStats struct {
	PeakAllocated    int64 // used_memory_peak
	TotalAllocated   int64 // used_memory
	StartupAllocated int64 // used_memory_startup
	ReplBacklog      int64
	ClientsSlaves    int64
	ClientsNormal    int64
	ClusterLinks     int64
	AOFBuffer        int64
	LuaCaches        int64
	FunctionsCaches  int64
	DBs              []DBMemory // the databases holding keys, in order
	OverheadTotal    int64
	Keys             int64
	BytesPerKey      int64
	Dataset          int64
	DatasetPerc      float64
	PeakPerc         float64

	// The allocator's view (Go's heap here) and the process's RSS.
	AllocatorAllocated int64
	AllocatorActive    int64
	AllocatorResident  int64
	AllocatorFrag      float64 // active / allocated
	AllocatorFragBytes int64
	AllocatorRSS       float64 // resident / active
	AllocatorRSSBytes  int64
	RSSExtra           float64 // process RSS / allocator resident
	RSSExtraBytes      int64
	TotalFrag          float64 // process RSS / total allocated
	TotalFragBytes     int64

	// For MEMORY DOCTOR: the connected clients, the cached scripts, and
	// the allocator's name as INFO's mem_allocator gives it.
	Clients   int
	Scripts   int
	Allocator string
}

// DBMemory is one database's overhead in MEMORY STATS (db.N).
type DBMemory struct {
	DB         int
	Main       int64 // overhead.hashtable.main
	Expires    int64 // overhead.hashtable.expires
	SlotToKeys int64 // overhead.hashtable.slot-to-keys (Redis Cluster's; 0)
}

var memoryHelp = []string{
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
}

func cmdMemoryHelp(c *Ctx) { writeHelp(c, "MEMORY", memoryHelp) }

// cmdMemoryUsage answers Entry.Usage: the key's slot, its allocations and
// its share of the index. SAMPLES is checked as Redis checks it (0 means
// all); a collection's Size is exact, so no sampling is needed. The key
// is looked up as OBJECT does, without recording an access.
func cmdMemoryUsage(c *Ctx) {
	for j := 3; j < len(c.Args); j++ {
		if !eq(c.Args[j], "SAMPLES") || j+1 >= len(c.Args) {
			c.W.Error(errSyntax.Error())
			return
		}
		n, ok := parseInt(c.Args[j+1])
		if !ok {
			c.W.Error(errNotInt.Error())
			return
		}
		if n < 0 {
			c.W.Error(errSyntax.Error())
			return
		}
		j++
	}
	c.read(func(db *keyspace.DB) {
		e := db.Get(c.Args[2], c.Now())
		if e == nil {
			c.W.Null()
			return
		}
		c.W.Int(e.Usage())
	})
}

// cmdMemoryStats writes the figures in Redis 7.0's order and types: a map
// (a flat array in RESP2), byte counts as integers, ratios as doubles.
func cmdMemoryStats(c *Ctx) {
	m := c.Server.MemoryStats()
	w := c.W
	field := func(name string, v int64) {
		w.BulkString(name)
		w.Int(v)
	}
	double := func(name string, v float64) {
		w.BulkString(name)
		w.Double(v)
	}
	w.Map(27 + len(m.DBs))
	field("peak.allocated", m.PeakAllocated)
	field("total.allocated", m.TotalAllocated)
	field("startup.allocated", m.StartupAllocated)
	field("replication.backlog", m.ReplBacklog)
	field("clients.slaves", m.ClientsSlaves)
	field("clients.normal", m.ClientsNormal)
	field("cluster.links", m.ClusterLinks)
	field("aof.buffer", m.AOFBuffer)
	field("lua.caches", m.LuaCaches)
	field("functions.caches", m.FunctionsCaches)
	for _, db := range m.DBs {
		w.BulkString("db." + strconv.Itoa(db.DB))
		w.Map(3)
		field("overhead.hashtable.main", db.Main)
		field("overhead.hashtable.expires", db.Expires)
		field("overhead.hashtable.slot-to-keys", db.SlotToKeys)
	}
	field("overhead.total", m.OverheadTotal)
	field("keys.count", m.Keys)
	field("keys.bytes-per-key", m.BytesPerKey)
	field("dataset.bytes", m.Dataset)
	double("dataset.percentage", m.DatasetPerc)
	double("peak.percentage", m.PeakPerc)
	field("allocator.allocated", m.AllocatorAllocated)
	field("allocator.active", m.AllocatorActive)
	field("allocator.resident", m.AllocatorResident)
	double("allocator-fragmentation.ratio", m.AllocatorFrag)
	field("allocator-fragmentation.bytes", m.AllocatorFragBytes)
	double("allocator-rss.ratio", m.AllocatorRSS)
	field("allocator-rss.bytes", m.AllocatorRSSBytes)
	double("rss-overhead.ratio", m.RSSExtra)
	field("rss-overhead.bytes", m.RSSExtraBytes)
	double("fragmentation", m.TotalFrag)
	field("fragmentation.bytes", m.TotalFragBytes)
}

func cmdMemoryDoctor(c *Ctx) {
	c.W.Verbatim("txt", []byte(memoryDoctor(c.Server.MemoryStats())))
}

// cmdMemoryMallocStats: Redis built without jemalloc answers so, and Go's
// allocator is not jemalloc.
func cmdMemoryMallocStats(c *Ctx) {
	c.W.BulkString("Stats not supported for the current allocator")
}

// cmdMemoryPurge returns the heap's free pages to the operating system
// (after a collection), as jemalloc's purge returns its dirty pages.
func cmdMemoryPurge(c *Ctx) {
	debug.FreeOSMemory()
	c.W.OK()
}
