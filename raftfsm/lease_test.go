package raftfsm

import (
	"errors"
	"testing"
)

// A leader of three serves reads under its lease: a burst of reads runs
// far fewer leadership rounds than reads.
func TestLeaseServesReadsLocally(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	leader := leaderOf(t, nodes)
	waitFor(t, "a lease", leader.leaseHeld)
	before := leader.lease.rounds.Load()
	const reads = 2000
	for i := 0; i < reads; i++ {
		if err := leader.ReadBarrier(); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
	}
	if rounds := leader.lease.rounds.Load() - before; rounds > reads/20 {
		t.Fatalf("%d reads ran %d leadership rounds: the lease is not used", reads, rounds)
	}
	if !leader.Stats().LeaseHeld {
		t.Error("Stats does not show the lease")
	}
}

// Cut off from its followers, a leader's lease lapses and its reads fail
// (rather than being served from a state a new majority may have left).
func TestLeaseLapsesWithoutQuorum(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	leader := leaderOf(t, nodes)
	waitFor(t, "a lease", leader.leaseHeld)
	for _, n := range nodes {
		if n != leader {
			n.Close()
		}
	}
	waitFor(t, "reads to be refused", func() bool {
		return errors.Is(leader.ReadBarrier(), ErrNoLeader)
	})
	if leader.leaseHeld() {
		t.Error("lease still held after reads were refused")
	}
}

// Every node of a multi-voter configuration remembers it, so that after a
// restart it waits out any lease it may have helped grant before voting.
func TestNodesRememberMultiVoter(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	leaderOf(t, nodes)
	for _, n := range nodes {
		waitFor(t, n.cfg.ID+" to note the voters", func() bool {
			v, err := n.wal.GetUint64(keyMultiVoter)
			return err == nil && v == 1
		})
	}
	single := openLeader(t, testConfig(t, t.TempDir()))
	defer single.Close()
	if single.wasMultiVoter() {
		t.Error("a single node believes it had peers")
	}
}
