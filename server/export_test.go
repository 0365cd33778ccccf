package server

// Hooks for the tests of package server_test.

// RevokerDone is closed once the revoker has exited.
func (s *Server) RevokerDone() <-chan struct{} { return s.revoke.done }

// UsersChanged signals the revoker as an access control applier does.
func (s *Server) UsersChanged() { s.usersChanged() }

// CatchUpScripts is a connection's CatchUpScripts on this node.
func (s *Server) CatchUpScripts() bool { return (&conn{srv: s}).CatchUpScripts() }
