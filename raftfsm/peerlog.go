package raftfsm

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// peerLog keeps raft's log readable: an unreachable peer is logged once
// when it goes (raft's own line) and once when it is back (ours), rather
// than at every heartbeat retry; and a single node's election at startup,
// which is no news, is not a warning.
type peerLog struct {
	// single: the node started as the only voter and has not led yet.
	single atomic.Bool
	mu     sync.Mutex
	down   map[string]bool // message and peer of a failure already logged
}

// repeated are raft's per-peer failure lines, and the argument that
// names the peer in each.
var repeated = map[string]string{
	"failed to heartbeat to":     "peer",
	"failed to appendEntries to": "peer",
	"failed to contact":          "server-id",
}

// exclude is the raft logger's filter (hclog.LoggerOptions.Exclude).
func (p *peerLog) exclude(_ hclog.Level, msg string, args ...interface{}) bool {
	if msg == "heartbeat timeout reached, starting election" {
		return p.single.Load()
	}
	key, ok := repeated[msg]
	if !ok {
		return false
	}
	peer := ""
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] == key {
			peer = fmt.Sprint(args[i+1])
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down == nil {
		p.down = map[string]bool{}
	}
	k := msg + "\x00" + peer
	if p.down[k] {
		return true
	}
	p.down[k] = true
	return false
}

// resumed forgets the failures logged of the peer with that id and
// address, and reports whether there were any.
func (p *peerLog) resumed(id, addr string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	any := false
	for k := range p.down {
		peer := k[strings.IndexByte(k, 0)+1:]
		if peer == id || peer == addr || strings.Contains(peer, " "+id+" ") || strings.Contains(peer, " "+addr+"}") {
			delete(p.down, k)
			any = true
		}
	}
	return any
}

// watchPeers logs a peer that is reachable again after a failure was
// logged; it runs until the node stops.
func (n *Node) watchPeers(log hclog.Logger) {
	defer n.wg.Done()
	ch := make(chan raft.Observation, 16)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.ResumedHeartbeatObservation)
		return ok
	})
	n.raft.RegisterObserver(obs)
	defer n.raft.DeregisterObserver(obs)
	for {
		select {
		case <-n.stop:
			return
		case o := <-ch:
			id := string(o.Data.(raft.ResumedHeartbeatObservation).PeerID)
			addr := ""
			if f := n.raft.GetConfiguration(); f.Error() == nil {
				for _, s := range f.Configuration().Servers {
					if string(s.ID) == id {
						addr = string(s.Address)
					}
				}
			}
			if n.peers.resumed(id, addr) {
				log.Warn("peer reachable again", "peer", id, "addr", addr)
			}
		}
	}
}
