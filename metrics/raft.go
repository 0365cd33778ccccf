package metrics

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// raftCollector exports each partition's Raft group: INFO raft's figures
// and the histograms only the metrics endpoint has.
type raftCollector struct {
	src Source

	term, commit, applied, lastLog, firstLog, snapIndex *prometheus.Desc
	leader, state, leaseHeld, readsReady, voters        *prometheus.Desc
	leaderChanges, forwarded, forwardedCmds, fsmPending *prometheus.Desc
	walEntries, walSyncs, snapshotsTaken, restores      *prometheus.Desc
	syncLatency, perSync, snapDuration, snapSize        *prometheus.Desc
	snapLastDuration, snapLastSize                      *prometheus.Desc
	followerMatch, followerLag, applyLag                *prometheus.Desc
}

func newRaftCollector(src Source) *raftCollector {
	p := "partition"
	return &raftCollector{
		src:              src,
		term:             desc("loomcache_raft_term", "Current Raft term.", p),
		commit:           desc("loomcache_raft_commit_index", "Highest log entry known committed.", p),
		applied:          desc("loomcache_raft_applied_index", "Highest log entry applied to the keyspace.", p),
		lastLog:          desc("loomcache_raft_last_log_index", "Last entry in the log (or snapshot).", p),
		firstLog:         desc("loomcache_raft_first_log_index", "First entry still in the WAL.", p),
		snapIndex:        desc("loomcache_raft_last_snapshot_index", "Index of the newest snapshot.", p),
		leader:           desc("loomcache_raft_leader", "1 when this node leads the partition, else 0.", p),
		state:            desc("loomcache_raft_state", "1 for the node's Raft state (leader, follower, candidate, shutdown, loading).", p, "state"),
		leaseHeld:        desc("loomcache_raft_lease_held", "1 when reads are served locally under the leader lease.", p),
		readsReady:       desc("loomcache_raft_reads_ready", "1 when this node leads and its term's barrier has applied.", p),
		voters:           desc("loomcache_raft_voters", "Voters in the partition's configuration.", p),
		leaderChanges:    desc("loomcache_raft_leader_changes_total", "Leaders this node has seen elected since it started.", p),
		forwarded:        desc("loomcache_raft_forwarded_requests_total", "Requests this node forwarded to the leader (a batch counts once).", p),
		forwardedCmds:    desc("loomcache_raft_forwarded_commands_total", "Commands in the forwarded requests.", p),
		fsmPending:       desc("loomcache_raft_fsm_pending", "Committed batches waiting to be applied.", p),
		walEntries:       desc("loomcache_wal_entries_total", "Log entries written to the WAL.", p),
		walSyncs:         desc("loomcache_wal_syncs_total", "Synced WAL commits (0 under --fsync no).", p),
		snapshotsTaken:   desc("loomcache_snapshots_taken_total", "Snapshots this process took.", p),
		restores:         desc("loomcache_snapshot_restores_total", "Snapshots this process restored (at start or sent by a leader).", p),
		syncLatency:      desc("loomcache_wal_fsync_duration_seconds", "Duration of each synced WAL commit (the batch's write and its fsync).", p),
		perSync:          desc("loomcache_wal_entries_per_fsync", "Log entries each synced WAL commit made durable (group commit).", p),
		snapDuration:     desc("loomcache_snapshot_duration_seconds", "Duration of each snapshot taken, from its point to its file closed.", p),
		snapSize:         desc("loomcache_snapshot_size_bytes", "Size of each snapshot taken.", p),
		snapLastDuration: desc("loomcache_snapshot_last_duration_seconds", "Duration of the newest snapshot taken (0: none).", p),
		snapLastSize:     desc("loomcache_snapshot_last_size_bytes", "Size of the newest snapshot taken (0: none).", p),
		followerMatch:    desc("loomcache_raft_follower_match_index", "On the leader, the last entry each follower acknowledged holding in this term.", p, "follower"),
		followerLag:      desc("loomcache_raft_follower_lag_entries", "On the leader, its last log index minus each follower's match index.", p, "follower"),
		applyLag:         desc("loomcache_raft_apply_lag_entries", "Entries committed and not yet applied on this node (commit index - applied index).", p),
	}
}

func (c *raftCollector) Describe(ch chan<- *prometheus.Desc) {
	describe(ch, c.term, c.commit, c.applied, c.lastLog, c.firstLog, c.snapIndex, c.leader, c.state,
		c.leaseHeld, c.readsReady, c.voters, c.leaderChanges, c.forwarded, c.forwardedCmds, c.fsmPending,
		c.walEntries, c.walSyncs, c.snapshotsTaken, c.restores, c.syncLatency, c.perSync, c.snapDuration,
		c.snapSize, c.snapLastDuration, c.snapLastSize, c.followerMatch, c.followerLag, c.applyLag)
}

// raftStates are the values loomcache_raft_state's state label takes.
func raftStates() []string { return []string{"leader", "follower", "candidate", "shutdown", "loading"} }

func (c *raftCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.src.Partitions() {
		part := itoa(p.ID)
		st, m := p.Stats, p.Metrics
		gauge := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{part}, labels...)...)
		}
		counter := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, part)
		}
		state := strings.ToLower(st.State)
		gauge(c.term, float64(st.Term))
		gauge(c.commit, float64(st.CommitIndex))
		gauge(c.applied, float64(st.AppliedIndex))
		gauge(c.applyLag, float64(st.CommitIndex-min(st.CommitIndex, st.AppliedIndex)))
		gauge(c.lastLog, float64(st.LastLogIndex))
		gauge(c.firstLog, float64(st.FirstLogIndex))
		gauge(c.snapIndex, float64(st.LastSnapshotIndex))
		gauge(c.leader, flag(state == "leader"))
		for _, s := range raftStates() {
			gauge(c.state, flag(state == s), s)
		}
		gauge(c.leaseHeld, flag(st.LeaseHeld))
		gauge(c.readsReady, flag(st.ReadsReady))
		gauge(c.voters, float64(st.Voters))
		counter(c.leaderChanges, float64(m.LeaderChanges))
		counter(c.forwarded, float64(st.ForwardRequests))
		counter(c.forwardedCmds, float64(st.ForwardCommands))
		gauge(c.fsmPending, float64(st.FSMPending))
		counter(c.walEntries, float64(st.WAL.Entries))
		counter(c.walSyncs, float64(st.WAL.Syncs))
		counter(c.snapshotsTaken, float64(st.SnapshotsTaken))
		counter(c.restores, float64(st.Restores))
		ch <- histogram(c.syncLatency, m.SyncLatency, 1e-9, part)
		ch <- histogram(c.perSync, m.EntriesPerSync, 1, part)
		ch <- histogram(c.snapDuration, m.SnapshotDuration, 1e-9, part)
		ch <- histogram(c.snapSize, m.SnapshotSize, 1, part)
		gauge(c.snapLastDuration, float64(m.SnapshotDuration.Last)*1e-9)
		gauge(c.snapLastSize, float64(m.SnapshotSize.Last))
		for _, f := range m.Followers {
			gauge(c.followerMatch, float64(f.MatchIndex), f.ID)
			gauge(c.followerLag, float64(f.Lag), f.ID)
		}
	}
}

func flag(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
