package commands

// A blocking stream read (XREAD, XREADGROUP's check) runs where its client
// is, and on a follower no local read is linearizable. It syncs instead:
// it proposes a StreamSync op, which changes nothing, and waits until this
// node has applied it; the keyspace here then holds every write the
// leader had applied when the read began, and the read is served from it.

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// streamSyncWait bounds the wait for this node to apply its sync op.
const streamSyncWait = 10 * time.Second

// syncMarks are the sync ops this node waits to apply, by token.
type syncMarks struct {
	nonce [8]byte // tells this node's tokens from the others'
	next  atomic.Uint64
	mu    sync.Mutex
	wait  map[string]chan struct{}
}

func newSyncMarks() *syncMarks {
	m := &syncMarks{wait: map[string]chan struct{}{}}
	rand.Read(m.nonce[:])
	return m
}

// applied is the StreamSync applier's part on this node.
func (m *syncMarks) applied(token []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ch, ok := m.wait[string(token)]; ok {
		close(ch)
		delete(m.wait, string(token))
	}
}

func (t *Table) registerStreamSync() {
	t.applier(op.StreamSync, func(_ *keyspace.Store, o *op.Op) any {
		t.syncs.applied(o.Args[0])
		return ok
	})
}

// streamRead runs fn with the current database under the read lock once
// a linearizable read may be served here: at once on a leader, after a
// sync on a follower. It reports false (having replied) if it cannot.
func (c *Ctx) streamRead(fn func(db *keyspace.DB)) bool {
	err := c.Node.ReadBarrier()
	if errors.Is(err, ErrNoLeader) {
		err = c.syncHere()
	}
	if err != nil {
		c.W.Error(nodeError(err))
		return false
	}
	ks := c.Node.Store()
	ks.RLock()
	fn(ks.DB(c.S.DB))
	ks.RUnlock()
	return true
}

// syncHere proposes a StreamSync op and waits until this node applied it.
func (c *Ctx) syncHere() error {
	m := c.Table.syncs
	token := binary.BigEndian.AppendUint64(m.nonce[:8:8], m.next.Add(1))
	ch := make(chan struct{})
	m.mu.Lock()
	m.wait[string(token)] = ch
	m.mu.Unlock()
	defer m.applied(token) // forgotten, if never applied here
	if _, err := c.Node.Propose(&op.Op{Type: op.StreamSync, DB: c.S.DB, Now: c.Now(), Args: [][]byte{token}}); err != nil {
		return err
	}
	t := time.NewTimer(streamSyncWait)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return ErrNoLeader
	}
}
