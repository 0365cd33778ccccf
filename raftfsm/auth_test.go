package raftfsm

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loomcache/loomcache/op"
)

var (
	testSecret  = []byte("0123456789abcdef-the-cluster-secret")
	otherSecret = []byte("0123456789abcdef-another-secret!!!!")
)

// echoMux is a cluster port whose forwarding channel echoes what it is
// sent; served counts the connections that reached the channel.
type echoMux struct {
	*mux
	served atomic.Int32
	hellos chan Hello
}

func startEchoMux(t *testing.T, d Dialer) *echoMux {
	t.Helper()
	m, err := listenMux("127.0.0.1:0", "", 2, d, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	e := &echoMux{mux: m, hellos: make(chan Hello, 16)}
	m.setForward(func(nc net.Conn, h Hello) {
		defer nc.Close()
		e.served.Add(1)
		e.hellos <- h
		io.Copy(nc, nc)
	})
	return e
}

func (e *echoMux) addr() string { return e.advertise.String() }

// echoes reports whether nc, a dialled forwarding connection, reaches the
// echoing channel: "ping" comes back.
func echoes(nc net.Conn) bool {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	defer nc.SetDeadline(time.Time{})
	if _, err := nc.Write([]byte("ping")); err != nil {
		return false
	}
	got := make([]byte, 4)
	_, err := io.ReadFull(nc, got)
	return err == nil && string(got) == "ping"
}

// readToClose reads nc until the peer closes it and returns what came; it
// fails the test if the peer keeps it open.
func readToClose(t *testing.T, nc net.Conn) []byte {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	var got bytes.Buffer
	buf := make([]byte, 512)
	for {
		n, err := nc.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			if !closedByPeer(err) {
				t.Fatalf("connection not closed by the node: %v (after %q)", err, got.Bytes())
			}
			return got.Bytes()
		}
	}
}

// TestHandshake: a connection reaches its channel when both sides hold
// the same secret (or, as before authentication, neither holds one), and
// is closed before it does otherwise.
func TestHandshake(t *testing.T) {
	cases := []struct {
		name             string
		listener, dialer []byte
		ok               bool
	}{
		{"same secret", testSecret, testSecret, true},
		{"no secret on either side", nil, nil, true},
		{"another secret", testSecret, otherSecret, false},
		{"dialer without a secret", testSecret, nil, false},
		{"listener without a secret", nil, testSecret, false},
		{"a secret one byte short", testSecret, testSecret[:len(testSecret)-1], false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := startEchoMux(t, Dialer{ID: "n1", Secret: c.listener})
			d := Dialer{ID: "n2", Secret: c.dialer, Timeout: 5 * time.Second}
			nc, err := d.Dial(m.addr(), ChannelForward, "")
			if c.ok {
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				defer nc.Close()
				if !echoes(nc) {
					t.Fatal("the channel did not answer")
				}
				want := Hello{Version: helloPlain, Channel: ChannelForward, ID: "n2"}
				if c.dialer != nil {
					want.Version = helloAuth
				}
				if h := <-m.hellos; h != want {
					t.Errorf("the channel saw %+v, want %+v", h, want)
				}
				if n := m.refused.count.Load(); n != 0 {
					t.Errorf("%d connections refused", n)
				}
				return
			}
			switch {
			case c.dialer == nil:
				// A dialer without a secret expects no answer to its
				// hello, so it learns of the refusal when it reads.
				if err != nil {
					t.Fatal(err)
				}
				defer nc.Close()
				if got := readToClose(t, nc); len(got) != 0 {
					t.Errorf("the node sent %q to an unauthenticated dialer", got)
				}
			case !errors.Is(err, ErrAuth):
				t.Fatalf("dial: %v, want ErrAuth", err)
			}
			waitFor(t, "the refusal to be counted", func() bool { return m.refused.count.Load() == 1 })
			if n := m.served.Load(); n != 0 {
				t.Errorf("the channel served %d refused connections", n)
			}
			// Both sides hold a secret, and they differ: the proof is wrong.
			wrong := uint64(0)
			if c.listener != nil && c.dialer != nil {
				wrong = 1
			}
			if n := m.refused.wrongProof.Load(); n != wrong {
				t.Errorf("%d refusals for a wrong proof, want %d", n, wrong)
			}
		})
	}
}

// TestDialClusterToSecretNode: DialCluster, which has no credentials,
// gets nothing from a node with a secret: its forwarded command is not
// answered and the connection is closed.
func TestDialClusterToSecretNode(t *testing.T) {
	m := startEchoMux(t, Dialer{ID: "n1", Secret: testSecret})
	nc, err := DialCluster(m.addr(), ChannelForward, "n2", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.Write(forwardRequest(1, forwardIncr("k")))
	if got := readToClose(t, nc); len(got) != 0 {
		t.Errorf("the node answered %q", got)
	}
	if m.served.Load() != 0 {
		t.Error("the forwarding channel was served")
	}
}

// forwardRequest is a forwarding frame as a follower sends it.
func forwardRequest(id uint64, o *op.Op) []byte {
	enc := o.Encode(nil)
	b := binary.AppendUvarint(nil, id)
	b = binary.AppendUvarint(b, uint64(len(enc)))
	return append(b, enc...)
}

// TestHandshakeChecksPeer: a dialer that expects another node than the
// one answering stops before it proves anything.
func TestHandshakeChecksPeer(t *testing.T) {
	m := startEchoMux(t, Dialer{ID: "n1", Secret: testSecret})
	d := Dialer{ID: "n2", Secret: testSecret}
	if _, err := d.Dial(m.addr(), ChannelForward, "n3"); !errors.Is(err, ErrAuth) {
		t.Fatalf("dial expecting n3, n1 answering: %v, want ErrAuth", err)
	}
	nc, err := d.Dial(m.addr(), ChannelForward, "n1")
	if err != nil {
		t.Fatalf("dial expecting n1: %v", err)
	}
	defer nc.Close()
	if !echoes(nc) {
		t.Error("the channel did not answer")
	}
}

// rawDial opens a connection to addr and runs the dialer's first step by
// hand: the version 2 hello with the nonce nd. It returns the listener's
// nonce and id.
func rawDial(t *testing.T, addr string, ch byte, id string, nd []byte) (net.Conn, []byte, string) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	nc.Write(append(appendHelloVersion(nil, helloAuth, ch, id, 0), nd...))
	nl := make([]byte, nonceSize)
	if _, err := io.ReadFull(nc, nl); err != nil {
		t.Fatal(err)
	}
	lid, err := readID(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, nl, lid
}

func nonce() []byte {
	b := make([]byte, nonceSize)
	rand.Read(b)
	return b
}

// TestHandshakeReplay: proofs recorded from a successful handshake are
// worth nothing on another connection, in either direction, since the
// other side's nonce is new.
func TestHandshakeReplay(t *testing.T) {
	m := startEchoMux(t, Dialer{ID: "n1", Secret: testSecret})
	nd := nonce()
	nc, nl, lid := rawDial(t, m.addr(), ChannelForward, "n2", nd)
	tr := transcript{ch: ChannelForward, dialer: "n2", listener: lid, nd: nd, nl: nl}
	pd := tr.proof(testSecret, labelDialer)
	nc.Write(pd)
	pl := make([]byte, proofSize)
	if _, err := io.ReadFull(nc, pl); err != nil {
		t.Fatalf("the honest handshake: %v", err)
	}
	if !hmac.Equal(pl, tr.proof(testSecret, labelListener)) {
		t.Fatal("the listener's proof is not the one computed")
	}
	if !echoes(nc) {
		t.Fatal("the honest connection is not served")
	}

	// The dialer's side replayed: the same hello, nonce and proof.
	replay, nl2, _ := rawDial(t, m.addr(), ChannelForward, "n2", nd)
	if bytes.Equal(nl, nl2) {
		t.Fatal("the listener sent the same nonce twice")
	}
	replay.Write(pd)
	if got := readToClose(t, replay); len(got) != 0 {
		t.Errorf("a replayed proof got %q", got)
	}

	// The listener's side replayed to a new dialer, by a node posing as
	// n1 with the recorded nonce and proof.
	fake := fakeListener(t, func(nc net.Conn) {
		ReadHello(nc)
		io.ReadFull(nc, make([]byte, nonceSize))
		nc.Write(append(append(nl, 2), "n1"...))
		io.ReadFull(nc, make([]byte, proofSize))
		nc.Write(pl)
	})
	d := Dialer{ID: "n2", Secret: testSecret}
	if _, err := d.Dial(fake, ChannelForward, ""); !errors.Is(err, ErrAuth) {
		t.Errorf("dial to a listener replaying a proof: %v, want ErrAuth", err)
	}
	if n := m.served.Load(); n != 1 {
		t.Errorf("%d connections served, want the honest one", n)
	}
}

// TestHandshakeReflection: a listener that does not hold the secret and
// sends the dialer's own proof back as its proof is refused; and a node
// gives a stranger dialling in nothing computed from the secret (its
// nonce and id only), so there is no proof of the node's to reflect.
func TestHandshakeReflection(t *testing.T) {
	fake := fakeListener(t, func(nc net.Conn) {
		ReadHello(nc)
		io.ReadFull(nc, make([]byte, nonceSize))
		nc.Write(append(append(nonce(), 2), "n1"...))
		pd := make([]byte, proofSize)
		io.ReadFull(nc, pd)
		nc.Write(pd) // reflected
	})
	d := Dialer{ID: "n2", Secret: testSecret}
	if _, err := d.Dial(fake, ChannelForward, ""); !errors.Is(err, ErrAuth) {
		t.Errorf("dial to a listener reflecting the proof: %v, want ErrAuth", err)
	}

	m := startEchoMux(t, Dialer{ID: "n1", Secret: testSecret})
	nc, _, _ := rawDial(t, m.addr(), ChannelForward, "n1", nonce())
	nc.Write(make([]byte, proofSize))
	if got := readToClose(t, nc); len(got) != 0 {
		t.Errorf("after a wrong proof the node sent %q", got)
	}
}

// TestGarbageAfterHello: whatever a stranger sends in place of the
// handshake, the node closes the connection without serving the channel,
// having sent at most the handshake's first answer (its nonce and id).
func TestGarbageAfterHello(t *testing.T) {
	frame := forwardRequest(1, forwardIncr(string(bytes.Repeat([]byte("k"), 100))))
	junk := make([]byte, nonceSize+proofSize)
	rand.Read(junk)
	v2 := appendHelloVersion(nil, helloAuth, ChannelForward, "n2", 0)
	const first = nonceSize + 3 // nonce, uvarint 2, "n1"
	cases := []struct {
		name  string
		send  []byte
		first int // what the node may send before it closes
	}{
		{"unauthenticated hello then a request", append(AppendHello(nil, ChannelForward, "n2"), frame...), 0},
		{"authenticated hello then a request", append(v2, frame...), first},
		{"authenticated hello then random bytes", append(v2, junk...), first},
		{"authenticated hello, half a nonce", append(v2, junk[:nonceSize/2]...), 0},
		{"a probe's hello then random bytes", append(appendHelloVersion(nil, helloAuth, ChannelProbe, "", 0), junk...), first},
		{"a Redis client", []byte("*1\r\n$4\r\nPING\r\n"), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := startEchoMux(t, Dialer{ID: "n1", Secret: testSecret})
			nc, err := net.Dial("tcp", m.addr())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			nc.Write(c.send)
			// Nothing more comes: the node need not wait for its
			// hello timeout to see it.
			nc.(*net.TCPConn).CloseWrite()
			if got := readToClose(t, nc); len(got) > c.first {
				t.Errorf("the node sent %d bytes %q, want at most %d", len(got), got, c.first)
			}
			waitFor(t, "the refusal to be counted", func() bool { return m.refused.count.Load() == 1 })
			if m.served.Load() != 0 {
				t.Error("the channel was served")
			}
		})
	}
}

// TestProbe: a probe succeeds only where the node expected answers with
// the same credentials.
func TestProbe(t *testing.T) {
	for _, secret := range [][]byte{testSecret, nil} {
		m := startEchoMux(t, Dialer{ID: "n1", Secret: secret})
		d := Dialer{ID: "n0", Secret: secret, Timeout: 5 * time.Second}
		if err := d.Probe(m.addr(), "n1"); err != nil {
			t.Errorf("secret %q: probe of n1: %v", secret, err)
		}
		if err := d.Probe(m.addr(), "n4"); err == nil {
			t.Errorf("secret %q: probe expecting n4 where n1 answers succeeded", secret)
		}
		wrong := Dialer{ID: "n0", Secret: otherSecret}
		if secret == nil {
			wrong.Secret = testSecret
		}
		if err := wrong.Probe(m.addr(), "n1"); err == nil {
			t.Errorf("secret %q: probe with secret %q succeeded", secret, wrong.Secret)
		}
	}
	d := Dialer{ID: "n0", Secret: testSecret, Timeout: 5 * time.Second}
	if err := d.Probe(freeAddr(t), "n1"); err == nil {
		t.Error("probe of a port where nothing listens succeeded")
	}
}

// fakeListener accepts connections on a loopback port and runs serve on
// each, in turn; it returns the address. It stops at cleanup.
func fakeListener(t *testing.T, serve func(nc net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			nc.SetDeadline(time.Now().Add(10 * time.Second))
			serve(nc)
			nc.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// TestProofAsDocumented: a proof is the HMAC-SHA256 of the bytes
// docs/cluster.md lists, built here by hand from that description.
func TestProofAsDocumented(t *testing.T) {
	nd, nl := bytes.Repeat([]byte{0xd1}, nonceSize), bytes.Repeat([]byte{0x1e}, nonceSize)
	binding := bytes.Repeat([]byte{0xb1}, 32)
	tr := transcript{ch: ChannelForward, group: 300, dialer: "n2", listener: "n1", nd: nd, nl: nl, binding: binding}
	for _, label := range []string{"dialer", "listener"} {
		var b []byte
		b = append(b, "loomcache cluster auth v2\x00"...)
		b = append(b, label...)
		b = append(b, 0x00, 'F')
		b = append(b, 0xac, 0x02) // uvarint 300
		b = append(b, 2, 'n', '2', 2, 'n', '1', 32)
		b = append(b, nd...)
		b = append(b, 32)
		b = append(b, nl...)
		b = append(b, 32)
		b = append(b, binding...)
		m := hmac.New(sha256.New, testSecret)
		m.Write(b)
		if got := tr.proof(testSecret, label); !hmac.Equal(got, m.Sum(nil)) {
			t.Errorf("%s proof %x, want %x", label, got, m.Sum(nil))
		}
	}
}
