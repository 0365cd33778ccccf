package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// readWithin reads one reply, waiting up to d.
func readWithin(t *testing.T, c *rawConn, d time.Duration) any {
	t.Helper()
	c.nc.SetDeadline(time.Now().Add(d))
	r, err := c.read()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return r
}

// A blocked client on one node: served by a later push, timed out,
// unblocked by CLIENT UNBLOCK, shown by INFO and CLIENT LIST; one that
// leaves takes nothing with it; one in MULTI does not block.
func TestBlockingPopOneNode(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	addr := n.Addr().String()
	admin := dialRaw(t, addr)

	b := dialRaw(t, addr)
	id := b.str("CLIENT", "ID")
	b.send("BLPOP", "q", "0")
	waitBlocked(t, admin, 1)
	if !strings.Contains(admin.str("CLIENT", "LIST", "ID", id), " flags=b ") {
		t.Errorf("CLIENT LIST of a blocked client: %s", admin.str("CLIENT", "LIST", "ID", id))
	}
	if r := admin.str("RPUSH", "q", "a", "b"); r != "2" {
		t.Fatalf("RPUSH: %q", r)
	}
	// As in Redis, the push's reply came after the blocked client was
	// served: the pusher sees the list without its element.
	if r := admin.do("LRANGE", "q", "0", "-1"); !sameReply(r, []any{"b"}) {
		t.Fatalf("left %v", r)
	}
	if r := readWithin(t, b, 10*time.Second); !sameReply(r, []any{"q", "a"}) {
		t.Fatalf("BLPOP served %v", r)
	}

	// Linked moves: one push, served through two blocked BLMOVEs, before
	// the push's reply.
	m1, m2 := dialRaw(t, addr), dialRaw(t, addr)
	m1.send("BLMOVE", "l1", "l2", "RIGHT", "LEFT", "0")
	waitBlocked(t, admin, 1)
	m2.send("BLMOVE", "l2", "l3", "LEFT", "RIGHT", "0")
	waitBlocked(t, admin, 2)
	admin.str("RPUSH", "l1", "foo")
	for _, k := range []string{"l1", "l2"} {
		if r := admin.str("EXISTS", k); r != "0" {
			t.Errorf("%s still exists after the push returned", k)
		}
	}
	if r := admin.do("LRANGE", "l3", "0", "-1"); !sameReply(r, []any{"foo"}) {
		t.Errorf("l3 after the push returned: %v", r)
	}
	for _, m := range []*rawConn{m1, m2} {
		if r := readWithin(t, m, 10*time.Second); r != "foo" {
			t.Errorf("BLMOVE served %v", r)
		}
	}

	// A timeout: a null array, and nobody blocked after.
	if r := b.do("BLPOP", "none", "0.05"); !sameReply(r, []any{}) {
		t.Fatalf("BLPOP timed out: %v", r)
	}
	waitBlocked(t, admin, 0)

	// CLIENT UNBLOCK, as a timeout and as an error; 0 for a client not
	// blocked.
	b.send("BRPOP", "none", "0")
	waitBlocked(t, admin, 1)
	if r := admin.str("CLIENT", "UNBLOCK", id); r != "1" {
		t.Fatalf("CLIENT UNBLOCK: %q", r)
	}
	if r := readWithin(t, b, 10*time.Second); !sameReply(r, []any{}) {
		t.Fatalf("unblocked as a timeout: %v", r)
	}
	b.send("BLMOVE", "none", "dst", "LEFT", "RIGHT", "0")
	waitBlocked(t, admin, 1)
	if r := admin.str("CLIENT", "UNBLOCK", id, "ERROR"); r != "1" {
		t.Fatalf("CLIENT UNBLOCK ERROR: %q", r)
	}
	if r := readWithin(t, b, 10*time.Second); r != "-UNBLOCKED client unblocked via CLIENT UNBLOCK" {
		t.Fatalf("unblocked as an error: %v", r)
	}
	if r := admin.str("CLIENT", "UNBLOCK", id); r != "0" {
		t.Fatalf("CLIENT UNBLOCK of a client not blocked: %q", r)
	}

	// A client that leaves while blocked pops nothing.
	gone := dialRaw(t, addr)
	gone.send("BLPOP", "later", "0")
	waitBlocked(t, admin, 1)
	gone.nc.Close()
	waitBlocked(t, admin, 0)
	admin.str("RPUSH", "later", "x")
	time.Sleep(50 * time.Millisecond)
	if r := admin.do("LRANGE", "later", "0", "-1"); !sameReply(r, []any{"x"}) {
		t.Fatalf("after a blocked client left, the list holds %v", r)
	}

	// A command pipelined behind a blocked one runs once it is served.
	b.send("BLPOP", "p", "0")
	b.send("PING")
	waitBlocked(t, admin, 1)
	admin.str("LPUSH", "p", "v")
	if r := readWithin(t, b, 10*time.Second); !sameReply(r, []any{"p", "v"}) {
		t.Fatalf("BLPOP: %v", r)
	}
	if r := readWithin(t, b, 10*time.Second); r != "PONG" {
		t.Fatalf("the pipelined PING: %v", r)
	}

	// In MULTI, a blocking pop answers at once.
	b.str("MULTI")
	b.str("BLPOP", "none", "0")
	if r := b.do("EXEC"); !sameReply(r, []any{[]any{}}) {
		t.Fatalf("EXEC of BLPOP on nothing: %v", r)
	}
}

func sameReply(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameReply(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// A node stops while clients are blocked, forever, in every kind of
// blocking pop: their connections close and nothing waits for them.
func TestStopWithClientsBlocked(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	admin := dialRaw(t, n.Addr().String())
	for _, cmd := range [][]string{
		{"BLPOP", "a", "0"}, {"BRPOPLPUSH", "b", "c", "0"}, {"BLMPOP", "0", "1", "d", "LEFT"},
		{"BZPOPMIN", "z", "0"}, {"BZMPOP", "0", "1", "y", "MAX"},
	} {
		dialRaw(t, n.Addr().String()).send(cmd...)
	}
	waitBlocked(t, admin, 5)
	done := make(chan error, 1)
	go func() { done <- n.Stop() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not stop with clients blocked")
	}
}
