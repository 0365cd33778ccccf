package server

import (
	"errors"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/resp"
)

// Any node serves any client: a follower forwards each command that reads
// or writes the keyspace to the leader (raftfsm's forwarding channel),
// and writes the leader's reply bytes to its client unchanged. Commands
// about the connection or the node itself (PING, SELECT, HELLO, CLIENT,
// INFO, CONFIG, COMMAND, ...) run where they were sent, and so do reads on
// a READONLY connection: they see this node's state, possibly stale.
//
// A client's pipeline goes to the leader as one batch: the commands bound
// for the leader queue on the connection while more requests are
// buffered, and go together when the pipeline ends, when a command must
// run here (after them), or at maxForwardQueue. The leader runs them in
// order on one conn, proposing their writes without waiting, as it runs
// a pipeline of its own clients.

// Limits of one forwarded batch; a command beyond them sends the batch.
const (
	maxForwardQueue = 512
	maxForwardBytes = 1 << 20
)

// forward queues the command of ctx for the leader when this node does
// not lead and the command touches the keyspace; it reports whether it
// did. With more requests buffered the command waits for the next ones;
// otherwise the queue goes now and the replies are written.
func (s *Server) forward(cn *conn, ctx *commands.Ctx, cmd *commands.Command, more bool) bool {
	if cn.n == nil || cn.n.IsLeader() || !forwardable(cmd) || ctx.S.ReadOnly && cmd.Has(commands.FlagReadonly) {
		return false
	}
	cn.drainWrites() // proposed here while this node led: they come first
	if ctx.S.Redirect && s.redirect(cn, ctx) {
		return true
	}
	req := op.Op{Type: op.Forward, DB: ctx.S.DB, Int: int64(ctx.S.Proto()), Args: ctx.Args}
	if cmd.RunsAsCaller() {
		// A script's commands (SORT's patterns) are checked where they
		// run, against the caller's user.
		req.Flags |= op.FlagUser
		req.Args = append([][]byte{[]byte(ctx.S.User())}, ctx.Args...)
	}
	// A script writes unless it is a read-only one: a lost leader leaves
	// its outcome unknown, not "not applied".
	write := !cmd.Has(commands.FlagReadonly)
	cn.n.AddForward(&cn.fwd, &req, write)
	cn.fwdWrites = append(cn.fwdWrites, write)
	if !more || cn.fwd.Len() >= maxForwardQueue || cn.fwd.Size() >= maxForwardBytes {
		cn.flushForwards()
	}
	return true
}

// flushForwards sends the queued commands to the leader and writes their
// replies, or an error for each when the batch failed.
func (cn *conn) flushForwards() {
	if cn.fwd.Len() == 0 {
		return
	}
	reply, err := cn.n.ForwardAll(&cn.fwd)
	if err == nil {
		cn.w.Raw(reply)
	} else {
		for _, write := range cn.fwdWrites {
			e := err
			if !write && errors.Is(e, raftfsm.ErrUnknownOutcome) {
				e = raftfsm.ErrNoLeader // a read changed nothing: not applied
			}
			commands.WriteOutcome(cn.w, nil, translate(e))
		}
	}
	cn.fwd.Reset()
	clear(cn.fwdWrites)
	cn.fwdWrites = cn.fwdWrites[:0]
}

// forwardable reports whether a command (Resolve found it, with its
// arity right) runs on the leader: it reads or writes the keyspace.
func forwardable(cmd *commands.Command) bool { return cmd.RunsOnLeader() }

// runForwarded runs commands a follower forwarded (raftfsm's
// ForwardHandler), in order: through the same dispatch as a client's, on
// one conn with the client's database and protocol, writes proposed
// without waiting as for a pipelining client, each carrying its request
// id. When leadership is lost, nothing is replied: the follower asks the
// next leader, with the same ids. They run on partition g's group, which
// the follower chose (pinned: they are not routed again).
func (s *Server) runForwarded(g int, reqs []op.Op) ([]byte, raftfsm.ForwardResult) {
	node := s.groups[g]
	if !node.IsLeader() {
		return nil, raftfsm.ForwardNotLeader
	}
	proto := func(req *op.Op) int {
		if req.Int == 3 {
			return 3
		}
		return 2
	}
	run := &forwardedRun{}
	w := &resp.Writer{Proto: proto(&reqs[0])}
	sess := commands.NewSession(0, "forwarded:"+reqs[0].Req.Origin, "", time.Now())
	cn := &conn{nodeAdapter: nodeAdapter{node}, srv: s, w: w, sess: sess, forwarded: run, pinned: true}
	ctx := &commands.Ctx{W: w, S: sess, Node: cn, Server: s, Table: s.table, Defer: cn.deferWrite}
	for i := range reqs {
		req := &reqs[i]
		if len(cn.pending) > 0 && !s.isWrite(req.Args[0]) {
			cn.drainWrites()
		}
		if req.Flags&op.FlagProposal != 0 {
			run.req = req.Req
			res, err := cn.proposeForwarded(req)
			commands.WriteOutcome(w, res, err)
			continue
		}
		if req.DB < 0 || req.DB >= s.cfg.Databases {
			w.Error("ERR DB index is out of range")
			continue
		}
		sess.SelectDB(req.DB)
		sess.SetProto(proto(req))
		w.Proto = sess.Proto()
		run.req = req.Req
		ctx.Args = req.Args
		sess.SetUser(nil)
		if req.Flags&op.FlagUser != 0 {
			ref := s.table.ACL().Users.Lookup(string(req.Args[0]))
			if ref == nil || len(req.Args) < 2 {
				w.Error("NOPERM the user of this connection no longer exists")
				continue
			}
			sess.SetUser(ref)
			ctx.Args = req.Args[1:]
		}
		if req.Flags&op.FlagVersions != 0 {
			s.table.WriteVersions(ctx, req.Args[1:])
			continue
		}
		if req.Flags&op.FlagBlock != 0 {
			s.table.RunForwardedTransaction(ctx, req.Args[len(req.Args)-1])
			continue
		}
		if cmd, msg := s.table.Resolve(ctx.Args); cmd == nil {
			w.Error(msg)
		} else {
			s.runHere(cn, ctx, cmd)
		}
	}
	cn.drainWrites()
	return w.Bytes(), run.result()
}

// errBadProposal answers a forwarded proposal that does not decode.
var errBadProposal = errors.New("ERR corrupt forwarded proposal")

// proposeForwarded proposes the op a follower's handler made (a Forward
// op with FlagProposal), with the forward's request id.
func (cn *conn) proposeForwarded(req *op.Op) (any, error) {
	var o op.Op
	if len(req.Args) != 1 || op.Decode(req.Args[0], &o) != nil || o.Type == op.Forward {
		return nil, errBadProposal
	}
	cn.drainWrites()
	return cn.Propose(&o)
}

// forwardedRun is what a conn running forwarded commands on the leader
// keeps: the request id the next proposal carries, and whether
// leadership was lost. Its methods do nothing on a nil receiver, a
// client's own conn.
type forwardedRun struct {
	req op.ReqID
	res raftfsm.ForwardResult // ForwardReplied unless leadership was lost
	// wroteSome: a write of the batch was applied, or may have been.
	// Then "not the leader" for a later command cannot tell the follower
	// that nothing was applied: the batch is reported lost instead, and
	// sent again with the same ids, which apply each write at most once.
	wroteSome bool
}

// stamp gives o the running command's request id. A command proposes
// one op; should one ever propose more, only the first may carry the id,
// or the rest would be taken for retries.
//
// A block's Exec op keeps the id for a second proposal: one that met a
// conflict applied nothing and is proposed again under the same id.
func (f *forwardedRun) stamp(o *op.Op) {
	if f != nil {
		o.Req = f.req
		if o.Type != op.Exec {
			f.req = op.ReqID{}
		}
	}
}

// result is the batch's outcome for the follower.
func (f *forwardedRun) result() raftfsm.ForwardResult {
	if f.res == raftfsm.ForwardNotLeader && f.wroteSome {
		return raftfsm.ForwardLost
	}
	return f.res
}

// wrote notes the outcome of a write: as note, and whether it was (or
// may have been) applied.
func (f *forwardedRun) wrote(err error) {
	if f != nil && !errors.Is(err, raftfsm.ErrNoLeader) {
		f.wroteSome = true
	}
	f.note(err)
}

// note records a refusal for the follower: not leading (nothing applied)
// or leadership lost with a write in flight.
func (f *forwardedRun) note(err error) {
	switch {
	case f == nil:
	case errors.Is(err, raftfsm.ErrNoLeader):
		f.res = max(f.res, raftfsm.ForwardNotLeader)
	case errors.Is(err, raftfsm.ErrUnknownOutcome):
		f.res = raftfsm.ForwardLost
	}
}
