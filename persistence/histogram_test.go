package persistence

import (
	"slices"
	"testing"
)

func TestHistogram(t *testing.T) {
	h := NewHistogram([]uint64{10, 100, 1000})
	for _, v := range []uint64{1, 10, 11, 100, 500, 5000, 7} {
		h.Observe(v)
	}
	s := h.Snapshot()
	if want := []uint64{3, 5, 6}; !slices.Equal(s.Counts, want) {
		t.Errorf("cumulative counts %v, want %v", s.Counts, want)
	}
	if s.Count != 7 || s.Sum != 5629 || s.Last != 7 {
		t.Errorf("count %d sum %d last %d, want 7 5629 7", s.Count, s.Sum, s.Last)
	}
	if got, want := Exponential(1, 2, 4), []uint64{1, 2, 4, 8}; !slices.Equal(got, want) {
		t.Errorf("Exponential(1, 2, 4) = %v", got)
	}
}
