package raftfsm

import (
	"errors"
	"fmt"

	"github.com/hashicorp/raft"
)

// Leadership transfer (RAFT.TRANSFER): the leader brings a voter's log up
// to date and tells it to start an election at once, which the other
// voters grant although they know a leader. That breaks the lease's
// premise (lease.go), so a leader that starts a transfer gives up its
// lease for the rest of its term first: from then on each read it serves
// confirms its leadership with a quorum round, which is sound whoever
// votes for whom.

// Errors of TransferLeadership besides ErrNoLeader.
var (
	ErrUnknownNode = errors.New("unknown node id")
	ErrNotVoter    = errors.New("not a voter")
)

// TransferLeadership hands this node's leadership to the voter id, or,
// with id empty, to the voter whose log is most up to date, and returns
// once this node has stepped down. Naming this node itself changes
// nothing. ErrNoLeader: this node does not lead and nothing was asked;
// forward the request to the leader.
func (n *Node) TransferLeadership(id string) error {
	if !n.gate.enter() {
		return ErrNoLeader
	}
	defer n.gate.leave()
	if n.raft.State() != raft.Leader {
		return ErrNoLeader
	}
	if id == n.cfg.ID {
		return nil
	}
	var target *raft.Server
	if id != "" {
		members := n.raft.GetConfiguration()
		if err := members.Error(); err != nil {
			return classify(err)
		}
		for _, s := range members.Configuration().Servers {
			if string(s.ID) == id {
				target = &s
				break
			}
		}
		switch {
		case target == nil:
			return fmt.Errorf("%w '%s'", ErrUnknownNode, id)
		case target.Suffrage != raft.Voter:
			return fmt.Errorf("node '%s' is %w", id, ErrNotVoter)
		}
	} else if n.voters() < 2 {
		return fmt.Errorf("no voter to transfer the leadership to: this node is the only one")
	}
	// Before the target can collect a vote: no read of this term may
	// rely on the lease any longer.
	n.lease.noLeaseTerm.Store(n.raft.CurrentTerm())
	var f raft.Future
	if target == nil {
		f = n.raft.LeadershipTransfer()
	} else {
		f = n.raft.LeadershipTransferToServer(target.ID, target.Address)
	}
	err := f.Error()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNoLeader
	case errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return errors.New("a leadership transfer is already in progress")
	}
	return fmt.Errorf("leadership transfer failed: %v", err)
}
