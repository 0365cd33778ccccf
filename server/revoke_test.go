package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// These tests stand connections whose Write and Close block in for the
// sockets a node accepts, as a socket does whose peer never reads (its
// send buffer full: a write blocks, and so does a TLS Close, which
// writes close_notify). The waits below are failure detectors only: no
// test asserts how long anything took.

// failAfter bounds every wait for something that must happen.
const failAfter = 30 * time.Second

// stallConn is an accepted connection whose Write and Close, once stall
// is set, wait until release is closed; each call that starts to wait
// is announced on blocked.
type stallConn struct {
	net.Conn
	stall   atomic.Bool
	release <-chan struct{}
	blocked chan string // "write" or "close"
}

func (c *stallConn) hold(what string) {
	if !c.stall.Load() {
		return
	}
	select {
	case <-c.release:
		return
	default:
	}
	select {
	case c.blocked <- what:
	default:
	}
	<-c.release
}

func (c *stallConn) Write(b []byte) (int, error) { c.hold("write"); return c.Conn.Write(b) }
func (c *stallConn) Close() error                { c.hold("close"); return c.Conn.Close() }

// stallListener hands every connection it accepts to the test.
type stallListener struct {
	net.Listener
	release  <-chan struct{}
	accepted chan *stallConn
}

func (l *stallListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := &stallConn{Conn: nc, release: l.release, blocked: make(chan string, 4)}
	l.accepted <- c
	return c, nil
}

// stallNode is a node (plain and TLS ports) whose accepted connections
// the test can stall, and the closing that releases them all.
type stallNode struct {
	*server.Server
	pki      *nodetest.PKI
	accepted chan *stallConn
	free     func() // releases every stalled call; idempotent
	closed   chan error
}

func startStallNode(t *testing.T) *stallNode {
	t.Helper()
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	release := make(chan struct{})
	var once sync.Once
	n := &stallNode{pki: pki, accepted: make(chan *stallConn, 64),
		free: func() { once.Do(func() { close(release) }) }, closed: make(chan error, 1)}
	s, err := server.New(server.Config{
		ID: "n1", Addr: nodetest.FreeAddr(t), RaftAddr: nodetest.FreeAddr(t), DataDir: t.TempDir(),
		LogOutput: io.Discard, MaxBulk: 512 << 20,
		Directives: pki.Directives(pki.Issue("node"), nodetest.FreePort(t)),
		WrapListener: func(ln net.Listener) net.Listener {
			return &stallListener{Listener: ln, release: release, accepted: n.accepted}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n.Server = s
	ctx, cancel := context.WithCancel(context.Background())
	go func() { n.closed <- s.Run(ctx) }()
	// Registered first, so it runs last: the clients are closed, then
	// whatever is stalled is released and the node stops.
	t.Cleanup(func() {
		n.free()
		cancel()
		<-n.closed
	})
	wctx, wcancel := context.WithTimeout(context.Background(), failAfter)
	defer wcancel()
	if err := s.Node().WaitLeader(wctx); err != nil {
		t.Fatalf("node never led: %v", err)
	}
	return n
}

// conn returns the server's side of the connection accepted next.
func (n *stallNode) conn(t *testing.T) *stallConn {
	t.Helper()
	select {
	case c := <-n.accepted:
		return c
	case <-time.After(failAfter):
		t.Fatal("no connection accepted")
		return nil
	}
}

// awaitBlocked waits until one of cs is blocked in what.
func awaitBlocked(t *testing.T, what string, cs ...*stallConn) {
	t.Helper()
	deadline := time.After(failAfter)
	for {
		for _, c := range cs {
			select {
			case got := <-c.blocked:
				if got == what {
					return
				}
			default:
			}
		}
		select {
		case <-deadline:
			t.Fatalf("no connection blocked in %s", what)
		case <-time.After(time.Millisecond):
		}
	}
}

// stallNodeWithAlice starts a stall node, connects an admin client and
// creates the user alice.
func stallNodeWithAlice(t *testing.T) (*stallNode, *rawConn) {
	t.Helper()
	n := startStallNode(t)
	admin := dialRaw(t, n.Addr().String())
	n.conn(t)
	if got := admin.str("ACL", "SETUSER", "alice", "on", ">pw", "~*", "+@all"); got != "OK" {
		t.Fatalf("ACL SETUSER: %q", got)
	}
	return n, admin
}

// authAlice authenticates c as alice.
func authAlice(t *testing.T, c *rawConn) {
	t.Helper()
	if got := c.str("AUTH", "alice", "pw"); got != "OK" {
		t.Fatalf("AUTH alice: %q", got)
	}
}

// readsClosed reports whether reading nc ends in an error other than a
// timeout (the replies it was sent may come first).
func readsClosed(nc net.Conn) error {
	nc.SetReadDeadline(time.Now().Add(failAfter))
	buf := make([]byte, 4096)
	for {
		_, err := nc.Read(buf)
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			return fmt.Errorf("still open: %w", err)
		default:
			return nil
		}
	}
}

// TestRevokedClientsDoNotHoldApplies: ACL DELUSER of a user whose
// connections cannot be closed at once (one blocked writing a reply, as
// when its peer does not read; one over TLS whose Close blocks), while
// another client is stuck in its TLS handshake, is applied, and the
// writes after it too, before any of those sockets is released; the
// deleted user's connections are closed once they are.
func TestRevokedClientsDoNotHoldApplies(t *testing.T) {
	n, admin := stallNodeWithAlice(t)

	// A client whose reply cannot be written: it never reads.
	full := dialRaw(t, n.Addr().String())
	fullSrv := n.conn(t)
	authAlice(t, full)
	fullSrv.stall.Store(true)
	full.send("PING")
	awaitBlocked(t, "write", fullSrv)

	// A TLS client, idle, whose Close blocks.
	cert := n.pki.Issue("client")
	secure, err := dialTLS(t, n.TLSAddr().String(), n.pki.ClientTLS(&cert))
	if err != nil {
		t.Fatal(err)
	}
	secureSrv := n.conn(t)
	authAlice(t, secure)
	secureSrv.stall.Store(true)

	// A client stuck in its TLS handshake: the node cannot send its
	// flight.
	hs, err := net.Dial("tcp", n.TLSAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	hsSrv := n.conn(t)
	hsSrv.stall.Store(true)
	hsDone := make(chan struct{})
	go func() {
		defer close(hsDone)
		cfg := n.pki.ClientTLS(&cert)
		cfg.ServerName = "127.0.0.1"
		tls.Client(hs, cfg).Handshake()
	}()
	t.Cleanup(func() { hs.Close(); <-hsDone })
	awaitBlocked(t, "write", hsSrv)

	if got := admin.str("ACL", "DELUSER", "alice"); got != "1" {
		t.Fatalf("ACL DELUSER: %q", got)
	}
	// The revoker is now stuck closing one of alice's connections.
	awaitBlocked(t, "close", fullSrv, secureSrv)
	for i := range 50 {
		if got := admin.str("SET", fmt.Sprint("k", i), "v"); got != "OK" {
			t.Fatalf("SET %d: %q", i, got)
		}
	}
	// Nor does anything else wait on the revoker: the client list, and a
	// new connection.
	if _, ok := admin.do("CLIENT", "LIST").(string); !ok {
		t.Fatal("CLIENT LIST: not a string reply")
	}
	other := dialRaw(t, n.Addr().String())
	n.conn(t)
	if got := other.str("GET", "k49"); got != "v" {
		t.Fatalf("GET k49: %q", got)
	}
	other.nc.Close()

	n.free()
	for name, nc := range map[string]net.Conn{"blocked writer": full.nc, "TLS client": secure.nc} {
		if err := readsClosed(nc); err != nil {
			t.Errorf("alice's %s after the release: %v", name, err)
		}
	}
	hs.Close()
	<-hsDone
	waitClients(t, admin, 1)
}

// TestRevokerStopsWithClose: Close waits for the revoker, even one stuck
// closing a connection (until that Close returns), and a change signalled
// after Close, as an apply during shutdown would, does not block.
func TestRevokerStopsWithClose(t *testing.T) {
	n, admin := stallNodeWithAlice(t)
	alice := dialRaw(t, n.Addr().String())
	aliceSrv := n.conn(t)
	authAlice(t, alice)
	aliceSrv.stall.Store(true)
	if got := admin.str("ACL", "DELUSER", "alice"); got != "1" {
		t.Fatalf("ACL DELUSER: %q", got)
	}
	awaitBlocked(t, "close", aliceSrv)

	closed := make(chan error, 1)
	go func() { closed <- n.Close() }()
	select {
	case <-n.RevokerDone():
		t.Fatal("the revoker exited while closing a connection")
	case err := <-closed:
		t.Fatalf("Close returned (%v) while the revoker was closing a connection", err)
	default:
	}
	n.free()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(failAfter):
		t.Fatal("Close did not return")
	}
	select {
	case <-n.RevokerDone():
	default:
		t.Fatal("Close returned before the revoker exited")
	}
	n.UsersChanged()
	n.UsersChanged()
}

// TestRevokerStopsWithoutServe: a node closed without ever serving
// stops its revoker too.
func TestRevokerStopsWithoutServe(t *testing.T) {
	s, err := server.New(server.Config{ID: "n1", Addr: nodetest.FreeAddr(t), RaftAddr: nodetest.FreeAddr(t),
		DataDir: t.TempDir(), LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	s.UsersChanged()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.RevokerDone():
	default:
		t.Fatal("Close returned before the revoker exited")
	}
}
