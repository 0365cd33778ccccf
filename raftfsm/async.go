package raftfsm

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/op"
)

// Proposals are batched: the ops proposed while earlier batches are in
// flight wait together and go to Raft as one entry (op.AppendBatch), so
// under load many clients' writes share one log entry, one replication
// frame and one future, on top of sharing one fsync. An op proposed while
// nothing waits is proposed at once, alone: batching adds no delay to a
// quiet node.
//
// The proposer's goroutine hands batches to raft, at most maxInflight at a
// time (bounding the wait it imposes on the ones behind, and letting them
// grow); the resolver's goroutine waits for their outcomes in order and
// answers the futures. Close stops both after the last batch is answered.

// maxInflight bounds the batches handed to raft and not yet answered.
const maxInflight = 1

// Limits of one batch; ops beyond them start the next.
const (
	maxBatchOps   = 4096
	maxBatchBytes = 4 << 20
)

// maxWaitingBytes bounds the encoded ops waiting to be handed to raft.
// Each connection bounds its own writes in flight, but a node has
// thousands of connections (and followers' forwarded pipelines), so
// without it the queue could grow to gigabytes while raft is slower than
// the clients. A proposal that does not fit waits, in arrival order,
// until batches handed to raft make room; one alone may be any size.
const maxWaitingBytes = 16 * maxBatchBytes

// Future is the outcome of a proposal made with ProposeAsync.
type Future struct {
	b   *batch
	i   int   // the op's place in b
	err error // set when the op was refused before reaching Raft
}

// Result waits for the proposal's outcome: the leader's apply result, or
// the same errors Propose returns.
func (f Future) Result() (any, error) {
	if f.err != nil {
		return nil, f.err
	}
	f.b.done.Wait()
	res, err, i := f.b.res, f.b.err, f.i
	start := 0
	for _, e := range f.b.split {
		if f.i < e.end {
			res, err, i = e.res, e.err, f.i-start
			break
		}
		start = e.end
	}
	if err != nil {
		return nil, err
	}
	if r, ok := res.(batchReply); ok {
		if i < len(r) {
			return r[i], nil
		}
		return nil, errBatchReply
	}
	// An op alone went to raft as a plain op; an entry the FSM could not
	// split answers every op of it with the same error.
	return res, nil
}

// maxArenaOp bounds the ops encoded into their batch's arena: encoding
// holds the proposer's lock, so a large op is encoded before.
const maxArenaOp = 64 << 10

// opsRoom is how many ops a batch that has more than one gets room for
// at once.
const opsRoom = 16

// batch is ops proposed together and their outcome. It is one
// allocation while it holds one op (a quiet node's every proposal).
type batch struct {
	ops   [][]byte // encoded ops
	first [1][]byte
	// arena holds the encodings of the ops added by addOp: a new array,
	// twice the last's size, when one does not fit, so the ops encoded
	// before keep theirs and a batch of n ops costs O(log n)
	// allocations, not n.
	arena []byte
	bytes int
	done  sync.WaitGroup // done once the outcome is set
	// The outcome of the batch's entry (res: batchReply, or one op's
	// reply), or of each of its entries when it went to raft as several
	// (split; see hand).
	res   any
	err   error
	split []entryOutcome
}

// encode appends o's encoding (at most size bytes) to b's arena and
// returns it.
func (b *batch) encode(o *op.Op, size int) []byte {
	if cap(b.arena)-len(b.arena) < size {
		// The first op's arena is its size: an op alone goes to raft as
		// it is, arena and all. Past it, arenas are copied into the
		// entry (encodeEntry) and dropped: the second has room for
		// opsRoom ops like this one.
		grow := 0
		if b.arena != nil {
			grow = max(opsRoom*size, 2*cap(b.arena))
		}
		b.arena = make([]byte, 0, max(size, min(grow, maxBatchBytes)))
	}
	start := len(b.arena)
	b.arena = o.Encode(b.arena)
	return b.arena[start:len(b.arena):len(b.arena)]
}

// entryOutcome is one entry's outcome; end is the end of its ops in the
// batch.
type entryOutcome struct {
	end int
	res any
	err error
}

// inflight is a batch handed to raft: the future of its entry, or of
// each of its entries when it went as several.
type inflight struct {
	b     *batch
	f     raft.ApplyFuture
	split []entryFuture
}

type entryFuture struct {
	end int
	f   raft.ApplyFuture
}

// proposer owns the batches waiting to be handed to raft.
type proposer struct {
	mu      sync.Mutex
	waiting []*batch // oldest first; the last one takes new ops
	// bytes is the size of the ops waiting, and of those admitted to
	// join them; blocked are the proposals waiting for room, oldest
	// first (see maxWaitingBytes).
	bytes   int
	blocked []*admission
	wake    chan struct{}
	stop    chan struct{} // closed by Close: hand over what waits, then exit
	out     chan inflight // to the resolver; its capacity bounds batches in flight
	slots   chan struct{} // a token per batch in flight
	done    chan struct{} // closed when both goroutines have exited
	// uploadSeq names the uploads of large ops (pieces.go).
	uploadSeq atomic.Uint64
	// others counts the ops queued that are not pieces of an upload:
	// an upload that sees it move shares the log with other writes.
	others atomic.Uint64
}

func newProposer() *proposer {
	return &proposer{
		wake:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		out:   make(chan inflight, maxInflight),
		slots: make(chan struct{}, maxInflight),
		done:  make(chan struct{}),
	}
}

// ProposeAsync hands o to Raft and returns without waiting for it to
// commit, so a connection can propose the next pipelined write at once;
// it waits only while the ops queued ahead of it hold maxWaitingBytes.
// Ops proposed one after another by the same goroutine are applied in
// that order. o is encoded before ProposeAsync returns, so its arguments
// may be reused at once.
func (n *Node) ProposeAsync(o *op.Op) Future {
	// The gate covers the hand-over only: Close waits for it, then lets
	// the proposer hand every waiting batch to raft before it shuts raft
	// down, so every future handed out is answered (see gate.go).
	if !n.gate.enter() {
		return Future{err: ErrNoLeader} // closing: nothing handed to raft
	}
	defer n.gate.leave()
	if n.raft.State() != raft.Leader {
		return Future{err: ErrNoLeader}
	}
	// Short of disk space, nothing new is written (the client sees
	// -MISCONF; nothing was applied).
	if err := n.wal.Space().Admit(o.Size()); err != nil {
		return Future{err: err}
	}
	if size := o.Size(); size <= maxArenaOp {
		return n.prop.addOp(o, size)
	} else if size <= pieceThreshold {
		return n.prop.add(o.Encode(make([]byte, 0, size)))
	}
	// Size is a bound: the exact size decides, as for a small op.
	parts, total := o.EncodeParts(pieceBytes)
	if total <= pieceThreshold {
		return n.prop.add(joinParts(parts, total))
	}
	return n.proposePieces(parts, total)
}

// joinParts returns the concatenation of parts, total bytes.
func joinParts(parts [][]byte, total int) []byte {
	c := partCursor{parts: parts}
	return c.appendNext(make([]byte, 0, total), total)
}

// admission is a proposal waiting for room in the queue.
type admission struct {
	size  int
	ready chan struct{} // closed once its room is reserved
}

// add queues an encoded op (or piece of one).
func (p *proposer) add(enc []byte) Future { return p.queue(enc, nil, len(enc)) }

// addOp queues o, of at most size bytes encoded, encoding it into its
// batch's arena.
func (p *proposer) addOp(o *op.Op, size int) Future { return p.queue(nil, o, size) }

// queue queues enc, or o encoded (size is its bound).
func (p *proposer) queue(enc []byte, o *op.Op, size int) Future {
	if o != nil || !op.IsPiece(enc) {
		p.others.Add(1)
	}
	p.mu.Lock()
	if len(p.blocked) == 0 && p.fits(size) {
		p.bytes += size
	} else {
		a := &admission{size: size, ready: make(chan struct{})}
		p.blocked = append(p.blocked, a)
		p.mu.Unlock()
		<-a.ready
		p.mu.Lock()
	}
	var b *batch
	if k := len(p.waiting); k > 0 {
		b = p.waiting[k-1]
	}
	if b == nil || len(b.ops) >= maxBatchOps || b.bytes+size > maxBatchBytes {
		b = &batch{}
		b.ops = b.first[:0]
		b.done.Add(1)
		p.waiting = append(p.waiting, b)
	}
	if o != nil {
		enc = b.encode(o, size)
		p.bytes += len(enc) - size // the room reserved was a bound
	}
	if len(b.ops) == cap(b.ops) {
		// A batch that has more than one op gets many under load:
		// room for 16 at once rather than 2, 4, 8 and 16 in turn.
		b.ops = slices.Grow(b.ops, max(opsRoom, len(b.ops)))
	}
	b.ops = append(b.ops, enc)
	b.bytes += len(enc)
	i := len(b.ops) - 1
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return Future{b: b, i: i}
}

// fits reports whether an op of size bytes may join the queue now. The
// caller holds mu.
func (p *proposer) fits(size int) bool {
	return p.bytes == 0 || p.bytes+size <= maxWaitingBytes
}

// next takes the oldest waiting batch, or nil, and admits the blocked
// proposals that fit in the room it leaves.
func (p *proposer) next() *batch {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiting) == 0 {
		return nil
	}
	b := p.waiting[0]
	// Shifted down rather than resliced, so the array is reused.
	k := copy(p.waiting, p.waiting[1:])
	p.waiting[k] = nil
	p.waiting = p.waiting[:k]
	p.bytes -= b.bytes
	for len(p.blocked) > 0 && p.fits(p.blocked[0].size) {
		a := p.blocked[0]
		p.blocked[0] = nil
		p.blocked = p.blocked[1:]
		p.bytes += a.size // reserved: add counts it no more
		close(a.ready)
	}
	return b
}

// run hands batches to raft. It returns after stop, once nothing waits.
func (p *proposer) run(r *raft.Raft) {
	defer close(p.out)
	for {
		select {
		case <-p.wake:
		case <-p.stop:
			for b := p.next(); b != nil; b = p.next() {
				p.slots <- struct{}{}
				p.out <- hand(r, b)
			}
			return
		}
		// A slot first: while every slot is taken, new ops join the
		// waiting batch.
		for {
			p.slots <- struct{}{}
			b := p.next()
			if b == nil {
				<-p.slots
				break
			}
			p.out <- hand(r, b)
		}
	}
}

// hand gives b's ops to raft in order, as one entry (an op alone, or a
// batch of them), unless it holds pieces of a large op: then each piece
// is an entry of its own, and the ops between pieces share one. A
// follower's transport decodes an entry's data growing it 256 KB at a
// time, copying it whole at each step: a batch of sixteen 1 MB pieces in
// one entry cost it 34 MB of allocations and copies; pieces of at most
// 256 KB each cost one (see pieceBytes).
func hand(r *raft.Raft, b *batch) inflight {
	if !slices.ContainsFunc(b.ops, op.IsPiece) {
		return inflight{b: b, f: r.Apply(encodeEntry(b.ops, b.bytes), applyTimeout)}
	}
	in := inflight{b: b}
	for start := 0; start < len(b.ops); {
		end, size := start+1, len(b.ops[start])
		for !op.IsPiece(b.ops[start]) && end < len(b.ops) && !op.IsPiece(b.ops[end]) {
			size += len(b.ops[end])
			end++
		}
		in.split = append(in.split, entryFuture{end: end, f: r.Apply(encodeEntry(b.ops[start:end], size), applyTimeout)})
		start = end
	}
	return in
}

// encodeEntry is the data of an entry of ops (size bytes in all).
func encodeEntry(ops [][]byte, size int) []byte {
	if len(ops) == 1 {
		return ops[0]
	}
	return op.AppendBatch(make([]byte, 0, size+5*len(ops)+11), ops)
}

// resolve answers the batches in the order they were handed to raft.
func (p *proposer) resolve() {
	defer close(p.done)
	for in := range p.out {
		b := in.b
		if in.split == nil {
			b.res, b.err = outcomeOf(in.f)
		} else {
			b.split = make([]entryOutcome, len(in.split))
			for k, e := range in.split {
				b.split[k].end = e.end
				b.split[k].res, b.split[k].err = outcomeOf(e.f)
			}
		}
		b.done.Done()
		<-p.slots
	}
}

// outcomeOf waits for an entry's outcome: the FSM's reply, or the error.
func outcomeOf(f raft.ApplyFuture) (any, error) {
	if err := f.Error(); err != nil {
		return nil, classify(err)
	}
	return f.Response(), nil
}

// start runs the proposer's goroutines on r.
func (p *proposer) start(r *raft.Raft) {
	go p.run(r)
	go p.resolve()
}

// close hands over what waits, waits for every batch to be answered and
// stops the goroutines. No op may be added once it is called, nor be
// still blocked in add (Node.Close closes the gate first: every add has
// returned, the run loop having made room for the blocked ones).
func (p *proposer) close() {
	close(p.stop)
	<-p.done
}
