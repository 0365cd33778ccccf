package server

import (
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/loomcache/loomcache/pubsub"
)

// This file is INFO stats and INFO cpu as Redis 7.0 prints them: every
// field, in Redis's order, with this node's figure where it has one and
// Redis's idle value (0) for what LoomCache never does (fork, replicate
// by Redis's protocol, defragment, thread its I/O).

// netStats count what the clients' sockets carried: bytes and the
// read and write calls that moved them.
type netStats struct {
	in, out       atomic.Int64
	reads, writes atomic.Int64
}

func (n *netStats) read(b int) {
	if n != nil && b > 0 {
		n.in.Add(int64(b))
		n.reads.Add(1)
	}
}

func (n *netStats) wrote(b int) {
	if n != nil && b > 0 {
		n.out.Add(int64(b))
		n.writes.Add(1)
	}
}

// Redis's trackInstantaneousMetric: a sample every 100ms, the rate the
// average of the last 16.
const (
	instSampleEvery = 100 * time.Millisecond
	instSamples     = 16
)

// instMetric is one of Redis's instantaneous metrics.
type instMetric struct {
	lastValue int64
	lastTime  time.Time
	samples   [instSamples]float64
	idx       int
}

func (m *instMetric) track(value int64, now time.Time) {
	if !m.lastTime.IsZero() {
		dt := now.Sub(m.lastTime).Seconds()
		if dt > 0 {
			m.samples[m.idx] = float64(value-m.lastValue) / dt
			m.idx = (m.idx + 1) % instSamples
		}
	}
	m.lastValue, m.lastTime = value, now
}

func (m *instMetric) rate() float64 {
	var sum float64
	for _, v := range m.samples {
		sum += v
	}
	return sum / instSamples
}

// instRates are instantaneous_ops_per_sec and the kbps figures, sampled
// by a goroutine Close stops (through s.done).
type instRates struct {
	mu           sync.Mutex
	ops, in, out instMetric
	done         chan struct{} // closed when the sampler has ended
}

// startSampler runs the sampler until s.done is closed.
func (s *Server) startSampler() {
	s.inst.done = make(chan struct{})
	go func() {
		defer close(s.inst.done)
		t := time.NewTicker(instSampleEvery)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case now := <-t.C:
				s.inst.mu.Lock()
				s.inst.ops.track(s.stats.commands.Load(), now)
				s.inst.in.track(s.stats.net.in.Load(), now)
				s.inst.out.track(s.stats.net.out.Load(), now)
				s.inst.mu.Unlock()
			}
		}
	}()
}

// waitSampler waits for the sampler to end, if it was started.
func (s *Server) waitSampler() {
	if s.inst.done != nil {
		<-s.inst.done
	}
}

func (s *Server) infoStats(b []byte) []byte {
	s.inst.mu.Lock()
	ops, kin, kout := s.inst.ops.rate(), s.inst.in.rate()/1024, s.inst.out.rate()/1024
	s.inst.mu.Unlock()
	zero := func(b []byte, names ...string) []byte {
		for _, n := range names {
			b = infoInt(b, n, 0)
		}
		return b
	}
	b = infoInt(b, "total_connections_received", s.stats.connections.Load())
	b = infoInt(b, "total_commands_processed", s.stats.commands.Load())
	b = infoInt(b, "instantaneous_ops_per_sec", int64(ops))
	b = infoInt(b, "total_net_input_bytes", s.stats.net.in.Load())
	b = infoInt(b, "total_net_output_bytes", s.stats.net.out.Load())
	// Raft's traffic is not Redis replication's.
	b = zero(b, "total_net_repl_input_bytes", "total_net_repl_output_bytes")
	b = infoField(b, "instantaneous_input_kbps", strconv.FormatFloat(kin, 'f', 2, 64))
	b = infoField(b, "instantaneous_output_kbps", strconv.FormatFloat(kout, 'f', 2, 64))
	b = infoField(b, "instantaneous_input_repl_kbps", "0.00")
	b = infoField(b, "instantaneous_output_repl_kbps", "0.00")
	b = infoInt(b, "rejected_connections", s.stats.rejected.Load())
	b = zero(b, "sync_full", "sync_partial_ok", "sync_partial_err")
	b = infoInt(b, "expired_keys", s.table.ExpiredKeys())
	b = infoField(b, "expired_stale_perc", "0.00")
	b = zero(b, "expired_time_cap_reached_count", "expire_cycle_cpu_milliseconds")
	b = infoInt(b, "evicted_keys", s.table.EvictedKeys())
	b = zero(b, "evicted_clients", "total_eviction_exceeded_time", "current_eviction_exceeded_time")
	hits, misses := s.keyspaceReads()
	b = infoInt(b, "keyspace_hits", hits)
	b = infoInt(b, "keyspace_misses", misses)
	// This node's subscriptions, as PUBSUB answers for them.
	hub := s.table.PubSub()
	b = infoInt(b, "pubsub_channels", int64(hub.Len(pubsub.Channel)))
	b = infoInt(b, "pubsub_patterns", int64(hub.Len(pubsub.Pattern)))
	b = infoInt(b, "pubsubshard_channels", int64(hub.Len(pubsub.Shard)))
	b = zero(b, "latest_fork_usec", "total_forks")
	b = infoInt(b, "migrate_cached_sockets", int64(s.table.MigrateCachedSockets()))
	b = zero(b, "slave_expires_tracked_keys",
		"active_defrag_hits", "active_defrag_misses", "active_defrag_key_hits", "active_defrag_key_misses",
		"total_active_defrag_time", "current_active_defrag_time")
	tr := s.table.Tracking().Stats()
	b = infoInt(b, "tracking_total_keys", int64(tr.Keys))
	b = infoInt(b, "tracking_total_items", int64(tr.Items))
	b = infoInt(b, "tracking_total_prefixes", int64(tr.Prefixes))
	b = infoInt(b, "unexpected_error_replies", 0)
	b = infoInt(b, "total_error_replies", s.table.ErrorReplies())
	b = infoInt(b, "dump_payload_sanitizations", 0)
	b = infoInt(b, "total_reads_processed", s.stats.net.reads.Load())
	b = infoInt(b, "total_writes_processed", s.stats.net.writes.Load())
	return zero(b, "io_threaded_reads_processed", "io_threaded_writes_processed",
		"reply_buffer_shrinks", "reply_buffer_expands")
}

// infoCPU is getrusage's figures. LoomCache never forks, so its children
// used nothing; it has no main thread (goroutines move between threads),
// so the main thread's fields carry the process's figures.
func (s *Server) infoCPU(b []byte) []byte {
	var self, children syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err != nil {
		return b
	}
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	tv := func(t syscall.Timeval) string {
		return strconv.FormatFloat(float64(t.Sec)+float64(t.Usec)/1e6, 'f', 6, 64)
	}
	b = infoField(b, "used_cpu_sys", tv(self.Stime))
	b = infoField(b, "used_cpu_user", tv(self.Utime))
	b = infoField(b, "used_cpu_sys_children", tv(children.Stime))
	b = infoField(b, "used_cpu_user_children", tv(children.Utime))
	b = infoField(b, "used_cpu_sys_main_thread", tv(self.Stime))
	return infoField(b, "used_cpu_user_main_thread", tv(self.Utime))
}

// keyspaceReads adds up the partitions' keyspace hits and misses: the
// lookups this node made (a follower forwards its clients' reads, so
// the leader that serves them counts them).
func (s *Server) keyspaceReads() (hits, misses int64) {
	if s.openNode() == nil {
		return 0, 0
	}
	for _, g := range s.groups {
		h, m := g.Store().ReadStats()
		hits += h
		misses += m
	}
	return hits, misses
}

// resetNetStats zeroes the socket counters and the keyspace hits and
// misses (CONFIG RESETSTAT, as Redis's resetServerStats).
func (s *Server) resetNetStats() {
	n := &s.stats.net
	n.in.Store(0)
	n.out.Store(0)
	n.reads.Store(0)
	n.writes.Store(0)
	if s.openNode() == nil {
		return
	}
	for _, g := range s.groups {
		g.Store().ResetReadStats()
	}
}
