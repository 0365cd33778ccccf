package commands

// XREADGROUP, XACK and XPENDING. A group read is a write: one op whose
// applier delivers the entries (PEL, last id, read counter, consumer seen
// time, all timed by the op's clock), so an entry delivered to one
// consumer is never delivered as new to another, on any node, across a
// leader change. A blocked XREADGROUP waits on its node and, woken by an
// applied change to one of its keys, proposes the op again.

import (
	"errors"
	"sort"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

var (
	errNoGroupBlocked = errors.New("NOGROUP the consumer group this client was blocked on no longer exists")
	errStreamGone     = errors.New("UNBLOCKED the stream key no longer exists")
)

// cmdXReadGroup is XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK]
// STREAMS key... id...
func cmdXReadGroup(c *Ctx) {
	a, err := parseXRead(c, true)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	args := make([][]byte, 0, 2+2*len(a.keys))
	args = append(args, cloneArgs([][]byte{a.group, a.consumer})...)
	args = append(append(args, a.keys...), a.ids...)
	o := op.Op{Type: op.XReadGroup, DB: c.S.DB, Int: a.count, Args: args}
	if a.noAck {
		o.Flags |= op.XNoAck
	}
	if !a.block {
		c.propose(&o)
		return
	}
	// Checked here first, under the read barrier: an error or nothing
	// to deliver needs no write (and the errors come in Redis's order).
	var err2 error
	if !c.streamRead(func(db *keyspace.DB) {
		_, err2 = checkGroupReads(db, a.group, a.keys, a.ids, false, false, c.Now())
	}) {
		return
	}
	if err2 != nil {
		c.W.Error(err2.Error())
		return
	}
	b := &blockingPop{kind: keyspace.KindStream, keys: a.keys, deadline: a.deadline, all: true,
		timedOut: writeNullArray, gone: func(c *Ctx) { c.W.Error(errStreamGone.Error()) }}
	b.try = func(keys [][]byte, woken bool) (any, error) {
		m := o
		m.Now = c.Node.Now()
		if !woken {
			if serves, err := readGroupServes(c, &o); err != nil {
				return err, nil
			} else if !serves {
				return nullArray{}, nil // nothing to deliver: no write, wait
			}
		}
		if woken {
			// Only the key that changed, and ">" (a history read never
			// blocks).
			m.Args = [][]byte{o.Args[0], o.Args[1], keys[0], []byte(">")}
			m.Flags |= op.XBlocked
			if m.Int == 0 {
				m.Int = xreadBlockedCount
			}
		}
		return c.Node.Propose(&m)
	}
	b.run(c)
}

// groupRead is one stream of an XREADGROUP as checked.
type groupRead struct {
	key     []byte
	history bool
	from    keyspace.StreamID
}

// checkGroupReads checks an XREADGROUP's streams as xreadCommand does,
// in order: each key a stream holding the group, each id ">" or valid.
// An applier's check (write) may delete an expired key; a read's never
// changes anything.
func checkGroupReads(db *keyspace.DB, group []byte, keys, ids [][]byte, blocked, write bool, now int64) ([]groupRead, error) {
	reads := make([]groupRead, len(keys))
	for i, key := range keys {
		s, err := streamAt(db, key, now, write)
		if err != nil {
			return nil, err
		}
		if s == nil || s.Group(group) == nil {
			if blocked {
				return nil, errNoGroupBlocked
			}
			return nil, errorf("NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with GROUP option",
				cstr(key), cstr(group))
		}
		reads[i].key = key
		switch id := ids[i]; string(id) {
		case "$":
			return nil, errXReadDollar
		case ">":
		default:
			var valid bool
			if reads[i].from, valid = parseStrictID(id); !valid {
				return nil, errStreamID
			}
			// After the id, as for ">"; past the largest, from 0-0 (as
			// streamIncrID wraps).
			reads[i].from, _ = reads[i].from.Incr()
			reads[i].history = true
		}
	}
	return reads, nil
}

// servesNew reports whether a ">" read of s has entries for the group.
func servesNew(s *keyspace.Stream, g *keyspace.StreamGroup) bool {
	return s.Len() > 0 && g.LastID.Less(s.LastLive())
}

func applyXReadGroup(ks *keyspace.Store, o *op.Op) any {
	group, consumer := o.Args[0], o.Args[1]
	n := (len(o.Args) - 2) / 2
	keys, ids := o.Args[2:2+n], o.Args[2+n:]
	db := ks.DB(o.DB)
	reads, err := checkGroupReads(db, group, keys, ids, o.Flags&op.XBlocked != 0, true, o.Now)
	if err != nil {
		return err
	}
	res := &xreadResult{}
	for _, r := range reads {
		s, _ := writableStream(db, r.key, o.Now)
		g := s.Group(group)
		if !r.history {
			if !servesNew(s, g) {
				continue
			}
			r.from, _ = g.LastID.Incr()
		}
		var got streamEntries
		created := false
		db.Update(r.key, o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
			st := obj.(*keyspace.Stream)
			g := st.Group(group)
			var cons *keyspace.StreamConsumer
			cons, created = g.Touch(consumer, o.Now, true)
			if r.history {
				got = readHistory(st, g, cons, r.from, o.Int, o.Now)
				return
			}
			got = st.ReadNew(g, cons, r.from, o.Int, o.Flags&op.XNoAck != 0, o.Now)
		})
		if created {
			db.Notify(keyspace.EventStream, "xgroup-createconsumer", r.key)
		}
		res.keys = append(res.keys, r.key)
		res.entries = append(res.entries, got)
	}
	if len(res.keys) == 0 {
		return nullArray{}
	}
	return res
}

// readHistory is streamReplyWithRangeFromConsumerPEL: the consumer's
// pending entries from id on, each delivered again (an entry deleted
// since is its id with null fields).
func readHistory(s *keyspace.Stream, g *keyspace.StreamGroup, c *keyspace.StreamConsumer, from keyspace.StreamID, count, now int64) streamEntries {
	out := streamEntries{}
	for _, id := range c.PendingIDs() {
		if id.Less(from) {
			continue
		}
		if count > 0 && int64(len(out)) >= count {
			break
		}
		e, found := s.Get(id)
		if !found {
			out = append(out, keyspace.StreamEntry{ID: id})
			continue
		}
		out = append(out, e.Copy())
		p := g.Pending(id)
		p.DeliveryTime = now
		p.DeliveryCount++
	}
	return out
}

func cmdXAck(c *Ctx) {
	proposeWithIDs(c, op.XAck, 3, func(s *keyspace.Stream) bool { return s == nil || s.Group(c.Args[2]) == nil })
}

func applyXAck(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	s, res := existingStream(db, o)
	if s == nil {
		return res
	}
	g := s.Group(o.Args[1])
	if g == nil {
		return int64(0)
	}
	ids := make([]keyspace.StreamID, 0, len(o.Args)-2)
	hit := false
	for _, a := range o.Args[2:] {
		id, err := parseStrictIDErr(a)
		if err != nil {
			return err
		}
		ids = append(ids, id)
		hit = hit || g.Pending(id) != nil
	}
	if !hit {
		return int64(0)
	}
	var acked int64
	db.Update(o.Args[0], o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
		g := obj.(*keyspace.Stream).Group(o.Args[1])
		for _, id := range ids {
			if g.Ack(id) {
				acked++
			}
		}
	})
	return acked
}

// cmdXPending is XPENDING key group [[IDLE ms] start end count
// [consumer]].
func cmdXPending(c *Ctx) {
	args := c.Args
	if len(args) != 3 && (len(args) < 6 || len(args) > 9) {
		c.W.Error(errSyntax.Error())
		return
	}
	var start, end keyspace.StreamID
	var count, minIdle int64
	var consumer []byte
	if len(args) >= 6 {
		at := 3
		if eq(args[3], "IDLE") {
			n, valid := parseInt(args[4])
			if !valid {
				c.W.Error(errNotInt.Error())
				return
			}
			minIdle = n
			if len(args) < 8 {
				c.W.Error(errSyntax.Error())
				return
			}
			at += 2
		}
		n, valid := parseInt(args[at+2])
		if !valid {
			c.W.Error(errNotInt.Error())
			return
		}
		count = max(n, 0)
		var err error
		if start, end, err = parseRangeIDs(args[at], args[at+1]); err != nil {
			c.W.Error(err.Error())
			return
		}
		if at+3 < len(args) {
			consumer = args[at+3]
		}
	}
	readStream(c, args[1], func(s *keyspace.Stream) {
		var g *keyspace.StreamGroup
		if s != nil {
			g = s.Group(args[2])
		}
		if g == nil {
			c.W.Error(errNoKeyOrGroup(args[1], args[2]).Error())
			return
		}
		if len(args) == 3 {
			writePendingSummary(c, g)
			return
		}
		pel := g.PEL()
		if consumer != nil {
			cons := g.Consumer(consumer)
			if cons == nil {
				c.W.Array(0)
				return
			}
			pel = nil
			for _, id := range cons.PendingIDs() {
				pel = append(pel, g.Pending(id))
			}
		}
		now := c.Now()
		var out []*keyspace.PendingEntry
		for _, p := range pel[pendingFrom(pel, start):] {
			if count == 0 || end.Less(p.ID) {
				break
			}
			if minIdle != 0 && now-p.DeliveryTime < minIdle {
				continue
			}
			out = append(out, p)
			count--
		}
		c.W.Array(len(out))
		for _, p := range out {
			c.W.Array(4)
			c.W.Bulk(p.ID.Append(nil))
			c.W.BulkString(p.Consumer.Name)
			c.W.Int(max(now-p.DeliveryTime, 0))
			c.W.Int(int64(p.DeliveryCount))
		}
	})
}

// parseRangeIDs parses a start and an end as XRANGE does.
func parseRangeIDs(startArg, endArg []byte) (start, end keyspace.StreamID, err error) {
	start, ex, valid := parseInterval(startArg, 0)
	if !valid {
		return start, end, errStreamID
	}
	if ex {
		if start, valid = start.Incr(); !valid {
			return start, end, errStartInterval
		}
	}
	end, ex, valid = parseInterval(endArg, ^uint64(0))
	if !valid {
		return start, end, errStreamID
	}
	if ex {
		if end, valid = end.Decr(); !valid {
			return start, end, errEndInterval
		}
	}
	return start, end, nil
}

func writePendingSummary(c *Ctx, g *keyspace.StreamGroup) {
	pel := g.PEL()
	c.W.Array(4)
	c.W.Int(int64(len(pel)))
	if len(pel) == 0 {
		c.W.Null()
		c.W.Null()
		c.W.NullArray()
		return
	}
	c.W.Bulk(pel[0].ID.Append(nil))
	c.W.Bulk(pel[len(pel)-1].ID.Append(nil))
	n := 0
	for _, cons := range g.Consumers() {
		if cons.Pending() > 0 {
			n++
		}
	}
	c.W.Array(n)
	for _, cons := range g.Consumers() {
		if cons.Pending() > 0 {
			c.W.Array(2)
			c.W.BulkString(cons.Name)
			c.W.BulkInt(int64(cons.Pending()))
		}
	}
}

// pendingFrom is the index of the first entry of pel at or after id.
func pendingFrom(pel []*keyspace.PendingEntry, id keyspace.StreamID) int {
	return sort.Search(len(pel), func(i int) bool { return !pel[i].ID.Less(id) })
}

// readGroupServes reports whether the XREADGROUP of o would deliver
// anything (or read a history) on this node's keyspace now. A stream or
// group gone since the command's first look is answered as if it had
// gone while the command waited: the command came first.
func readGroupServes(c *Ctx, o *op.Op) (bool, error) {
	ks := c.Node.Store()
	ks.RLock()
	defer ks.RUnlock()
	db := ks.DB(o.DB)
	n := (len(o.Args) - 2) / 2
	keys := o.Args[2 : 2+n]
	for _, key := range keys {
		if s, err := streamAt(db, key, c.Now(), false); s == nil || err != nil {
			return false, errStreamGone
		}
	}
	reads, err := checkGroupReads(db, o.Args[0], keys, o.Args[2+n:], true, false, c.Now())
	if err != nil {
		return false, err
	}
	for _, r := range reads {
		s, _ := streamAt(db, r.key, c.Now(), false)
		if r.history || servesNew(s, s.Group(o.Args[0])) {
			return true, nil
		}
	}
	return false, nil
}
