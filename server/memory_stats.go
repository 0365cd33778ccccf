package server

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync/atomic"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/keyspace"
)

// The figures of MEMORY STATS, MEMORY DOCTOR and INFO memory, by the
// rules of Redis's getMemoryOverheadData over LoomCache's own facts:
//
//   - total.allocated is used_memory (memory.go): the startup heap plus
//     what the keyspace accounts;
//   - the overhead is the startup heap plus each database's index and
//     expiry table (keyspace's OverheadMemory); replication backlog,
//     client and cluster-link buffers, AOF buffer and script caches are 0,
//     as used_memory counts none of them (LoomCache has no replication
//     backlog, AOF buffer or scripts; its client buffers and Raft's are
//     outside used_memory);
//   - dataset.bytes is total.allocated minus the overhead;
//   - the allocator is Go's heap (runtime/metrics) and the RSS the
//     process's.

// memPeak is used_memory_peak: the most used_memory has been since the
// node started. The keyspace grows only by applied ops, and the peak is
// noted after each of them (as Redis notes it after each turn of its
// event loop), and wherever used memory is read.
type memPeak struct{ v atomic.Uint64 }

// note records used and returns the peak.
func (p *memPeak) note(used uint64) uint64 {
	for {
		old := p.v.Load()
		if used <= old {
			return old
		}
		if p.v.CompareAndSwap(old, used) {
			return used
		}
	}
}

// notePeak records used_memory after an op; the caller holds the store's
// lock. Summing the databases' counters costs a few nanoseconds.
func (s *Server) notePeak(ks *keyspace.Store) {
	s.peak.note(uint64(max(ks.UsedMemory(), 0)))
}

// memAllocator is INFO's mem_allocator.
func memAllocator() string { return "go-" + runtime.Version() }

// MemoryStats returns the node's memory figures now, and records the
// peak.
func (s *Server) MemoryStats() commands.MemoryStats {
	startup := int64(s.startupMem)
	m := commands.MemoryStats{StartupAllocated: startup, OverheadTotal: startup, Allocator: memAllocator()}
	m.TotalAllocated = int64(s.UsedMemory()) // the empty databases (startup) included
	for i := range s.cfg.Databases {
		var dm commands.DBMemory
		var keys int
		for _, g := range s.groups {
			ks := g.Store()
			ks.RLock()
			db := ks.DB(i)
			main, expires := db.OverheadMemory()
			keys += db.Len()
			if db.Len() > 0 {
				dm.Main += main
				dm.Expires += expires
			}
			ks.RUnlock()
		}
		if keys == 0 {
			continue
		}
		dm.DB = i
		m.DBs = append(m.DBs, dm)
		m.Keys += int64(keys)
		m.OverheadTotal += dm.Main + dm.Expires
	}
	m.PeakAllocated = int64(s.peak.note(uint64(m.TotalAllocated)))
	m.Dataset = m.TotalAllocated - m.OverheadTotal
	m.PeakPerc = percent(m.TotalAllocated, m.PeakAllocated)
	// Figures net of the startup memory.
	net := int64(1)
	if m.TotalAllocated > startup {
		net = m.TotalAllocated - startup
	}
	m.DatasetPerc = percent(m.Dataset, net)
	if m.Keys > 0 {
		m.BytesPerKey = net / m.Keys
	}

	a := readAllocator()
	m.AllocatorAllocated, m.AllocatorActive, m.AllocatorResident = a.allocated, a.active, a.resident
	m.AllocatorFrag, m.AllocatorFragBytes = ratio(a.active, a.allocated), a.active-a.allocated
	m.AllocatorRSS, m.AllocatorRSSBytes = ratio(a.resident, a.active), a.resident-a.active
	m.RSSExtra, m.RSSExtraBytes = ratio(a.rss, a.resident), a.rss-a.resident
	m.TotalFrag, m.TotalFragBytes = ratio(a.rss, m.TotalAllocated), a.rss-m.TotalAllocated

	s.mu.Lock()
	m.Clients = len(s.clients)
	s.mu.Unlock()
	return m
}

// ratio is a/b in Redis's single precision (a float, printed as a
// double).
func ratio(a, b int64) float64 { return float64(float32(a) / float32(b)) }

// percent is a*100/b, as Redis computes its percentages.
func percent(a, b int64) float64 { return float64(float32(a) * 100 / float32(b)) }

// allocStats is the allocator's view of memory, jemalloc's terms mapped
// onto Go's heap: allocated is the heap's objects (live, and dead ones
// not yet swept), active adds the unused room of the spans holding them,
// resident is everything the runtime has mapped and not returned to the
// OS; rss is the whole process's.
type allocStats struct {
	allocated, active, resident, rss int64
}

func readAllocator() allocStats {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(samples)
	v := func(i int) int64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(samples[i].Value.Uint64())
	}
	a := allocStats{allocated: v(0)}
	a.active = a.allocated + v(1)
	a.resident = v(2) - v(3)
	a.rss = int64(residentBytes())
	if a.rss == 0 {
		a.rss = a.resident
	}
	return a
}

// infoMemoryPeak appends INFO memory's fields from used_memory_peak to
// used_memory_dataset_perc, as Redis prints them after the RSS.
func infoMemoryPeak(b []byte, m *commands.MemoryStats) []byte {
	b = infoInt(b, "used_memory_peak", m.PeakAllocated)
	b = infoField(b, "used_memory_peak_human", bytesToHuman(uint64(m.PeakAllocated)))
	b = infoField(b, "used_memory_peak_perc", fmt.Sprintf("%.2f%%", m.PeakPerc))
	b = infoInt(b, "used_memory_overhead", m.OverheadTotal)
	b = infoInt(b, "used_memory_startup", m.StartupAllocated)
	b = infoInt(b, "used_memory_dataset", m.Dataset)
	return infoField(b, "used_memory_dataset_perc", fmt.Sprintf("%.2f%%", m.DatasetPerc))
}
