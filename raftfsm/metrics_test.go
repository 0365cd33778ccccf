package raftfsm

import (
	"testing"
	"time"
)

// TestAckMatch: a follower's match index only grows within a term,
// whatever order its answers arrive in, and starts over in a new term.
func TestAckMatch(t *testing.T) {
	var a ackTimes
	base := time.Now()
	a.init(base)
	steps := []struct {
		term, match, want uint64
	}{
		{2, 10, 10},
		{2, 15, 15},
		{2, 12, 15}, // an older answer arriving late
		{3, 4, 4},   // a new term: what was matched before counts no more
	}
	for i, s := range steps {
		a.note("b", s.term, base.Add(time.Duration(i)*time.Millisecond), s.match)
		if got := a.matchIndex("b", s.term); got != s.want {
			t.Errorf("step %d: match %d, want %d", i, got, s.want)
		}
	}
	if got := a.matchIndex("b", 2); got != 0 {
		t.Errorf("match in an old term: %d", got)
	}
	if got := a.matchIndex("c", 3); got != 0 {
		t.Errorf("match of a peer never heard: %d", got)
	}
}
