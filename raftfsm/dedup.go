package raftfsm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"

	"github.com/loomcache/loomcache/op"
)

// dedup is the FSM's memory of request ids (op.ReqID): a write forwarded
// from a follower carries one, and an id applied before is not applied
// again. Its ids are replicated state — every node applies the same
// entries, so every node remembers the same ids — and are part of the
// snapshot. The replies are remembered only in memory, for the proposer,
// and only the newest of them, up to dedupMaxBytes across origins
// (dedup_replies.go); a retry whose reply is not remembered is answered
// UNKNOWN (errRetried).
// The FSM goroutine owns it (under the store's write lock while applying).
type dedup struct {
	origins map[string]*originLog
	replies replyQueue
	clients clientList // the client origins among them (dedup_clients.go)
}

const (
	// dedupWindow is the span of sequences remembered per node origin,
	// below the newest applied. Its ids are spread over the partitions,
	// and a retry must not fall below it while the follower's other
	// requests, sent after it, are applied first: the window is a span
	// of sequences, not a count of ids applied, so a retry held back by
	// backoff keeps its place however many later ids overtake it.
	dedupWindow = 1 << 16
	// dedupMaxReply bounds the size of a remembered reply; a larger
	// one's id is remembered, its reply not.
	dedupMaxReply = 64 << 10
	// dedupMaxBytes bounds the size of the replies remembered, across
	// origins; past it the oldest are forgotten (their ids are not).
	dedupMaxBytes = 8 << 20
)

// originLog is what dedup remembers of one origin: which sequences in
// (floor, floor+window] were applied, one bit each in a ring indexed by
// sequence modulo the window, and the replies still held. Every sequence
// at or below the floor is taken for applied: too old to tell. The floor
// rises as newer sequences arrive, so it stays a window below the newest.
type originLog struct {
	floor uint64
	bits  []uint64        // the ring; nil until the first id
	held  map[uint64]memo // sequence → its reply, for the applied ids whose reply is held
	name  string
	// client: a client's origin (op.ClientOrigin), linked by prev and
	// next into dedup.clients.
	client     bool
	prev, next *originLog
}

func newOriginLog(name string) *originLog {
	return &originLog{name: name, client: op.ReqID{Origin: name}.IsClient()}
}

// window is the span of sequences the origin remembers (a multiple of 64).
func (ol *originLog) window() uint64 {
	if ol.client {
		return clientWindow
	}
	return dedupWindow
}

// memo is a reply held for an applied id, and the size charged for it
// to dedupMaxBytes.
type memo struct {
	reply any
	size  int
}

// errRetried is the reply to a repeated request id whose first reply is
// not known: it was applied (or is too old to tell) and is not applied
// again.
var errRetried = errors.New("UNKNOWN the outcome of this write is unknown (its request was retried); read before retrying")

// lookup reports whether id was applied before (or is too old to tell)
// and, if so, the reply to give instead of applying it.
func (d *dedup) lookup(id op.ReqID) (any, bool) {
	ol := d.origins[id.Origin]
	switch {
	case ol == nil:
		return nil, false
	case id.Seq <= ol.floor:
		return errRetried, true
	case !ol.applied(id.Seq):
		return nil, false
	}
	if m, ok := ol.held[id.Seq]; ok {
		return m.reply, true
	}
	return errRetried, true
}

// record remembers that id was applied with reply, forgetting the
// origin's ids that fall a window below it, and the oldest replies beyond
// dedupMaxBytes. Every decision depends on the ops applied only, so
// every node keeps the same replies (those applied since its last
// restore, which starts with none).
func (d *dedup) record(id op.ReqID, reply any) {
	ol := d.origins[id.Origin]
	switch {
	case ol == nil:
		ol = d.addOrigin(newOriginLog(id.Origin))
	case ol.client:
		d.clients.touch(ol)
	}
	if !ol.add(id.Seq, &d.replies) {
		return
	}
	size := replySize(reply)
	if size > dedupMaxReply {
		return
	}
	if ol.held == nil {
		ol.held = map[uint64]memo{}
	}
	ol.held[id.Seq] = memo{reply: reply, size: size}
	d.replies.push(ol, id.Seq, size)
}

// applied reports whether seq, above the floor, was applied.
func (ol *originLog) applied(seq uint64) bool {
	w := ol.window()
	if ol.bits == nil || seq-ol.floor > w {
		return false
	}
	i := seq % w
	return ol.bits[i/64]&(1<<(i%64)) != 0
}

// add marks seq applied, first raising the floor to a window below it if
// it is that far ahead (the replies of the ids forgotten so leave rq). A
// sequence at or below the floor is not marked: add reports false.
func (ol *originLog) add(seq uint64, rq *replyQueue) bool {
	if seq <= ol.floor {
		return false
	}
	w := ol.window()
	if ol.bits == nil {
		ol.bits = make([]uint64, w/64)
	}
	if seq-ol.floor > w {
		ol.forgetTo(seq-w, rq)
	}
	i := seq % w
	ol.bits[i/64] |= 1 << (i % 64)
	return true
}

// forgetTo raises the floor to f, forgetting the ids at or below it and
// their replies.
func (ol *originLog) forgetTo(f uint64, rq *replyQueue) {
	w := ol.window()
	if f-ol.floor >= w { // every id remembered is at or below f
		clear(ol.bits)
		for _, m := range ol.held {
			rq.forgotten(m)
		}
		clear(ol.held)
		ol.floor = f
		return
	}
	// A word at a time: w is a multiple of 64, so a word holds 64
	// consecutive sequences.
	for seq := ol.floor + 1; seq <= f; {
		off := seq % 64
		n := min(64-off, f-seq+1)
		mask := ^uint64(0) >> (64 - n) << off
		wi := seq % w / 64
		set := ol.bits[wi] & mask
		ol.bits[wi] &^= mask
		for ; set != 0; set &= set - 1 {
			s := seq - off + uint64(bits.TrailingZeros64(set))
			if m, ok := ol.held[s]; ok {
				rq.forgotten(m)
				delete(ol.held, s)
			}
		}
		seq += n
	}
	ol.floor = f
}

// ids is the sequences marked applied above the floor, in order.
func (ol *originLog) ids() []uint64 {
	w := ol.window()
	first := (ol.floor + 1) % w // the ring position of floor+1
	var seqs []uint64
	for wi, word := range ol.bits {
		for word != 0 {
			i := uint64(wi)*64 + uint64(bits.TrailingZeros64(word))
			word &= word - 1
			seqs = append(seqs, ol.floor+1+(i+w-first)%w)
		}
	}
	slices.Sort(seqs)
	return seqs
}

// replySize estimates the memory a reply holds.
func replySize(r any) int {
	switch r := r.(type) {
	case []byte:
		return len(r)
	case interface{ Size() int }:
		return r.Size()
	case []any:
		n := 0
		for _, e := range r {
			n += 16 + replySize(e)
		}
		return n
	}
	return 16
}

// Snapshot form: uvarint origin count, then per node origin in sorted
// order: uvarint-length-prefixed origin, uvarint floor, uvarint count,
// and the sequences applied above the floor, ascending. Then, only when
// there are client origins, their part (dedup_clients.go). A reader
// takes the sequences in any order, as add would (snapshots written
// before the window was a span list them in the order applied).

func (d *dedup) appendTo(b []byte) []byte {
	names := make([]string, 0, len(d.origins)-d.clients.n)
	for o, ol := range d.origins {
		if !ol.client {
			names = append(names, o)
		}
	}
	slices.Sort(names)
	b = binary.AppendUvarint(b, uint64(len(names)))
	for _, name := range names {
		b = d.origins[name].appendTo(b)
	}
	return d.appendClients(b)
}

func (ol *originLog) appendTo(b []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(ol.name)))
	b = append(b, ol.name...)
	b = binary.AppendUvarint(b, ol.floor)
	seqs := ol.ids()
	b = binary.AppendUvarint(b, uint64(len(seqs)))
	for _, seq := range seqs {
		b = binary.AppendUvarint(b, seq)
	}
	return b
}

var errBadDedup = errors.New("bad request id section")

// read replaces d with what appendTo wrote. Restored ids have no reply.
func (d *dedup) read(r *bufio.Reader) error {
	*d = dedup{origins: map[string]*originLog{}}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return fmt.Errorf("%w: %v", errBadDedup, err)
	}
	for ; n > 0; n-- {
		ol, err := readOriginLog(r)
		if err != nil {
			return err
		}
		if ol.client {
			return fmt.Errorf("%w: a client origin among the nodes'", errBadDedup)
		}
		d.origins[ol.name] = ol
	}
	return d.readClients(r)
}

// readOriginLog reads what originLog.appendTo wrote.
func readOriginLog(r *bufio.Reader) (*originLog, error) {
	ln, err := binary.ReadUvarint(r)
	if err != nil || ln > op.MaxOrigin {
		return nil, fmt.Errorf("%w: origin length %d: %v", errBadDedup, ln, err)
	}
	name := make([]byte, ln)
	if _, err := io.ReadFull(r, name); err != nil {
		return nil, fmt.Errorf("%w: %v", errBadDedup, err)
	}
	ol := newOriginLog(string(name))
	ol.floor, err = binary.ReadUvarint(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadDedup, err)
	}
	count, err := binary.ReadUvarint(r)
	if err != nil || count > ol.window() {
		return nil, fmt.Errorf("%w: %d ids: %v", errBadDedup, count, err)
	}
	var none replyQueue // a restored id has no reply
	for ; count > 0; count-- {
		seq, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errBadDedup, err)
		}
		ol.add(seq, &none)
	}
	return ol, nil
}
