package server_test

import (
	"testing"
	"time"
)

// A TLS client blocks and is served as a plain one: the watch on its
// connection, interrupted by a deadline when the wait ends, leaves the
// TLS stream readable, with a command pipelined during the wait intact.
func TestBlockingPopOverTLS(t *testing.T) {
	n := startTLS(t)
	c, err := dialTLS(t, n.tlsAddr(), n.pki.ClientTLS(n.clientCert()))
	if err != nil {
		t.Fatal(err)
	}
	admin := dialRaw(t, n.Addr().String())
	if r := c.do("BLPOP", "none", "0.05"); !sameReply(r, []any{}) {
		t.Fatalf("BLPOP timed out over TLS: %v", r)
	}
	c.send("BLPOP", "q", "0")
	waitBlocked(t, admin, 1)
	c.send("PING") // read by the watch while the client is blocked
	time.Sleep(50 * time.Millisecond)
	admin.str("RPUSH", "q", "v")
	if r := readWithin(t, c, 10*time.Second); !sameReply(r, []any{"q", "v"}) {
		t.Fatalf("BLPOP served over TLS: %v", r)
	}
	if r := readWithin(t, c, 10*time.Second); r != "PONG" {
		t.Fatalf("the PING sent while blocked: %v", r)
	}
	if r := c.str("ECHO", "still fine"); r != "still fine" {
		t.Fatalf("after the wait: %q", r)
	}
}
