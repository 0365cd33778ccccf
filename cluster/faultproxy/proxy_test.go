package faultproxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoNode stands in for a node's cluster port: it reads each
// connection's hello, records the dialer's id, and echoes the rest.
type echoNode struct {
	ln     net.Listener
	mu     sync.Mutex
	hellos []string // dialer ids, in order of arrival
	raws   []string // the hellos' bytes
	got    bytes.Buffer
}

func startEcho(t *testing.T) *echoNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoNode{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				id, raw, err := readHello(r)
				if err != nil {
					return
				}
				e.mu.Lock()
				e.hellos = append(e.hellos, id)
				e.raws = append(e.raws, string(raw))
				e.mu.Unlock()
				buf := make([]byte, 1024)
				for {
					n, err := r.Read(buf)
					if n > 0 {
						e.mu.Lock()
						e.got.Write(buf[:n])
						e.mu.Unlock()
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return e
}

func (e *echoNode) received() (hellos []string, data string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.hellos...), e.got.String()
}

// mesh starts an echo node and a proxy in front of it for each id.
func mesh(t *testing.T, ids ...string) (*Net, map[string]*echoNode) {
	t.Helper()
	n := New()
	nodes := map[string]*echoNode{}
	for _, id := range ids {
		e := startEcho(t)
		if _, err := n.Add(id, e.ln.Addr().String()); err != nil {
			t.Fatal(err)
		}
		nodes[id] = e
	}
	// Registered after the echo nodes' cleanups so it runs first: a pipe
	// black-holed at the end of a test holds its node connection open.
	t.Cleanup(func() { n.Close() })
	return n, nodes
}

// dial connects node src to node dst through dst's proxy and sends the
// hello.
func dial(t *testing.T, n *Net, src, dst string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", n.Proxy(dst).Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := c.Write(Hello('R', src)); err != nil {
		t.Fatal(err)
	}
	return c
}

// roundTrip sends msg and reports whether it came back within wait.
func roundTrip(t *testing.T, c net.Conn, msg string, wait time.Duration) (bool, error) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		return false, err
	}
	c.SetReadDeadline(time.Now().Add(wait))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false, nil
		}
		return false, err
	}
	if string(buf) != msg {
		t.Fatalf("echo %q, want %q", buf, msg)
	}
	return true, nil
}

// quiet is how long a black-holed message is given to (wrongly) arrive.
const quiet = 200 * time.Millisecond

// ok waits long enough for any healthy round trip on loopback.
const ok = 5 * time.Second

func TestPassThroughReplaysHello(t *testing.T) {
	n, nodes := mesh(t, "a", "b")
	c := dial(t, n, "a", "b")
	if got, err := roundTrip(t, c, "ping", ok); !got || err != nil {
		t.Fatalf("round trip: %v %v", got, err)
	}
	hellos, data := nodes["b"].received()
	if strings.Join(hellos, ",") != "a" || data != "ping" {
		t.Fatalf("node b saw hellos %q data %q", hellos, data)
	}
	// A client tool sends an empty id; it is forwarded like any other.
	c2 := dial(t, n, "", "b")
	if got, err := roundTrip(t, c2, "x", ok); !got || err != nil {
		t.Fatalf("empty-id round trip: %v %v", got, err)
	}
}

func TestSetTarget(t *testing.T) {
	n, nodes := mesh(t, "a", "b")
	old := dial(t, n, "a", "b")
	if got, err := roundTrip(t, old, "1", ok); !got || err != nil {
		t.Fatalf("round trip: %v %v", got, err)
	}
	moved := startEcho(t)
	n.Proxy("b").SetTarget(moved.ln.Addr().String())
	if got, err := roundTrip(t, dial(t, n, "a", "b"), "2", ok); !got || err != nil {
		t.Fatalf("round trip after SetTarget: %v %v", got, err)
	}
	if got, err := roundTrip(t, old, "3", ok); !got || err != nil {
		t.Fatalf("old connection after SetTarget: %v %v", got, err)
	}
	if _, d := nodes["b"].received(); d != "13" {
		t.Fatalf("old target received %q, want 13", d)
	}
	if _, d := moved.received(); d != "2" {
		t.Fatalf("new target received %q, want 2", d)
	}
}

func TestCutBlackHolesOneDirection(t *testing.T) {
	n, nodes := mesh(t, "a", "b")
	c := dial(t, n, "a", "b")
	if got, err := roundTrip(t, c, "1", ok); !got || err != nil {
		t.Fatalf("before cut: %v %v", got, err)
	}

	// b→a cut: a's bytes reach b, b's echo never comes back, and the
	// connection stays open.
	n.Cut([]string{"b"}, []string{"a"})
	if got, err := roundTrip(t, c, "2", quiet); got || err != nil {
		t.Fatalf("echo crossed a cut link: %v %v", got, err)
	}
	waitFor(t, "node b to receive 12", func() bool { _, d := nodes["b"].received(); return d == "12" })

	// Heal closes the connection the cut touched, without delivering
	// the held echo.
	n.Heal()
	c.SetReadDeadline(time.Now().Add(ok))
	if b, err := io.ReadAll(c); len(b) != 0 || (err != nil && !isReset(err)) {
		t.Fatalf("after heal read %q, %v; want the connection closed", b, err)
	}
	c2 := dial(t, n, "a", "b")
	if got, err := roundTrip(t, c2, "3", ok); !got || err != nil {
		t.Fatalf("after heal: %v %v", got, err)
	}
}

func TestCutHoldsForwardBytes(t *testing.T) {
	n, nodes := mesh(t, "a", "b")
	c := dial(t, n, "a", "b")
	if got, err := roundTrip(t, c, "1", ok); !got || err != nil {
		t.Fatalf("before cut: %v %v", got, err)
	}
	n.Cut([]string{"a"}, []string{"b"})
	if got, err := roundTrip(t, c, "2", quiet); got || err != nil {
		t.Fatalf("bytes crossed a cut link: %v %v", got, err)
	}
	if _, d := nodes["b"].received(); d != "1" {
		t.Fatalf("node b received %q across a cut link", d)
	}
}

func TestNewConnectionAcrossCutLink(t *testing.T) {
	for _, reject := range []bool{false, true} {
		name := map[bool]string{false: "held", true: "rejected"}[reject]
		t.Run(name, func(t *testing.T) {
			n, nodes := mesh(t, "a", "b")
			n.RejectNew = reject
			n.Isolate("a")
			c := dial(t, n, "a", "b")
			got, err := roundTrip(t, c, "x", quiet)
			if got {
				t.Fatal("a connection across a cut link reached the node")
			}
			if reject && err == nil {
				// The proxy may close only after the read deadline.
				c.SetReadDeadline(time.Now().Add(ok))
				_, err = c.Read(make([]byte, 1))
			}
			if reject != (err != nil) {
				t.Fatalf("connection error %v, want one only when rejected", err)
			}
			if h, _ := nodes["b"].received(); len(h) != 0 {
				t.Fatalf("node b accepted %q", h)
			}
			n.Heal()
			if !reject {
				c.SetReadDeadline(time.Now().Add(ok))
				if _, err := c.Read(make([]byte, 1)); err == nil {
					t.Fatal("held connection still open after heal")
				}
			}
			if got, err := roundTrip(t, dial(t, n, "a", "b"), "y", ok); !got || err != nil {
				t.Fatalf("after heal: %v %v", got, err)
			}
		})
	}
}

func TestPartitionAndIsolateLinks(t *testing.T) {
	ids := []string{"a", "b", "c", "d", "e"}
	tests := []struct {
		name string
		do   func(n *Net)
		cut  []string // the cut directed links as "src>dst", sorted
	}{
		{"nothing", func(n *Net) {}, nil},
		{"isolate c", func(n *Net) { n.Isolate("c") },
			[]string{"a>c", "b>c", "c>a", "c>b", "c>d", "c>e", "d>c", "e>c"}},
		{"partition ab|cde", func(n *Net) { n.Partition([]string{"a", "b"}, []string{"c", "d", "e"}) },
			[]string{"a>c", "a>d", "a>e", "b>c", "b>d", "b>e", "c>a", "c>b", "d>a", "d>b", "e>a", "e>b"}},
		{"partition ab, the rest each alone", func(n *Net) { n.Partition([]string{"a", "b"}) },
			[]string{"a>c", "a>d", "a>e", "b>c", "b>d", "b>e", "c>a", "c>b", "c>d", "c>e",
				"d>a", "d>b", "d>c", "d>e", "e>a", "e>b", "e>c", "e>d"}},
		{"one way", func(n *Net) { n.Cut([]string{"a"}, []string{"b", "c"}) }, []string{"a>b", "a>c"}},
		{"heal", func(n *Net) { n.Isolate("a"); n.Heal() }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, _ := mesh(t, ids...)
			tc.do(n)
			var cut []string
			for _, s := range ids {
				for _, d := range ids {
					if n.IsCut(s, d) {
						cut = append(cut, s+">"+d)
					}
				}
			}
			sort.Strings(cut)
			if strings.Join(cut, " ") != strings.Join(tc.cut, " ") {
				t.Fatalf("cut links %v, want %v", cut, tc.cut)
			}
			// The empty id (a client tool) is never cut.
			if n.IsCut("", "a") || n.IsCut("a", "") {
				t.Fatal("a client tool's link was cut")
			}
		})
	}
}

func TestPartitionTraffic(t *testing.T) {
	n, _ := mesh(t, "a", "b", "c")
	ab, bc, ca := dial(t, n, "a", "b"), dial(t, n, "b", "c"), dial(t, n, "c", "a")
	n.Partition([]string{"a"}, []string{"b", "c"})
	if got, _ := roundTrip(t, bc, "in group", ok); !got {
		t.Fatal("link inside a group cut")
	}
	for name, c := range map[string]net.Conn{"a>b": ab, "c>a": ca} {
		if got, _ := roundTrip(t, c, "across", quiet); got {
			t.Fatalf("link %s not cut", name)
		}
	}
	n.Heal()
	// The in-group connection was untouched and survives the heal.
	if got, err := roundTrip(t, bc, "still", ok); !got || err != nil {
		t.Fatalf("untouched connection after heal: %v %v", got, err)
	}
}

// TestAuthHelloPassesThrough: a version 2 hello (a cluster with a
// secret) reaches the node as it was sent, and the handshake bytes after
// it are copied both ways untouched.
func TestAuthHelloPassesThrough(t *testing.T) {
	n, nodes := mesh(t, "b")
	c, err := net.Dial("tcp", n.Proxy("b").Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	h := []byte("LOOM\x02F\x01a")
	if _, err := c.Write(h); err != nil {
		t.Fatal(err)
	}
	nonce := strings.Repeat("\x00\xff", 16)
	if got, err := roundTrip(t, c, nonce, ok); !got || err != nil {
		t.Fatalf("bytes after a version 2 hello: %v %v", got, err)
	}
	e := nodes["b"]
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.raws) != 1 || e.raws[0] != string(h) || e.hellos[0] != "a" {
		t.Fatalf("node saw hellos %q (ids %q), want %q from a", e.raws, e.hellos, h)
	}
}

func TestBadHelloClosed(t *testing.T) {
	for _, hello := range [][]byte{
		[]byte("LOOX\x01R\x00"),
		[]byte("LOOM\x03R\x00"),                       // a version the proxy does not know
		append([]byte("LOOM\x01R"), 0xff, 0xff, 0x01), // id longer than allowed
	} {
		n, nodes := mesh(t, "b")
		c, err := net.Dial("tcp", n.Proxy("b").Addr())
		if err != nil {
			t.Fatal(err)
		}
		c.Write(hello)
		c.SetReadDeadline(time.Now().Add(ok))
		if _, err := c.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
			t.Fatalf("hello %q: read error %v, want the connection closed", hello, err)
		}
		c.Close()
		if h, _ := nodes["b"].received(); len(h) != 0 {
			t.Fatalf("hello %q reached the node", hello)
		}
	}
}

func TestCloseEndsEverything(t *testing.T) {
	n, _ := mesh(t, "a", "b", "c")
	n.Isolate("a")
	held := dial(t, n, "a", "b") // held by the proxy, never forwarded
	open := dial(t, n, "b", "c")
	if got, _ := roundTrip(t, open, "x", ok); !got {
		t.Fatal("no round trip")
	}
	done := make(chan struct{})
	go func() { n.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(ok):
		t.Fatal("Close hung")
	}
	for name, c := range map[string]net.Conn{"held": held, "open": open} {
		c.SetReadDeadline(time.Now().Add(ok))
		if _, err := c.Read(make([]byte, 1)); err == nil || os.IsTimeout(err) {
			t.Fatalf("%s connection open after Close: %v", name, err)
		}
	}
	if _, err := n.Add("d", "127.0.0.1:1"); err == nil {
		t.Fatal("Add after Close succeeded")
	}
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "reset")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(ok)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
