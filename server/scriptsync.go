package server

import (
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
)

// The scripts and function libraries are partition 0's state. A script
// called by name (EVALSHA, FCALL) with keys of another partition runs on
// that partition's leader, against this node's copy of partition 0,
// which may lag partition 0's leader by a few entries: a library the
// client saw replaced or deleted there could still run here. So before
// such a call, a node that does not lead partition 0 waits until its copy
// has applied a read index of partition 0 obtained after the call
// arrived (raftfsm/readindex.go). The call then sees every registry
// change acknowledged before it arrived.

// CatchUpScripts waits until this node's partition 0 has applied a read
// index obtained after the call (commands.PartitionedNode). It reports
// false when no leader answered, or this node did not catch up, in time.
func (cn *conn) CatchUpScripts() bool {
	g := cn.srv.node
	if g.IsLeader() {
		return true // its copy is partition 0's leader's
	}
	return g.FollowerRead(time.Second) == nil
}

// registryOp reports whether ops of type t change state that commands
// read on the node they were sent to, not on the leader: the scripts and
// functions (70-89) and the ACL users (100-119), partition 0's.
func registryOp(t op.Type) bool {
	return t >= 70 && t < 90 || t >= 100 && t < 120
}

// AppliedIndex is the applied index of via's group on this node
// (commands.Cluster; RAFT.READINDEX).
func (s *Server) AppliedIndex(via commands.Node) uint64 {
	if cn, ok := via.(*conn); ok && cn.n != nil {
		return cn.n.AppliedIndex()
	}
	return s.node.AppliedIndex()
}
