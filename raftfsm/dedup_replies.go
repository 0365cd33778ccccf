package raftfsm

// replyQueue bounds the replies dedup holds in memory: they are queued
// in the order they were recorded, and while their sizes add up to more
// than dedupMaxBytes the oldest is forgotten (its id stays; its retry is
// answered errRetried). An id its origin's window forgets takes its
// reply with it: that reply no longer counts, and its entry here, now
// stale, is skipped when it comes up.
//
// Which replies are kept is a function of the ops applied (and of none
// before the last restore, whose replies are not known): the same on
// every node that applied them, whenever and wherever it took its
// snapshots. The queue is the ids in record order, not the replies, so
// its own size follows the ids remembered (compact keeps stale entries
// to at most about half of it).
type replyQueue struct {
	q     []heldReply // from head: oldest first
	head  int
	bytes int // the sizes of the replies held (entries not stale)
	stale int // entries whose id was forgotten since
}

// heldReply names a reply dedup holds.
type heldReply struct {
	ol  *originLog
	seq uint64
}

// push queues the reply just recorded for seq of ol, of size bytes, and
// forgets the oldest replies past the budget.
func (rq *replyQueue) push(ol *originLog, seq uint64, size int) {
	rq.q = append(rq.q, heldReply{ol: ol, seq: seq})
	rq.bytes += size
	for rq.bytes > dedupMaxBytes {
		rq.dropOldest()
	}
	rq.compact()
}

// forgotten notes that an id whose reply was held (m) was forgotten.
func (rq *replyQueue) forgotten(m memo) {
	rq.bytes -= m.size
	rq.stale++
}

// dropOldest forgets the oldest reply queued, if its id is still
// remembered; a stale entry is just dropped.
func (rq *replyQueue) dropOldest() {
	h := rq.q[rq.head]
	rq.q[rq.head] = heldReply{}
	rq.head++
	m, ok := h.ol.held[h.seq]
	if !ok {
		rq.stale--
		return
	}
	delete(h.ol.held, h.seq)
	rq.bytes -= m.size
}

// replyQueueCompactMin is the queue length below which compact leaves it be.
const replyQueueCompactMin = 64

// compact moves the live entries to the front of q once the dropped and
// stale ones make up more than half of it: amortized O(1) a push.
func (rq *replyQueue) compact() {
	if len(rq.q) < replyQueueCompactMin || 2*(rq.head+rq.stale) <= len(rq.q) {
		return
	}
	live := rq.q[:0]
	for _, h := range rq.q[rq.head:] {
		if _, ok := h.ol.held[h.seq]; ok {
			live = append(live, h)
		}
	}
	clear(rq.q[len(live):])
	rq.q, rq.head, rq.stale = live, 0, 0
}

// queued is the number of entries queued, stale ones included.
func (rq *replyQueue) queued() int { return len(rq.q) - rq.head }
