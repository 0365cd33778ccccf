package raftfsm

import (
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// Replicas answer Redis's WAIT: how many members other than this node
// hold a client's writes. A leader knows it from its followers' answers:
// an AppendEntries a follower accepted in the leader's term shows its log
// holds every entry up to the request's last (acks.go notes it per peer).
// A follower knows less: a write acknowledged to a client was committed,
// so a majority holds it, this node perhaps among them.

// LastIndex returns the index of the last entry in this node's log.
func (n *Node) LastIndex() uint64 { return n.raft.LastIndex() }

// Replicas returns how many other members are known to hold every entry
// up to index. On a follower (or a node between leaders) it is the
// number a committed entry is sure to be on: a majority less this node.
func (n *Node) Replicas(index uint64) int {
	f := n.raft.GetConfiguration()
	if f.Error() != nil {
		return 0
	}
	servers := f.Configuration().Servers
	voters := 0
	for _, s := range servers {
		if s.Suffrage == raft.Voter {
			voters++
		}
	}
	if n.raft.State() != raft.Leader {
		return max(voters/2, 0) // a majority is voters/2+1, this node one of them
	}
	term := n.raft.CurrentTerm()
	self := raft.ServerID(n.cfg.ID)
	count := 0
	n.acks.mu.Lock()
	for _, s := range servers {
		if s.ID == self {
			continue
		}
		if a, ok := n.acks.by[s.ID]; ok && a.term == term && a.match >= index {
			count++
		}
	}
	n.acks.mu.Unlock()
	return count
}

// replicasPoll is how often WaitReplicas looks again: followers answer
// every heartbeat or append, so a few milliseconds is fine-grained enough.
const replicasPoll = 2 * time.Millisecond

// WaitReplicas waits until Replicas(index) reaches want, deadline fires
// (nil: no deadline), cancel is closed or gone (checked as often as the
// count) reports true, and returns the count then.
func (n *Node) WaitReplicas(index uint64, want int, deadline <-chan time.Time, cancel <-chan struct{}, gone func() bool) int {
	got := n.Replicas(index)
	if got >= want {
		return got
	}
	t := time.NewTicker(replicasPoll)
	defer t.Stop()
	for {
		select {
		case <-deadline:
			return n.Replicas(index)
		case <-cancel:
			return n.Replicas(index)
		case <-n.stop:
			return n.Replicas(index)
		case <-t.C:
			if got = n.Replicas(index); got >= want || gone() {
				return got
			}
		}
	}
}

// SaveSnapshot takes a snapshot that holds every entry this node has
// applied. A leader first commits a barrier, so that the snapshot covers
// every write acknowledged before the call; with nothing new since the
// newest snapshot, that one already holds it all and nothing is taken
// (saved reports whether one was).
func (n *Node) SaveSnapshot() (saved bool, err error) {
	if !n.gate.enter() {
		return false, raft.ErrRaftShutdown
	}
	defer n.gate.leave()
	if n.raft.State() == raft.Leader {
		if err := n.raft.Barrier(applyTimeout).Error(); err != nil {
			return false, err
		}
	}
	err = n.raft.Snapshot().Error()
	if errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return false, nil
	}
	return err == nil, err
}
