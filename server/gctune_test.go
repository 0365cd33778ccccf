package server

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

func TestGCPercent(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 100}, {1 << 20, 100}, {32 << 20, 100}, {64 << 20, 50}, {128 << 20, 25}, {256 << 20, 12}, {1 << 30, 10}, {16 << 30, 10},
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("live %d MiB: GOGC %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// TestGCTunerStops: with a live heap past the headroom the tuner lowers
// GOGC while it runs, and gives the default back when stopped.
func TestGCTunerStops(t *testing.T) {
	live := make([]byte, 3*gcHeadroom) // kept live until the end
	for i := range live {
		live[i] = byte(i)
	}
	runtime.GC()
	gogc := func() uint64 {
		m := []metrics.Sample{{Name: "/gc/gogc:percent"}}
		metrics.Read(m)
		return m[0].Value.Uint64()
	}
	stop := StartGCTuner()
	deadline := time.Now().Add(10 * time.Second)
	for gogc() >= 100 {
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("GOGC still %d with a live heap of %d MiB", gogc(), len(live)>>20)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if p := gogc(); p != 100 {
		t.Fatalf("GOGC %d after stop", p)
	}
	runtime.KeepAlive(live)
}
