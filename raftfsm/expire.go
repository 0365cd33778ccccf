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
	if paused := n.cfg.ExpiryPaused; paused != nil && paused() {
		return
	}
	if n.ready() {
		start := time.Now()
		n.expireOnce()
		if f := n.cfg.ExpireCycle; f != nil {
			f(time.Since(start))
		}
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
		if !n.expireRounds(ks, db, keysOp) || !n.expireRounds(ks, db, fieldsOp) {
			return
		}
	}
}

// expireRounds proposes the ops sample builds from database db (with the
// number of keys or fields found expired) while a round finds a full
// sample, up to expireRounds; false if a proposal failed (leadership
// lost, closing).
func (n *Node) expireRounds(ks *keyspace.Store, db int, sample func(d *keyspace.DB, db int, now int64) (*op.Op, int)) bool {
	for round := 0; round < expireRounds; round++ {
		now := n.Now()
		ks.RLock()
		o, found := sample(ks.DB(db), db, now)
		ks.RUnlock()
		if found == 0 {
			return true
		}
		if _, err := n.Propose(o); err != nil {
			return false
		}
		if found < expireSample {
			return true
		}
	}
	return true
}

// keysOp samples d's keys with deadlines: one ExpireKeys op.
func keysOp(d *keyspace.DB, db int, now int64) (*op.Op, int) {
	keys := d.SampleExpired(expireSample, now)
	return &op.Op{Type: op.ExpireKeys, DB: db, Now: now, Args: keys}, len(keys)
}

// fieldsOp samples d's hashes with field deadlines: one HExpireFields op
// (Args: key, count, fields..., as op.HExpireFields describes).
func fieldsOp(d *keyspace.DB, db int, now int64) (*op.Op, int) {
	var args [][]byte
	found := 0
	for _, s := range d.SampleExpiredFields(expireSample, now) {
		args = append(args, s.Key, strconv.AppendInt(nil, int64(len(s.Fields)), 10))
		args = append(args, s.Fields...)
		found += len(s.Fields)
	}
	return &op.Op{Type: op.HExpireFields, DB: db, Now: now, Args: args}, found
}
