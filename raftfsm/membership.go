package raftfsm

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Membership: the Raft configuration's servers, and the changes to it a
// leader makes (RAFT.NODE ADD/REMOVE, --join). A follower cannot change
// the configuration; callers forward the request to the leader.

// MemberInfo is one server of the Raft configuration.
type MemberInfo struct {
	ID    string
	Addr  string // advertised cluster address
	Voter bool   // a voter, not a nonvoter
}

// Leader returns the id and advertised cluster address of the leader
// this node knows of; empty when none is known.
func (n *Node) Leader() (id, addr string) {
	a, i := n.raft.LeaderWithID()
	return string(i), string(a)
}

// Members returns the servers of the latest Raft configuration this node
// has (committed or not), in configuration order.
func (n *Node) Members() ([]MemberInfo, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var out []MemberInfo
	for _, s := range f.Configuration().Servers {
		out = append(out, MemberInfo{ID: string(s.ID), Addr: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// ErrBadMember is a membership change that does not make sense.
var ErrBadMember = errors.New("bad member")

// ErrProbe is a node that could not be added: it did not answer at its
// cluster address as that node, with the cluster's credentials.
var ErrProbe = errors.New("node not added: no answer on its cluster port with the cluster's credentials")

// probeTimeout bounds the probe of a node to be added.
const probeTimeout = 5 * time.Second

// AddVoter adds (or re-addresses) the voter id at the advertised cluster
// address addr, and returns once the new configuration is committed.
// ErrNoLeader: this node does not lead and nothing changed; forward the
// request to the leader.
//
// The node must first answer a probe at addr, as id, with the cluster's
// secret and TLS credentials (ErrProbe otherwise, and nothing changed):
// a voter that cannot be reached would count against the quorum, and
// whoever can send RAFT.NODE ADD could otherwise make a cluster of two
// unable to commit by adding one.
func (n *Node) AddVoter(id, addr string) error {
	if id == "" || addr == "" {
		return fmt.Errorf("%w: empty id or address", ErrBadMember)
	}
	if n.raft.State() != raft.Leader {
		return ErrNoLeader // a follower forwards the request, and probes nothing
	}
	// Outside the gate: a probe of an unresponsive address must not hold
	// Close up.
	d := n.mux.dialer
	d.Timeout = probeTimeout
	if err := d.Probe(addr, id); err != nil {
		return fmt.Errorf("%w: node %s: %v", ErrProbe, id, err)
	}
	if !n.gate.enter() {
		return ErrNoLeader
	}
	defer n.gate.leave()
	if n.raft.State() != raft.Leader {
		return ErrNoLeader
	}
	// Reads must verify leadership with a quorum from the moment a
	// second voter may exist (see multiVoter).
	n.multiVoter.Store(true)
	err := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, applyTimeout).Error()
	n.multiVoter.Store(n.voters() > 1)
	if err != nil {
		return classify(err)
	}
	return nil
}

// RemoveServer removes server id from the configuration and returns once
// the change is committed. A removed node shuts its Raft down once it
// applies the change (hashicorp/raft's ShutdownOnRemove), a removed leader
// included; its clients then get ErrNoLeader. Removing an id that is not a
// member changes nothing. ErrNoLeader as for AddVoter.
func (n *Node) RemoveServer(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty id", ErrBadMember)
	}
	if !n.gate.enter() {
		return ErrNoLeader
	}
	defer n.gate.leave()
	if n.raft.State() != raft.Leader {
		return ErrNoLeader
	}
	err := n.raft.RemoveServer(raft.ServerID(id), 0, applyTimeout).Error()
	n.multiVoter.Store(n.voters() > 1)
	if err != nil {
		return classify(err)
	}
	return nil
}

// Advertise returns the cluster address this node is known by
// (--raft-advertise, or the address it listens on).
func (n *Node) Advertise() string { return string(n.trans.LocalAddr()) }
