package server

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
)

// The scripts and function libraries are partition 0's state. A script
// called by name (EVALSHA, FCALL) with keys of another partition runs on
// that partition's leader, against this node's copy of partition 0,
// which may lag partition 0's leader by a few entries: a library the
// client saw replaced or deleted there could still run here. So before
// such a call, a node that does not lead partition 0 asks its leader for
// a read index (RAFT.READINDEX: leadership confirmed, then the applied
// index) and waits until its own copy has applied that far. The call
// then sees every registry change acknowledged before it arrived. The
// connections waiting at one time share one request, which starts after
// they all arrived.

// catchUpWait bounds CatchUpScripts.
const catchUpWait = time.Second

// scriptSync shares the read index requests of the connections that
// wait for partition 0 (a round serves those that arrived before it
// began).
type scriptSync struct {
	mu      sync.Mutex
	next    *syncRound
	running bool
}

type syncRound struct {
	done  chan struct{}
	index uint64
	ok    bool
}

// CatchUpScripts waits until this node's partition 0 has applied what
// its leader had applied when asked, after the call (commands.
// PartitionedNode). It reports false when no leader answered, or this
// node did not catch up, within catchUpWait.
func (cn *conn) CatchUpScripts() bool {
	g := cn.srv.node
	if g.IsLeader() {
		return true // its copy is partition 0's leader's
	}
	r := cn.srv.scriptSync.join(cn.srv.readIndex0)
	if !r.ok {
		return false
	}
	if g.AppliedIndex() >= r.index {
		return true
	}
	deadline := time.Now().Add(catchUpWait)
	for g.Stats().AppliedIndex < r.index { // Stats counts an installed snapshot
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// registryOp reports whether ops of type t change state that commands
// read on the node they were sent to, not on the leader: the scripts and
// functions (70-89) and the ACL users (100-119), partition 0's.
func registryOp(t op.Type) bool {
	return t >= 70 && t < 90 || t >= 100 && t < 120
}

// join waits for a round that begins after the call and returns it.
func (ss *scriptSync) join(ask func() (uint64, bool)) *syncRound {
	ss.mu.Lock()
	r := ss.next
	if r == nil {
		r = &syncRound{done: make(chan struct{})}
		ss.next = r
	}
	if !ss.running {
		ss.running = true
		go ss.run(ask)
	}
	ss.mu.Unlock()
	<-r.done
	return r
}

// run runs rounds while connections wait for one; each ends with the
// answer, so the goroutine lives no longer than its callers wait.
func (ss *scriptSync) run(ask func() (uint64, bool)) {
	for {
		ss.mu.Lock()
		r := ss.next
		ss.next = nil
		if r == nil {
			ss.running = false
			ss.mu.Unlock()
			return
		}
		ss.mu.Unlock()
		r.index, r.ok = ask()
		close(r.done)
	}
}

// readIndex0 asks partition 0's leader for its read index (forwarded
// RAFT.READINDEX; Forward bounds the wait for a leader).
func (s *Server) readIndex0() (uint64, bool) {
	reply, err := s.node.Forward(&op.Op{Type: op.Forward, Int: 2, Args: [][]byte{[]byte("RAFT.READINDEX")}}, false)
	if err != nil || len(reply) < 4 || reply[0] != ':' {
		return 0, false
	}
	line, _, _ := strings.Cut(string(reply[1:]), "\r\n")
	index, err := strconv.ParseUint(line, 10, 64)
	return index, err == nil
}

// AppliedIndex is the applied index of via's group on this node
// (commands.Cluster; RAFT.READINDEX).
func (s *Server) AppliedIndex(via commands.Node) uint64 {
	if cn, ok := via.(*conn); ok && cn.n != nil {
		return cn.n.AppliedIndex()
	}
	return s.node.AppliedIndex()
}
