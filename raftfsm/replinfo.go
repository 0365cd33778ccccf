package raftfsm

import (
	"time"

	"github.com/hashicorp/raft"
)

// FollowerInfo is what a leader knows of a follower's replication, for
// INFO replication's slaveN lines.
type FollowerInfo struct {
	ID, RaftAddr string
	// Acked: the follower accepted a request of this term; Match is the
	// last log index it holds, Since how long ago the newest accepted
	// request was sent.
	Acked bool
	Match uint64
	Since time.Duration
}

// Followers returns, on the leader, its view of every other member
// (none elsewhere).
func (n *Node) Followers() []FollowerInfo {
	if n.raft.State() != raft.Leader {
		return nil
	}
	members, err := n.Members()
	if err != nil {
		return nil
	}
	term := n.raft.CurrentTerm()
	now := time.Since(n.acks.base)
	var out []FollowerInfo
	for _, m := range members {
		if m.ID == n.cfg.ID {
			continue
		}
		fi := FollowerInfo{ID: m.ID, RaftAddr: m.Addr}
		n.acks.mu.Lock()
		if a, ok := n.acks.by[raft.ServerID(m.ID)]; ok && a.term == term {
			fi.Acked, fi.Match, fi.Since = true, a.match, now-a.sent
		}
		n.acks.mu.Unlock()
		out = append(out, fi)
	}
	return out
}

// LastContact is when this follower last heard from its leader (zero:
// never), as raft keeps it.
func (n *Node) LastContact() time.Time { return n.raft.LastContact() }

// HeartbeatTimeout is how long a follower waits for its leader.
func (n *Node) HeartbeatTimeout() time.Duration { return DefaultHeartbeatTimeout }
