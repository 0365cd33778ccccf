package raftfsm

import (
	"bytes"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// ApplyFunc applies one op to the store, which the caller has locked for
// writing, and returns the reply for the proposer. It must be
// deterministic.
type ApplyFunc func(ks *keyspace.Store, o *op.Op) any

// fsm adapts keyspace to raft.FSM (and raft.BatchingFSM, so a batch of
// entries takes the store's lock once).
type fsm struct {
	ks    *keyspace.Store
	apply ApplyFunc

	applied   atomic.Uint64 // entries applied since this process started (replay included)
	replayed  atomic.Uint64 // of those, entries that were already in the WAL at start
	lastIndex atomic.Uint64 // index of the last applied entry (or restored snapshot)
	restores  atomic.Uint64 // snapshots restored since this process started
	snapshots atomic.Uint64 // snapshots taken since this process started

	// replayTo is the last log index on disk when the node opened; set
	// before raft starts and never changed.
	replayTo uint64
}

var _ raft.BatchingFSM = (*fsm)(nil)

// decodeError is the reply for an entry that cannot be decoded: every node
// fails it the same way instead of diverging.
type decodeError struct{ err error }

func (e decodeError) Error() string { return "ERR corrupt operation: " + e.err.Error() }

func (f *fsm) Apply(l *raft.Log) interface{} {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

func (f *fsm) ApplyBatch(logs []*raft.Log) []interface{} {
	out := make([]interface{}, len(logs))
	f.ks.Lock()
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		var o op.Op
		if err := op.Decode(l.Data, &o); err != nil {
			out[i] = decodeError{err}
			continue
		}
		out[i] = f.apply(f.ks, &o)
	}
	f.ks.Unlock()
	if n := len(logs); n > 0 {
		f.applied.Add(uint64(n))
		f.lastIndex.Store(logs[n-1].Index)
		replayed := 0
		for _, l := range logs {
			if l.Index <= f.replayTo {
				replayed++
			}
		}
		f.replayed.Add(uint64(replayed))
	}
	return out
}

// Snapshot serializes the keyspace now, on the FSM goroutine, so applies
// that follow cannot change it; Persist writes it out concurrently.
//
// The cost: the whole keyspace is encoded into memory (a second copy of
// the data, briefly) while no entry is applied, so writes stall for the
// encoding time (readers go on: only the read lock is held). Fine while
// datasets are small; a copy-on-write keyspace or incremental snapshots
// would remove the stall.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	var buf bytes.Buffer
	f.ks.RLock()
	err := f.ks.WriteSnapshot(&buf)
	f.ks.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("snapshot keyspace: %w", err)
	}
	f.snapshots.Add(1)
	return &snapshot{data: buf.Bytes()}, nil
}

func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	f.ks.Lock()
	defer f.ks.Unlock()
	if err := f.ks.ReadSnapshot(rc); err != nil {
		return err
	}
	f.restores.Add(1)
	return nil
}

type snapshot struct{ data []byte }

func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *snapshot) Release() {}
