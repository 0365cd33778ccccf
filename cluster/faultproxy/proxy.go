// Package faultproxy injects network faults between LoomCache nodes on
// loopback. A Net owns one proxy per node, each listening in front of that
// node's cluster port; nodes advertise the proxy's address, so every
// node-to-node connection crosses exactly one proxy. A proxy learns the
// dialing node from the cluster hello ("LOOM" | version | channel |
// uvarint n | id) and the dialed node from its own setup, so it can cut
// each directed link src→dst on its own.
//
// Past the hello it copies bytes without looking at them, so a cluster
// with a secret works through it: the authentication handshake that
// follows a version 2 hello binds node ids, not addresses. A cluster
// port under TLS does not: the hello is inside TLS, where a proxy cannot
// read it.
//
// A cut link is a black hole, as in a real partition: bytes already
// flowing src→dst stop being forwarded while connections stay open (RPCs
// time out rather than fail fast), and new connections across it are
// accepted and held without reaching the node (or closed at once, with
// RejectNew). Heal reopens every link and closes every connection a cut
// touched, so the nodes redial cleanly instead of receiving half a
// message.
//
// It is test and benchmark tooling: no production package imports it.
package faultproxy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Hello framing, as raftfsm's transport speaks it: version 1 without a
// cluster secret, 2 with one (its handshake follows the hello).
const (
	helloMagic   = "LOOM"
	helloVersion = 1
	helloAuth    = 2
	maxIDLen     = 255
)

// helloTimeout bounds how long an accepted connection may take to send
// its hello.
const helloTimeout = 10 * time.Second

// dialTimeout bounds the proxy's own dial to the node it fronts.
const dialTimeout = 5 * time.Second

// Hello returns the (version 1) hello a dialer with node id sends on
// channel ch in a cluster without a secret.
func Hello(ch byte, id string) []byte { return hello(helloVersion, ch, id) }

func hello(version, ch byte, id string) []byte {
	b := append([]byte(helloMagic), version, ch)
	b = binary.AppendUvarint(b, uint64(len(id)))
	return append(b, id...)
}

// readHello reads one hello from r and returns the dialer's id and the
// hello's bytes, to be replayed to the node as they came.
func readHello(r *bufio.Reader) (id string, raw []byte, err error) {
	head := make([]byte, len(helloMagic)+2)
	if _, err := io.ReadFull(r, head); err != nil {
		return "", nil, fmt.Errorf("read hello: %w", err)
	}
	if v := head[len(helloMagic)]; string(head[:len(helloMagic)]) != helloMagic || v != helloVersion && v != helloAuth {
		return "", nil, fmt.Errorf("bad hello %q", head)
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", nil, fmt.Errorf("read hello id length: %w", err)
	}
	if n > maxIDLen {
		return "", nil, fmt.Errorf("hello id of %d bytes", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", nil, fmt.Errorf("read hello id: %w", err)
	}
	return string(b), hello(head[len(helloMagic)], head[len(helloMagic)+1], string(b)), nil
}

// link is a directed link: bytes sent by node src to node dst.
type link struct{ src, dst string }

// Net is a set of proxies, one per node, and the state of the links
// between those nodes.
type Net struct {
	// RejectNew makes a proxy close a new connection across a cut link at
	// once instead of holding it open (a refused connection rather than a
	// black hole). Set it before the first connection.
	RejectNew bool

	mu      sync.Mutex
	cond    *sync.Cond // signalled when links heal or pipes close
	cut     map[link]bool
	proxies map[string]*Proxy
	pipes   map[*pipe]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// New returns a Net with every link open and no proxies.
func New() *Net {
	n := &Net{cut: map[link]bool{}, proxies: map[string]*Proxy{}, pipes: map[*pipe]struct{}{}}
	n.cond = sync.NewCond(&n.mu)
	return n
}

// Proxy fronts one node's cluster port.
type Proxy struct {
	net    *Net
	id     string // the node it fronts
	target string // that node's real cluster address, guarded by net.mu
	ln     net.Listener
}

// Addr is the proxy's listen address: the one its node advertises.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// ID is the id of the node the proxy fronts.
func (p *Proxy) ID() string { return p.id }

// SetTarget points the proxy at a new address of its node (one restarted
// on another port); connections already open stay where they are.
func (p *Proxy) SetTarget(addr string) {
	p.net.mu.Lock()
	p.target = addr
	p.net.mu.Unlock()
}

// Add starts a proxy on a free loopback port in front of node id, whose
// real cluster port is target.
func (n *Net) Add(id, target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy for %s: %w", id, err)
	}
	p := &Proxy{net: n, id: id, target: target, ln: ln}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		ln.Close()
		return nil, errors.New("faultproxy: net closed")
	}
	if _, dup := n.proxies[id]; dup {
		ln.Close()
		return nil, fmt.Errorf("faultproxy: a proxy for %s exists", id)
	}
	n.proxies[id] = p
	n.wg.Add(1)
	go p.serve()
	return p, nil
}

// Proxy returns the proxy in front of node id, or nil.
func (n *Net) Proxy(id string) *Proxy {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proxies[id]
}

// Cut black-holes the directed links from every node in srcs to every
// node in dsts.
func (n *Net) Cut(srcs, dsts []string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, s := range srcs {
		for _, d := range dsts {
			if s != d {
				n.cut[link{s, d}] = true
			}
		}
	}
	n.taintLocked()
}

// Partition splits the nodes that have proxies into the given groups:
// links inside a group stay as they are, links between groups are cut
// both ways. A node named in no group forms a group of its own.
func (n *Net) Partition(groups ...[]string) {
	n.mu.Lock()
	group := map[string]int{}
	for i, g := range groups {
		for _, id := range g {
			group[id] = i
		}
	}
	next := len(groups)
	for id := range n.proxies {
		if _, ok := group[id]; !ok {
			group[id] = next
			next++
		}
	}
	for a, ga := range group {
		for b, gb := range group {
			if ga != gb {
				n.cut[link{a, b}] = true
			}
		}
	}
	n.taintLocked()
	n.mu.Unlock()
}

// Isolate cuts every link to and from node id.
func (n *Net) Isolate(id string) {
	n.mu.Lock()
	var others []string
	for o := range n.proxies {
		if o != id {
			others = append(others, o)
		}
	}
	n.mu.Unlock()
	n.Cut([]string{id}, others)
	n.Cut(others, []string{id})
}

// Heal reopens every link and closes every connection a cut touched, so
// the nodes redial.
func (n *Net) Heal() {
	n.mu.Lock()
	clear(n.cut)
	var stale []*pipe
	for p := range n.pipes {
		if p.tainted {
			// Marked closed before the copiers wake, so none forwards
			// what it held while the link was cut.
			p.closed = true
			stale = append(stale, p)
		}
	}
	n.cond.Broadcast()
	n.mu.Unlock()
	for _, p := range stale {
		p.close()
	}
}

// IsCut reports whether the directed link src→dst is cut.
func (n *Net) IsCut(src, dst string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cut[link{src, dst}]
}

// Close stops every proxy, closes every connection and waits for the
// proxies' goroutines.
func (n *Net) Close() error {
	n.mu.Lock()
	n.closed = true
	var all []*pipe
	for p := range n.pipes {
		all = append(all, p)
	}
	for _, p := range n.proxies {
		p.ln.Close()
	}
	n.cond.Broadcast()
	n.mu.Unlock()
	for _, p := range all {
		p.close()
	}
	n.wg.Wait()
	return nil
}

// taintLocked marks every open pipe that crosses a cut link, in either
// direction, to be closed at the next Heal.
func (n *Net) taintLocked() {
	for p := range n.pipes {
		if n.cut[link{p.src, p.dst}] || n.cut[link{p.dst, p.src}] {
			p.tainted = true
		}
	}
}

func (p *Proxy) serve() {
	defer p.net.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		pp := &pipe{net: p.net, dst: p.id, down: c}
		if !p.net.track(pp) {
			c.Close()
			return
		}
		p.net.wg.Add(1)
		go func() {
			defer p.net.wg.Done()
			p.handle(pp)
		}()
	}
}

// handle reads the hello, waits while the link is cut, dials the node,
// replays the hello and pipes both ways until either side closes.
func (p *Proxy) handle(pp *pipe) {
	defer pp.close()
	defer p.net.untrack(pp)
	r := bufio.NewReader(pp.down)
	pp.down.SetReadDeadline(time.Now().Add(helloTimeout))
	src, hello, err := readHello(r)
	if err != nil {
		return
	}
	pp.down.SetReadDeadline(time.Time{})
	n := p.net
	n.mu.Lock()
	pp.src = src
	if n.cut[link{src, pp.dst}] || n.cut[link{pp.dst, src}] {
		pp.tainted = true
		if n.RejectNew {
			n.mu.Unlock()
			return
		}
	}
	// A new connection across a cut link is held: its dialer sees an open
	// connection that never answers. Heal closes it.
	for !pp.closed && pp.tainted && !n.closed {
		n.cond.Wait()
	}
	done := pp.closed || n.closed
	target := p.target
	n.mu.Unlock()
	if done {
		return
	}
	up, err := net.DialTimeout("tcp", target, dialTimeout)
	if err != nil {
		return
	}
	if !pp.setUp(up) {
		return
	}
	if _, err := up.Write(hello); err != nil {
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pp.copy(up, r, link{src, pp.dst}) }()
	go func() { defer wg.Done(); pp.copy(pp.down, up, link{pp.dst, src}) }()
	wg.Wait()
}

// pipe is one proxied connection: down is the dialer's side, up the
// node's.
type pipe struct {
	net      *Net
	src, dst string // dialing node, dialed node
	down, up net.Conn

	// guarded by net.mu
	tainted bool // a cut touched it: close at Heal
	closed  bool
}

func (n *Net) track(p *pipe) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return false
	}
	n.pipes[p] = struct{}{}
	return true
}

func (n *Net) untrack(p *pipe) {
	n.mu.Lock()
	delete(n.pipes, p)
	n.mu.Unlock()
}

// setUp records the node-side connection, unless the pipe closed while
// it was dialed.
func (p *pipe) setUp(up net.Conn) bool {
	p.net.mu.Lock()
	defer p.net.mu.Unlock()
	if p.closed {
		up.Close()
		return false
	}
	p.up = up
	return true
}

// close closes both sides; safe to call more than once.
func (p *pipe) close() {
	p.net.mu.Lock()
	p.closed = true
	up := p.up
	p.net.cond.Broadcast()
	p.net.mu.Unlock()
	p.down.Close()
	if up != nil {
		up.Close()
	}
}

// copy forwards from r to w while l is open; while it is cut, what was
// read waits in the proxy and the rest in the kernel's buffers. Either
// side failing closes the pipe.
func (p *pipe) copy(w io.Writer, r io.Reader, l link) {
	defer p.close()
	buf := make([]byte, 32<<10)
	for {
		k, err := r.Read(buf)
		if k > 0 {
			if !p.await(l) {
				return
			}
			if _, werr := w.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// await blocks while l is cut; it reports false once the pipe closed.
func (p *pipe) await(l link) bool {
	n := p.net
	n.mu.Lock()
	defer n.mu.Unlock()
	for n.cut[l] && !p.closed && !n.closed {
		n.cond.Wait()
	}
	return !p.closed && !n.closed
}
