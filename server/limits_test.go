package server_test

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// maxclients, given at startup as a Redis directive, refuses the client
// past the limit with Redis's error and closes it; CONFIG SET raises it.
func TestMaxClients(t *testing.T) {
	n := nodetest.Start(t, server.Config{Directives: [][2]string{{"maxclients", "3"}}})
	addr := n.Addr().String()
	var conns []*rawConn
	for i := 0; i < 3; i++ {
		c := dialRaw(t, addr)
		if got := c.str("PING"); got != "PONG" {
			t.Fatalf("client %d: %q", i, got)
		}
		conns = append(conns, c)
	}
	extra := dialRaw(t, addr)
	extra.nc.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := extra.read()
	if err != nil || got != "-ERR max number of clients reached" {
		t.Fatalf("4th client: %v %v", got, err)
	}
	if _, err := extra.br.ReadByte(); err != io.EOF {
		t.Fatalf("4th client not closed: %v", err)
	}
	if got := infoField(conns[0].str("INFO", "stats"), "rejected_connections"); got != "1" {
		t.Fatalf("rejected_connections = %q", got)
	}
	if got := conns[0].str("CONFIG", "SET", "maxclients", "4"); got != "OK" {
		t.Fatal(got)
	}
	if got := dialRaw(t, addr).str("PING"); got != "PONG" {
		t.Fatalf("after raising maxclients: %q", got)
	}
}

// timeout closes a client idle for that many seconds, and only such a
// client: not one subscribed (Pub/Sub), as Redis spares it.
func TestIdleTimeout(t *testing.T) {
	n := nodetest.Start(t, server.Config{Directives: [][2]string{{"timeout", "1"}}})
	sub := dialRaw(t, n.Addr().String()) // idle longer than idle below
	if got := sub.do("SUBSCRIBE", "c"); len(got.([]any)) != 3 {
		t.Fatal(got)
	}
	idle := dialRaw(t, n.Addr().String())
	if got := idle.str("PING"); got != "PONG" {
		t.Fatal(got)
	}
	busy := dialRaw(t, n.Addr().String())
	idle.nc.SetReadDeadline(time.Now().Add(20 * time.Second))
	closed := make(chan error, 1)
	go func() { _, err := idle.br.ReadByte(); closed <- err }()
	for {
		select {
		case err := <-closed:
			if err != io.EOF {
				t.Fatalf("idle client: %v, want EOF", err)
			}
			// The busy client, never idle a second, is still served.
			if got := busy.str("PING"); got != "PONG" {
				t.Fatalf("busy client: %q", got)
			}
			if got := sub.do("PING"); fmt.Sprint(got) != "[pong ]" {
				t.Fatalf("subscriber: %v", got)
			}
			if got := busy.str("CONFIG", "SET", "timeout", "0"); got != "OK" {
				t.Fatal(got)
			}
			return
		case <-time.After(200 * time.Millisecond):
			if got := busy.str("PING"); got != "PONG" {
				t.Fatalf("busy client: %q", got)
			}
		}
	}
}

func TestBadStartupDirective(t *testing.T) {
	for _, d := range [][2]string{{"maxclients", "0"}, {"timeout", "-1"}, {"maxmemory-policy", "sometimes"}} {
		_, err := server.New(server.Config{ID: "n1", Addr: nodetest.FreeAddr(t), RaftAddr: nodetest.FreeAddr(t),
			DataDir: t.TempDir(), LogOutput: io.Discard, Directives: [][2]string{d}})
		if err == nil {
			t.Errorf("%v accepted", d)
		}
	}
}
