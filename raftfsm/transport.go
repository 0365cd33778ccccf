package raftfsm

import (
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/internal/sockio"
	"github.com/loomcache/loomcache/persistence"
)

// The cluster port carries several protocols over one listener. Whoever
// dials sends a hello first, then, with a cluster secret, the handshake
// of auth.go, then speaks the channel's own protocol:
//
//	"LOOM" | version | channel | uvarint n | n bytes: the dialer's node id | uvarint group
//
// The group is the Raft group (the partition) a Raft or forwarding
// connection is for; 0 for a probe, and for a node with one partition.
// Version 1 is a cluster without a secret, version 2 one with (the
// handshake follows). Channel 'R' is hashicorp/raft's NetworkTransport
// stream; channel 'F' is request forwarding (forward.go); channel 'P' is
// a probe, which serves nothing but the node's id and RESP address
// (uvarint n | id | uvarint m | address) and is closed: a leader probes a node before adding it (membership.go). A
// dialer that is not a node sends an empty id. An unknown magic, version
// or channel, a version that is not this node's, or a failed handshake
// closes the connection. With TLS (Config.ClusterTLS) all of it runs
// inside a mutually authenticated TLS session.
const (
	helloMagic = "LOOM"
	// ChannelRaft carries hashicorp/raft's RPCs.
	ChannelRaft byte = 'R'
	// ChannelForward carries commands forwarded from a follower to the leader.
	ChannelForward byte = 'F'
	// ChannelProbe answers the handshake and the node's id, and nothing else.
	ChannelProbe byte = 'P'
	// maxHelloID bounds the node id a hello may carry.
	maxHelloID = 255
	// helloTimeout bounds how long an accepted connection may take to
	// finish its TLS handshake, hello and authentication (and a dialer
	// to do its part).
	helloTimeout = 10 * time.Second
)

// Hello is what a dialer says first on the cluster port.
type Hello struct {
	Version byte // 1: no authentication follows, 2: the handshake of auth.go follows
	Channel byte
	ID      string // the dialer's node id; empty: not a node
	Group   int    // the Raft group (partition) of a Raft or forwarding connection
}

// Errors of ReadHello.
var (
	ErrBadHello = errors.New("cluster port: bad hello")
)

// AppendHello appends the unauthenticated (version 1) hello for channel
// ch from node id to dst.
func AppendHello(dst []byte, ch byte, id string) []byte {
	return appendHelloVersion(dst, helloPlain, ch, id, 0)
}

func appendHelloVersion(dst []byte, version, ch byte, id string, group int) []byte {
	dst = append(dst, helloMagic...)
	dst = append(dst, version, ch)
	dst = binary.AppendUvarint(dst, uint64(len(id)))
	dst = append(dst, id...)
	return binary.AppendUvarint(dst, uint64(group))
}

// ReadHello reads a hello of either version from r without reading a
// byte past it, so the handshake or the channel's protocol can take over
// the connection.
func ReadHello(r io.Reader) (Hello, error) {
	var hdr [len(helloMagic) + 2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Hello{}, fmt.Errorf("%w: %w", ErrBadHello, err)
	}
	if string(hdr[:len(helloMagic)]) != helloMagic {
		return Hello{}, fmt.Errorf("%w: magic %q", ErrBadHello, hdr[:len(helloMagic)])
	}
	h := Hello{Version: hdr[len(helloMagic)], Channel: hdr[len(helloMagic)+1]}
	if h.Version != helloPlain && h.Version != helloAuth {
		return Hello{}, fmt.Errorf("%w: version %d", ErrBadHello, h.Version)
	}
	if h.Channel != ChannelRaft && h.Channel != ChannelForward && h.Channel != ChannelProbe {
		return Hello{}, fmt.Errorf("%w: channel %q", ErrBadHello, h.Channel)
	}
	id, err := readID(r)
	if err != nil {
		return Hello{}, fmt.Errorf("%w: id: %v", ErrBadHello, err)
	}
	h.ID = id
	g, err := binary.ReadUvarint(byteReader{r})
	if err != nil || g >= persistence.MaxGroups {
		return Hello{}, fmt.Errorf("%w: group %d: %v", ErrBadHello, g, err)
	}
	h.Group = int(g)
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

// mux is the cluster port: Raft connections go to their group's
// raft.StreamLayer (Stream), forwarding connections to the handler the
// server set, and probes are answered here. Every accepted connection is authenticated (TLS, the
// secret's handshake) before any of that.
type mux struct {
	ln        net.Listener
	advertise net.Addr
	dialer    Dialer // this node's credentials, for dialling and to check those dialling in
	// clientAddr is the node's RESP address, which a probe answers.
	clientAddr atomic.Pointer[string]
	serverTLS  *tls.Config // nil: plain TCP
	refused    refusals

	raftConns []chan net.Conn // per group
	forward   atomic.Pointer[ConnHandler]
	closed    chan struct{}
	closeOnce sync.Once
	wg        sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // accepted and not handed to Raft: in their handshake, or served here
}

var _ raft.StreamLayer = (*groupStream)(nil)

// listenMux listens on bind for the Raft connections of groups groups.
// Others reach this node at advertise; empty means the bound address,
// which must then be a specific IP. d is this node's id and credentials:
// the same secret and TLS are required of every connection accepted.
func listenMux(bind, advertise string, groups int, d Dialer, log hclog.Logger) (*mux, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	m := &mux{ln: ln, dialer: d, closed: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	for range groups {
		m.raftConns = append(m.raftConns, make(chan net.Conn))
	}
	m.refused.log = log
	if d.TLS != nil {
		m.serverTLS = serverTLS(d.TLS)
	}
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

// route authenticates an accepted connection, reads its hello and hands
// it to its channel.
func (m *mux) route(raw net.Conn) {
	defer m.wg.Done()
	nc, h, err := m.accept(raw)
	if err != nil {
		m.untrack(raw)
		raw.Close()
		select {
		case <-m.closed:
			return // Close ended it
		default:
		}
		// A connection closed before it sent a byte is a port check,
		// not an intruder.
		if !errors.Is(err, io.EOF) {
			m.refused.add(raw.RemoteAddr(), err)
		}
		return
	}
	switch h.Channel {
	case ChannelRaft:
		// Raft owns it from here; its transport closes it.
		m.untrack(raw)
		if h.Group >= len(m.raftConns) {
			m.refused.add(raw.RemoteAddr(), fmt.Errorf("%w: group %d of %d", ErrBadHello, h.Group, len(m.raftConns)))
			nc.Close()
			return
		}
		select {
		case m.raftConns[h.Group] <- nc:
		case <-m.closed:
			nc.Close()
		}
	case ChannelForward:
		defer m.untrack(raw)
		hp := m.forward.Load()
		if hp == nil {
			nc.Close()
			return
		}
		(*hp)(nc, h)
	case ChannelProbe:
		defer m.untrack(raw)
		defer nc.Close()
		nc.SetWriteDeadline(time.Now().Add(helloTimeout))
		id := m.dialer.ID
		b := append(binary.AppendUvarint(nil, uint64(len(id))), id...)
		var ca string
		if p := m.clientAddr.Load(); p != nil {
			ca = *p
		}
		b = binary.AppendUvarint(b, uint64(len(ca)))
		nc.Write(append(b, ca...))
	}
}

// accept runs, within helloTimeout, what comes before an accepted
// connection's channel: the TLS handshake, the hello and the secret's
// handshake. It returns the connection to serve (raw, or TLS over it).
func (m *mux) accept(raw net.Conn) (net.Conn, Hello, error) {
	raw.SetDeadline(time.Now().Add(helloTimeout))
	nc := raw
	if m.serverTLS != nil {
		tc := tls.Server(raw, m.serverTLS)
		if err := tc.Handshake(); err != nil {
			return nil, Hello{}, fmt.Errorf("tls: %w", err)
		}
		nc = tc
	}
	h, err := ReadHello(nc)
	if err != nil {
		return nil, Hello{}, err
	}
	switch secret := m.dialer.Secret; {
	case len(secret) == 0 && h.Version != helloPlain:
		return nil, Hello{}, fmt.Errorf("%w: an authenticated hello from %q, and this node has no cluster secret", ErrAuth, h.ID)
	case len(secret) > 0 && h.Version != helloAuth:
		return nil, Hello{}, fmt.Errorf("%w: an unauthenticated hello from %q", ErrAuth, h.ID)
	case len(secret) > 0:
		if err := acceptAuth(nc, h, secret, m.dialer.ID); err != nil {
			return nil, Hello{}, err
		}
	}
	raw.SetDeadline(time.Time{})
	return sockio.Wrap(nc), h, nil
}

// groupStream is one Raft group's raft.StreamLayer on the cluster port.
// Closing it (the group's transport does) ends its Accept, not the port.
type groupStream struct {
	m         *mux
	group     int
	closed    chan struct{}
	closeOnce sync.Once
}

// stream returns group g's stream layer.
func (m *mux) stream(g int) *groupStream {
	return &groupStream{m: m, group: g, closed: make(chan struct{})}
}

// Accept returns the group's next Raft connection.
func (s *groupStream) Accept() (net.Conn, error) {
	select {
	case nc := <-s.m.raftConns[s.group]:
		return nc, nil
	case <-s.m.closed:
		return nil, net.ErrClosed
	case <-s.closed:
		return nil, net.ErrClosed
	}
}

// Close ends Accept; the port stays open for the other groups.
func (s *groupStream) Close() error {
	s.closeOnce.Do(func() { close(s.closed) })
	return nil
}

// Addr is the address others dial to reach this node.
func (s *groupStream) Addr() net.Addr { return s.m.advertise }

// Dial opens an authenticated Raft connection of the group to address.
func (s *groupStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := s.m.dialer
	d.Timeout = timeout
	d.Group = s.group
	return d.Dial(string(address), ChannelRaft, "")
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

// DialCluster connects to the cluster port at address and sends the
// unauthenticated hello for channel ch from node id; the connection then
// speaks ch's protocol. It reaches only nodes without a cluster secret or
// TLS: Dialer dials with credentials.
func DialCluster(address string, ch byte, id string, timeout time.Duration) (net.Conn, error) {
	d := Dialer{ID: id, Timeout: timeout}
	return d.Dial(address, ch, "")
}
