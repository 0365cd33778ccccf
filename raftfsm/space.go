package raftfsm

import (
	"log"
	"time"
)

// The host's watch on its disk (persistence.Space): every spaceEvery it
// keeps the ballast written while there is room, and a leader whose disk
// is short of space hands its leadership on, so a cluster whose other
// voters have room keeps taking writes (a full node refuses them: it
// could not store its own log).
const (
	spaceEvery = time.Second
	// handOffEvery spaces the hand-offs of a node that stays short (when
	// every node is, leadership would go round).
	handOffEvery = 10 * time.Second
)

func (h *Host) spaceLoop() {
	defer h.wg.Done()
	space := h.db.Space()
	t := time.NewTicker(spaceEvery)
	defer t.Stop()
	var lastHandOff time.Time
	reported := false
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		if err := space.KeepBallast(); err != nil && !reported {
			log.Printf("disk: %v", err)
			reported = true
		}
		if !space.Low() || time.Since(lastHandOff) < handOffEvery {
			continue
		}
		for _, n := range h.groups {
			if n.IsLeader() && n.voters() > 1 {
				lastHandOff = time.Now()
				if err := n.TransferLeadership(""); err != nil {
					log.Printf("disk: %v; handing over leadership failed: %v", space.Err(), err)
				}
			}
		}
	}
}

// DiskErr returns why this node refuses writes for its disk, nil when it
// does not (persistence.Space).
func (n *Node) DiskErr() error { return n.wal.Space().Admit(0) }
