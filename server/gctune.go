package server

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The Go collector lets the heap grow by GOGC percent of the live heap
// between collections: 100% by default, so a node holding 1GB of data
// would take up to 2GB. Redis's memory is its data plus fragmentation, and
// users size machines by that. The tuner keeps the growth near a fixed
// headroom instead: GOGC = headroom / live heap, between gcMinPercent and
// 100. The cost is more frequent collections of a large heap, which are
// cheap here: most of the keyspace is pointer-free (keys and values) and
// the rest is in large pages.

const (
	gcHeadroom   = 32 << 20
	gcMinPercent = 10
	gcTuneEvery  = time.Second
)

// gcPercent is the GOGC for a live heap of live bytes.
func gcPercent(live uint64) int {
	if live == 0 {
		return 100
	}
	return int(max(gcMinPercent, min(100, gcHeadroom*100/live)))
}

// StartGCTuner runs the tuner for the process until stop is called (and
// has returned): one per process, started by main.
func StartGCTuner() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(gcTuneEvery)
		defer t.Stop()
		last := -1
		for {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				if p := gcPercent(sample[0].Value.Uint64()); p != last {
					debug.SetGCPercent(p)
					last = p
				}
			}
			select {
			case <-done:
				debug.SetGCPercent(100)
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}
