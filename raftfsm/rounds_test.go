package raftfsm

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRoundsBeginAfterJoin: every caller gets the result of a round that
// began after it joined; callers that join while a round runs share the
// next one; and a closed gate fails the round with ErrNoLeader.
func TestRoundsBeginAfterJoin(t *testing.T) {
	var rs rounds
	g := newGate()
	var began atomic.Uint64 // rounds begun: the result is the round's number
	release := make(chan struct{})
	do := func() (uint64, error) {
		n := began.Add(1)
		if n == 1 {
			<-release // the first round runs until the others joined
		}
		return n, nil
	}
	first := make(chan uint64)
	go func() {
		i, _ := rs.join(g, do)
		first <- i
	}()
	for began.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	const callers = 50
	var wg sync.WaitGroup
	got := make([]uint64, callers)
	for k := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[k], _ = rs.join(g, do)
		}()
	}
	time.Sleep(100 * time.Millisecond) // let them join the waiting round
	close(release)
	wg.Wait()
	if i := <-first; i != 1 {
		t.Fatalf("the first caller got round %d", i)
	}
	for k, i := range got {
		if i != 2 {
			t.Fatalf("caller %d, which joined while round 1 ran, got round %d, not 2", k, i)
		}
	}
	if n := began.Load(); n != 2 {
		t.Fatalf("%d rounds ran for 51 callers in two waves; want 2", n)
	}
	// Sequential callers each get a round of their own.
	for k := range 3 {
		if i, err := rs.join(g, do); err != nil || i != uint64(3+k) {
			t.Fatalf("sequential join %d: round %d, %v", k, i, err)
		}
	}
	g.close()
	if _, err := rs.join(g, do); !errors.Is(err, ErrNoLeader) {
		t.Fatalf("join after the gate closed: %v", err)
	}
}
