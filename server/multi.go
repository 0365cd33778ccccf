package server

import (
	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
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
			return false
		}
		ctx.ExecAbort(denied)
		return true
	}
	if denied == "" && cmd.Has(commands.FlagDenyOOM) && s.outOfMemory(cn) {
		denied = errOOM
	}
	if denied != "" {
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
	if cn.n == nil || cn.forwarded != nil || cn.n.IsLeader() {
		return nil, nil, false
	}
	cn.drain()
	req := op.Op{Type: op.Forward, DB: ctx.S.DB, Int: int64(ctx.S.Proto()), Flags: op.FlagBlock,
		Args: [][]byte{[]byte("EXEC"), payload}}
	cn.n.AddForward(&cn.fwd, &req, true)
	reply, err := cn.n.ForwardAll(&cn.fwd)
	cn.fwd.Reset()
	return reply, translate(err), true
}
