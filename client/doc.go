// Package client is LoomCache's native Go client: a go-redis client that
// knows the cluster's partitions (docs/cluster.md, "Partitions") and
// sends each command straight to its partition's leader, so that no node
// forwards it. It learns the partitions and their leaders from any node
// (RAFT.PARTITIONS), hashes each command's first key with package
// partition, keeps one go-redis client per node whose connections ask for
// -MOVED instead of forwarding (RAFT.REDIRECT ON), follows leader changes,
// sends each write under a request id of its own (RAFT.REQID), and
// retries a command only when that is safe: it did not run, it only
// reads, or it is a write under its id, which the nodes apply at most
// once (docs/client.md).
//
// A Client embeds a *redis.Client, so go-redis's API is there as usual;
// the embedded client's hooks route every command and pipeline and it
// never opens a connection of its own. The package imports partition
// and go-redis, nothing of the server.
package client
