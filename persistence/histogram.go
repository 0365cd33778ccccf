package persistence

import "sync/atomic"

// Histogram counts observations in fixed buckets with atomics, so the
// path that records one (a WAL commit, a snapshot) takes no lock and
// allocates nothing; a metrics scrape reads it with Snapshot. Values are
// integers in the unit the histogram was made for (nanoseconds, entries,
// bytes).
type Histogram struct {
	bounds []uint64        // upper bounds, inclusive, increasing
	counts []atomic.Uint64 // per bucket, the last one past every bound
	sum    atomic.Uint64
	last   atomic.Uint64
}

// NewHistogram makes a histogram with these bucket upper bounds
// (increasing); values above the last go to a final unbounded bucket.
func NewHistogram(bounds []uint64) *Histogram {
	return &Histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

// Observe records one value.
func (h *Histogram) Observe(v uint64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(v)
	h.last.Store(v)
}

// HistogramSnapshot is a histogram's figures at one moment: Counts[i] is
// the number of values <= Bounds[i] (cumulative, as Prometheus has
// them), Count the number of all of them.
type HistogramSnapshot struct {
	Bounds []uint64
	Counts []uint64
	Count  uint64
	Sum    uint64
	Last   uint64 // the newest value observed, 0: none yet
}

// Snapshot reads the histogram. Observations racing with it may be
// counted in a bucket and not yet in the sum; the next scrape has them.
func (h *Histogram) Snapshot() HistogramSnapshot {
	s := HistogramSnapshot{Bounds: h.bounds, Counts: make([]uint64, len(h.bounds)), Sum: h.sum.Load(), Last: h.last.Load()}
	var cum uint64
	for i := range h.bounds {
		cum += h.counts[i].Load()
		s.Counts[i] = cum
	}
	s.Count = cum + h.counts[len(h.bounds)].Load()
	return s
}

// Exponential returns n bounds start, start*factor, start*factor^2...
func Exponential(start, factor uint64, n int) []uint64 {
	b := make([]uint64, n)
	for i := range b {
		b[i] = start
		start *= factor
	}
	return b
}

// SyncLatencyBounds are the WAL sync latency histogram's bounds, in
// nanoseconds: 50µs to about 1.6s.
func SyncLatencyBounds() []uint64 { return Exponential(50_000, 2, 16) }

// EntriesPerSyncBounds are the bounds of the histogram of log entries one
// sync made durable: 1 to 4096.
func EntriesPerSyncBounds() []uint64 { return Exponential(1, 2, 13) }
