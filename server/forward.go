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

// forward runs the command of ctx on the leader when this node does not
// lead and the command touches the keyspace; it reports whether it did
// (and wrote the reply).
func (s *Server) forward(cn *conn, ctx *commands.Ctx) bool {
	if s.node.IsLeader() {
		return false
	}
	cmd, ok := forwardable(s.table, ctx.Args)
	if !ok || ctx.S.ReadOnly && !cmd.Has(commands.FlagWrite) {
		return false
	}
	cn.drain()
	req := op.Op{Type: op.Forward, DB: ctx.S.DB, Int: int64(ctx.S.Proto()), Args: ctx.Args}
	reply, err := s.node.Forward(&req, cmd.Has(commands.FlagWrite))
	if err != nil {
		commands.WriteOutcome(ctx.W, nil, translate(err))
		return true
	}
	ctx.W.Raw(reply)
	return true
}

// forwardable resolves args to the command (or subcommand) that would run
// and reports whether it runs on the leader: it reads or writes the
// keyspace, by the table's flags. A command that would fail before
// running (unknown, unknown subcommand, wrong arity) fails here with the
// same bytes, so it is not sent.
func forwardable(t *commands.Table, args [][]byte) (*commands.Command, bool) {
	cmd := t.Lookup(args[0])
	if cmd == nil {
		return nil, false
	}
	if cmd.HasSubs() && len(args) >= 2 {
		if cmd = cmd.Sub(args[1]); cmd == nil {
			return nil, false
		}
	}
	if !cmd.Has(commands.FlagWrite) && !cmd.Has(commands.FlagReadonly) {
		return nil, false
	}
	return cmd, cmd.CheckArity(len(args))
}

// runForwarded runs a command a follower forwarded (raftfsm's
// ForwardHandler): through the same dispatch as a client's, on a session
// with the client's database and protocol, its write carrying the
// request id. When leadership is lost, nothing is replied: the follower
// asks the next leader, with the same id.
func (s *Server) runForwarded(req *op.Op) ([]byte, raftfsm.ForwardResult) {
	if !s.node.IsLeader() {
		return nil, raftfsm.ForwardNotLeader
	}
	proto := int(req.Int)
	if proto != 3 {
		proto = 2
	}
	w := &resp.Writer{Proto: proto}
	if req.DB < 0 || req.DB >= s.cfg.Databases {
		w.Error("ERR DB index is out of range")
		return w.Bytes(), raftfsm.ForwardReplied
	}
	sess := commands.NewSession(0, "forwarded:"+req.Req.Origin, "", time.Now())
	sess.SelectDB(req.DB)
	sess.SetProto(proto)
	fn := &forwardedNode{nodeAdapter: nodeAdapter{s.node}, req: req.Req}
	s.table.Dispatch(&commands.Ctx{Args: req.Args, W: w, S: sess, Node: fn, Server: s, Table: s.table})
	return w.Bytes(), fn.res
}

// forwardedNode is the node as a forwarded command sees it: its write
// carries the request id, and a loss of leadership is noted so the
// follower can retry elsewhere.
type forwardedNode struct {
	nodeAdapter
	req op.ReqID
	res raftfsm.ForwardResult // ForwardReplied unless leadership was lost
}

func (f *forwardedNode) Propose(o *op.Op) (any, error) {
	// A command proposes one op; should one ever propose more, only the
	// first may carry the id, or the rest would be taken for retries.
	o.Req, f.req = f.req, op.ReqID{}
	res, err := f.n.Propose(o)
	f.noteRefusal(err)
	return res, translate(err)
}

func (f *forwardedNode) ReadBarrier() error {
	err := f.n.ReadBarrier()
	f.noteRefusal(err)
	return translate(err)
}

func (f *forwardedNode) noteRefusal(err error) {
	switch {
	case errors.Is(err, raftfsm.ErrNoLeader):
		f.res = max(f.res, raftfsm.ForwardNotLeader)
	case errors.Is(err, raftfsm.ErrUnknownOutcome):
		f.res = raftfsm.ForwardLost
	}
}
