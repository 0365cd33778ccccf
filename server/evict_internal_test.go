package server

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/loomcache/loomcache/keyspace"
)

func TestEvictionTimeLimit(t *testing.T) {
	for _, c := range []struct {
		tenacity int64
		want     time.Duration
	}{
		{0, 0},
		{1, 50 * time.Microsecond},
		{10, 500 * time.Microsecond},
		{11, 575 * time.Microsecond},
		{99, 126205358 * time.Microsecond}, // about 2 minutes, as Redis says
		{100, -1},
	} {
		if got := evictionTimeLimit(c.tenacity); got != c.want {
			t.Errorf("evictionTimeLimit(%d) = %v, want %v", c.tenacity, got, c.want)
		}
	}
}

func TestEvictionScore(t *testing.T) {
	c := keyspace.Candidate{Key: "k", Idle: 1500, Freq: 7, Deadline: 1_700_000_000_000}
	for _, tc := range []struct {
		p    evictPolicy
		want uint64
	}{
		{allkeysLRU, 1500},
		{volatileLRU, 1500},
		{allkeysLFU, 248},
		{volatileLFU, 248},
		{volatileTTL, math.MaxUint64 - 1_700_000_000_000},
	} {
		if got := score(tc.p, &c); got != tc.want {
			t.Errorf("score under %d = %d, want %d", tc.p, got, tc.want)
		}
	}
}

// The pool keeps the 16 best candidates by ascending score, as Redis's
// evictionPoolPopulate does, and gives the best first.
func TestEvictionPool(t *testing.T) {
	var p evictionPool
	scores := []uint64{50, 10, 30, 20, 40}
	for i, s := range scores {
		p.insert(0, fmt.Sprint("k", i), s)
	}
	p.insert(0, "k0", 99)     // already in: not added twice
	for i := 0; i < 20; i++ { // worse than all, while there is room
		p.insert(1, fmt.Sprint("w", i), 1)
	}
	if p.n != evictPoolSize {
		t.Fatalf("pool holds %d, want %d", p.n, evictPoolSize)
	}
	p.insert(1, "low", 0)   // full, worse than all: dropped
	p.insert(1, "mid", 35)  // full: pushes the worst out
	p.insert(2, "top", 100) // full: pushes the worst out
	var got []string
	for {
		v, ok := p.popBest()
		if !ok {
			break
		}
		got = append(got, fmt.Sprint(v.db, ":", v.key))
	}
	want := []string{"2:top", "0:k0", "0:k4", "1:mid", "0:k2", "0:k3", "0:k1"}
	if len(got) != evictPoolSize || fmt.Sprint(got[:len(want)]) != fmt.Sprint(want) {
		t.Errorf("popped %v, want %v then 9 of the w keys", got, want)
	}
	for _, v := range got {
		if v == "1:low" {
			t.Error("a candidate worse than a full pool was kept")
		}
	}
}
