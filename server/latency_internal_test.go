package server

import (
	"math"
	"testing"
)

// FuzzParsePercentiles: any latency-tracking-info-percentiles value is
// refused or gives percentiles in [0, 100] that read back the same.
func FuzzParsePercentiles(f *testing.F) {
	for _, s := range []string{"50 99 99.9", "", "0", "100", "101", "x", "1e2", "NaN", "-0", "  50  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := parsePercentiles(s)
		if err != nil {
			return
		}
		for _, p := range ps {
			if math.IsNaN(p) || p < 0 || p > 100 {
				t.Fatalf("%q gave %v", s, p)
			}
		}
		again, err := parsePercentiles(formatPercentiles(ps))
		if err != nil || len(again) != len(ps) {
			t.Fatalf("%q: %v read back as %v, %v", s, ps, again, err)
		}
	})
}
