package raftfsm

import "github.com/loomcache/loomcache/persistence"

// SetSyncMode changes the fsync policy of the node's log, every
// partition's (CONFIG SET appendfsync).
func (h *Host) SetSyncMode(m persistence.SyncMode) { h.db.SetSyncMode(m) }

// SyncMode is the log's fsync policy now.
func (h *Host) SyncMode() persistence.SyncMode { return h.db.SyncMode() }

// OpsSinceSnapshot is the number of ops applied since the last snapshot
// (Redis's dirty counter, for save points).
func (n *Node) OpsSinceSnapshot() uint64 { return n.fsm.sinceSnap.Load() }
