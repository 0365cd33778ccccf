package keyspace

// What DUMP and RESTORE need of a value beyond its contents: a list's
// node layout, a stream's blocks with their deleted entries (both decide
// Redis's payload bytes), and the access data RESTORE's IDLETIME and
// FREQ set.

// NodeLens returns the element count of each node, head first.
func (l *List) NodeLens() []int {
	out := make([]int, l.nn)
	for i := range out {
		out[i] = int(l.node(i).n)
	}
	return out
}

// StreamBlockEntry is an entry of a block, deleted or not; Fields holds
// field, value, field, value...
type StreamBlockEntry struct {
	ID      StreamID
	Deleted bool
	Fields  [][]byte
}

// EachBlock calls fn for each block in id order with its first id, its
// first entry's field names and its entries, deleted ones included. The
// slices are the stream's own: valid until it changes.
func (s *Stream) EachBlock(fn func(master StreamID, fields [][]byte, entries []StreamBlockEntry)) {
	for _, b := range s.blocks {
		var es []StreamBlockEntry
		for off := 0; off < len(b.data); {
			var fv [][]byte
			e, ok := b.decodeAt(off, &fv)
			if !ok {
				break
			}
			es = append(es, StreamBlockEntry{ID: e.id, Deleted: e.flags&entryDeleted != 0, Fields: fv})
			off = e.end
		}
		fn(b.master, b.fields, es)
	}
}

// SetAccess sets e's access data as RESTORE's IDLETIME and FREQ do
// (Redis's objectSetLRUOrLFU): under an LFU policy a freq ≥ 0 becomes the
// counter; under LRU an idle ≥ 0 (seconds) puts the last access that long
// before now. An option for the other policy changes nothing.
func (d *DB) SetAccess(e *Entry, now, idle int64, freq int) {
	if d.store.access.load().lfu {
		if freq >= 0 {
			storeAccess((*entry)(e), packLFU(lfuMinutes(now), uint8(min(freq, lfuMaxCounter))))
		}
		return
	}
	if idle >= 0 {
		storeAccess((*entry)(e), lruWord(max(now-min(idle, 1<<40)*1000, lruEpochMs)))
	}
}

// AppendNode adds elems at the tail as one node of their own, as Redis's
// loader keeps each node of a payload's quicklist (quicklistAppendListpack).
func (l *List) AppendNode(elems [][]byte) {
	if len(elems) == 0 {
		return
	}
	size := 0
	for _, e := range elems {
		size += entryLen(len(e))
	}
	nd := listNode{buf: make([]byte, size, bufCap(size)), n: int32(len(elems))}
	off := 0
	for _, e := range elems {
		putEntry(nd.buf[off:], e)
		off += entryLen(len(e))
	}
	l.insertNode(int(l.nn), nd)
	l.count += len(elems)
}

// EstimateEntriesRead is Redis's streamEstimateDistanceFromFirstEverEntry
// for a group whose last id is id: what a payload of Redis 6.2 or before,
// which has no entries-read, loads as.
func (s *Stream) EstimateEntriesRead(id StreamID) int64 { return s.estimateDistance(id) }
