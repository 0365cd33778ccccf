package server

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/resp"
)

// Any node serves any client: a follower forwards each command that
// writes the keyspace to the leader (raftfsm's forwarding channel), and
// writes the leader's reply bytes to its client unchanged. Commands that
// only read it run on the follower at a read index (followerread.go), as
// do commands about the connection or the node itself (PING, SELECT,
// HELLO, CLIENT, INFO, CONFIG, COMMAND, ...), and reads on a READONLY
// connection, which see this node's state as it is, possibly stale.
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
	// A read is served here, at a read index (followerread.go), unless
	// commands of its pipeline are queued for the leader (it goes with
	// them, in their batch) or this follower is behind.
	if readsHere(cmd) && len(cn.fwdOrder) == 0 && !ctx.S.Redirect && !(cn.keyless && len(s.groups) > 1) && cn.readHere() {
		return false
	}
	cn.drainWrites() // proposed here while this node led: they come first
	if ctx.S.Redirect && s.redirect(cn, ctx) {
		return true
	}
	s.table.FeedServed(ctx, cmd)   // served here, for MONITOR
	s.table.TrackScriptKeys(ctx.S) // a script's reads are not known here
	req := op.Op{Type: op.Forward, DB: ctx.S.DB, Int: int64(ctx.S.Proto()), Args: ctx.Args, Req: ctx.S.RequestID()}
	if cmd.RunsAsCaller() {
		// A script's commands (SORT's patterns) are checked where they
		// run, against the caller's user.
		req.Flags |= op.FlagUser
		req.Args = append([][]byte{[]byte(ctx.S.User())}, ctx.Args...)
	}
	// A script writes unless it is a read-only one: a lost leader leaves
	// its outcome unknown, not "not applied".
	write := !cmd.Has(commands.FlagReadonly)
	alone := cn.keyless && len(s.groups) > 1
	if alone {
		cn.flushForwards()
	}
	q := cn.queueFor(cn.n)
	cn.n.AddForward(&q.batch, &req, write)
	q.writes = append(q.writes, write)
	q.cmds = append(q.cmds, cmd)
	n, size := cn.queued()
	// A batch that borrows the command's arguments (a large value, not
	// copied) goes before the next request overwrites them.
	if !more || alone || n >= maxForwardQueue || size >= maxForwardBytes || q.batch.Borrows() {
		start := time.Now()
		cn.flushForwards()
		if n == 1 {
			// It went alone: its time is its own (commands/latency.go).
			s.table.SlowLoggedForwarded(ctx, cmd, time.Since(start))
		}
	}
	return true
}

// fwdQueue is the commands a conn queued for one group's leader.
type fwdQueue struct {
	n      *raftfsm.Node
	batch  raftfsm.ForwardBatch
	writes []bool // per queued command: whether it writes
	cmds   []*commands.Command
	// What its leader answered: each command's reply, or the error
	// that befell all of them.
	replies [][]byte
	err     error
}

// queueFor returns the forwarding queue of n's group, and notes that the
// next command queued is its.
func (cn *conn) queueFor(n *raftfsm.Node) *fwdQueue {
	i := slices.IndexFunc(cn.fwd, func(q *fwdQueue) bool { return q.n == n })
	if i < 0 {
		i = len(cn.fwd)
		cn.fwd = append(cn.fwd, &fwdQueue{n: n})
	}
	cn.fwdOrder = append(cn.fwdOrder, i)
	return cn.fwd[i]
}

// queued returns the number and encoded size of the commands queued.
func (cn *conn) queued() (n, size int) {
	for _, q := range cn.fwd {
		n += q.batch.Len()
		size += q.batch.Size()
	}
	return n, size
}

// flushForwards sends the queued commands to their leaders and writes
// their replies in the order the commands came, or an error for each
// command of a batch that failed. A pipeline whose commands are in
// several partitions goes to their leaders at once, a batch each.
func (cn *conn) flushForwards() {
	if len(cn.fwdOrder) == 0 {
		return
	}
	start := time.Now()
	if len(cn.fwd) == 1 {
		q := cn.fwd[0]
		reply, err := q.n.ForwardAll(&q.batch)
		if err == nil {
			cn.w.RawRef(reply) // the leader's reply is ours: a 200 MB GET's is not copied again
			cn.srv.countForwarded(q.cmds, reply, time.Since(start))
		} else {
			for i, write := range q.writes {
				writeForwardError(cn.w, err, write)
				q.cmds[i].CountCall(0, true)
			}
		}
	} else {
		var wg sync.WaitGroup
		for _, q := range cn.fwd {
			wg.Add(1)
			go func() {
				defer wg.Done()
				q.send()
			}()
		}
		wg.Wait()
		next := make([]int, len(cn.fwd))
		for _, i := range cn.fwdOrder {
			q, k := cn.fwd[i], next[i]
			next[i]++
			if q.err != nil {
				writeForwardError(cn.w, q.err, q.writes[k])
				q.cmds[k].CountCall(0, true)
			} else {
				cn.w.RawRef(q.replies[k])
				cn.srv.countForwarded(q.cmds[k:k+1], q.replies[k], time.Since(start)/time.Duration(q.batch.Len()))
			}
		}
	}
	if cn.forwardedLibraries() {
		// FUNCTION LIST runs here: the client's next one must see the
		// change it was just told of (not catching up in time leaves it
		// done, and shown late).
		cn.CatchUpScripts()
	}
	clear(cn.fwd)
	cn.fwd = cn.fwd[:0]
	cn.fwdOrder = cn.fwdOrder[:0]
}

// forwardedLibraries reports whether a queued command changes the
// function libraries (FUNCTION LOAD, DELETE, FLUSH, RESTORE: the FUNCTION
// subcommands that run on the leader).
func (cn *conn) forwardedLibraries() bool {
	for _, q := range cn.fwd {
		for _, c := range q.cmds {
			if strings.HasPrefix(c.Name, "function|") {
				return true
			}
		}
	}
	return false
}

// send forwards the queue's batch and splits the reply into each
// command's.
func (q *fwdQueue) send() {
	reply, err := q.n.ForwardAll(&q.batch)
	if err != nil {
		q.err = err
		return
	}
	for range q.batch.Len() {
		k, ok := replyLen(reply)
		if !ok {
			q.err = errBadForwardReply
			return
		}
		q.replies = append(q.replies, reply[:k])
		reply = reply[k:]
	}
}

// countForwarded counts in this node's commandstats and errorstats the
// commands it forwarded, whose replies came back together in d: a
// command is counted on the node its client is on, as Redis counts it
// (the leader that ran it counts nothing). The commands a forwarded
// transaction or script ran are not counted here, only EXEC or the
// script's command.
func (s *Server) countForwarded(cmds []*commands.Command, reply []byte, d time.Duration) {
	each := d / time.Duration(max(len(cmds), 1))
	for _, cmd := range cmds {
		k, ok := replyLen(reply)
		if !ok {
			return
		}
		s.countReply(cmd, reply[:k], each)
		reply = reply[k:]
	}
}

// countReply counts a call of cmd that took d and replied reply, which
// was not written through this node's writers (a leader's, or
// partitions' combined).
func (s *Server) countReply(cmd *commands.Command, reply []byte, d time.Duration) {
	failed := len(reply) > 0 && reply[0] == '-'
	if failed {
		line, _, _ := bytes.Cut(reply[1:], []byte("\r\n"))
		s.table.CountError(string(line))
	}
	cmd.CountCall(d, failed)
	s.table.Observed(cmd, d)
}

// errBadForwardReply is a leader's reply that does not split into one
// reply per command forwarded: its outcome is not known.
var errBadForwardReply = fmt.Errorf("%w: the leader's reply does not parse", raftfsm.ErrUnknownOutcome)

// writeForwardError writes the reply for a forwarded command that got
// no answer: a read changed nothing, so it was not applied.
func writeForwardError(w *resp.Writer, err error, write bool) {
	if !write && errors.Is(err, raftfsm.ErrUnknownOutcome) {
		err = raftfsm.ErrNoLeader
	}
	commands.WriteOutcome(w, nil, translate(err))
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
	sess := commands.NewSession(0, "forwarded:"+strings.TrimPrefix(reqs[0].Req.Origin, op.ClientOrigin), "", time.Now())
	sess.Unmonitored = true // shown where the client is
	cn := &conn{nodeAdapter: nodeAdapter{node}, srv: s, w: w, sess: sess, forwarded: run, pinned: true}
	// Counted in the follower's commandstats, where the client is.
	ctx := &commands.Ctx{W: w, S: sess, Node: cn, Server: s, Table: s.table, Defer: cn.deferWrite, Uncounted: true}
	cn.ctx = ctx
	for i := range reqs {
		req := &reqs[i]
		if len(cn.pending) > 0 && !s.isWrite(req.Args[0]) {
			cn.drainWrites()
		}
		sess.SetRequestID(req.Req)
		if req.Flags&op.FlagProposal != 0 {
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
// keeps: whether leadership was lost. Its methods do nothing on a nil
// receiver, a client's own conn.
type forwardedRun struct {
	res raftfsm.ForwardResult // ForwardReplied unless leadership was lost
	// wroteSome: a write of the batch was applied, or may have been.
	// Then "not the leader" for a later command cannot tell the follower
	// that nothing was applied: the batch is reported lost instead, and
	// sent again with the same ids, which apply each write at most once.
	wroteSome bool
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
