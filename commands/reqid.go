package commands

import (
	"errors"
	"slices"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// Client request ids. RAFT.REQID <origin> <seq> gives the next command on
// the connection the request id (op.ClientOrigin + origin, seq): the op
// that command proposes carries it, and the FSM applies an id at most
// once, so a client that lost a write's reply (a connection cut, a
// leader lost: -UNKNOWN) may send it again under the same id. MULTI
// hands its id to the transaction's EXEC. The id applies to the writes
// the leader runs (WritesOnLeader) and to MULTI; any other command drops
// it, and every command clears it. The server stamps it on the op
// (server/conn.go) and, for a write that proposed nothing, proposes an
// op.ReqMark with the reply.
//
// RAFT.REQID changes the session only, as CLIENT SETNAME does, so any
// connection may send it, authenticated or not, whatever its user's
// rules (no_auth, as AUTH and HELLO): the command it precedes is checked
// as always. Inside MULTI it is refused (no-multi), which aborts the
// transaction: the id goes before MULTI.

// reqIDState is a session's request ids.
type reqIDState struct {
	next op.ReqID // RAFT.REQID's, for the next command
	cur  op.ReqID // the running command's
	// noLoop numbers the writes of a NOLOOP tracking connection
	// (client_noloop.go).
	noLoop uint64
}

// maxClientOrigin bounds a RAFT.REQID origin.
const maxClientOrigin = 64

var errBadReqID = errors.New("ERR invalid request id")

// cmdRaftReqID: RAFT.REQID origin seq.
func cmdRaftReqID(c *Ctx) {
	origin, seq := c.Args[1], c.Args[2]
	n, ok := parseInt(seq)
	if !ok || n <= 0 || !validClientOrigin(origin) {
		c.W.Error(errBadReqID.Error())
		return
	}
	c.S.req.next = op.ReqID{Origin: op.ClientOrigin + string(origin), Seq: uint64(n)}
	c.W.OK()
}

// validClientOrigin: 1 to maxClientOrigin bytes of [A-Za-z0-9._:-].
func validClientOrigin(b []byte) bool {
	if len(b) == 0 || len(b) > maxClientOrigin {
		return false
	}
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// BeginRequest starts a command a client sent (cmd nil: one that does
// not resolve): the id RAFT.REQID gave it becomes the running command's
// if the command takes one, and is gone for the command after.
func (s *Session) BeginRequest(cmd *Command) {
	if s.req == (reqIDState{}) {
		return
	}
	s.req.cur, s.req.next = s.req.next, op.ReqID{}
	if cmd == nil || !cmd.TakesRequestID() {
		s.req.cur = op.ReqID{}
	}
}

// RequestID is the request id of the running command (a client's, or the
// one a follower forwarded it with); the zero ReqID when it has none.
func (s *Session) RequestID() op.ReqID { return s.req.cur }

// SetRequestID sets the running command's request id: a forwarded
// command's, or none once its op carries it.
func (s *Session) SetRequestID(id op.ReqID) { s.req.cur = id }

// WritesOnLeader reports whether a command may write the keyspace and
// runs on the leader: flagged write (a blocking command, which waits
// where its client is, is not) or a script. A client request id applies
// to it.
func (c *Command) WritesOnLeader() bool { return c.RunsOnLeader() && !c.Has(FlagReadonly) }

// TakesRequestID reports whether a client request id given by RAFT.REQID
// applies to the command: a write the leader runs, or MULTI, whose
// EXEC carries it.
func (c *Command) TakesRequestID() bool { return c.Name == "multi" || c.WritesOnLeader() }

// OvertakesWrites reports whether the command may run while its
// connection's earlier writes are in flight: a write, which the log
// orders after them, PUBLISH and SPUBLISH, ops as well, or RAFT.REQID,
// which reads nothing (so a pipeline of writes, each after its
// RAFT.REQID, is proposed without waiting).
func (c *Command) OvertakesWrites() bool {
	switch c.Name {
	case "raft.reqid", "publish", "spublish":
		return true
	}
	return c.Has(FlagWrite)
}

// OmittedReply is a ReqMark's result when the reply was too large to
// carry: the proposer writes the reply it kept. Its size is the
// reply's, which the FSM's memory of replies does not keep.
type OmittedReply int64

// Size is the length of the reply left out.
func (r OmittedReply) Size() int { return int(r) }

// applyReqMark answers with the reply the op carries (the FSM answers a
// repeated id with the first reply before this runs).
func applyReqMark(_ *keyspace.Store, o *op.Op) any {
	switch {
	case len(o.Args[0]) > 0:
		return RawReply(slices.Clone(o.Args[0]))
	case o.Int > 0:
		return OmittedReply(o.Int)
	}
	return errBadOp
}
