package latency

import (
	"math/bits"
	"sync/atomic"
)

// Histogram is one command's latency histogram, laid out as the HDR
// histogram Redis 7.0 keeps per command (hdr_init(1, 1e9, 2): values in
// nanoseconds from 1ns to 1s, two significant digits), so LATENCY
// HISTOGRAM's buckets and INFO latencystats' percentiles come out as
// Redis computes them. Recording is two atomic adds: no lock, no
// allocation. Its size is fixed (countsLen counters, 24KB).
type Histogram struct {
	total  atomic.Int64
	counts [countsLen]atomic.Int64
}

// Redis's LATENCY_HISTOGRAM_MIN_VALUE, _MAX_VALUE, and the bucket layout
// hdr_calculate_bucket_config derives from them and a precision of 2.
const (
	MinValue = 1             // ns
	MaxValue = 1_000_000_000 // ns

	subBucketHalfCountMagnitude = 7
	subBucketCount              = 1 << (subBucketHalfCountMagnitude + 1) // 256
	subBucketHalfCount          = subBucketCount / 2
	subBucketMask               = subBucketCount - 1
	bucketCount                 = 23 // buckets_needed_to_cover_value(1e9, 256, 0)
	countsLen                   = (bucketCount + 1) * subBucketHalfCount
)

// Record adds one duration of ns nanoseconds, clamped to the histogram's
// range as Redis's updateCommandLatencyHistogram clamps it.
func (h *Histogram) Record(ns int64) {
	ns = min(max(ns, MinValue), MaxValue)
	h.counts[countsIndex(ns)].Add(1)
	h.total.Add(1)
}

// Total is the number of values recorded.
func (h *Histogram) Total() int64 { return h.total.Load() }

func bucketIndex(v int64) int {
	return 64 - bits.LeadingZeros64(uint64(v)|subBucketMask) - (subBucketHalfCountMagnitude + 1)
}

func countsIndex(v int64) int {
	b := bucketIndex(v)
	sub := int(v >> b)
	return (b+1)<<subBucketHalfCountMagnitude + sub - subBucketHalfCount
}

// valueAtIndex is hdr_value_at_index.
func valueAtIndex(i int) int64 {
	b := i>>subBucketHalfCountMagnitude - 1
	sub := i&(subBucketHalfCount-1) + subBucketHalfCount
	if b < 0 {
		sub -= subBucketHalfCount
		b = 0
	}
	return int64(sub) << b
}

func lowestEquivalent(v int64) int64 {
	b := bucketIndex(v)
	return (v >> b) << b
}

func rangeSize(v int64) int64 {
	b := bucketIndex(v)
	if v>>b >= subBucketCount {
		b++
	}
	return 1 << b
}

func highestEquivalent(v int64) int64 { return lowestEquivalent(v) + rangeSize(v) - 1 }

// ValueAtPercentile is hdr_value_at_percentile, in nanoseconds.
func (h *Histogram) ValueAtPercentile(p float64) int64 {
	req := min(p, 100.0)
	want := max(int64(req/100*float64(h.total.Load())+0.5), 1)
	var v, seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= want {
			v = valueAtIndex(i)
			break
		}
	}
	if p == 0 {
		return lowestEquivalent(v)
	}
	return highestEquivalent(v)
}

// Bucket is one line of LATENCY HISTOGRAM's histogram_usec: the calls
// that took at most Usec microseconds (cumulative).
type Bucket struct {
	Usec  int64
	Count int64
}

// Buckets are LATENCY HISTOGRAM's histogram_usec, as Redis's
// fillCommandCDF walks hdr_iter_log_init(1024, 2): powers of two from
// 1024ns, each reported with its cumulative count when that grew.
func (h *Histogram) Buckets() []Bucket {
	var counts [countsLen]int64
	var total int64
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	var out []Bucket
	it := logIter{idx: -1, level: 1024, levelLowest: lowestEquivalent(1024), total: total}
	var prev int64
	for it.next(&counts) {
		if it.cumulative > prev {
			out = append(out, Bucket{Usec: it.highest / 1000, Count: it.cumulative})
		}
		prev = it.cumulative
	}
	return out
}

// logIter is hdr_iter with log_iter_next, log base 2.
type logIter struct {
	idx                int
	cumulative, total  int64
	value, highest     int64
	level, levelLowest int64
}

func (it *logIter) moveNext(counts *[countsLen]int64) bool {
	it.idx++
	if it.idx >= countsLen {
		return false
	}
	it.cumulative += counts[it.idx]
	it.value = valueAtIndex(it.idx)
	it.highest = lowestEquivalent(it.value) + rangeSize(it.value) - 1
	return true
}

func (it *logIter) next(counts *[countsLen]int64) bool {
	more := it.cumulative < it.total
	if !more && it.idx < countsLen && it.idx+1 < countsLen {
		more = valueAtIndex(it.idx+1) > it.levelLowest
	}
	if !more {
		return false
	}
	for {
		if it.value >= it.levelLowest {
			it.level *= 2
			it.levelLowest = lowestEquivalent(it.level)
			return true
		}
		if !it.moveNext(counts) {
			return true
		}
	}
}
