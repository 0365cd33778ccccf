package raftfsm

// Leader returns the id and advertised cluster address of the leader
// this node knows of; empty when none is known.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}
