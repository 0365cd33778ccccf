// Package cluster holds the fault suite of LoomCache's Raft cluster: tests
// that start real loomcache processes, put a fault-injecting proxy
// (cluster/faultproxy) on every cluster link, run concurrent clients
// against every node while killing, pausing, partitioning and restarting
// nodes, record every call with its start, end and outcome, and check the
// history with porcupine (linearizability) and with a checker that no
// acknowledged write was lost. Besides single-key commands the clients
// run transactions (MULTI/EXEC on a pair of counters, WATCH
// compare-and-set loops), checked for atomicity and for lost or doubled
// updates (docs/consistency.md, Transactions). bugclass_test.go names the
// bug classes Jepsen found in RedisRaft as scenarios of their own:
// membership changes under a partition, restarts right after a
// snapshot, reads right after a restart, and a leader paused across
// elections (docs/consistency.md). The clusters run with a
// cluster secret, so every link's handshake goes through the faults too.
// It has no non-test code.
//
// A default `go test ./cluster/` runs each scenario once with a few
// clients; LOOMCACHE_SOAK=1 (or a duration such as LOOMCACHE_SOAK=10m,
// shared by the scenarios) runs them longer, with more clients and
// repeated faults.
package cluster
