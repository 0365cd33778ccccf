package server_test

import (
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// An HLL's bytes are the same on every node, the cached cardinality that
// PFCOUNT stores included (its PFCACHE op goes through the log); a
// READONLY follower counts what it holds without proposing, and leaves
// the cache stale.
func TestHLLBytesReplicate(t *testing.T) {
	cl := nodetest.StartCluster(t, 3, nil)
	l := dialRaw(t, cl.Leader().Addr().String())
	f := dialRaw(t, cl.Followers()[0].Addr().String())
	ro := dialRaw(t, cl.Followers()[1].Addr().String())
	if r := ro.str("READONLY"); r != "OK" {
		t.Fatalf("READONLY: %q", r)
	}
	if r := f.str("PFADD", "h", "a", "b", "c"); r != "1" {
		t.Fatalf("PFADD through a follower: %q", r)
	}
	if r := f.str("PFCOUNT", "h"); r != "3" {
		t.Fatalf("PFCOUNT through a follower: %q", r)
	}
	cached := l.str("GET", "h")
	if cached[15] != 0 || cached[8] != 3 {
		t.Fatalf("PFCOUNT did not store the count on the leader: % x", cached[:16])
	}
	eventually(t, "the cached count on the READONLY follower", func() bool { return ro.do("GET", "h") == cached })

	if r := l.str("PFADD", "h", "d"); r != "1" {
		t.Fatalf("PFADD: %q", r)
	}
	stale := l.str("GET", "h")
	eventually(t, "the new register on the READONLY follower", func() bool { return ro.do("GET", "h") == stale })
	if r := ro.str("PFCOUNT", "h"); r != "4" {
		t.Fatalf("PFCOUNT on a READONLY follower: %q", r)
	}
	if r := ro.str("GET", "h"); r != stale || r[15] != 0x80 {
		t.Fatalf("PFCOUNT on a READONLY follower changed its bytes: % x", r[:16])
	}
	if r := l.str("PFMERGE", "m", "h", "nosuch"); r != "OK" {
		t.Fatalf("PFMERGE: %q", r)
	}
	merged := l.str("GET", "m")
	eventually(t, "PFMERGE's result on the READONLY follower", func() bool { return ro.do("GET", "m") == merged })
}
