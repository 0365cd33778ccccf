// Package sockio reads and writes TCP sockets with raw system calls
// through their syscall.RawConn, for the connections that carry every
// request: a client's and the cluster port's.
package sockio

import (
	"io"
	"net"
	"syscall"
)

// conn reads and writes a TCP socket with raw system calls,
// through the descriptor's syscall.RawConn: the runtime's poller still
// parks the goroutine until the socket is ready and honours deadlines,
// but the read and write themselves skip entersyscall/exitsyscall. A
// non-blocking socket's read or write never blocks, so the P need not be
// handed off, and the scheduler's monitor (sysmon) is neither woken by
// each call nor sees Ps in system calls to retake: measured on the 2-core
// test VM, where waking a thread is a costly context switch, sysmon and
// its wake-ups were ~15% of a GET's CPU time (issue 16's note).
//
// Any other connection (TLS, a pipe in a test) is used as it is.
type conn struct {
	net.Conn
	rc syscall.RawConn
	// A read and a write may run at once (from two goroutines): each
	// has its own buffer and result.
	r, w call
	// Method values made once: a closure per call would be allocated.
	readFn, writeFn func(fd uintptr) bool
}

// call is one direction's call in progress: its buffer (or the bytes
// left), the bytes done and the error.
type call struct {
	p   []byte
	n   int
	err syscall.Errno
}

// Wrap returns nc reading and writing with raw system calls when it is a
// TCP connection, nc itself otherwise. Only one goroutine may read, and
// one write, at a time; a read and a write may run at once.
func Wrap(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	s := &conn{Conn: nc, rc: rc}
	s.readFn, s.writeFn = s.read, s.write
	return s
}

func (s *conn) read(fd uintptr) bool {
	for {
		n, e := sysRead(fd, s.r.p)
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the poller waits for the socket
		}
		s.r.n, s.r.err = n, e
		return true
	}
}

// Read reads as net.Conn's Read does: io.EOF at the end of the stream.
func (s *conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.r = call{p: p}
	err := s.rc.Read(s.readFn)
	r := s.r
	s.r = call{}
	switch {
	case err != nil: // closed, or a deadline passed
		return 0, err
	case r.err != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: r.err}
	case r.n == 0:
		return 0, io.EOF
	}
	return r.n, nil
}

func (s *conn) write(fd uintptr) bool {
	for len(s.w.p) > 0 {
		n, e := sysWrite(fd, s.w.p)
		switch e {
		case 0:
			s.w.n += n
			s.w.p = s.w.p[n:]
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the poller waits until it can take more
		}
		s.w.err = e
		return true
	}
	return true
}

// Write writes all of p, or fails, as net.Conn's Write does.
func (s *conn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.w = call{p: p}
	err := s.rc.Write(s.writeFn)
	w := s.w
	s.w = call{}
	switch {
	case err != nil:
		return w.n, err
	case w.err != 0:
		return w.n, &net.OpError{Op: "write", Net: "tcp", Err: w.err}
	}
	return w.n, nil
}
