package commands

import (
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/rdb"
)

// Between the keyspace's values and the rdb package's: DUMP encodes a
// value in the RDB encoding named by its OBJECT ENCODING (the keyspace
// keeps Redis's choice), so the payload is Redis's bytes; RESTORE builds
// a value through the kind's own changes under this node's limits, as
// Redis's loader converts by its configuration.

// dumpBody encodes e's value as an RDB object body (type and object).
func dumpBody(e *keyspace.Entry, now int64) []byte {
	if e.Kind() == keyspace.KindString {
		return rdb.EncodeString(e.Bytes())
	}
	switch o := e.Object().(type) {
	case *keyspace.List:
		elems := make([][]byte, 0, o.Len())
		for it := o.Iter(0, false); ; {
			x, ok := it.Next()
			if !ok {
				break
			}
			elems = append(elems, x)
		}
		return rdb.EncodeQuicklist(elems, o.NodeLens())
	case *keyspace.Set:
		ms := o.Members()
		if o.Encoding() == keyspace.EncIntset {
			if b, ok := rdb.EncodeIntset(ms); ok {
				return b
			}
		}
		return rdb.EncodeSet(ms)
	case *keyspace.Hash:
		var pairs [][]byte
		o.Each(now, func(f, v string) bool {
			pairs = append(pairs, []byte(f), []byte(v))
			return true
		})
		if o.Encoding() == keyspace.EncHashtable {
			return rdb.EncodeHash(pairs)
		}
		return rdb.EncodeHashListpack(pairs)
	case *keyspace.ZSet:
		ms := make([]rdb.ZMember, 0, o.Len())
		o.Range(0, false, func(m []byte, score float64) bool {
			ms = append(ms, rdb.ZMember{Member: m, Score: score})
			return true
		})
		if o.Encoding() == keyspace.EncListpack {
			return rdb.EncodeZSetListpack(ms)
		}
		return rdb.EncodeZSetSkiplist(ms)
	case *keyspace.Stream:
		return rdb.EncodeStream(streamToRDB(o))
	}
	return rdb.EncodeString(e.Bytes()) // a string kept as an Object
}

func streamToRDB(s *keyspace.Stream) *rdb.Stream {
	id := func(x keyspace.StreamID) rdb.StreamID { return rdb.StreamID{Ms: x.Ms, Seq: x.Seq} }
	out := &rdb.Stream{Length: uint64(s.Len()), LastID: id(s.LastID()), FirstID: id(s.FirstID()),
		MaxDeleted: id(s.MaxDeletedID()), EntriesAdded: s.EntriesAdded()}
	s.EachBlock(func(master keyspace.StreamID, fields [][]byte, entries []keyspace.StreamBlockEntry) {
		nd := rdb.StreamNode{Master: id(master), MasterFields: fields}
		for _, e := range entries {
			nd.Entries = append(nd.Entries, rdb.StreamEntry{ID: id(e.ID), Deleted: e.Deleted, Fields: e.Fields})
		}
		out.Nodes = append(out.Nodes, nd)
	})
	for _, g := range s.Groups() {
		rg := rdb.StreamGroup{Name: []byte(g.Name), LastID: id(g.LastID), EntriesRead: g.EntriesRead}
		for _, p := range g.PEL() {
			rg.PEL = append(rg.PEL, rdb.StreamPending{ID: id(p.ID), DeliveryTime: p.DeliveryTime, DeliveryCount: p.DeliveryCount})
		}
		for _, c := range g.Consumers() {
			rc := rdb.StreamConsumer{Name: []byte(c.Name), SeenTime: c.SeenTime}
			for _, x := range c.PendingIDs() {
				rc.PEL = append(rc.PEL, id(x))
			}
			rg.Consumers = append(rg.Consumers, rc)
		}
		out.Groups = append(out.Groups, rg)
	}
	return out
}

// restoreValue builds the keyspace value of a decoded payload.
func restoreValue(v rdb.Value, lim keyspace.EncodingLimits, now int64) (keyspace.Value, error) {
	switch v.Kind {
	case rdb.KindString:
		return keyspace.AdoptString(v.Str), nil
	case rdb.KindList:
		l := keyspace.NewList()
		if v.Nodes == nil { // a plain list, or one ziplist: pushed
			for _, e := range v.Elems {
				l.Push(e, true, lim.ListMaxListpackSize)
			}
		}
		at := 0
		for _, n := range v.Nodes { // a quicklist: its nodes kept
			l.AppendNode(v.Elems[at : at+n])
			at += n
		}
		return keyspace.ObjectValue(l), nil
	case rdb.KindSet:
		s := keyspace.NewSet()
		for _, m := range v.Elems {
			s.Add(m, lim.SetMaxIntsetEntries)
		}
		return keyspace.ObjectValue(s), nil
	case rdb.KindHash:
		h := keyspace.NewHash()
		for i := 0; i+1 < len(v.Elems); i += 2 {
			h.Set(v.Elems[i], v.Elems[i+1], lim, now)
		}
		return keyspace.ObjectValue(h), nil
	case rdb.KindZSet:
		z := keyspace.NewZSet()
		for _, m := range v.ZSet {
			z.Set(m.Member, m.Score, lim)
		}
		return keyspace.ObjectValue(z), nil
	case rdb.KindStream:
		s, err := restoreStream(v.Stream, lim)
		if err != nil {
			return keyspace.Value{}, err
		}
		return keyspace.ObjectValue(s), nil
	}
	return keyspace.Value{}, rdb.ErrBadData
}

// restoreStream adds every entry, deleted ones too, then deletes those,
// so blocks hold the tombstones Redis's nodes hold; then the counters and
// the groups as the payload has them.
func restoreStream(rs *rdb.Stream, lim keyspace.EncodingLimits) (*keyspace.Stream, error) {
	id := func(x rdb.StreamID) keyspace.StreamID { return keyspace.StreamID{Ms: x.Ms, Seq: x.Seq} }
	s := keyspace.NewStream()
	var deleted []keyspace.StreamID
	for _, nd := range rs.Nodes {
		for _, e := range nd.Entries {
			if err := s.Add(id(e.ID), e.Fields, lim); err != nil {
				return nil, rdb.ErrBadData
			}
			if e.Deleted {
				deleted = append(deleted, id(e.ID))
			}
		}
	}
	for _, x := range deleted {
		s.Delete(x)
	}
	s.NoteDeleted(keyspace.StreamID{}, true) // the first id: the first live one
	added, maxDel := rs.EntriesAdded, id(rs.MaxDeleted)
	s.SetID(id(rs.LastID), &added, &maxDel)
	for _, g := range rs.Groups {
		read := g.EntriesRead
		if rs.Legacy {
			read = s.EstimateEntriesRead(id(g.LastID))
		}
		if !s.CreateGroup(g.Name, id(g.LastID), read) {
			return nil, rdb.ErrBadData
		}
		kg := s.Group(g.Name)
		cons := make([]*keyspace.StreamConsumer, len(g.Consumers))
		for i, c := range g.Consumers {
			kc, _ := kg.CreateConsumer(c.Name, c.SeenTime)
			cons[i] = kc
		}
		for _, p := range g.PEL {
			if p.Consumer < 0 || p.Consumer >= len(cons) {
				return nil, rdb.ErrBadData
			}
			pe := kg.Deliver(id(p.ID), cons[p.Consumer], p.DeliveryTime, true)
			pe.DeliveryCount = p.DeliveryCount
		}
	}
	return s, nil
}
