package raftfsm

import (
	"time"

	"github.com/loomcache/loomcache/op"
)

// Active expiry, as Redis's activeExpireCycle samples keys with a TTL: the
// leader samples each database, and proposes the deletion of the expired
// keys it finds in one ExpireKeys op per database. Followers never delete
// on their own clock.
const (
	expireEvery  = 100 * time.Millisecond
	expireSample = 20 // keys found expired per database per round, before repeating
	expireRounds = 16 // repeat a database while a round finds a full sample
)

func (n *Node) expireRound() {
	if n.ready() {
		n.expireOnce()
	}
}

// every runs fn each d until Close; it is one of the node's loops
// (n.wg).
func (n *Node) every(d time.Duration, fn func()) {
	defer n.wg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		fn()
	}
}

func (n *Node) expireOnce() {
	ks := n.Store()
	for db := 0; db < ks.NumDBs(); db++ {
		for round := 0; round < expireRounds; round++ {
			now := n.Now()
			ks.RLock()
			keys := ks.DB(db).SampleExpired(expireSample, now)
			ks.RUnlock()
			if len(keys) == 0 {
				break
			}
			if _, err := n.Propose(&op.Op{Type: op.ExpireKeys, DB: db, Now: now, Args: keys}); err != nil {
				return
			}
			if len(keys) < expireSample {
				break
			}
		}
	}
}
