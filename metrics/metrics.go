// Package metrics owns LoomCache's Prometheus collectors: redis_exporter's
// metrics (under its names, so dashboards made for Redis work) and Raft's
// own, with a loomcache_ prefix and a partition label. The collectors keep
// no counters: every scrape reads the node's live figures through Source,
// so serving requests costs nothing more for being measured. It never
// writes to the node.
package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/persistence"
	"github.com/loomcache/loomcache/raftfsm"
)

// Source is what the collectors read at each scrape: the server.
type Source interface {
	// Redis returns the figures INFO prints.
	Redis() Redis
	// Partitions returns each partition's Raft figures, none while the
	// node is loading.
	Partitions() []Partition
}

// Redis is a node's figures as INFO reports them.
type Redis struct {
	UptimeSeconds       int64
	StartTimeSeconds    int64
	ConnectedClients    int64
	BlockedClients      int64
	ConnectionsReceived int64
	RejectedConnections int64
	CommandsProcessed   int64
	KeyspaceHits        int64
	KeyspaceMisses      int64
	ExpiredKeys         int64
	EvictedKeys         int64
	ErrorReplies        int64
	MemoryUsed          uint64
	MemoryMax           uint64
	MemoryRSS           uint64
	Commands            []commands.CommandStat // INFO commandstats
	Errors              map[string]int64       // INFO errorstats: code -> count
	DBs                 []DBKeys               // databases holding keys
}

// DBKeys is one database's line of INFO keyspace.
type DBKeys struct {
	DB            int
	Keys, Expires int64
}

// Partition is one Raft group's figures.
type Partition struct {
	ID      int
	Stats   raftfsm.Stats
	Metrics raftfsm.Metrics
}

// NewRegistry returns a registry holding the node's collectors and Go's
// runtime and process collectors.
func NewRegistry(src Source) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newRedisCollector(src),
		newRaftCollector(src),
	)
	return reg
}

// desc builds a metric's description.
func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// descs sends every description of a collector.
func describe(ch chan<- *prometheus.Desc, ds ...*prometheus.Desc) {
	for _, d := range ds {
		ch <- d
	}
}

// histogram converts a persistence histogram to a constant Prometheus
// one, scaling its integer values (nanoseconds to seconds: 1e-9).
func histogram(d *prometheus.Desc, h persistence.HistogramSnapshot, scale float64, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	for i, b := range h.Bounds {
		buckets[float64(b)*scale] = h.Counts[i]
	}
	return prometheus.MustNewConstHistogram(d, h.Count, float64(h.Sum)*scale, buckets, labels...)
}

func itoa(i int) string { return strconv.Itoa(i) }
