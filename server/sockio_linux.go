package server

import (
	"io"
	"net"
	"syscall"
	"unsafe"
)

// sockIO reads and writes a client's TCP socket with raw system calls,
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
type sockIO struct {
	net.Conn
	rc  syscall.RawConn
	p   []byte // the read's buffer or the write's bytes
	n   int
	err syscall.Errno
	// Method values made once: a closure per call would be allocated.
	readFn, writeFn func(fd uintptr) bool
}

// newSockIO returns what a client's requests are read from and replies
// written to: nc itself unless it is a TCP connection.
func newSockIO(nc net.Conn) net.Conn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nc
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nc
	}
	s := &sockIO{Conn: nc, rc: rc}
	s.readFn, s.writeFn = s.read, s.write
	return s
}

func (s *sockIO) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&s.p[0])), uintptr(len(s.p)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the poller waits for the socket
		}
		s.n, s.err = int(n), e
		return true
	}
}

// Read reads as net.Conn's Read does: io.EOF at the end of the stream.
func (s *sockIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.p, s.n, s.err = p, 0, 0
	err := s.rc.Read(s.readFn)
	s.p = nil
	switch {
	case err != nil: // closed, or a deadline passed
		return 0, err
	case s.err != 0:
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: s.err}
	case s.n == 0:
		return 0, io.EOF
	}
	return s.n, nil
}

func (s *sockIO) write(fd uintptr) bool {
	for len(s.p) > 0 {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&s.p[0])), uintptr(len(s.p)))
		switch e {
		case 0:
			s.n += int(n)
			s.p = s.p[n:]
			continue
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the poller waits until it can take more
		}
		s.err = e
		return true
	}
	return true
}

// Write writes all of p, or fails, as net.Conn's Write does.
func (s *sockIO) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.p, s.n, s.err = p, 0, 0
	err := s.rc.Write(s.writeFn)
	n := s.n
	s.p = nil
	switch {
	case err != nil:
		return n, err
	case s.err != 0:
		return n, &net.OpError{Op: "write", Net: "tcp", Err: s.err}
	}
	return n, nil
}
