package keyspace

import (
	"slices"
	"sort"
	"unsafe"
)

// Consumer groups: a group's last delivered id and entries read, its
// pending entries list (PEL: delivered, not acknowledged) sorted by id,
// and its consumers sorted by name, each with the ids of the PEL it owns.
// Delivery times are the op's clock (the leader's), so idle times agree
// on every node.

// StreamGroup is a consumer group.
type StreamGroup struct {
	Name   string
	LastID StreamID
	// EntriesRead is Redis's entries_read; -1 when not known.
	EntriesRead int64
	pel         []*PendingEntry // sorted by ID
	consumers   []*StreamConsumer
}

// PendingEntry is a delivered entry not yet acknowledged.
type PendingEntry struct {
	ID            StreamID
	Consumer      *StreamConsumer
	DeliveryTime  int64 // unix ms
	DeliveryCount uint64
}

// StreamConsumer is a consumer of a group.
type StreamConsumer struct {
	Name     string
	SeenTime int64      // unix ms
	pel      []StreamID // sorted
}

const (
	groupBytes    = int64(unsafe.Sizeof(StreamGroup{}))
	pendingBytes  = int64(unsafe.Sizeof(PendingEntry{}))
	consumerBytes = int64(unsafe.Sizeof(StreamConsumer{}))
)

func (g *StreamGroup) size() int64 {
	n := groupBytes + allocSize(len(g.Name)) + int64(len(g.pel))*(pendingBytes+8+16)
	for _, c := range g.consumers {
		n += consumerBytes + allocSize(len(c.Name)) + 8
	}
	return n
}

func (g *StreamGroup) clone() *StreamGroup {
	c := &StreamGroup{Name: g.Name, LastID: g.LastID, EntriesRead: g.EntriesRead}
	cons := make(map[*StreamConsumer]*StreamConsumer, len(g.consumers))
	c.consumers = make([]*StreamConsumer, len(g.consumers))
	for i, x := range g.consumers {
		nc := &StreamConsumer{Name: x.Name, SeenTime: x.SeenTime, pel: slices.Clone(x.pel)}
		cons[x] = nc
		c.consumers[i] = nc
	}
	c.pel = make([]*PendingEntry, len(g.pel))
	for i, p := range g.pel {
		np := *p
		np.Consumer = cons[p.Consumer]
		c.pel[i] = &np
	}
	return c
}

// Groups returns the consumer groups in name order.
func (s *Stream) Groups() []*StreamGroup { return s.groups }

// Group finds a group by name.
func (s *Stream) Group(name []byte) *StreamGroup {
	i, found := s.groupIndex(name)
	if !found {
		return nil
	}
	return s.groups[i]
}

func (s *Stream) groupIndex(name []byte) (int, bool) {
	i := sort.Search(len(s.groups), func(i int) bool { return s.groups[i].Name >= string(name) })
	return i, i < len(s.groups) && s.groups[i].Name == string(name)
}

// CreateGroup adds a group; false if one of that name exists.
func (s *Stream) CreateGroup(name []byte, last StreamID, entriesRead int64) bool {
	i, found := s.groupIndex(name)
	if found {
		return false
	}
	s.groups = slices.Insert(s.groups, i, &StreamGroup{Name: string(name), LastID: last, EntriesRead: entriesRead})
	return true
}

// DestroyGroup removes a group; false if there is none of that name.
func (s *Stream) DestroyGroup(name []byte) bool {
	i, found := s.groupIndex(name)
	if found {
		s.groups = slices.Delete(s.groups, i, i+1)
	}
	return found
}

// Consumers returns the group's consumers in name order.
func (g *StreamGroup) Consumers() []*StreamConsumer { return g.consumers }

// PEL returns the group's pending entries in id order; the slice is the
// group's own.
func (g *StreamGroup) PEL() []*PendingEntry { return g.pel }

// Pending is the number of entries pending for the consumer.
func (c *StreamConsumer) Pending() int { return len(c.pel) }

// PendingIDs returns the ids pending for the consumer, in order.
func (c *StreamConsumer) PendingIDs() []StreamID { return c.pel }

func (g *StreamGroup) consumerIndex(name []byte) (int, bool) {
	i := sort.Search(len(g.consumers), func(i int) bool { return g.consumers[i].Name >= string(name) })
	return i, i < len(g.consumers) && g.consumers[i].Name == string(name)
}

// Consumer finds a consumer by name.
func (g *StreamGroup) Consumer(name []byte) *StreamConsumer {
	if i, found := g.consumerIndex(name); found {
		return g.consumers[i]
	}
	return nil
}

// CreateConsumer adds a consumer seen at now; the existing one (and
// false) if there is one of that name.
func (g *StreamGroup) CreateConsumer(name []byte, now int64) (*StreamConsumer, bool) {
	i, found := g.consumerIndex(name)
	if found {
		return g.consumers[i], false
	}
	c := &StreamConsumer{Name: string(name), SeenTime: now}
	g.consumers = slices.Insert(g.consumers, i, c)
	return c, true
}

// DeleteConsumer removes a consumer and its pending entries, and returns
// how many it had (-1: no such consumer).
func (g *StreamGroup) DeleteConsumer(name []byte) int {
	i, found := g.consumerIndex(name)
	if !found {
		return -1
	}
	c := g.consumers[i]
	for _, id := range c.pel {
		if j, ok := g.pelIndex(id); ok {
			g.pel = removeAt(g.pel, j)
		}
	}
	g.consumers = slices.Delete(g.consumers, i, i+1)
	return len(c.pel)
}

func (g *StreamGroup) pelIndex(id StreamID) (int, bool) {
	i := sort.Search(len(g.pel), func(i int) bool { return !g.pel[i].ID.Less(id) })
	return i, i < len(g.pel) && g.pel[i].ID == id
}

// Pending finds the pending entry of id.
func (g *StreamGroup) Pending(id StreamID) *PendingEntry {
	if i, ok := g.pelIndex(id); ok {
		return g.pel[i]
	}
	return nil
}

// PendingFrom returns the index in PEL of the first entry at or after id.
func (g *StreamGroup) PendingFrom(id StreamID) int {
	i, _ := g.pelIndex(id)
	return i
}

func idIndex(ids []StreamID, id StreamID) (int, bool) {
	i := sort.Search(len(ids), func(i int) bool { return !ids[i].Less(id) })
	return i, i < len(ids) && ids[i] == id
}

// Deliver records id as delivered to c at now: a new pending entry, or
// one that moves to c (its count raised unless keepCount).
func (g *StreamGroup) Deliver(id StreamID, c *StreamConsumer, now int64, keepCount bool) *PendingEntry {
	i, found := g.pelIndex(id)
	var p *PendingEntry
	if found {
		p = g.pel[i]
		if p.Consumer != c {
			p.Consumer.dropID(id)
			c.addID(id)
			p.Consumer = c
		}
	} else {
		p = &PendingEntry{ID: id, Consumer: c}
		g.pel = slices.Insert(g.pel, i, p)
		c.addID(id)
	}
	p.DeliveryTime = now
	if !keepCount {
		p.DeliveryCount++
	}
	return p
}

// Ack removes id from the PEL; false if it was not pending.
func (g *StreamGroup) Ack(id StreamID) bool {
	i, found := g.pelIndex(id)
	if !found {
		return false
	}
	g.pel[i].Consumer.dropID(id)
	g.pel = removeAt(g.pel, i)
	return true
}

func (c *StreamConsumer) addID(id StreamID) {
	if i, found := idIndex(c.pel, id); !found {
		c.pel = slices.Insert(c.pel, i, id)
	}
}

func (c *StreamConsumer) dropID(id StreamID) {
	if i, found := idIndex(c.pel, id); found {
		c.pel = removeAt(c.pel, i)
	}
}

// EntriesReadUnknown is Redis's SCG_INVALID_ENTRIES_READ.
const EntriesReadUnknown = -1

// estimateDistance is Redis's streamEstimateDistanceFromFirstEverEntry:
// the logical read counter of id, or EntriesReadUnknown.
func (s *Stream) estimateDistance(id StreamID) int64 {
	if s.entriesAdded == 0 {
		return 0
	}
	if s.length == 0 && id.Cmp(s.lastID) < 1 {
		return int64(s.entriesAdded)
	}
	switch c := id.Cmp(s.lastID); {
	case c == 0:
		return int64(s.entriesAdded)
	case c > 0:
		return EntriesReadUnknown
	}
	if s.maxDeleted.IsZero() || s.maxDeleted.Less(s.firstID) {
		switch id.Cmp(s.firstID) {
		case -1:
			return int64(s.entriesAdded) - int64(s.length)
		case 0:
			return int64(s.entriesAdded) - int64(s.length) + 1
		}
	}
	return EntriesReadUnknown
}

// hasTombstonesFrom is streamRangeHasTombstones(start, +).
func (s *Stream) hasTombstonesFrom(start StreamID) bool {
	if s.length == 0 || s.maxDeleted.IsZero() || s.maxDeleted.Less(s.firstID) {
		return false
	}
	return !s.maxDeleted.Less(start)
}

// Lag is the group's lag as Redis 7.0 computes it; false when unknown.
func (s *Stream) Lag(g *StreamGroup) (int64, bool) {
	if s.entriesAdded == 0 {
		return 0, true
	}
	if g.EntriesRead != EntriesReadUnknown && !s.hasTombstonesFrom(g.LastID) {
		return int64(s.entriesAdded) - g.EntriesRead, true
	}
	if er := s.estimateDistance(g.LastID); er != EntriesReadUnknown {
		return int64(s.entriesAdded) - er, true
	}
	return 0, false
}

// ReadNew delivers to consumer c of g up to count (0: all) entries from
// start on, as XREADGROUP's ">" does: it moves the group's last id and
// read counter and, unless noAck, records each entry in the PEL
// delivered at now. It returns copies of the entries.
func (s *Stream) ReadNew(g *StreamGroup, c *StreamConsumer, start StreamID, count int64, noAck bool, now int64) []StreamEntry {
	var out []StreamEntry
	s.Range(start, MaxStreamID, false, func(e StreamEntry) bool {
		if g.LastID.Less(e.ID) {
			if g.EntriesRead != EntriesReadUnknown && !s.hasTombstonesFrom(e.ID) {
				g.EntriesRead++
			} else if s.entriesAdded != 0 {
				g.EntriesRead = s.estimateDistance(e.ID)
			}
			g.LastID = e.ID
		}
		out = append(out, e.Copy())
		if !noAck {
			if p := g.Pending(e.ID); p != nil {
				// Taken over after an XGROUP SETID back: a fresh delivery.
				p.DeliveryCount = 0
			}
			g.Deliver(e.ID, c, now, false)
		}
		return count == 0 || int64(len(out)) < count
	})
	return out
}

// Copy returns the entry with its own bytes, to keep past a change.
func (e StreamEntry) Copy() StreamEntry {
	f := make([][]byte, len(e.Fields))
	for i, x := range e.Fields {
		f[i] = slices.Clone(x)
	}
	return StreamEntry{ID: e.ID, Fields: f}
}

// Touch returns the consumer of name, seen at now, creating it if asked
// (created reports it).
func (g *StreamGroup) Touch(name []byte, now int64, create bool) (c *StreamConsumer, created bool) {
	if c = g.Consumer(name); c != nil {
		c.SeenTime = now
		return c, false
	}
	if !create {
		return nil, false
	}
	c, _ = g.CreateConsumer(name, now)
	return c, true
}

// removeAt removes s[i]. Acknowledgements come mostly oldest first: the
// first element goes by reslicing, not by moving the rest.
func removeAt[T any](s []T, i int) []T {
	if i == 0 {
		var zero T
		s[0] = zero
		return s[1:]
	}
	return slices.Delete(s, i, i+1)
}
