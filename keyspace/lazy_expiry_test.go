package keyspace

import (
	"fmt"
	"slices"
	"testing"
)

// Command reads note the keys they find past their deadline, once each,
// with their database, up to a bound; only in a store that tracks them,
// and not for keys without a deadline (a hash whose fields all expired).
func TestReadsNoteExpiredKeys(t *testing.T) {
	untracked := New(1)
	untracked.DB(0).Set([]byte("a"), NewString([]byte("1")), 10)
	untracked.DB(0).GetRead([]byte("a"), 20)
	if untracked.LazyExpiredPending() {
		t.Fatal("a store that does not track noted a key")
	}

	s := New(2)
	s.TrackLazyExpiry()
	d0, d1 := s.DB(0), s.DB(1)
	d0.Set([]byte("a"), NewString([]byte("1")), 10)
	d1.Set([]byte("b"), NewString([]byte("1")), 10)
	d1.Set([]byte("live"), NewString([]byte("1")), 100)
	d1.Set([]byte("forever"), NewString([]byte("1")), 0)
	for range 2 {
		d0.GetRead([]byte("a"), 20)
		d1.GetRead([]byte("b"), 20)
		d1.GetRead([]byte("live"), 20)
		d1.GetRead([]byte("forever"), 20)
		d1.GetRead([]byte("absent"), 20)
	}
	d0.Get([]byte("a"), 20) // not a command's read
	if !s.LazyExpiredPending() {
		t.Fatal("nothing pending")
	}
	var got []string
	for _, k := range s.TakeLazyExpired() {
		got = append(got, fmt.Sprint(k.DB, " ", string(k.Key)))
	}
	if want := []string{"0 a", "1 b"}; !slices.Equal(got, want) {
		t.Errorf("noted %q, want %q", got, want)
	}
	if s.LazyExpiredPending() || len(s.TakeLazyExpired()) != 0 {
		t.Error("taken keys still pending")
	}

	for i := range lazyExpiryMax + 10 {
		k := []byte(fmt.Sprint("k", i))
		d0.Set(k, NewString([]byte("1")), 10)
		d0.GetRead(k, 20)
	}
	if n := len(s.TakeLazyExpired()); n != lazyExpiryMax {
		t.Errorf("%d keys noted, want the bound %d", n, lazyExpiryMax)
	}
}
