package server

import (
	"io"
	"net"
	"sync"
	"time"
)

// A client blocked in BLPOP (or its kin) is a connection goroutine
// waiting inside its command (commands/blocking.go). The connection gives
// it what it needs: its replies so far written out, and word when the
// client goes away, so that a waiter whose client left pops nothing.

// watchReader is what a connection's RESP reader reads from: the socket,
// after any bytes a watch read while the command was blocked.
type watchReader struct {
	nc      net.Conn  // read by a blocked command's watch
	in      io.Reader // nc, for the connection's own reads (internal/sockio)
	pending []byte
	net     *netStats // nil: not counted
	fills   uint64    // reads from nc that returned bytes (followerread.go)
}

func (r *watchReader) Read(p []byte) (int, error) {
	if len(r.pending) > 0 {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		r.fills++ // bytes that arrived while a command was blocked
		return n, nil
	}
	n, err := r.in.Read(p)
	if n > 0 {
		r.fills++
	}
	r.net.read(n)
	return n, err
}

// blockHost is a client connection's commands.BlockHost.
type blockHost struct {
	s   *Server
	c   *client
	cn  *conn
	src *watchReader
}

// Flush writes out the replies buffered so far.
func (h *blockHost) Flush() {
	h.cn.drain()
	lim := h.s.limits()
	if h.s.flush(h.c, h.cn.w, &lim.out[classOf(h.c)]) != nil {
		h.c.nc.Close() // the watch sees it: the waiter leaves
	}
	h.cn.w.Reset()
}

// watchChunk is how much a watch reads at once. Bytes a client sends
// while blocked (a pipelined command) end the watch: they are kept for
// the connection's next read, and the client's leaving is then noticed
// when the reply is written.
const watchChunk = 4096

// WatchGone reads from the socket while the command waits: an error or
// the end of the stream closes gone. stop interrupts the read with a past
// deadline and returns once the goroutine has ended, so the connection
// goroutine owns the socket and the pending bytes again.
func (h *blockHost) Serving() {
	if h.c.sess.Track.On() {
		h.c.sub.Pause()
	}
}

func (h *blockHost) WatchGone() (<-chan struct{}, func()) {
	gone := make(chan struct{})
	// A blocked client is not idle: the timeout directive spares it, as
	// Redis's does.
	h.c.nc.SetReadDeadline(time.Time{})
	var wg sync.WaitGroup
	wg.Add(1)
	var stopped sync.Mutex // held by stop while it interrupts the read
	interrupted := false
	go func() {
		defer wg.Done()
		buf := make([]byte, watchChunk)
		n, err := h.c.nc.Read(buf)
		if n > 0 {
			h.src.pending = append(h.src.pending, buf[:n]...)
			return
		}
		stopped.Lock()
		defer stopped.Unlock()
		if err != nil && !interrupted {
			close(gone)
		}
	}()
	return gone, func() {
		stopped.Lock()
		interrupted = true
		stopped.Unlock()
		h.c.nc.SetReadDeadline(time.Now())
		wg.Wait()
		h.c.nc.SetReadDeadline(time.Time{})
	}
}
