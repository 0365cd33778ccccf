package server

import (
	"errors"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/raftfsm"
)

// Reads on followers. A follower serves a linearizable read itself: it
// gets a read index from the leader (raftfsm/readindex.go: one small
// request, shared by the reads waiting on the node at once), waits until
// it has applied that index, and reads its own keyspace. Commands that
// read and write, scripts, and whatever a client asked to have
// redirected (RAFT.REDIRECT) still go to the leader.
//
// A follower that is behind (catching up after a restart, say) would
// keep its clients waiting: a read whose index it has not applied within
// followerLag goes to the leader instead, as before read indexes.
//
// The commands of one pipeline share a read index: a read whose request
// was read from the socket before the index was asked for is covered by
// it, as long as nothing else ran on the connection in between (a write
// it forwarded must be seen by the reads after it).

// followerRead is the read index the reads of a connection's pipeline
// share.
type followerRead struct {
	src   *watchReader  // the connection's socket (nil: never shared)
	n     *raftfsm.Node // the group it is an index of; nil: none held
	fills uint64        // src.fills when it was asked for
	// err is why the running command got no read index, for its
	// ReadBarrier to answer (it is not asked for twice).
	err error
}

// Bounds of a follower's wait for a read index to be applied: a read
// the follower may forward instead waits followerLag; one it must serve
// (a blocking stream read) readWait.
const (
	followerLag = 500 * time.Millisecond
	readWait    = 3 * time.Second
)

// readsHere reports whether a follower serves cmd itself, at a read
// index, rather than forwarding it: a command that only reads the
// keyspace, other than a script.
func readsHere(cmd *commands.Command) bool {
	switch cmd.Name {
	case "eval_ro", "evalsha_ro", "fcall_ro":
		return false
	}
	return cmd.Has(commands.FlagReadonly) && !cmd.Has(commands.FlagWrite)
}

// note forgets the shared index unless cmd (nil: not a command) is one
// a follower serves at a read index.
func (f *followerRead) note(cmd *commands.Command) {
	f.err = nil
	if cmd == nil || !readsHere(cmd) {
		f.n = nil
	}
}

// readHere gets the read index for the read about to run (or shares its
// pipeline's) and reports whether the read runs here: false when this
// follower is behind, and the leader should serve it. A failure to get
// one is the read's ReadBarrier's to report.
func (cn *conn) readHere() bool {
	err := cn.followerRead(followerLag)
	if errors.Is(err, raftfsm.ErrBehind) {
		return false
	}
	cn.fread.err = err
	return true
}

// ReadBarrier returns nil once a linearizable read may be served on the
// connection's node: on the leader after its read barrier, on a follower
// at a read index. A READONLY connection reads a follower's state as it
// is. A handler that reads the keyspace sees the connection's own
// earlier writes: they are drained first.
func (cn *conn) ReadBarrier() error {
	if cn.n == nil {
		return commands.ErrLoading
	}
	cn.drain()
	leads := cn.n.IsLeader()
	if cn.sess.ReadOnly && !leads {
		return nil // READONLY: the follower's own state, possibly stale
	}
	if !leads && cn.forwarded == nil {
		if err := cn.fread.err; err != nil {
			cn.fread.err = nil
			return translate(err)
		}
		return translate(cn.followerRead(readWait))
	}
	err := cn.n.ReadBarrier()
	if err == nil && cn.forwarded != nil {
		err = cn.n.CatchUp() // what the follower applied before it forwarded
	}
	cn.forwarded.note(err)
	return translate(err)
}

// followerRead waits for a read index that covers the command being
// served, sharing the pipeline's, applied within lag.
func (cn *conn) followerRead(lag time.Duration) error {
	f := &cn.fread
	if f.src != nil && f.n == cn.n && f.fills == f.src.fills {
		return nil
	}
	f.n = nil
	var fills uint64
	if f.src != nil {
		fills = f.src.fills
	}
	if err := cn.n.FollowerRead(lag); err != nil {
		return err
	}
	f.n, f.fills = cn.n, fills
	return nil
}
