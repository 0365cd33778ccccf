package sockio

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"
)

// pair returns a wrapped server side and the plain client side of a TCP
// connection on loopback.
func pair(t *testing.T) (wrapped, peer net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	peer, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	wrapped = Wrap(nc)
	if _, ok := wrapped.(*conn); !ok {
		t.Fatalf("Wrap of a TCP connection returned %T", wrapped)
	}
	t.Cleanup(func() { wrapped.Close(); peer.Close() })
	return wrapped, peer
}

// TestReadWrite: bytes cross both ways unchanged, a write larger than the
// socket's buffers completes (the poller waits while it is full), and the
// peer's close reads as io.EOF.
func TestReadWrite(t *testing.T) {
	w, peer := pair(t)
	if _, err := peer.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := w.Read(buf)
	if err != nil || string(buf[:n]) != "PING\r\n" {
		t.Fatalf("Read: %q, %v", buf[:n], err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<20) // 16 MB
	done := make(chan []byte)
	go func() {
		got, _ := io.ReadAll(io.LimitReader(peer, int64(len(big))))
		done <- got
	}()
	if n, err := w.Write(big); err != nil || n != len(big) {
		t.Fatalf("Write of 16 MB: %d, %v", n, err)
	}
	if got := <-done; !bytes.Equal(got, big) {
		t.Fatalf("the peer read %d bytes, not the 16 MB written", len(got))
	}
	if n, err := w.Write(nil); n != 0 || err != nil {
		t.Fatalf("Write(nil): %d, %v", n, err)
	}
	peer.Close()
	if n, err := w.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read after the peer closed: %d, %v; want io.EOF", n, err)
	}
}

// TestDeadlineAndClose: a read deadline ends a waiting Read with
// os.ErrDeadlineExceeded, and closing the connection ends one with
// net.ErrClosed, as for a net.Conn.
func TestDeadlineAndClose(t *testing.T) {
	w, _ := pair(t)
	w.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 8)
	if _, err := w.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read past its deadline: %v", err)
	}
	w.SetReadDeadline(time.Time{})
	errc := make(chan error)
	go func() {
		_, err := w.Read(buf)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	w.Close()
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read on a closed connection: %v", err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write on a closed connection: %v", err)
	}
}

// TestNotTCP: anything but a TCP connection is returned as it is.
func TestNotTCP(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if Wrap(a) != a {
		t.Fatal("Wrap of a pipe did not return it")
	}
}

// TestFullDuplex: a read and a write may run at once on one connection
// (the cluster port's forwarding connections do), each with its own bytes.
func TestFullDuplex(t *testing.T) {
	w, peer := pair(t)
	out := bytes.Repeat([]byte("w"), 8<<20)
	in := bytes.Repeat([]byte("r"), 8<<20)
	errc := make(chan error, 4)
	go func() { // the peer echoes nothing: it sends in and drains out
		_, err := peer.Write(in)
		errc <- err
	}()
	go func() {
		got, err := io.ReadAll(io.LimitReader(peer, int64(len(out))))
		if err == nil && !bytes.Equal(got, out) {
			err = errors.New("the peer read other bytes than were written")
		}
		errc <- err
	}()
	go func() {
		_, err := w.Write(out)
		errc <- err
	}()
	got, err := io.ReadAll(io.LimitReader(w, int64(len(in))))
	if err != nil || !bytes.Equal(got, in) {
		t.Fatalf("read %d bytes (%v) while writing, want the peer's %d", len(got), err, len(in))
	}
	for range 3 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
