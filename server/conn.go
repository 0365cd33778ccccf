package server

import (
	"crypto/tls"
	"errors"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/resp"
)

// flushAt is how much reply data is buffered before writing even while
// more pipelined requests are waiting.
const flushAt = 64 * 1024

// maxPending bounds the writes one connection has proposed and not yet
// answered.
const maxPending = 1024

func (s *Server) serveConn(c *client) {
	defer s.wg.Done()
	defer s.dropClient(c)
	defer c.nc.Close()
	if tc, ok := c.nc.(*tls.Conn); ok && !s.handshake(tc) {
		return
	}

	r := resp.NewReader(c.nc)
	r.MaxBulk = s.cfg.MaxBulk
	// The writer's buffer grows with the replies instead of starting at
	// NewWriter's 4KB: an idle connection (most of them, on a node with
	// many clients) then costs only what its replies needed.
	cn := &conn{nodeAdapter: nodeAdapter{s.node}, w: &resp.Writer{Proto: 2}, sess: c.sess}
	w := cn.w
	ctx := &commands.Ctx{W: w, S: c.sess, Node: cn, Server: s, Table: s.table}
	deferWrite := cn.deferWrite
	armed := false
	for {
		// Redis closes a client idle for `timeout` seconds; the deadline
		// is only armed when the setting is on, as it costs a timer.
		if t := s.idleTimeout(); t > 0 {
			c.nc.SetReadDeadline(time.Now().Add(t))
			armed = true
		} else if armed {
			c.nc.SetReadDeadline(time.Time{})
			armed = false
		}
		args, err := r.ReadCommand()
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				cn.drain()
				w.Error("ERR " + pe.Error())
				c.nc.Write(w.Bytes())
			}
			return
		}
		ctx.Args = args
		s.stats.commands.Add(1)
		// Only a write may overtake the writes in flight: anything else
		// may look at what they change (or at the protocol their replies
		// are written in).
		if len(cn.pending) > 0 && !s.isWrite(args[0]) {
			cn.drain()
		}
		// Dispatch reads nothing more, so this holds until it returns.
		more := r.Buffered() > 0
		ctx.Defer = nil
		if more {
			ctx.Defer = deferWrite
		}
		if !s.forward(cn, ctx, more) {
			cn.flushForwards() // what runs here comes after them
			s.table.Dispatch(ctx)
		}
		// The arguments point into the reader's buffer; don't keep them
		// (or a huge argument array) alive while the connection idles.
		ctx.Args = nil
		if c.sess.CloseAfter || c.sess.Killed() {
			cn.drain()
			c.nc.Write(w.Bytes())
			return
		}
		if !more || w.Len() >= flushAt || len(cn.pending) >= maxPending {
			cn.drain()
			if _, err := c.nc.Write(w.Bytes()); err != nil {
				return
			}
			w.Reset()
		}
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
// forwarded is set: the request ids go on the ops, and a loss of
// leadership is noted for the follower.
type conn struct {
	nodeAdapter
	w       *resp.Writer
	sess    *commands.Session
	pending []pendingWrite
	tail    []byte // scratch for drain

	fwd       raftfsm.ForwardBatch // commands queued for the leader, their replies due at the end of w
	fwdWrites []bool               // per queued command: whether it writes

	forwarded *forwardedRun // on the leader, running forwarded commands
}

type pendingWrite struct {
	at int // writer offset the reply belongs at
	f  raftfsm.Future
}

func (cn *conn) deferWrite(o *op.Op) bool {
	cn.forwarded.stamp(o)
	cn.pending = append(cn.pending, pendingWrite{at: cn.w.Len(), f: cn.n.ProposeAsync(o)})
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
	first := cn.pending[0].at
	cn.tail = append(cn.tail[:0], w.Bytes()[first:]...)
	w.Truncate(first)
	prev := first
	for i, p := range cn.pending {
		w.Raw(cn.tail[prev-first : p.at-first])
		res, err := p.f.Result()
		cn.forwarded.note(err)
		commands.WriteOutcome(w, res, translate(err))
		prev = p.at
		cn.pending[i] = pendingWrite{}
	}
	w.Raw(cn.tail[prev-first:])
	cn.pending = cn.pending[:0]
	if cap(cn.tail) > flushAt {
		cn.tail = nil
	}
}

// A handler that reads the keyspace, or waits for a read barrier, sees
// the connection's own earlier writes: they are drained first.

func (cn *conn) ReadBarrier() error {
	cn.drain()
	if cn.sess.ReadOnly && !cn.n.IsLeader() {
		return nil // READONLY: the follower's own state, possibly stale
	}
	err := cn.n.ReadBarrier()
	cn.forwarded.note(err)
	return translate(err)
}

func (cn *conn) Propose(o *op.Op) (any, error) {
	cn.forwarded.stamp(o)
	res, err := cn.n.Propose(o)
	cn.forwarded.note(err)
	return res, translate(err)
}

func (cn *conn) Store() *keyspace.Store {
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
