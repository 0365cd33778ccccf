package server

import (
	"errors"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
)

// inMulti handles a command that arrives while the connection is in
// MULTI, as Redis's processCommand does: a command refused (unknown,
// wrong arity, NOPERM, OOM) fails the transaction, the others are
// queued, except the few that run at once (EXEC, DISCARD, WATCH, ...),
// for which it reports false. EXEC itself is refused, discarding the
// transaction, when its user may not run it or when a queued command
// would need memory that is not there.
func (s *Server) inMulti(cn *conn, ctx *commands.Ctx, cmd *commands.Command, denied string) bool {
	if cmd != nil && cmd.RunsInMulti() {
		if cmd.Name != "exec" {
			return false
		}
		if denied == "" && s.queueNeedsMemory(ctx.S) && s.outOfMemory(cn) {
			denied = errOOM
		}
		if denied == "" {
			denied = s.queueMisconf(ctx.S)
		}
		if denied == "" {
			return false
		}
		cmd.Rejected()
		ctx.ExecAbort(denied)
		return true
	}
	if denied == "" && cmd.Has(commands.FlagDenyOOM) && s.outOfMemory(cn) {
		denied = errOOM
	}
	if denied == "" {
		denied = s.misconf(cmd)
	}
	if denied != "" {
		s.reject(ctx, cmd)
		ctx.S.FailQueue()
		ctx.W.Error(denied)
		return true
	}
	s.table.Queue(ctx, cmd)
	return true
}

// queueNeedsMemory reports whether a queued command may use memory (is
// flagged denyoom).
func (s *Server) queueNeedsMemory(sess *commands.Session) bool {
	for _, args := range sess.Queued() {
		if cmd, _ := s.table.Resolve(args); cmd != nil && cmd.Has(commands.FlagDenyOOM) {
			return true
		}
	}
	return false
}

// ForwardBlock sends a transaction to the leader when this node does not
// lead (commands.BlockForwarder): the leader runs it as a block and its
// reply comes back whole.
func (cn *conn) ForwardBlock(ctx *commands.Ctx, payload []byte) ([]byte, error, bool) {
	return cn.forwardInternal(ctx, op.FlagBlock, true, [][]byte{[]byte("EXEC"), payload})
}

// MayBeRetry reports whether the command running carries a request id,
// a follower's or a client's, under which it is sent again when its
// outcome was lost (commands.RetryNode).
func (cn *conn) MayBeRetry() bool { return cn.sess.RequestID() != (op.ReqID{}) }

// ForwardWatch has the leader read the versions WATCH records
// (commands.BlockForwarder).
func (cn *conn) ForwardWatch(ctx *commands.Ctx, keys [][]byte) ([]byte, error, bool) {
	return cn.forwardInternal(ctx, op.FlagVersions, false, append([][]byte{[]byte("WATCH")}, keys...))
}

// forwardInternal sends the leader one request of the internal kind flag
// marks, when this node does not lead, and returns its reply.
func (cn *conn) forwardInternal(ctx *commands.Ctx, flag uint32, write bool, args [][]byte) ([]byte, error, bool) {
	if cn.n == nil || cn.forwarded != nil || cn.n.IsLeader() {
		return nil, nil, false
	}
	cn.drain()
	req := op.Op{Type: op.Forward, DB: ctx.S.DB, Int: int64(ctx.S.Proto()), Flags: flag, Args: args, Req: ctx.S.RequestID()}
	var b raftfsm.ForwardBatch
	cn.n.AddForward(&b, &req, write)
	reply, err := cn.n.ForwardAll(&b)
	if err != nil && !write && errors.Is(err, raftfsm.ErrUnknownOutcome) {
		err = raftfsm.ErrNoLeader // a read changed nothing
	}
	return reply, translate(err), true
}
