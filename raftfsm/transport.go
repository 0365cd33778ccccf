package raftfsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// The cluster port carries several protocols over one listener. Whoever
// dials sends a hello first, then speaks the channel's own protocol:
//
//	"LOOM" | version (1) | channel | uvarint n | n bytes: the dialer's node id
//
// Channel 'R' is hashicorp/raft's NetworkTransport stream; channel 'F' is
// request forwarding (forward.go). A dialer that is not a node sends an
// empty id. An unknown magic, version or channel closes the connection.
// Cluster authentication, when it comes, belongs here too.
const (
	helloMagic   = "LOOM"
	helloVersion = 1
	// ChannelRaft carries hashicorp/raft's RPCs.
	ChannelRaft byte = 'R'
	// ChannelForward carries commands forwarded from a follower to the leader.
	ChannelForward byte = 'F'
	// maxHelloID bounds the node id a hello may carry.
	maxHelloID = 255
	// helloTimeout bounds how long an accepted connection may take to send
	// its hello (and a dialer to write one).
	helloTimeout = 10 * time.Second
)

// Hello is what a dialer says first on the cluster port.
type Hello struct {
	Channel byte
	ID      string // the dialer's node id; empty: not a node
}

// Errors of ReadHello.
var (
	ErrBadHello = errors.New("cluster port: bad hello")
)

// AppendHello appends the hello for channel ch from node id to dst.
func AppendHello(dst []byte, ch byte, id string) []byte {
	dst = append(dst, helloMagic...)
	dst = append(dst, helloVersion, ch)
	dst = binary.AppendUvarint(dst, uint64(len(id)))
	return append(dst, id...)
}

// ReadHello reads a hello from r without reading a byte past it, so the
// channel's protocol can take over the connection.
func ReadHello(r io.Reader) (Hello, error) {
	var hdr [len(helloMagic) + 2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Hello{}, fmt.Errorf("%w: %v", ErrBadHello, err)
	}
	if string(hdr[:len(helloMagic)]) != helloMagic {
		return Hello{}, fmt.Errorf("%w: magic %q", ErrBadHello, hdr[:len(helloMagic)])
	}
	if v := hdr[len(helloMagic)]; v != helloVersion {
		return Hello{}, fmt.Errorf("%w: version %d", ErrBadHello, v)
	}
	h := Hello{Channel: hdr[len(helloMagic)+1]}
	if h.Channel != ChannelRaft && h.Channel != ChannelForward {
		return Hello{}, fmt.Errorf("%w: channel %q", ErrBadHello, h.Channel)
	}
	n, err := binary.ReadUvarint(byteReader{r})
	if err != nil {
		return Hello{}, fmt.Errorf("%w: id length: %v", ErrBadHello, err)
	}
	if n > maxHelloID {
		return Hello{}, fmt.Errorf("%w: id of %d bytes", ErrBadHello, n)
	}
	id := make([]byte, n)
	if _, err := io.ReadFull(r, id); err != nil {
		return Hello{}, fmt.Errorf("%w: id: %v", ErrBadHello, err)
	}
	h.ID = string(id)
	return h, nil
}

// byteReader reads one byte at a time, so a varint is read without
// buffering past it.
type byteReader struct{ r io.Reader }

func (b byteReader) ReadByte() (byte, error) {
	var c [1]byte
	_, err := io.ReadFull(b.r, c[:])
	return c[0], err
}

// advertAddr is an address given as text (--raft-advertise).
type advertAddr string

func (a advertAddr) Network() string { return "tcp" }
func (a advertAddr) String() string  { return string(a) }

// ConnHandler serves one accepted connection of a channel other than
// Raft's; it owns (and closes) the connection.
type ConnHandler func(nc net.Conn, h Hello)

// mux is the cluster port: a raft.StreamLayer whose Dial sends the Raft
// hello and whose Accept returns the Raft connections, while forwarding
// connections go to the handler the server set.
type mux struct {
	ln        net.Listener
	advertise net.Addr
	id        string

	raftConns chan net.Conn
	forward   atomic.Pointer[ConnHandler]
	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // accepted, hello not read yet, or served by the forward handler
}

var _ raft.StreamLayer = (*mux)(nil)

// listenMux listens on bind. Others reach this node at advertise; empty
// means the bound address, which must then be a specific IP.
func listenMux(bind, advertise, id string) (*mux, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	m := &mux{ln: ln, id: id, raftConns: make(chan net.Conn), closed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	if advertise != "" {
		m.advertise = advertAddr(advertise)
	} else {
		addr, ok := ln.Addr().(*net.TCPAddr)
		if !ok || addr.IP == nil || addr.IP.IsUnspecified() {
			ln.Close()
			return nil, fmt.Errorf("raft address %s is not one other nodes can dial: set --raft-advertise", bind)
		}
		m.advertise = addr
	}
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

// setForward sets the handler of forwarding connections; until it is set
// they are closed.
func (m *mux) setForward(h ConnHandler) { m.forward.Store(&h) }

func (m *mux) acceptLoop() {
	defer m.wg.Done()
	var delay time.Duration
	for {
		nc, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.closed:
				return
			default:
			}
			// A transient error (out of descriptors): back off as
			// net/http does, instead of spinning.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			select {
			case <-m.closed:
				return
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		if !m.track(nc) {
			nc.Close()
			return
		}
		m.wg.Add(1)
		go m.route(nc)
	}
}

// track records an accepted connection so Close can end it; it reports
// false once the mux is closed.
func (m *mux) track(nc net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conns == nil {
		return false
	}
	m.conns[nc] = struct{}{}
	return true
}

func (m *mux) untrack(nc net.Conn) {
	m.mu.Lock()
	delete(m.conns, nc)
	m.mu.Unlock()
}

// route reads an accepted connection's hello and hands it to its channel.
func (m *mux) route(nc net.Conn) {
	defer m.wg.Done()
	nc.SetReadDeadline(time.Now().Add(helloTimeout))
	h, err := ReadHello(nc)
	if err != nil {
		m.untrack(nc)
		nc.Close()
		return
	}
	nc.SetReadDeadline(time.Time{})
	switch h.Channel {
	case ChannelRaft:
		// Raft owns it from here; its transport closes it.
		m.untrack(nc)
		select {
		case m.raftConns <- nc:
		case <-m.closed:
			nc.Close()
		}
	case ChannelForward:
		defer m.untrack(nc)
		hp := m.forward.Load()
		if hp == nil {
			nc.Close()
			return
		}
		(*hp)(nc, h)
	}
}

// Accept returns the next Raft connection (raft.StreamLayer).
func (m *mux) Accept() (net.Conn, error) {
	select {
	case nc := <-m.raftConns:
		return nc, nil
	case <-m.closed:
		return nil, net.ErrClosed
	}
}

// Close stops listening and closes the connections not handed to Raft;
// it waits for the goroutines serving them.
func (m *mux) Close() error {
	var err error
	m.closeOnce.Do(func() {
		close(m.closed)
		err = m.ln.Close()
		m.mu.Lock()
		for nc := range m.conns {
			nc.Close()
		}
		m.conns = nil
		m.mu.Unlock()
		m.wg.Wait()
	})
	return err
}

// Addr is the address others dial to reach this node (raft.StreamLayer).
func (m *mux) Addr() net.Addr { return m.advertise }

// Dial opens a Raft connection to address (raft.StreamLayer).
func (m *mux) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return m.dial(string(address), ChannelRaft, timeout)
}

// dial connects to a node's cluster port and sends the hello for ch.
func (m *mux) dial(address string, ch byte, timeout time.Duration) (net.Conn, error) {
	return DialCluster(address, ch, m.id, timeout)
}

// DialCluster connects to the cluster port at address and sends the hello
// for channel ch from node id; the connection then speaks ch's protocol.
func DialCluster(address string, ch byte, id string, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = helloTimeout
	}
	nc, err := net.DialTimeout("tcp", address, timeout)
	if err != nil {
		return nil, err
	}
	nc.SetWriteDeadline(time.Now().Add(min(timeout, helloTimeout)))
	if _, err := nc.Write(AppendHello(nil, ch, id)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("send hello to %s: %w", address, err)
	}
	nc.SetWriteDeadline(time.Time{})
	return nc, nil
}
