package server

import (
	"runtime/debug"
	"testing"
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

// TestGCTunerStops: the tuner sets GOGC while it runs and gives the
// default back when stopped.
func TestGCTunerStops(t *testing.T) {
	stop := StartGCTuner()
	stop()
	if p := debug.SetGCPercent(100); p != 100 {
		t.Fatalf("GOGC %d after stop", p)
	}
}
