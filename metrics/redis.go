package metrics

import "github.com/prometheus/client_golang/prometheus"

// redisCollector exports INFO's figures under redis_exporter's names.
type redisCollector struct {
	src Source

	uptime, startTime, clients, blocked            *prometheus.Desc
	connections, rejected, processed, hits, misses *prometheus.Desc
	expired, evicted, errorReplies                 *prometheus.Desc
	memUsed, memMax, memRSS                        *prometheus.Desc
	cmdCalls, cmdDuration, cmdRejected, cmdFailed  *prometheus.Desc
	errors, dbKeys, dbExpiring                     *prometheus.Desc
}

func newRedisCollector(src Source) *redisCollector {
	return &redisCollector{
		src:          src,
		uptime:       desc("redis_uptime_in_seconds", "Seconds since the node started."),
		startTime:    desc("redis_start_time_seconds", "Unix time the node started."),
		clients:      desc("redis_connected_clients", "Client connections open."),
		blocked:      desc("redis_blocked_clients", "Clients waiting in a blocking command or held by CLIENT PAUSE."),
		connections:  desc("redis_connections_received_total", "Client connections accepted."),
		rejected:     desc("redis_rejected_connections_total", "Client connections refused by maxclients."),
		processed:    desc("redis_commands_processed_total", "Commands processed."),
		hits:         desc("redis_keyspace_hits_total", "Key lookups of reads that found the key."),
		misses:       desc("redis_keyspace_misses_total", "Key lookups of reads that did not find the key."),
		expired:      desc("redis_expired_keys_total", "Keys deleted because they expired."),
		evicted:      desc("redis_evicted_keys_total", "Keys evicted under maxmemory."),
		errorReplies: desc("redis_total_error_replies_total", "Error replies sent to clients."),
		memUsed:      desc("redis_memory_used_bytes", "Memory the keyspace accounts (INFO used_memory)."),
		memMax:       desc("redis_memory_max_bytes", "maxmemory (0: no limit)."),
		memRSS:       desc("redis_memory_used_rss_bytes", "Resident set size of the process."),
		cmdCalls:     desc("redis_commands_total", "Calls per command (INFO commandstats).", "cmd"),
		cmdDuration:  desc("redis_commands_duration_seconds_total", "Time spent per command (INFO commandstats usec).", "cmd"),
		cmdRejected:  desc("redis_commands_rejected_calls_total", "Calls refused before they ran, per command.", "cmd"),
		cmdFailed:    desc("redis_commands_failed_calls_total", "Calls that replied an error, per command.", "cmd"),
		errors:       desc("redis_errors_total", "Error replies per error code (INFO errorstats).", "err"),
		dbKeys:       desc("redis_db_keys", "Keys per database.", "db"),
		dbExpiring:   desc("redis_db_keys_expiring", "Keys with a deadline per database.", "db"),
	}
}

func (c *redisCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.uptime, c.startTime, c.clients, c.blocked, c.connections, c.rejected, c.processed,
		c.hits, c.misses, c.expired, c.evicted, c.errorReplies, c.memUsed, c.memMax, c.memRSS,
		c.cmdCalls, c.cmdDuration, c.cmdRejected, c.cmdFailed, c.errors, c.dbKeys, c.dbExpiring)
}

func (c *redisCollector) Collect(ch chan<- prometheus.Metric) {
	r := c.src.Redis()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	gauge(c.uptime, float64(r.UptimeSeconds))
	gauge(c.startTime, float64(r.StartTimeSeconds))
	gauge(c.clients, float64(r.ConnectedClients))
	gauge(c.blocked, float64(r.BlockedClients))
	counter(c.connections, float64(r.ConnectionsReceived))
	counter(c.rejected, float64(r.RejectedConnections))
	counter(c.processed, float64(r.CommandsProcessed))
	counter(c.hits, float64(r.KeyspaceHits))
	counter(c.misses, float64(r.KeyspaceMisses))
	counter(c.expired, float64(r.ExpiredKeys))
	counter(c.evicted, float64(r.EvictedKeys))
	counter(c.errorReplies, float64(r.ErrorReplies))
	gauge(c.memUsed, float64(r.MemoryUsed))
	gauge(c.memMax, float64(r.MemoryMax))
	gauge(c.memRSS, float64(r.MemoryRSS))
	for _, st := range r.Commands {
		counter(c.cmdCalls, float64(st.Calls), st.Name)
		counter(c.cmdDuration, float64(st.Usec)/1e6, st.Name)
		counter(c.cmdRejected, float64(st.Rejected), st.Name)
		counter(c.cmdFailed, float64(st.Failed), st.Name)
	}
	for code, n := range r.Errors {
		counter(c.errors, float64(n), code)
	}
	for _, db := range r.DBs {
		name := "db" + itoa(db.DB)
		gauge(c.dbKeys, float64(db.Keys), name)
		gauge(c.dbExpiring, float64(db.Expires), name)
	}
}
