package raftfsm

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Leadership balancing. Each partition elects its own leader, and the
// first node up tends to win them all. Every node looks at how the
// leaderships are spread, every balanceEvery (with jitter), and when it
// leads at least two more groups than the voter leading fewest, hands
// one of its groups to that voter (Raft's leadership transfer), after
// checking the voter answers on its cluster port. Each transfer lowers
// the sum of the squared counts, even when two nodes hand one to the same
// voter at once, so the spread settles, and a node that returns gets its
// share back the same way.

// balanceEvery is the mean interval between two looks at the spread.
const balanceEvery = 2 * time.Second

// balanceProbe bounds the check that the chosen voter is up: a stopped
// or paused node must not be handed a group (the transfer would hold
// the group's writes until it timed out).
const balanceProbe = 300 * time.Millisecond

func (h *Host) balanceLoop() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case <-time.After(balanceEvery/2 + rand.N(balanceEvery)):
			h.balanceOnce()
		}
	}
}

// Leaderships counts, per voter of partition 0's configuration, the
// groups it leads as this node knows; known is false while some group
// has no known leader.
func (h *Host) Leaderships() (counts map[string]int, known bool) {
	members, err := h.groups[0].Members()
	if err != nil {
		return nil, false
	}
	counts = map[string]int{}
	for _, m := range members {
		if m.Voter {
			counts[m.ID] = 0
		}
	}
	known = true
	for _, g := range h.groups {
		id, _ := g.Leader()
		if id == "" {
			known = false
			continue
		}
		counts[id]++
	}
	return counts, known
}

// balanceOnce makes at most one transfer; it reports the partition it
// moved, or -1.
func (h *Host) balanceOnce() int {
	if len(h.groups) < 2 {
		return -1
	}
	counts, known := h.Leaderships()
	self := h.cfg.ID
	if !known || counts[self] < 2 {
		return -1
	}
	ids := make([]string, 0, len(counts))
	for id := range counts {
		if id != self {
			ids = append(ids, id)
		}
	}
	// Fewest first; ties in id order, so nodes looking at once agree.
	slices.SortFunc(ids, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[a] - counts[b]
		}
		return strings.Compare(a, b)
	})
	for _, target := range ids {
		if counts[self]-counts[target] < 2 {
			return -1
		}
		if p := h.transferOne(target); p >= 0 {
			return p
		}
	}
	return -1
}

// transferOne hands target one group this node leads in which target is
// a voter, once target answers a probe; it returns the partition, or -1.
func (h *Host) transferOne(target string) int {
	for i := len(h.groups) - 1; i >= 0; i-- {
		n := h.groups[i]
		if !n.IsLeader() {
			continue
		}
		addr := n.voterAddr(target)
		if addr == "" {
			continue
		}
		d := h.mux.dialer
		d.Timeout = balanceProbe
		if d.Probe(addr, target) != nil {
			return -1
		}
		if n.TransferLeadership(target) == nil {
			return i
		}
		return -1
	}
	return -1
}

// voterAddr returns the cluster address of the voter id in the group's
// configuration; empty when it is not a voter.
func (n *Node) voterAddr(id string) string {
	members, err := n.Members()
	if err != nil {
		return ""
	}
	for _, m := range members {
		if m.ID == id && m.Voter {
			return m.Addr
		}
	}
	return ""
}
