package main

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// A histogram counts latencies in buckets of 1/64 of a power of two
// (under 1.6% wide), so that millions of deliveries cost a fixed few
// KiB instead of a slice each. Subscribers add to it concurrently.
const (
	histMantissa = 6 // bits of a bucket's value kept
	histBuckets  = (64 - histMantissa + 1) << histMantissa
)

type histogram struct {
	counts [histBuckets]atomic.Uint64
}

// bucket is the index of v's bucket: values below 128 exactly, larger
// ones by their top 7 bits and their length.
func bucket(v uint64) int {
	if v < 2<<histMantissa {
		return int(v)
	}
	shift := bits.Len64(v) - histMantissa - 1
	return (shift << histMantissa) + int(v>>shift)
}

// bucketLow is the smallest value of bucket i.
func bucketLow(i int) uint64 {
	if i < 2<<histMantissa {
		return uint64(i)
	}
	shift := i>>histMantissa - 1
	return uint64(i-shift<<histMantissa) << shift
}

func (h *histogram) add(d time.Duration) {
	if d < 0 {
		d = 0 // the clock stepped back between send and receipt
	}
	h.counts[bucket(uint64(d))].Add(1)
}

// merge adds o's counts to h (no other goroutine adds to o meanwhile).
func (h *histogram) merge(o *histogram) {
	for i := range o.counts {
		if c := o.counts[i].Load(); c > 0 {
			h.counts[i].Add(c)
		}
	}
}

func (h *histogram) total() uint64 {
	var n uint64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// percentile is the lower bound of the bucket holding the value a
// fraction p of the counted values are below; 0 when nothing was
// counted.
func (h *histogram) percentile(p float64) time.Duration {
	n := h.total()
	if n == 0 {
		return 0
	}
	rank := min(n-1, uint64(p*float64(n)))
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen > rank {
			return time.Duration(bucketLow(i))
		}
	}
	return 0
}
