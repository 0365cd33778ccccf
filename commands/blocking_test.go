package commands

import (
	"math"
	"testing"
	"time"

	"github.com/loomcache/loomcache/keyspace"
)

// Timeouts parse as Redis 7.0's getTimeoutFromObjectOrReply: a long
// double of seconds rounded up to milliseconds; values too large for a
// long long of milliseconds read as negative, as C's conversion leaves
// them (checked against redis-server 7.0.15).
func TestParseTimeout(t *testing.T) {
	const now = 1_000_000
	for _, tc := range []struct {
		in   string
		want int64
		err  error
	}{
		{"0", 0, nil},
		{"-0", 0, nil},
		{"-0.0001", 0, nil}, // rounds up to 0: forever
		{"1", now + 1000, nil},
		{"0.0001", now + 1, nil},
		{"1e-9", now + 1, nil},
		{"0.5", now + 500, nil},
		{"0x10", now + 16000, nil},
		{"-1", 0, errTimeoutNegative},
		{"inf", 0, errTimeoutNegative},
		{"-inf", 0, errTimeoutNegative},
		{"1e18", 0, errTimeoutNegative},
		{"1e400", 0, errTimeoutNegative},
		{"9223372036854775807", 0, errTimeoutNegative},
		{"abc", 0, errTimeoutNotFloat},
		{" 1", 0, errTimeoutNotFloat},
		{"", 0, errTimeoutNotFloat},
		{"nan", 0, errTimeoutNotFloat},
		{"1e5000", 0, errTimeoutNotFloat},
	} {
		got, err := parseTimeout([]byte(tc.in), now)
		if got != tc.want || err != tc.err {
			t.Errorf("parseTimeout(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
	if got, err := parseTimeout([]byte("9000000000000000"), math.MaxInt64-10); err != nil || got != math.MaxInt64 {
		t.Errorf("a deadline past the end of time: %d, %v", got, err)
	}
}

func woken(wt *waiter) bool {
	select {
	case <-wt.wake:
		return true
	default:
		return false
	}
}

// A change wakes the first waiter of the key's kind only; when it leaves,
// served from the key, the next one is woken in its place.
func TestWaitersServeInOrder(t *testing.T) {
	w := newWaiters()
	a := w.add(0, [][]byte{[]byte("q")}, keyspace.KindList)
	z := w.add(0, [][]byte{[]byte("q")}, keyspace.KindZSet)
	b := w.add(0, [][]byte{[]byte("q"), []byte("q"), []byte("r")}, keyspace.KindList)
	if w.registered.Load() != 3 {
		t.Fatalf("registered %d", w.registered.Load())
	}
	w.Ready(0, "q", keyspace.KindList)
	if !woken(a) || woken(z) || woken(b) {
		t.Fatal("a change to q woke someone other than its first list waiter")
	}
	if ks := w.take(a); len(ks) != 1 || ks[0] != (dbKey{0, "q"}) {
		t.Fatalf("take: %v", ks)
	}
	w.Ready(1, "q", keyspace.KindList) // another database
	w.Ready(0, "r", keyspace.KindList)
	if woken(a) || !woken(b) {
		t.Fatal("r's change did not wake b alone")
	}
	w.take(b)
	served := dbKey{0, "q"}
	w.remove(a, []dbKey{served})
	if woken(z) || !woken(b) {
		t.Fatal("a served from q did not hand the wake-up to b")
	}
	w.Ready(0, "q", keyspace.KindZSet)
	if !woken(z) {
		t.Fatal("a sorted set change did not wake the sorted set waiter")
	}
	w.remove(b, nil)
	w.remove(z, nil)
	if w.registered.Load() != 0 || len(w.queues) != 0 || len(w.all) != 0 {
		t.Fatalf("left behind: %d registered, %v", w.registered.Load(), w.queues)
	}
	w.Ready(0, "q", keyspace.KindList) // nobody: nothing to do
}

// A keyspace change of every key (a snapshot loaded) wakes every waiter.
func TestWaitersReadyAll(t *testing.T) {
	w := newWaiters()
	a := w.add(0, [][]byte{[]byte("q")}, keyspace.KindList)
	b := w.add(2, [][]byte{[]byte("q")}, keyspace.KindZSet)
	w.Ready(-1, "", 0)
	if !woken(a) || !woken(b) {
		t.Fatal("not everyone woke")
	}
}

// A waiter woken is busy until it has acted on every wake-up it took, or
// left; Settle waits for that, handing over included.
func TestWaitersSettle(t *testing.T) {
	w := newWaiters()
	a := w.add(0, [][]byte{[]byte("q")}, keyspace.KindList)
	b := w.add(0, [][]byte{[]byte("q")}, keyspace.KindList)
	w.Settle(time.Hour) // nobody woken: returns at once
	w.Ready(0, "q", keyspace.KindList)
	if w.busyNow.Load() != 1 {
		t.Fatalf("busy %d after a wake-up", w.busyNow.Load())
	}
	settled := make(chan struct{})
	go func() { w.Settle(time.Hour); close(settled) }()
	w.take(a)
	served := dbKey{0, "q"}
	w.remove(a, []dbKey{served}) // hands the wake-up to b: still busy
	select {
	case <-settled:
		t.Fatal("settled while b had a wake-up to act on")
	case <-time.After(20 * time.Millisecond):
	}
	w.take(b)
	w.idleNow(b)
	<-settled
	if w.busyNow.Load() != 0 {
		t.Fatalf("busy %d after everyone acted", w.busyNow.Load())
	}
	w.remove(b, nil)
}

// A waiter woken on two keys and served from the first hands both on,
// in the order they were signalled: the next waiter looks at the served
// key first (it may hold more), then at the one never looked at.
func TestWaitersHandOverUnfinished(t *testing.T) {
	w := newWaiters()
	keys := [][]byte{[]byte("a"), []byte("b")}
	first := w.add(0, keys, keyspace.KindList)
	next := w.add(0, keys, keyspace.KindList)
	w.Ready(0, "a", keyspace.KindList)
	w.Ready(0, "b", keyspace.KindList)
	pending := w.take(first)
	w.remove(first, pending) // served from "a", never looked at "b"
	if !woken(next) {
		t.Fatal("the next waiter was not woken")
	}
	if got := w.take(next); len(got) != 2 || got[0] != (dbKey{0, "a"}) || got[1] != (dbKey{0, "b"}) {
		t.Fatalf("handed over %v", got)
	}
}
