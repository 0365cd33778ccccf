package rdb

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// Streams: STREAM_LISTPACKS (v1, Redis 5-6) and STREAM_LISTPACKS_2
// (Redis 7.0): the radix tree's listpack nodes keyed by their master id,
// the stream's counters, and the consumer groups with their PELs.

// StreamID is a stream entry id.
type StreamID struct{ Ms, Seq uint64 }

// Less orders ids.
func (a StreamID) Less(b StreamID) bool { return a.Ms < b.Ms || a.Ms == b.Ms && a.Seq < b.Seq }

// StreamEntry is one entry of a node, deleted or not.
type StreamEntry struct {
	ID      StreamID
	Deleted bool
	// Fields holds field names and values in turn.
	Fields [][]byte
}

// StreamNode is one listpack node: its master (first) id and fields, and
// its entries.
type StreamNode struct {
	Master       StreamID
	MasterFields [][]byte
	Entries      []StreamEntry
}

// Stream is a decoded stream.
type Stream struct {
	Nodes        []StreamNode
	Length       uint64
	LastID       StreamID
	FirstID      StreamID
	MaxDeleted   StreamID
	EntriesAdded uint64
	Groups       []StreamGroup
	// Legacy: the payload was STREAM_LISTPACKS (v1), whose groups carry
	// no entries-read: Redis estimates it from the group's last id.
	Legacy bool
}

// StreamGroup is a consumer group.
type StreamGroup struct {
	Name        []byte
	LastID      StreamID
	EntriesRead int64 // -1: not known
	PEL         []StreamPending
	Consumers   []StreamConsumer
}

// StreamPending is an entry of a group's PEL.
type StreamPending struct {
	ID            StreamID
	DeliveryTime  int64
	DeliveryCount uint64
	Consumer      int // index in Consumers
}

// StreamConsumer is a consumer and the ids of its PEL.
type StreamConsumer struct {
	Name     []byte
	SeenTime int64
	PEL      []StreamID
}

func (r *reader) rawID() StreamID {
	p := r.raw(16)
	if p == nil {
		return StreamID{}
	}
	return StreamID{binary.BigEndian.Uint64(p), binary.BigEndian.Uint64(p[8:])}
}

func (r *reader) lenID() StreamID {
	ms := r.length()
	return StreamID{ms, r.length()}
}

func (r *reader) stream(typ byte) Value {
	s := &Stream{}
	n := r.count(2)
	var prev StreamID
	var live uint64
	for i := range n {
		key := r.str()
		lp := r.str()
		if r.err != nil || len(key) != 16 {
			r.fail()
			return Value{}
		}
		master := StreamID{binary.BigEndian.Uint64(key), binary.BigEndian.Uint64(key[8:])}
		node, ok := streamNode(master, lp)
		if !ok || len(node.Entries) == 0 || i > 0 && !prev.Less(node.Entries[0].ID) {
			r.fail()
			return Value{}
		}
		prev = node.Entries[len(node.Entries)-1].ID
		for _, e := range node.Entries {
			if !e.Deleted {
				live++
			}
		}
		s.Nodes = append(s.Nodes, node)
	}
	s.Length = r.length()
	s.LastID = r.lenID()
	if typ == TypeStreamListpack2 {
		s.FirstID = r.lenID()
		s.MaxDeleted = r.lenID()
		s.EntriesAdded = r.length()
	} else {
		s.EntriesAdded = s.Length
		s.Legacy = true
		if len(s.Nodes) > 0 {
			s.FirstID = firstLive(s)
		}
	}
	if r.err != nil || s.Length != live || len(s.Nodes) > 0 && s.LastID.Less(prev) {
		r.fail()
		return Value{}
	}
	ng := r.count(3)
	for range ng {
		if r.err != nil {
			return Value{}
		}
		g := StreamGroup{Name: r.str(), LastID: r.lenID(), EntriesRead: -1}
		if typ == TypeStreamListpack2 {
			g.EntriesRead = int64(r.length())
		}
		for _, o := range s.Groups {
			if bytes.Equal(o.Name, g.Name) {
				r.fail()
				return Value{}
			}
		}
		np := r.count(17)
		pel := make(map[StreamID]int, np)
		for range np {
			id := r.rawID()
			p := StreamPending{ID: id, DeliveryTime: r.millis(), DeliveryCount: r.length(), Consumer: -1}
			if _, dup := pel[id]; dup || r.err != nil {
				r.fail()
				return Value{}
			}
			pel[id] = len(g.PEL)
			g.PEL = append(g.PEL, p)
		}
		nc := r.count(10)
		names := map[string]bool{}
		for ci := range nc {
			c := StreamConsumer{Name: r.str(), SeenTime: r.millis()}
			if names[string(c.Name)] || r.err != nil {
				r.fail()
				return Value{}
			}
			names[string(c.Name)] = true
			ncp := r.count(16)
			for range ncp {
				id := r.rawID()
				pi, ok := pel[id]
				if !ok || r.err != nil || g.PEL[pi].Consumer != -1 {
					r.fail()
					return Value{}
				}
				g.PEL[pi].Consumer = ci
				c.PEL = append(c.PEL, id)
			}
			g.Consumers = append(g.Consumers, c)
		}
		for _, p := range g.PEL {
			if p.Consumer < 0 { // deep sanitization: every PEL entry owned
				r.fail()
				return Value{}
			}
		}
		s.Groups = append(s.Groups, g)
	}
	if r.err != nil {
		return Value{}
	}
	return Value{Kind: KindStream, Stream: s}
}

func firstLive(s *Stream) StreamID {
	for _, nd := range s.Nodes {
		for _, e := range nd.Entries {
			if !e.Deleted {
				return e.ID
			}
		}
	}
	return StreamID{}
}

// Stream entry flags (STREAM_ITEM_FLAG_*).
const (
	streamDeleted    = 1
	streamSameFields = 2
)

// streamNode decodes a node's listpack as streamValidateListpackIntegrity
// checks it, and requires its ids in ascending order from the master.
func streamNode(master StreamID, lp []byte) (StreamNode, bool) {
	es, ok := lpEntries(lp)
	nd := StreamNode{Master: master}
	if !ok {
		return nd, false
	}
	i := 0
	next := func() ([]byte, bool) {
		if i >= len(es) {
			return nil, false
		}
		i++
		return es[i-1], true
	}
	num := func() (int64, bool) {
		b, ok := next()
		if !ok {
			return 0, false
		}
		v, err := strconv.ParseInt(string(b), 10, 64)
		return v, err == nil
	}
	count, ok1 := num()
	deleted, ok2 := num()
	nf, ok3 := num()
	if !ok1 || !ok2 || !ok3 || count < 0 || deleted < 0 || nf < 0 || nf > int64(len(es)) {
		return nd, false
	}
	for range nf {
		f, ok := next()
		if !ok {
			return nd, false
		}
		nd.MasterFields = append(nd.MasterFields, f)
	}
	if z, ok := num(); !ok || z != 0 {
		return nd, false
	}
	var prev StreamID
	var live, dead int64
	for k := int64(0); k < count+deleted; k++ {
		flags, ok1 := num()
		dms, ok2 := num()
		dseq, ok3 := num()
		if !ok1 || !ok2 || !ok3 {
			return nd, false
		}
		e := StreamEntry{ID: StreamID{master.Ms + uint64(dms), master.Seq + uint64(dseq)}, Deleted: flags&streamDeleted != 0}
		fields := nf
		extra := int64(3)
		var names [][]byte
		if flags&streamSameFields == 0 {
			if fields, ok = num(); !ok || fields < 0 || fields > int64(len(es)) {
				return nd, false
			}
			extra += fields + 1
			for range fields {
				f, ok1 := next()
				v, ok2 := next()
				if !ok1 || !ok2 {
					return nd, false
				}
				e.Fields = append(e.Fields, f, v)
			}
		} else {
			names = nd.MasterFields
			for j := range fields {
				v, ok := next()
				if !ok {
					return nd, false
				}
				e.Fields = append(e.Fields, names[j], v)
			}
		}
		if c, ok := num(); !ok || c != fields+extra {
			return nd, false
		}
		if k > 0 && !prev.Less(e.ID) || k == 0 && e.ID != master {
			return nd, false
		}
		prev = e.ID
		if e.Deleted {
			dead++
		} else {
			live++
		}
		nd.Entries = append(nd.Entries, e)
	}
	if i != len(es) || live != count || dead != deleted {
		return nd, false
	}
	return nd, true
}
