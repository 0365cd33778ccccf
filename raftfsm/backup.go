package raftfsm

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/raft"

	"github.com/loomcache/loomcache/keyspace"
)

// Backups are the group's snapshots taken out of the node and put back
// into another cluster: a snapshot holds the whole replicated state
// (keyspace, users, scripts, request ids) at one log index.

// SnapshotInfo is where a snapshot stands in the log that made it.
type SnapshotInfo struct {
	Index, Term uint64
	Size        int64
}

// ErrNoSnapshot: the node has no snapshot on disk.
var ErrNoSnapshot = errors.New("no snapshot on disk")

// OpenSnapshot opens this node's newest snapshot; the caller closes it.
func (n *Node) OpenSnapshot() (SnapshotInfo, io.ReadCloser, error) {
	metas, err := n.snaps.List()
	if err != nil {
		return SnapshotInfo{}, nil, err
	}
	if len(metas) == 0 {
		return SnapshotInfo{}, nil, ErrNoSnapshot
	}
	meta, rc, err := n.snaps.Open(metas[0].ID)
	if err != nil {
		return SnapshotInfo{}, nil, err
	}
	return SnapshotInfo{Index: meta.Index, Term: meta.Term, Size: meta.Size}, rc, nil
}

// Backup takes a snapshot holding every write acknowledged before the
// call (this node must lead: SaveSnapshot's barrier) and opens it.
func (n *Node) Backup() (SnapshotInfo, io.ReadCloser, error) {
	if !n.IsLeader() {
		return SnapshotInfo{}, nil, ErrNoLeader
	}
	if _, err := n.SaveSnapshot(); err != nil {
		return SnapshotInfo{}, nil, fmt.Errorf("snapshot: %w", err)
	}
	return n.OpenSnapshot()
}

// CheckSnapshot decodes a snapshot into scratch state, whole, and
// reports whether it would restore: hashicorp/raft's Restore panics when
// the FSM cannot restore what it installed, so nothing reaches it
// unchecked. aux, when set, stands in for the AuxState and checks the
// aux section. It holds the decoded state in memory until it returns.
func (n *Node) CheckSnapshot(data []byte, aux AuxState) error {
	scratch := &fsm{ks: keyspace.New(n.fsm.ks.NumDBs()), aux: aux}
	if err := scratch.Restore(io.NopCloser(bytes.NewReader(data))); err != nil {
		return fmt.Errorf("not a valid snapshot: %w", err)
	}
	return nil
}

// RestoreSnapshot replaces the group's whole state, on every member,
// with a snapshot's (hashicorp/raft's Restore: the leader installs it
// at a new index past its log and sends it to the followers). This node
// must lead, and r must hold a snapshot CheckSnapshot accepted. It
// returns once a quorum holds the restored state.
func (n *Node) RestoreSnapshot(info SnapshotInfo, r io.Reader) error {
	if !n.gate.enter() {
		return raft.ErrRaftShutdown
	}
	defer n.gate.leave()
	if n.raft.State() != raft.Leader {
		return ErrNoLeader
	}
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Index: info.Index, Term: info.Term, Size: info.Size}
	if err := n.raft.Restore(meta, r, applyTimeout); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	return nil
}
