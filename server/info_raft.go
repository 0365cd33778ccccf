package server

import (
	"strconv"
	"strings"
)

// INFO's persistence and raft sections: what the WAL and Raft report
// (raftfsm.Stats). Info writes each section's "# Title" line; these append
// the fields.
//
// persistence — Redis's fields where they mean something here (the WAL is
// an always-on AOF; Raft snapshots stand for RDB saves), then LoomCache's:
//
//	loading                         1 until the node can answer truly (loading.go): the snapshot
//	                                restored, the WAL replayed, the startup users in effect
//	async_loading                   0
//	loading_*                       while loading, Redis's fields (after aof_last_write_status,
//	                                where Redis has them): the snapshot's size and bytes read
//	rdb_changes_since_last_save     entries applied since the newest snapshot
//	rdb_bgsave_in_progress          1 while a BGSAVE's snapshot is being taken
//	rdb_last_save_time              unix time of the newest snapshot (start time if none)
//	rdb_last_bgsave_status          ok | err: the last BGSAVE's
//	rdb_last_bgsave_time_sec        seconds it took, -1: none yet
//	rdb_current_bgsave_time_sec     seconds the running one has taken, -1: none runs
//	rdb_saves                       snapshots taken by this process
//	aof_enabled                     1: every write is in the WAL before it is acknowledged
//	aof_rewrite_in_progress         0
//	aof_last_write_status           ok, or err while writes are refused for the disk (persistence.Space)
//	wal_fsync                       always | no (--fsync)
//	wal_batches                     WAL commits (Raft hands over entries in batches)
//	wal_entries                     log entries written
//	wal_syncs                       fsyncs of log batches (0 under --fsync no)
//	wal_entries_per_sync            wal_entries / wal_syncs: the group-commit factor
//	wal_compactions                 log deletions (compaction after a snapshot, truncation)
//	snapshot_threshold              entries between snapshots (--snapshot-threshold)
//	disk_free_bytes                 free on the data directory's filesystem (docs/disk.md)
//	disk_reserve_bytes              kept free: client writes are refused (-MISCONF) below it
//	disk_write_error                why writes are refused, or the last disk write error; empty: none
//
// raft — the node's view of its Raft group and of its log:
//
//	raft_node_id, raft_state (leader|follower|candidate|shutdown, loading while the
//	                                snapshot is restored), raft_term,
//	raft_leader_id (empty: none known), raft_voters
//	raft_reads_ready                1 when this node leads and its term's barrier has applied
//	raft_lease_held                 1 when reads are served locally under the leader lease
//	raft_lease_rounds               leadership rounds run for reads and lease renewal
//	raft_commit_index               highest entry known committed
//	raft_applied_index              highest entry applied to the keyspace
//	raft_first_log_index            first entry still in the WAL; > 1 once the log was compacted
//	raft_last_log_index             last entry in the WAL (or snapshot)
//	raft_last_snapshot_index/_term  newest snapshot
//	raft_restored_snapshot_index    snapshot loaded at start, 0: none
//	raft_start_log_index            last WAL entry at start
//	raft_replayed_entries           entries re-applied from the WAL at start (those after the
//	                                restored snapshot, up to raft_start_log_index)
//	raft_applied_since_start        entries applied by this process, replay included
//	raft_applied_ops_since_start    ops those entries held (group commit packs a batch of
//	                                concurrent writes into one entry)
//	raft_ops_per_entry              raft_applied_ops_since_start / raft_applied_since_start
//	raft_snapshot_restores          snapshots restored by this process (at start or sent by a leader)
//	raft_fsm_pending                committed batches waiting to be applied
//	raft_refused_connections        cluster-port connections refused (bad hello, TLS or
//	                                authentication failed); the log has a line about them

func (s *Server) infoPersistence(b []byte) []byte {
	st := s.nodeStats()
	loading := s.Loading()
	b = infoInt(b, "loading", boolInt(loading))
	b = infoInt(b, "async_loading", 0)
	b = infoUint(b, "rdb_changes_since_last_save", st.AppliedIndex-min(st.AppliedIndex, st.LastSnapshotIndex))
	b = infoInt(b, "rdb_bgsave_in_progress", boolInt(s.admin.bgsave.Load()))
	b = infoInt(b, "rdb_last_save_time", s.LastSave())
	b = infoField(b, "rdb_last_bgsave_status", okErr(!s.admin.bgsaveFailed.Load()))
	b = infoInt(b, "rdb_last_bgsave_time_sec", s.admin.bgsaveSecs.Load())
	b = infoInt(b, "rdb_current_bgsave_time_sec", s.bgsaveRunning())
	b = infoUint(b, "rdb_saves", st.SnapshotsTaken)
	b = infoInt(b, "aof_enabled", 1)
	b = infoInt(b, "aof_rewrite_in_progress", 0)
	b = infoField(b, "aof_last_write_status", writeStatus(st.DiskErr))
	if loading {
		b = s.infoLoading(b)
	}
	b = infoField(b, "wal_fsync", st.FsyncMode.String())
	b = infoUint(b, "wal_batches", st.WAL.Batches)
	b = infoUint(b, "wal_entries", st.WAL.Entries)
	b = infoUint(b, "wal_syncs", st.WAL.Syncs)
	b = infoField(b, "wal_entries_per_sync", perString(st.WAL.Entries, st.WAL.Syncs))
	b = infoUint(b, "wal_compactions", st.WAL.Deletes)
	b = infoUint(b, "snapshot_threshold", st.SnapshotThreshold)
	b = infoUint(b, "disk_free_bytes", st.DiskFree)
	b = infoUint(b, "disk_reserve_bytes", st.DiskReserve)
	return infoField(b, "disk_write_error", errText(st.DiskErr))
}

func writeStatus(err error) string {
	if err != nil {
		return "err"
	}
	return "ok"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (s *Server) infoRaft(b []byte) []byte {
	st := s.nodeStats()
	b = infoField(b, "raft_node_id", st.ID)
	b = infoField(b, "raft_state", strings.ToLower(st.State))
	b = infoUint(b, "raft_term", st.Term)
	b = infoField(b, "raft_leader_id", st.Leader)
	b = infoInt(b, "raft_voters", int64(st.Voters))
	b = infoInt(b, "raft_reads_ready", boolInt(st.ReadsReady))
	b = infoInt(b, "raft_lease_held", boolInt(st.LeaseHeld))
	b = infoInt(b, "raft_lease_rounds", int64(st.LeaseRounds))
	b = infoUint(b, "raft_commit_index", st.CommitIndex)
	b = infoUint(b, "raft_applied_index", st.AppliedIndex)
	b = infoUint(b, "raft_first_log_index", st.FirstLogIndex)
	b = infoUint(b, "raft_last_log_index", st.LastLogIndex)
	b = infoUint(b, "raft_last_snapshot_index", st.LastSnapshotIndex)
	b = infoUint(b, "raft_last_snapshot_term", st.LastSnapshotTerm)
	b = infoUint(b, "raft_restored_snapshot_index", st.RestoredSnapshot)
	b = infoUint(b, "raft_start_log_index", st.StartLogIndex)
	b = infoUint(b, "raft_replayed_entries", st.ReplayedEntries)
	b = infoUint(b, "raft_applied_since_start", st.AppliedSinceStart)
	b = infoUint(b, "raft_applied_ops_since_start", st.AppliedOps)
	b = infoField(b, "raft_ops_per_entry", perString(st.AppliedOps, st.AppliedSinceStart))
	b = infoUint(b, "raft_snapshot_restores", st.Restores)
	b = infoUint(b, "raft_forwarded_requests", st.ForwardRequests)
	b = infoUint(b, "raft_forwarded_commands", st.ForwardCommands)
	b = infoUint(b, "raft_fsm_pending", st.FSMPending)
	return infoUint(b, "raft_refused_connections", st.RefusedConns)
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}

// perString is a/b with two decimals, 0.00 when b is 0.
func perString(a, b uint64) string {
	per := 0.0
	if b > 0 {
		per = float64(a) / float64(b)
	}
	return strconv.FormatFloat(per, 'f', 2, 64)
}
