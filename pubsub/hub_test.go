package pubsub

import (
	"slices"
	"testing"
	"time"
)

func newTestSub(lim Limits, overflows *int) *Sub {
	return NewSub(Hooks{Limits: func() Limits { return lim }, Overflow: func() { *overflows++ }})
}

func take(t *testing.T, s *Sub) string {
	t.Helper()
	b, over := s.Take()
	if over {
		t.Fatal("over its limits")
	}
	s.Written()
	return string(b)
}

func TestPublishMatchesChannelsThenPatterns(t *testing.T) {
	h := NewHub()
	h.SetDelivering(true)
	var n int
	a, b := newTestSub(Limits{}, &n), newTestSub(Limits{}, &n)
	b.SetProto(3)
	h.Subscribe(a, Channel, []byte("news.eu"))
	h.Subscribe(a, Pattern, []byte("news.*"))
	h.Subscribe(b, Pattern, []byte("news.?u"))
	h.Subscribe(b, Shard, []byte("news.eu"))
	if got := h.Publish([]byte("news.eu"), []byte("hi"), false); got != 3 {
		t.Fatalf("receivers %d, want 3 (a twice, b once)", got)
	}
	if got, want := take(t, a), "*3\r\n$7\r\nmessage\r\n$7\r\nnews.eu\r\n$2\r\nhi\r\n"+
		"*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$7\r\nnews.eu\r\n$2\r\nhi\r\n"; got != want {
		t.Fatalf("a got %q", got)
	}
	if got, want := take(t, b), ">4\r\n$8\r\npmessage\r\n$7\r\nnews.?u\r\n$7\r\nnews.eu\r\n$2\r\nhi\r\n"; got != want {
		t.Fatalf("b got %q", got)
	}
	// Shard messages reach shard subscribers only; patterns never match.
	if got := h.Publish([]byte("news.eu"), []byte("s"), true); got != 1 {
		t.Fatalf("shard receivers %d", got)
	}
	if got, want := take(t, b), ">3\r\n$8\r\nsmessage\r\n$7\r\nnews.eu\r\n$1\r\ns\r\n"; got != want {
		t.Fatalf("b got %q", got)
	}
	if got := take(t, a); got != "" {
		t.Fatalf("a got %q", got)
	}
	if got := h.Receivers([]byte("news.xu"), false); got != 2 {
		t.Fatalf("Receivers(news.xu) %d", got)
	}
}

func TestSubscriptionCounts(t *testing.T) {
	h := NewHub()
	var n int
	a, b := newTestSub(Limits{}, &n), newTestSub(Limits{}, &n)
	if !h.Subscribe(a, Channel, []byte("x")) || h.Subscribe(a, Channel, []byte("x")) {
		t.Fatal("second subscription to x was new, or the first was not")
	}
	h.Subscribe(a, Channel, []byte("y"))
	h.Subscribe(a, Pattern, []byte("p*"))
	h.Subscribe(a, Shard, []byte("s"))
	h.Subscribe(b, Channel, []byte("x"))
	if a.Count() != 3 || a.ShardCount() != 1 || !a.Subscribed() {
		t.Fatalf("a: count %d shard %d", a.Count(), a.ShardCount())
	}
	if h.Count(Channel, []byte("x")) != 2 || h.NumPatterns() != 1 {
		t.Fatal("hub counts")
	}
	names := h.Names(Channel, nil)
	slices.Sort(names)
	if !slices.Equal(names, []string{"x", "y"}) {
		t.Fatalf("channels %v", names)
	}
	if got := h.Names(Channel, []byte("y*")); !slices.Equal(got, []string{"y"}) {
		t.Fatalf("channels y* %v", got)
	}
	if h.Unsubscribe(a, Channel, []byte("nope")) || !h.Unsubscribe(a, Channel, []byte("x")) {
		t.Fatal("unsubscribe results")
	}
	if got := h.UnsubscribeAll(a, Channel); !slices.Equal(got, []string{"y"}) {
		t.Fatalf("unsubscribed %v", got)
	}
	if _, ok := h.subs[Channel]["y"]; ok {
		t.Fatal("a channel nobody listens to is kept")
	}
	h.Leave(a)
	if a.Subscribed() || h.NumPatterns() != 0 || h.Count(Shard, []byte("s")) != 0 || h.Count(Channel, []byte("x")) != 1 {
		t.Fatal("Leave left subscriptions behind")
	}
	// A connection that left gets nothing more, though it was counted
	// until it left.
	h.SetDelivering(true)
	if got := h.Publish([]byte("x"), []byte("m"), false); got != 1 {
		t.Fatalf("receivers %d", got)
	}
	if got := take(t, a); got != "" {
		t.Fatalf("gone subscriber got %q", got)
	}
}

func TestNothingDeliveredUntilDelivering(t *testing.T) {
	h := NewHub()
	var n int
	a := newTestSub(Limits{}, &n)
	h.Subscribe(a, Channel, []byte("c"))
	if got := h.Publish([]byte("c"), []byte("replayed"), false); got != 1 {
		t.Fatalf("receivers %d", got)
	}
	if got := take(t, a); got != "" {
		t.Fatalf("delivered while replaying: %q", got)
	}
}

func TestHardLimitOverflows(t *testing.T) {
	h := NewHub()
	h.SetDelivering(true)
	var overflows int
	a := newTestSub(Limits{Hard: 100}, &overflows)
	h.Subscribe(a, Channel, []byte("c"))
	h.Publish([]byte("c"), make([]byte, 40), false) // 61 bytes queued
	if overflows != 0 {
		t.Fatal("overflow under the limit")
	}
	// What the writer took still counts until written.
	b, _ := a.Take()
	h.Publish([]byte("c"), make([]byte, 40), false)
	if overflows != 1 {
		t.Fatalf("overflows %d after %d bytes taken and more queued", overflows, len(b))
	}
	if _, over := a.Take(); !over {
		t.Fatal("Take does not report the overflow")
	}
	h.Publish([]byte("c"), []byte("x"), false)
	if overflows != 1 {
		t.Fatal("overflowed twice")
	}
}

func TestSoftLimitOverflowsAfterSoftTime(t *testing.T) {
	h := NewHub()
	h.SetDelivering(true)
	now := time.Unix(1000, 0)
	h.SetClock(func() time.Time { return now })
	var overflows int
	a := newTestSub(Limits{Soft: 100, SoftFor: 10 * time.Second}, &overflows)
	h.Subscribe(a, Channel, []byte("c"))
	h.Publish([]byte("c"), make([]byte, 90), false) // over soft
	now = now.Add(10 * time.Second)
	h.Publish([]byte("c"), []byte("x"), false)
	if overflows != 0 {
		t.Fatal("overflow at exactly the soft time")
	}
	// Going under the soft limit restarts the clock.
	take(t, a)
	h.Publish([]byte("c"), []byte("x"), false)
	h.Publish([]byte("c"), make([]byte, 90), false)
	now = now.Add(5 * time.Second)
	h.Publish([]byte("c"), []byte("x"), false)
	if overflows != 0 {
		t.Fatal("soft time not restarted")
	}
	now = now.Add(6 * time.Second)
	h.Publish([]byte("c"), []byte("x"), false)
	if overflows != 1 {
		t.Fatalf("overflows %d after 11 s over the soft limit", overflows)
	}
}

func TestHoldKeepsMessagesForTheConnection(t *testing.T) {
	h := NewHub()
	h.SetDelivering(true)
	var n int
	a := newTestSub(Limits{}, &n)
	h.Subscribe(a, Channel, []byte("c"))
	h.Publish([]byte("c"), []byte("1"), false)
	if got := string(a.Hold()); got != "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\n1\r\n" {
		t.Fatalf("Hold returned %q", got)
	}
	h.Publish([]byte("c"), []byte("2"), false)
	if got := take(t, a); got != "" {
		t.Fatalf("writer took %q while held", got)
	}
	if got := string(a.Release()); got != "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\n2\r\n" {
		t.Fatalf("Release returned %q", got)
	}
	a.Written()
	if a.Release() != nil {
		t.Fatal("Release without Hold returned bytes")
	}
}
