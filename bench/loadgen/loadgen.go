// Package loadgen is the closed loop the Go benchmark programs share
// (bench/txbench, bench/partbench): N clients, each one operation at a
// time, through a warm-up and a measured time, with every measured
// operation's latency. It knows nothing of what an operation does.
package loadgen

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Op runs one operation; rng is its client's own random source.
type Op func(ctx context.Context, rng *rand.Rand) error

// Result is what the clients measured.
type Result struct {
	Ops, Errors int
	FirstErr    error
	Latencies   []time.Duration // of the measured operations that succeeded, sorted
}

// Percentile is the latency below which a fraction p of the measured
// operations finished (Ops must be positive).
func (r *Result) Percentile(p float64) time.Duration {
	return r.Latencies[min(len(r.Latencies)-1, int(p*float64(len(r.Latencies))))]
}

// Ms is d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Run runs clients goroutines, client i running newOp(i)'s operations
// one after another, for warmup plus duration, and gathers what they
// measured: the operations that began after the warm-up and ended
// before the end.
func Run(ctx context.Context, clients int, warmup, duration time.Duration, newOp func(client int) Op) *Result {
	start := time.Now()
	measureFrom, end := start.Add(warmup), start.Add(warmup+duration)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		all Result
	)
	for c := range clients {
		op := newOp(c)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(c)))
			var mine Result
			for {
				began := time.Now()
				if !began.Before(end) {
					break
				}
				err := op(ctx, rng)
				took := time.Since(began)
				if began.Before(measureFrom) || began.Add(took).After(end) {
					continue
				}
				if err != nil {
					mine.Errors++
					if mine.FirstErr == nil {
						mine.FirstErr = err
					}
					continue
				}
				mine.Ops++
				mine.Latencies = append(mine.Latencies, took)
			}
			mu.Lock()
			all.Ops += mine.Ops
			all.Errors += mine.Errors
			if all.FirstErr == nil {
				all.FirstErr = mine.FirstErr
			}
			all.Latencies = append(all.Latencies, mine.Latencies...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all.Latencies)
	return &all
}
