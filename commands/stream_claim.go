package commands

// XCLAIM and XAUTOCLAIM: proposed as given, parsed and applied by their
// appliers in Redis's order (the key and group are looked up before most
// arguments are judged), with idle times judged against the op's clock.

import (
	"errors"
	"math"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

var errAutoClaimCount = errors.New("ERR COUNT must be > 0")

func cmdXClaim(c *Ctx) {
	c.propose(&op.Op{Type: op.XClaim, DB: c.S.DB, Args: c.Args[1:]})
}

func cmdXAutoClaim(c *Ctx) {
	c.propose(&op.Op{Type: op.XAutoClaim, DB: c.S.DB, Args: c.Args[1:]})
}

// claimGroup looks up an XCLAIM's or XAUTOCLAIM's stream and group.
func claimGroup(db *keyspace.DB, o *op.Op) (*keyspace.Stream, *keyspace.StreamGroup, error) {
	s, err := writableStream(db, o.Args[0], o.Now)
	if err != nil {
		return nil, nil, err
	}
	var g *keyspace.StreamGroup
	if s != nil {
		g = s.Group(o.Args[1])
	}
	if g == nil {
		return nil, nil, errNoKeyOrGroup(o.Args[0], o.Args[1])
	}
	return s, g, nil
}

// claimed is what XCLAIM or XAUTOCLAIM claimed: entries, or ids alone.
type claimed struct {
	justID  bool
	entries streamEntries
}

func (r claimed) writeReply(w *resp.Writer) {
	if !r.justID {
		r.entries.writeReply(w)
		return
	}
	w.Array(len(r.entries))
	for _, e := range r.entries {
		w.Bulk(e.ID.Append(nil))
	}
}

// claimArgs are XCLAIM's options.
type claimArgs struct {
	minIdle, deliveryTime, retryCount int64
	force, justID                     bool
	lastID                            keyspace.StreamID
	ids                               []keyspace.StreamID
}

func parseXClaim(o *op.Op) (*claimArgs, error) {
	a := &claimArgs{deliveryTime: -1, retryCount: -1}
	n, valid := parseInt(o.Args[3])
	if !valid {
		return nil, errors.New("ERR Invalid min-idle-time argument for XCLAIM")
	}
	a.minIdle = max(n, 0)
	j := 4
	for ; j < len(o.Args); j++ {
		id, valid := parseStrictID(o.Args[j])
		if !valid {
			break
		}
		a.ids = append(a.ids, id)
	}
	for ; j < len(o.Args); j++ {
		more := len(o.Args) - 1 - j
		opt := o.Args[j]
		intOpt := func(name string) (int64, error) {
			j++
			v, valid := parseInt(o.Args[j])
			if !valid {
				return 0, errorf("ERR Invalid %s option argument for XCLAIM", name)
			}
			return v, nil
		}
		var err error
		switch {
		case eq(opt, "FORCE"):
			a.force = true
		case eq(opt, "JUSTID"):
			a.justID = true
		case eq(opt, "IDLE") && more > 0:
			var idle int64
			idle, err = intOpt("IDLE")
			a.deliveryTime = o.Now - idle
		case eq(opt, "TIME") && more > 0:
			a.deliveryTime, err = intOpt("TIME")
		case eq(opt, "RETRYCOUNT") && more > 0:
			a.retryCount, err = intOpt("RETRYCOUNT")
		case eq(opt, "LASTID") && more > 0:
			j++
			a.lastID, err = parseStrictIDErr(o.Args[j])
		default:
			return nil, errorf("ERR Unrecognized XCLAIM option '%s'", cstr(opt))
		}
		if err != nil {
			return nil, err
		}
	}
	if a.deliveryTime < 0 || a.deliveryTime > o.Now {
		a.deliveryTime = o.Now
	}
	return a, nil
}

func applyXClaim(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	if _, _, err := claimGroup(db, o); err != nil {
		return err
	}
	a, err := parseXClaim(o)
	if err != nil {
		return err
	}
	res := claimed{justID: a.justID, entries: streamEntries{}}
	created := false
	db.Update(o.Args[0], o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
		s := obj.(*keyspace.Stream)
		g := s.Group(o.Args[1])
		if g.LastID.Less(a.lastID) {
			g.LastID = a.lastID
		}
		var cons *keyspace.StreamConsumer
		for _, id := range a.ids {
			p := g.Pending(id)
			e, exists := s.Get(id)
			if !exists {
				if p != nil {
					g.Ack(id) // gone from the stream: gone from the PEL
				}
				continue
			}
			if p == nil && !a.force {
				continue
			}
			if p != nil && a.minIdle > 0 && o.Now-p.DeliveryTime < a.minIdle {
				continue
			}
			if cons == nil {
				cons, created = g.Touch(o.Args[2], o.Now, true)
			}
			if p == nil {
				p = g.Deliver(id, cons, a.deliveryTime, true)
				p.DeliveryCount = 1 // FORCE's new entry, as streamCreateNACK makes it
			} else {
				p = g.Deliver(id, cons, a.deliveryTime, true)
			}
			switch {
			case a.retryCount >= 0:
				p.DeliveryCount = uint64(a.retryCount)
			case !a.justID:
				p.DeliveryCount++
			}
			res.entries = append(res.entries, e.Copy())
		}
	})
	if created {
		db.Notify(keyspace.EventStream, "xgroup-createconsumer", o.Args[0])
	}
	return res
}

// autoClaimed is XAUTOCLAIM's reply: the next start, the claimed, and
// the ids of deleted entries dropped from the PEL.
type autoClaimed struct {
	next    keyspace.StreamID
	claimed claimed
	deleted []keyspace.StreamID
}

func (r *autoClaimed) writeReply(w *resp.Writer) {
	w.Array(3)
	w.Bulk(r.next.Append(nil))
	r.claimed.writeReply(w)
	w.Array(len(r.deleted))
	for _, id := range r.deleted {
		w.Bulk(id.Append(nil))
	}
}

// autoClaimAttempts is Redis's attempts_factor: XAUTOCLAIM looks at most
// COUNT times this many pending entries.
const autoClaimAttempts = 10

func applyXAutoClaim(ks *keyspace.Store, o *op.Op) any {
	n, valid := parseInt(o.Args[3])
	if !valid {
		return errors.New("ERR Invalid min-idle-time argument for XAUTOCLAIM")
	}
	minIdle := max(n, 0)
	start, ex, valid := parseInterval(o.Args[4], 0)
	if !valid {
		return errStreamID
	}
	if ex {
		if start, valid = start.Incr(); !valid {
			return errStartInterval
		}
	}
	count, justID := int64(100), false
	for j := 5; j < len(o.Args); j++ {
		switch {
		case eq(o.Args[j], "COUNT") && j+1 < len(o.Args):
			v, valid := parseInt(o.Args[j+1])
			if !valid || v < 1 || v > math.MaxInt64/16 {
				return errAutoClaimCount
			}
			count = v
			j++
		case eq(o.Args[j], "JUSTID"):
			justID = true
		default:
			return errSyntax
		}
	}
	db := ks.DB(o.DB)
	if _, _, err := claimGroup(db, o); err != nil {
		return err
	}
	res := &autoClaimed{claimed: claimed{justID: justID, entries: streamEntries{}}, deleted: []keyspace.StreamID{}}
	created := false
	db.Update(o.Args[0], o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
		s := obj.(*keyspace.Stream)
		g := s.Group(o.Args[1])
		var cons *keyspace.StreamConsumer
		attempts := count * autoClaimAttempts
		i := g.PendingFrom(start)
		for ; attempts > 0 && count > 0 && i < len(g.PEL()); attempts-- {
			p := g.PEL()[i]
			e, exists := s.Get(p.ID)
			if !exists {
				res.deleted = append(res.deleted, p.ID)
				g.Ack(p.ID)
				count--
				continue
			}
			i++
			if minIdle > 0 && o.Now-p.DeliveryTime < minIdle {
				continue
			}
			if cons == nil {
				cons, created = g.Touch(o.Args[2], o.Now, true)
			}
			g.Deliver(p.ID, cons, o.Now, justID)
			res.claimed.entries = append(res.claimed.entries, e.Copy())
			count--
		}
		if i < len(g.PEL()) {
			res.next = g.PEL()[i].ID
		}
	})
	if created {
		db.Notify(keyspace.EventStream, "xgroup-createconsumer", o.Args[0])
	}
	return res
}
