package server

import (
	"crypto/tls"
	"net"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/pubsub"
)

// Connections of a user deleted (by ACL DELUSER, ACL LOAD or a restored
// snapshot) are closed, as Redis closes them. The users change on the
// FSM goroutine, inside an apply, with the keyspace locked for writing:
// nothing there may wait on a socket (a TLS Close sends close_notify, a
// write that blocks while the peer does not read) or on a lock that a
// connection holds while it writes. So the change only signals (usersChanged:
// non-blocking, signals coalescing into one pending pass), and the
// revoker, a goroutine the Server owns, looks for the connections to
// close and closes them. New starts it; Close stops it and waits for it.
//
// A revoked connection that runs a command before the revoker reaches it
// is refused anyway (commands.ErrUserGone closes it), so the revoker's
// delay costs nothing but an idle socket held a little longer.

// revoker is the goroutine that closes revoked connections.
type revoker struct {
	wake chan struct{} // capacity 1: a pass is due
	done chan struct{} // closed when the goroutine has exited
}

func newRevoker() revoker {
	return revoker{wake: make(chan struct{}, 1), done: make(chan struct{})}
}

// usersChanged is commands.ACL's OnChange: it runs on the FSM goroutine
// and must never block.
func (s *Server) usersChanged() {
	select {
	case s.revoke.wake <- struct{}{}:
	default: // a pass is due already; it will see this change too
	}
}

// startRevoker runs the revoker until Close closes s.done. Changes
// signalled before it starts (the log replayed by raftfsm.Open) wait in
// wake.
func (s *Server) startRevoker() {
	go func() {
		defer close(s.revoke.done)
		for {
			select {
			case <-s.done:
				return
			case <-s.revoke.wake:
				s.dropRevokedClients()
			}
		}
	}()
}

// dropRevokedClients closes the connections whose user no longer exists,
// and, as Redis's ACLKillPubsubClientsIfNeeded, those subscribed to a
// channel or pattern their user may no longer use; each connection's
// goroutine then ends on its own. It holds s.mu only to list them, never
// while closing.
func (s *Server) dropRevokedClients() {
	s.mu.Lock()
	var gone []*client
	for _, c := range s.clients {
		ref := c.sess.UserRef()
		if ref == nil {
			ref = s.table.ACL().Users.Default()
		}
		u := ref.User()
		if u == nil && c.sess.UserRef() != nil || u != nil && c.sub != nil && !s.keepsSubscriptions(c, u) {
			gone = append(gone, c)
		}
	}
	s.mu.Unlock()
	for _, c := range gone {
		c.sess.Kill()
		dropConn(c.nc)
	}
}

// keepsSubscriptions reports whether u may keep every subscription of c.
func (s *Server) keepsSubscriptions(c *client, u *acl.User) bool {
	keep := true
	s.table.PubSub().Subscriptions(c.sub, func(kind pubsub.Kind, name string) bool {
		keep = u.CheckChannel([]byte(name), kind == pubsub.Pattern)
		return keep
	})
	return keep
}

// dropConn closes nc's socket. A TLS connection's transport is closed
// under it, without the close_notify alert that tls.Conn.Close sends
// (with a 5 s deadline) when no write is in progress: a client dropped
// for a revoked user gets no clean TLS shutdown, and one that does not
// read (its socket's send buffer full) cannot hold up the revoker. The
// connection's goroutine still calls nc.Close, which then fails fast.
func dropConn(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		tc.NetConn().Close()
		return
	}
	nc.Close()
}
