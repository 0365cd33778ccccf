package raftfsm

import (
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// The leader lease: how a leader of several voters serves linearizable
// reads locally (docs/consistency.md states the argument).
//
// hashicorp/raft has no lease API, so it is built here. A follower that
// knows a leader rejects every vote request (raft.go requestVote), and
// forgets the leader only when it has heard nothing for at least its
// heartbeat timeout. So once a quorum has accepted requests this leader
// sent at s or later (acks.go notes when each peer's accepted request
// was sent: a VerifyLeader success alone may rest on old ones), no other
// node can collect a quorum of votes before s + HeartbeatTimeout. The
// lease runs to s + leaseFraction × HeartbeatTimeout: the rest is the margin for
// clock-rate drift between nodes and for scheduling. Two things would
// break the argument, and are excluded: leadership transfers (which make
// followers vote despite a leader; a leader gives up its lease for the
// rest of its term before it starts one, transfer.go) and a
// follower that restarts and votes before its heartbeat timeout (Open
// waits a heartbeat timeout before starting Raft after a restart; see
// wasMultiVoter).
const (
	leaseNum, leaseDen = 4, 5 // leaseFraction = 4/5
)

// leaseGrant is a lease: valid in term until `until` (monotonic, since
// leaseState.base).
type leaseGrant struct {
	term  uint64
	until time.Duration
}

type leaseState struct {
	base     time.Time // monotonic origin
	duration time.Duration
	renewAt  time.Duration // renew when less than this is left
	grant    atomic.Pointer[leaseGrant]
	rounds   atomic.Uint64
	// noLeaseTerm is a term in which this node started a leadership
	// transfer: no lease holds in it.
	noLeaseTerm atomic.Uint64

	// Reads that find no lease wait for the next leadership round that
	// starts after they arrived; one round serves all who wait for it.
	verify rounds
}

func (l *leaseState) init(heartbeat time.Duration) {
	l.base = time.Now()
	l.duration = heartbeat * leaseNum / leaseDen
	l.renewAt = l.duration / 2
}

func (l *leaseState) now() time.Duration { return time.Since(l.base) }

// leaseHeld reports whether this node's lease covers a read now.
func (n *Node) leaseHeld() bool {
	g := n.lease.grant.Load()
	term := n.raft.CurrentTerm()
	return g != nil && g.term == term && n.lease.now() < g.until && n.lease.noLeaseTerm.Load() != term
}

// confirmLeadership waits for a leadership round that starts after the
// call, sharing it with every other read that waits meanwhile.
func (n *Node) confirmLeadership() error {
	_, err := n.lease.verify.join(n.gate, func() (uint64, error) { return 0, n.verifyRound() })
	return err
}

// verifyRound checks with a quorum that this node still leads. The
// acknowledgements that prove it date from when their requests were
// sent (acks.go): since, the newest time a quorum is known to have
// accepted this leader. Reads that arrived before the round started are
// served if since is after that start (the quorum heard from this leader
// after they arrived), or if the lease from since still runs. A round
// that proves neither (its votes answered requests sent before a pause)
// is run again: the heartbeats it triggered bring answers sent now.
func (n *Node) verifyRound() error {
	// Every read the round serves arrived before its first try: an answer
	// to a request sent after t0 proves leadership to all of them, in any
	// try. (Judged against each try's own start, a try could rest on the
	// answer to the heartbeat the try before it triggered, sent just
	// before it began, and so on: in a transfer's term, where no lease
	// helps, every try failed so on a busy machine.)
	t0 := n.lease.now()
	for range verifyTries {
		n.lease.rounds.Add(1)
		term := n.raft.CurrentTerm()
		if err := n.raft.VerifyLeader().Error(); err != nil {
			return ErrNoLeader
		}
		voters, err := n.voterIDs()
		if err != nil {
			return ErrNoLeader
		}
		now := n.lease.now()
		since, ok := n.acks.quorumSince(term, raft.ServerID(n.cfg.ID), voters, now)
		if !ok || n.raft.CurrentTerm() != term {
			continue
		}
		until, held, proven := n.lease.judge(t0, since, now, n.lease.noLeaseTerm.Load() == term)
		if held {
			n.lease.grant.Store(&leaseGrant{term: term, until: until})
		}
		if proven {
			return nil
		}
	}
	return ErrNoLeader
}

// judge decides on a round that began at t0 and found, at now, a quorum
// accepting this leader since since: the lease's end, whether it holds,
// and whether the round proves leadership to the reads waiting for it.
// In a term where a transfer began no lease holds: only answers to
// requests sent after the round began prove leadership.
func (l *leaseState) judge(t0, since, now time.Duration, transferring bool) (until time.Duration, held, proven bool) {
	until = since + l.duration
	held = now < until && !transferring
	return until, held, held || since >= t0
}

// verifyTries bounds the rounds one verifyRound runs: the first after a
// pause may count stale answers, the next ones count fresh heartbeats.
const verifyTries = 3

// voterIDs returns the voters of the latest configuration.
func (n *Node) voterIDs() ([]raft.ServerID, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	var ids []raft.ServerID
	for _, s := range f.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			ids = append(ids, s.ID)
		}
	}
	return ids, nil
}

// leaseLoop renews the lease well before it ends, so reads on a busy
// leader rarely wait for a round, and keeps the multi-voter note current.
func (n *Node) leaseLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.lease.renewAt / 2)
	defer t.Stop()
	knownMulti := -1
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		n.noteVoters(&knownMulti)
		if !n.ready() || !n.multiVoter.Load() {
			continue
		}
		if g := n.lease.grant.Load(); g != nil && g.term == n.raft.CurrentTerm() && g.until-n.lease.now() > n.lease.renewAt {
			continue
		}
		n.confirmLeadership()
	}
}

// keyMultiVoter is the stable-store key remembering whether this node was
// last part of a configuration with several voters.
var keyMultiVoter = []byte("loomcache_multi_voter")

// wasMultiVoter reports whether this node's last known configuration had
// several voters (or its bootstrap names several members).
func (n *Node) wasMultiVoter() bool {
	if len(n.cfg.Members) > 1 {
		return true
	}
	v, err := n.wal.GetUint64(keyMultiVoter)
	return err == nil && v == 1
}

// noteVoters records, when it changes, whether the configuration has
// several voters, for wasMultiVoter after a restart.
func (n *Node) noteVoters(last *int) {
	multi := 0
	if n.voters() > 1 {
		multi = 1
	}
	if multi != *last {
		if n.wal.SetUint64(keyMultiVoter, uint64(multi)) == nil {
			*last = multi
		}
	}
}
