package server

import (
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

func (s *Server) serveConn(c *client) {
	defer s.wg.Done()
	defer s.dropClient(c)
	defer c.nc.Close()

	r := resp.NewReader(c.nc)
	r.MaxBulk = s.cfg.MaxBulk
	w := resp.NewWriter()
	ctx := &commands.Ctx{W: w, S: c.sess, Node: nodeAdapter{s.node}, Server: s, Table: s.table}
	for {
		args, err := r.ReadCommand()
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				w.Error("ERR " + pe.Error())
				c.nc.Write(w.Bytes())
			}
			return
		}
		ctx.Args = args
		s.stats.commands.Add(1)
		s.table.Dispatch(ctx)
		if c.sess.CloseAfter || c.sess.Killed() {
			c.nc.Write(w.Bytes())
			return
		}
		if r.Buffered() == 0 || w.Len() >= flushAt {
			if _, err := c.nc.Write(w.Bytes()); err != nil {
				return
			}
			w.Reset()
		}
	}
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
