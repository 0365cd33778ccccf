package server

import (
	"crypto/tls"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/internal/memcopy"
	"github.com/loomcache/loomcache/internal/sockio"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/partition"
	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/resp"
)

// settleLimit bounds how long a write's reply waits for the blocked
// clients it woke on this node to be served (a pop that finds no leader
// retries, and the writer should not wait for it).
const settleLimit = time.Second

// flushAt is how much reply data is buffered before writing even while
// more pipelined requests are waiting.
const flushAt = 64 * 1024

// maxPending and maxPendingBytes bound the writes one connection has
// proposed and not yet answered, in number and in encoded size (one Raft
// entry's worth): a pipeline of big values holds no more than that in
// flight before its replies are written.
const (
	maxPending      = 1024
	maxPendingBytes = 4 << 20
)

// A connection's memory stays bounded whatever its client does, with no
// queue anywhere that grows without bound: the goroutine reads a request,
// runs it and, before it reads from the socket again, writes the replies
// out with a blocking write. A client that stops reading its replies
// therefore stops being read once the socket's buffers are full (TCP
// backpressure): the node holds its read buffer (bounded by
// client-query-buffer-limit), one batch of replies (flushAt, plus the
// last reply) and at most maxPending/maxPendingBytes of proposed writes.
// client-output-buffer-limit closes a connection whose unwritten replies
// reach the hard limit, or stay at or above the soft limit too long.

func (s *Server) serveConn(c *client) {
	defer s.wg.Done()
	defer s.dropClient(c)
	defer s.endSub(c) // after the close: the writer's write fails
	defer c.nc.Close()
	if tc, ok := c.nc.(*tls.Conn); ok && (!s.handshake(tc) || s.refuseProtected(tc)) {
		return
	}

	c.sock = sockio.Wrap(c.nc)
	src := &watchReader{nc: c.nc, in: c.sock, net: c.net}
	r := resp.NewReader(src)
	// The writer's buffer grows with the replies instead of starting at
	// NewWriter's 4KB: an idle connection (most of them, on a node with
	// many clients) then costs only what its replies needed.
	cn := &conn{srv: s, w: &resp.Writer{Proto: 2, OnError: s.table.CountError}, sess: c.sess, duringLoad: c.duringLoad}
	cn.fread.src = src
	w := cn.w
	ctx := &commands.Ctx{W: w, S: c.sess, Node: cn, Server: s, Table: s.table}
	cn.ctx = ctx
	ctx.Block = &blockHost{s: s, c: c, cn: cn, src: src}
	deferWrite := cn.deferWrite
	armed := false
	for {
		// CONFIG SET applies from each connection's next request.
		lim := s.limits()
		// Redis closes a client idle for `timeout` seconds; the deadline
		// is only armed when the setting is on, as it costs a timer.
		// Nor does it close a subscribed one, or a monitor.
		if t := lim.timeout; t > 0 && !c.sess.Subscribed() && !c.sess.Monitoring() {
			c.nc.SetReadDeadline(time.Now().Add(t))
			armed = true
		} else if armed {
			c.nc.SetReadDeadline(time.Time{})
			armed = false
		}
		r.MaxBulk, r.MaxQueryBuffer = lim.maxBulk, lim.queryBuf
		r.Unauthenticated = s.authRequired(c.sess)
		args, err := r.ReadCommand()
		if err != nil {
			var pe *resp.ProtocolError
			switch {
			case errors.As(err, &pe):
				cn.drain()
				w.Error("ERR " + pe.Error())
				c.writeOut(w.Bytes())
			case errors.Is(err, resp.ErrQueryBufferLimit):
				// As Redis: no reply, a warning in the log.
				s.log.Printf("Closing client that reached max query buffer length: %s", c.desc())
			}
			return
		}
		out := &lim.out[classOf(c)]
		s.stats.commands.Add(1)
		// Dispatch reads nothing more, so this holds until it returns.
		more := r.Buffered() > 0
		ctx.Defer = nil
		if more {
			ctx.Defer = deferWrite
		}
		ctx.Args = args
		monitor := c.sess.Monitoring()
		if monitor {
			// Its own commands' lines go between its replies, as in Redis.
			w.Raw(c.sub.Hold())
		}
		// CLIENT REPLY OFF or SKIP: the command runs alone, after the
		// replies before it went out, and what it wrote is dropped
		// (unless it turned the replies back on: CLIENT REPLY ON, RESET,
		// or wrote Pub/Sub pushes only, which Redis sends regardless).
		silenced := c.sess.RepliesSilenced()
		if silenced {
			ctx.Defer, more = nil, false
			if s.writeReplies(c, cn, out) != nil {
				return
			}
			if monitor {
				// Writing released the queue: its lines wait again.
				c.sub.Pause()
			}
		}
		if c.sess.Track.On() || c.sess.Subscribed() && c.sess.Proto() == 3 {
			// Invalidations wait for this command's reply: one sent
			// before it could be followed by the value it invalidates.
			// A RESP3 subscriber's messages wait too: those its own
			// write delivered go before the reply (Ctx.propose), the
			// others after it.
			c.sub.Pause()
		}
		gone := s.serveCommand(cn, ctx, more)
		if silenced {
			cn.drain()
			if c.sess.RepliesSilenced() && !pushesOnly(args[0], w) {
				w.Reset()
			}
		}
		c.sess.EndCommandReplies()
		if monitor {
			// As Redis drops what it would write under CLIENT REPLY OFF
			// or SKIP, monitor lines included.
			c.sub.Mute(c.sess.RepliesSilenced())
		}
		// The arguments point into the reader's buffer; don't keep them
		// (or a huge argument array) alive while the connection idles.
		ctx.Args = nil
		if gone || c.sess.CloseAfter || c.sess.Killed() {
			cn.drain()
			// Out of the client list and the tracking table before the
			// last reply goes, as Redis frees a client before it reads
			// the next event: a command sent once QUIT's +OK arrived finds
			// the connection gone (a redirect to it broken).
			if c.sub != nil {
				s.table.Tracking().Unregister(c.sess.Track)
			}
			s.dropClient(c)
			c.writeOut(w.Bytes())
			return
		}
		if !more || w.Len() >= out.flushAt || len(cn.pending) >= maxPending || cn.pendingBytes >= maxPendingBytes {
			if s.writeReplies(c, cn, out) != nil {
				return
			}
		}
	}
}

// writeReplies writes out the replies buffered, once the writes and
// forwards they wait for are answered.
func (s *Server) writeReplies(c *client, cn *conn, out *outLimit) error {
	cn.drain()
	if cn.w.Len() == 0 && (c.sub == nil || !c.sub.Held()) {
		return nil // nothing to write, nor Pub/Sub messages to release
	}
	if cn.wrote {
		// As in Redis, the clients a write woke are served before its
		// reply goes out.
		s.table.Waiters().Settle(settleLimit)
		cn.wrote = false
	}
	if err := s.flush(c, cn.w, out); err != nil {
		return err
	}
	cn.w.Reset()
	return nil
}

// serveCommand serves ctx.Args: it resolves the command, checks the
// user's permissions (before anything is forwarded or proposed), then
// forwards it to the leader or runs it here. It reports whether the
// connection's user is gone, when Redis closes the connection.
func (s *Server) serveCommand(cn *conn, ctx *commands.Ctx, more bool) (gone bool) {
	if cn.n == nil {
		cn.n = s.openNode() // nil until the node is open (loading.go)
	}
	if cn.duringLoad {
		s.readmit(cn)
	}
	cmd, denied := s.table.Resolve(ctx.Args)
	ctx.S.BeginRequest(cmd)
	s.table.NoLoopRequest(ctx.S, cmd)
	if ctx.S.Track.On() {
		defer s.table.EndTracked(ctx.S, cmd)
	}
	if cmd != nil {
		denied = ctx.Permit(cmd)
		if denied == "" {
			if denied = commands.SubscribedReject(ctx.S, cmd); denied != "" && cmd.Name == "exec" {
				// Redis's rejectCommand aborts a transaction, MULTI or not.
				cn.drain()
				cmd.Rejected()
				ctx.ExecAbort(strings.TrimPrefix(denied, "ERR "))
				return false
			}
		}
		if denied == "" {
			denied = commands.MonitorReject(ctx.S, cmd)
		}
		if denied == "" {
			denied = s.protectedReject(cmd, ctx.S)
		}
		if denied == "" && s.refuseLoading(cmd, ctx.Args) {
			denied = loadingReply
		}
		if denied == "" && !cmd.Has(commands.FlagAllowBusy) {
			denied = s.table.BusyReply()
		}
	}
	if denied == commands.ErrUserGone {
		return true
	}
	if denied == "" && cmd != nil && s.waitPause(cn, ctx, cmd) {
		return true
	}
	if denied == "" {
		s.evictFirst(cn, ctx)
		s.table.TrackRead(ctx.S, cmd, ctx.Args) // before it is read here or forwarded
		cn.fread.note(cmd)
	}
	if denied == "" && cn.n != nil && len(s.groups) > 1 && !cn.pinned {
		if s.runEverywhere(cn, ctx, cmd) {
			return false
		}
		denied = s.route(cn, ctx, cmd)
	}
	if ctx.S.InMulti() && s.inMulti(cn, ctx, cmd, denied) {
		return false
	}
	// Only a write (or RAFT.REQID before one) may overtake the writes in
	// flight: anything else may look at what they change (or at the
	// protocol their replies are written in).
	if len(cn.pending) > 0 && (cmd == nil || !cmd.OvertakesWrites()) {
		cn.drain()
	}
	if denied == "" && s.forward(cn, ctx, cmd, more) {
		return false
	}
	cn.flushForwards() // what runs here comes after them
	if denied != "" {
		s.reject(ctx, cmd)
		ctx.W.Error(denied)
	} else {
		s.runHere(cn, ctx, cmd)
	}
	return false
}

// reject counts a command refused before it ran in its rejected_calls
// (cmd nil: Resolve refused it, for its arity when the command is known).
func (s *Server) reject(ctx *commands.Ctx, cmd *commands.Command) {
	if cmd == nil {
		s.table.RejectedArgs(ctx.Args)
		return
	}
	cmd.Rejected()
}

// authRequired is Redis's authRequired: the connection has not
// authenticated and the default user needs a password. Its requests get
// the reader's unauthenticated limits (10 arguments, 16 KB bulks).
func (s *Server) authRequired(sess *commands.Session) bool {
	return s.table.ACL().AuthRequired(sess)
}

// errOutputLimit ends a connection whose pending output broke its
// client-output-buffer-limit.
var errOutputLimit = errors.New("output buffer limit")

// flush writes the buffered replies, enforcing the connection's output
// limits on what the socket has not accepted yet. Past the hard limit
// nothing is written and the connection is closed, as Redis closes it
// before writing the replies that broke the limit. At or above the soft
// limit, the socket must take enough of them to get below it within the
// soft time.
func (s *Server) flush(c *client, w *resp.Writer, out *outLimit) error {
	if out.hard > 0 && w.Len() >= out.hard {
		s.outputLimitClosed(c)
		return errOutputLimit
	}
	c.wmu.Lock() // the Pub/Sub writer's messages go between batches
	defer c.wmu.Unlock()
	if out.soft == 0 || w.Len() < out.soft {
		n, err := w.WriteTo(c.sock) // large values from where they are
		c.net.wrote(int(n))
		if err != nil {
			return err
		}
		return c.writeHeld()
	}
	b := w.Bytes()
	head := len(b) - out.soft + 1 // once these are taken, less than soft is pending
	c.nc.SetWriteDeadline(time.Now().Add(out.softFor))
	n, err := c.nc.Write(b[:head])
	c.net.wrote(n)
	c.nc.SetWriteDeadline(time.Time{})
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			s.outputLimitClosed(c)
		}
		return err
	}
	n, err = c.nc.Write(b[head:])
	c.net.wrote(n)
	if err != nil {
		return err
	}
	return c.writeHeld()
}

// outputLimitClosed logs, as Redis does, a connection about to be closed
// for its output limits, and makes the close a reset: the replies still
// in the socket's send buffer (megabytes, for a client that stopped
// reading) are dropped at once instead of kept for a peer that will not
// take them.
func (s *Server) outputLimitClosed(c *client) {
	s.log.Printf("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.", c.desc())
	resetOnClose(c)
}

// resetOnClose makes c's close a reset.
func resetOnClose(c *client) {
	if tc, ok := c.nc.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0)
	}
}

func (s *Server) isWrite(name []byte) bool {
	cmd := s.table.Lookup(name)
	return cmd != nil && cmd.Has(commands.FlagWrite)
}

// conn is one connection's node and its writes in flight: pipelined
// writes are proposed without waiting, so those queued together share
// Raft's batch and fsync, and their replies are spliced into the output,
// in request order, once they are known. On a follower, pipelined
// commands bound for the leader wait in fwd and go to it together
// (forward.go).
//
// The leader runs a follower's forwarded commands on a conn too, whose
// forwarded is set: a loss of leadership is noted for the follower. On
// either, the running command's request id (a client's, RAFT.REQID, or
// the forward's) goes on the op it proposes (reqid.go).
type conn struct {
	nodeAdapter
	srv     *Server
	w       *resp.Writer
	sess    *commands.Session
	pending []pendingWrite
	// pendingBytes is the encoded size of the pending writes.
	pendingBytes int
	tail         []byte // scratch for drain

	// fwd holds the commands queued for leaders, their replies due at
	// the end of w in queue order: a queue per partition's group
	// (forward.go), fwdOrder the queue of each command in order.
	fwd      []*fwdQueue
	fwdOrder []int

	forwarded *forwardedRun // on the leader, running forwarded commands
	// pinned: the conn runs on one partition's group whatever the keys
	// (forwarded commands, one partition of a whole-keyspace command).
	pinned bool
	hasher partition.Hasher // routes the keys of commands (partition.go)
	// keyless: the command being routed has no key (partition.go); with
	// several partitions it is forwarded alone, as it may touch what
	// commands of every partition use (the scripts).
	keyless bool
	// txGroup is the partition + 1 of the transaction being built (its
	// WATCHed and queued keys), 0: none yet (partition.go).
	txGroup int

	// ctx is the command being served on the conn, whose writes Defer
	// takes (nil on the conns that never defer).
	ctx *commands.Ctx

	// duringLoad: the session came in while loading (loading.go).
	duringLoad bool
	// wrote: a write was proposed here since the replies were last
	// flushed; they wait for the blocked clients it woke (Settle).
	wrote bool
	// stamped: an op took the running command's request id (reqid.go).
	stamped bool
	// shifted counts the bytes drainWrites inserted into w before the
	// replies written after the writes it waited for.
	shifted int
	// fread is the read index a follower's reads of one pipeline share
	// (followerread.go).
	fread followerRead
}

type pendingWrite struct {
	at  int // writer offset the reply belongs at
	f   raftfsm.Future
	cmd *commands.Command // whose failed_calls an error reply counts in
}

func (cn *conn) deferWrite(o *op.Op) bool {
	if cn.n == nil || cn.forwarded == nil && !cn.n.IsLeader() || isACLOp(o.Type) {
		return false // Propose has the leader propose it, or waits
	}
	cn.stamp(o)
	cn.wrote = true
	cn.pendingBytes += o.Size()
	var cmd *commands.Command
	if cn.ctx != nil && !cn.ctx.Uncounted {
		cmd = cn.ctx.Cmd
	}
	cn.pending = append(cn.pending, pendingWrite{at: cn.w.Len(), f: cn.n.ProposeAsync(o), cmd: cmd})
	return true
}

// drain waits for the writes in flight and the commands forwarded, and
// writes their replies where they belong; replies written meanwhile
// (errors, queued writes' neighbours) stay after them.
func (cn *conn) drain() {
	cn.flushForwards()
	cn.drainWrites()
}

func (cn *conn) drainWrites() {
	if len(cn.pending) == 0 {
		return
	}
	w := cn.w
	before := w.Len()
	first := cn.pending[0].at
	cn.tail = memcopy.Append(cn.tail[:0], w.Bytes()[first:])
	w.Truncate(first)
	prev := first
	for i, p := range cn.pending {
		w.Raw(cn.tail[prev-first : p.at-first])
		res, err := p.f.Result()
		cn.forwarded.wrote(err)
		errs := w.Errors
		commands.WriteOutcome(w, res, translate(err))
		if w.Errors != errs {
			p.cmd.Failed() // its call was counted when the handler returned
		}
		prev = p.at
		cn.pending[i] = pendingWrite{}
	}
	w.Raw(cn.tail[prev-first:])
	cn.shifted += w.Len() - before
	cn.pending = cn.pending[:0]
	cn.pendingBytes = 0
	if cap(cn.tail) > flushAt {
		cn.tail = nil
	}
}

// Propose proposes o, or on a follower has the leader propose it (a
// handler's own proposal, as ACL SETUSER makes; the commands that read or
// write the keyspace were forwarded whole). The leader's reply comes back
// as it is.
func (cn *conn) Propose(o *op.Op) (any, error) {
	if cn.n == nil {
		return nil, commands.ErrLoading
	}
	if cn.forwarded == nil {
		cn.srv.awaitACLSync(o) // a client's; a forwarded one waited where it came from
	}
	if cn.forwarded == nil && !cn.n.IsLeader() {
		if o.Type == op.Exec {
			// A block (MULTI/EXEC, a script) was run on this node's state
			// while it led: its checks would meet the new leader's writes
			// as a conflict, which is for the leader that ran it to retry.
			// Nothing was proposed; the client may send it again.
			return nil, commands.ErrNoLeader
		}
		cn.drain()
		cn.stamp(o) // a client's id goes with it
		res, err := cn.srv.proposeViaLeader(cn.n, o, cn.sess.Proto())
		if err == nil && registryOp(o.Type) {
			// The client's next command may read that state here (AUTH as
			// the user it made, FUNCTION LIST): wait until this node holds
			// it. Not catching up in time leaves the write done.
			cn.CatchUpScripts()
		}
		return res, err
	}
	return cn.proposeHere(o)
}

// proposeHere proposes o on cn's group, with the running command's
// request id, and notes the outcome for a follower's batch.
func (cn *conn) proposeHere(o *op.Op) (any, error) {
	cn.stamp(o)
	cn.wrote = true
	res, err := cn.n.Propose(o)
	cn.forwarded.wrote(err)
	return res, translate(err)
}

// ExpireLazily proposes the deletion of keys reads found expired, on the
// leader while writes are not paused (commands.LazyExpirer). They go
// without the client's request id: the deletion is the node's, not the
// command's. A follower drops them: its leader's reads find them too.
func (cn *conn) ExpireLazily(keys []keyspace.ExpiredKey) {
	if cn.n == nil || !cn.n.IsLeader() || cn.srv.writesPaused() {
		return
	}
	now := time.Now().UnixMilli()
	for len(keys) > 0 {
		db := keys[0].DB
		o := &op.Op{Type: op.ExpireKeys, DB: db, Now: now}
		rest := keys[:0]
		for _, k := range keys {
			if k.DB == db {
				o.Args = append(o.Args, k.Key)
			} else {
				rest = append(rest, k)
			}
		}
		keys = rest
		if _, err := cn.n.Propose(o); err != nil {
			return // leadership lost: active expiry's, wherever it leads
		}
	}
}

func (cn *conn) Store() *keyspace.Store {
	if cn.n == nil {
		return cn.srv.load.empty
	}
	cn.drain()
	return cn.nodeAdapter.Store()
}

// nodeAdapter gives commands the node with errors in commands' terms.
type nodeAdapter struct{ n *raftfsm.Node }

func (a nodeAdapter) Propose(o *op.Op) (any, error) {
	res, err := a.n.Propose(o)
	return res, translate(err)
}

func (a nodeAdapter) ReadBarrier() error     { return translate(a.n.ReadBarrier()) }
func (a nodeAdapter) Store() *keyspace.Store { return a.n.Store() }
func (a nodeAdapter) Now() int64             { return time.Now().UnixMilli() }

func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raftfsm.ErrNoLeader):
		return commands.ErrNoLeader
	case errors.Is(err, raftfsm.ErrUnknownOutcome):
		return commands.ErrUnknownOutcome
	}
	return err
}

// pushesOnly reports whether a command's reply is Pub/Sub pushes only: a
// (un)subscription's confirmations, and the messages queued before them,
// which Redis 7.0 sends even under CLIENT REPLY OFF (CLIENT_PUSHING). An
// error (a refused subscription) is an ordinary reply.
func pushesOnly(name []byte, w *resp.Writer) bool {
	switch strings.ToLower(string(name)) {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe":
		b := w.Bytes()
		return len(b) > 0 && b[0] != '-'
	}
	return false
}
