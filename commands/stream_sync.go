package commands

import (
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// A blocking stream read (XREAD, XREADGROUP's check) runs where its client
// is. On a follower its read is served after the node's read barrier,
// which there obtains a read index from the leader and waits until this
// node has applied it (raftfsm/readindex.go).
//
// Before read indexes, such a read proposed a StreamSync op and waited
// for its node to apply it. None is proposed now; the op still applies
// (as nothing) where an older node left one in the log.
func (t *Table) registerStreamSync() {
	t.applier(op.StreamSync, func(*keyspace.Store, *op.Op) any { return ok })
}

// streamRead runs fn with the current database under the read lock once
// a linearizable read may be served here. It reports false (having
// replied) if it cannot.
func (c *Ctx) streamRead(fn func(db *keyspace.DB)) bool { return c.read(fn) }
