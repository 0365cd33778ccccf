package commands

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/loomcache/loomcache/op"
)

// CLIENT TRACKING's NOLOOP: a connection is not sent the invalidations
// of its own writes. Every node applies every op, and only the node the
// connection is on may leave it out, so the op must say whose it is
// there: each write of a NOLOOP connection goes under a request id of
// its own (as RAFT.REQID gives one), whose origin names the node, this
// run of it and the connection. The node that applies it finds its own
// prefix and leaves that connection out (pubsub.Tracking.BeginOp); every
// other node finds another's. The ids cost what a client's request ids
// cost (docs/consistency.md, "Client request ids").

// noLoopOrigins is the prefix of the origins of this node's NOLOOP
// writes: the node's id and a nonce drawn at start, so a restarted
// node's numbering starts afresh under a new origin.
type noLoopOrigins struct{ prefix string }

// SetNodeID sets the node's id, before the node applies any op.
func (t *Table) SetNodeID(id string) {
	var nonce [8]byte
	rand.Read(nonce[:])
	t.noLoop.prefix = op.ClientOrigin + "noloop:" + id + ":" + hex.EncodeToString(nonce[:]) + ":"
}

// NoLoopRequest gives the command about to run a request id of its
// connection's when the connection tracks with NOLOOP and the command is
// a write the leader runs (or MULTI, for its EXEC) that has no id of the
// client's.
func (t *Table) NoLoopRequest(s *Session, cmd *Command) {
	if t.noLoop.prefix == "" || cmd == nil || !s.Track.On() || s.InMulti() || !cmd.TakesRequestID() ||
		s.req.cur != (op.ReqID{}) || !t.tracking.NoLoop(s.Track) {
		return
	}
	s.req.noLoop++
	s.req.cur = op.ReqID{Origin: t.noLoop.prefix + strconv.FormatInt(s.ID, 10), Seq: s.req.noLoop}
}

// NoLoopWriter returns the connection of this node whose write an op
// under id is, or 0.
func (t *Table) NoLoopWriter(id op.ReqID) int64 {
	if t.noLoop.prefix == "" || !strings.HasPrefix(id.Origin, t.noLoop.prefix) {
		return 0
	}
	n, err := strconv.ParseInt(id.Origin[len(t.noLoop.prefix):], 10, 64)
	if err != nil {
		return 0
	}
	return n
}
