package server

import (
	"bytes"
	"slices"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
)

// Request ids on a conn. The running command's id is its session's
// (commands/reqid.go): a client's, given by RAFT.REQID, or the one a
// follower forwarded the command with (runForwarded). The op the command
// proposes carries it, here or, on a follower, in the forward to the
// leader; the FSM applies an id at most once.

// stamp gives o the running command's request id. A command proposes
// one op; should one ever propose more, only the first may carry the id,
// or the rest would be taken for retries.
//
// A block's Exec op keeps the id for a second proposal: one that met a
// conflict applied nothing and is proposed again under the same id.
func (cn *conn) stamp(o *op.Op) {
	id := cn.sess.RequestID()
	if id.Origin == "" {
		return
	}
	o.Req = id
	cn.stamped = true
	if o.Type != op.Exec {
		cn.sess.SetRequestID(op.ReqID{})
	}
}

// maxMarkReply bounds the reply a marker carries: the FSM remembers no
// larger one for a retry anyway, so a larger one stays here and the
// marker carries its length.
const maxMarkReply = 64 << 10

// runMarked runs a write that carries a client's request id. When it
// proposed nothing, its reply was decided from the leader's state (a
// condition that failed, an error found reading); but a first attempt
// under the same id may still be in the log, uncommitted, and then that
// reply is wrong. So the id goes to the log anyway, in an op.ReqMark
// carrying the reply: the FSM answers it with the reply it carries, or,
// for an id applied before, with the first attempt's.
func (s *Server) runMarked(cn *conn, ctx *commands.Ctx, cmd *commands.Command) {
	start, shifted := cn.w.Len(), cn.shifted
	cn.stamped = false
	s.runCommand(cn, ctx, cmd)
	if cn.stamped || cn.n == nil {
		return
	}
	// The command's reply ends w; drainWrites may have put earlier
	// writes' replies before it meanwhile.
	n := cn.w.Len() - start - (cn.shifted - shifted)
	at := cn.w.Len() - n
	reply := cn.w.Bytes()[at:]
	if n <= 0 || retryReply(reply) {
		return
	}
	o := &op.Op{Type: op.ReqMark, Now: ctx.Now(), Args: [][]byte{nil}}
	if n > maxMarkReply {
		kept := slices.Clone(reply)
		cn.w.Truncate(at)
		o.Int = int64(n)
		res, err := cn.proposeHere(o)
		if _, first := res.(commands.OmittedReply); first && err == nil {
			cn.w.Raw(kept)
			return
		}
		commands.WriteOutcome(cn.w, res, err)
		return
	}
	o.Args[0] = slices.Clone(reply)
	cn.w.Truncate(at)
	if ctx.Defer != nil && ctx.Defer(o) {
		return
	}
	res, err := cn.proposeHere(o)
	commands.WriteOutcome(cn.w, res, err)
}

// retryReply reports whether a reply asks the client to send the command
// again (no leader, loading): it says nothing was applied by this
// attempt, and is not the id's outcome.
func retryReply(reply []byte) bool {
	return bytes.HasPrefix(reply, []byte("-CLUSTERDOWN ")) || bytes.HasPrefix(reply, []byte("-LOADING "))
}
