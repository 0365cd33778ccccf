package raftfsm

import (
	"strconv"
	"time"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// Active expiry, as Redis's activeExpireCycle samples keys with a TTL: the
// leader samples each database, and proposes the deletion of the expired
// keys it finds in one ExpireKeys op per database, and of the expired
// hash fields it finds (Redis 7.4's field expiry) in one HExpireFields
// op. Followers never delete on their own clock.
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
		n.expireFields(ks, db)
	}
}

// expireFields is expireOnce's round over db's hashes with field
// deadlines.
func (n *Node) expireFields(ks *keyspace.Store, db int) {
	for round := 0; round < expireRounds; round++ {
		now := n.Now()
		ks.RLock()
		sample := ks.DB(db).SampleExpiredFields(expireSample, now)
		ks.RUnlock()
		if len(sample) == 0 {
			return
		}
		var args [][]byte
		found := 0
		for _, s := range sample {
			args = append(args, s.Key, strconv.AppendInt(nil, int64(len(s.Fields)), 10))
			args = append(args, s.Fields...)
			found += len(s.Fields)
		}
		if _, err := n.Propose(&op.Op{Type: op.HExpireFields, DB: db, Now: now, Args: args}); err != nil {
			return
		}
		if found < expireSample {
			return
		}
	}
}
