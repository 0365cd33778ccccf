package server

import "net"

// Hooks for the tests of package server_test.

// WrapListeners replaces the listeners New opened with wrap's, before
// Serve: a test stands its own connections in for the sockets accepted.
func (s *Server) WrapListeners(wrap func(net.Listener) net.Listener) {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln != nil {
		s.ln = wrap(s.ln)
	}
	if s.tlsLn != nil {
		s.tlsLn = wrap(s.tlsLn)
	}
}

// RevokerDone is closed once the revoker has exited.
func (s *Server) RevokerDone() <-chan struct{} { return s.revoke.done }

// UsersChanged signals the revoker as an access control applier does.
func (s *Server) UsersChanged() { s.usersChanged() }
