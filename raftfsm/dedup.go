package raftfsm

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
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
	// dedupWindow is how many ids are remembered per origin. A retry
	// follows its first attempt within seconds, while the same follower's
	// other clients are stalled by the same leader loss, so the window
	// needs to cover the requests one follower has in flight, not its
	// throughput.
	dedupWindow = 8192
	// dedupMaxReply bounds the size of a remembered reply; a larger one is
	// remembered as lost.
	dedupMaxReply = 64 << 10
	// dedupMaxBytes bounds the size of the replies remembered, across
	// origins; past it the oldest are forgotten (their ids are not).
	dedupMaxBytes = 8 << 20
)

// originLog is what dedup remembers of one origin.
type originLog struct {
	floor uint64          // highest sequence forgotten; 0: none
	order []uint64        // remembered sequences in apply order, a ring of up to window()
	head  int             // index of the oldest in order once it is full
	seen  map[uint64]memo // sequence → its reply, if remembered
	name  string
	// client: a client's origin (op.ClientOrigin), linked by prev and
	// next into dedup.clients.
	client     bool
	prev, next *originLog
}

func newOriginLog(name string) *originLog {
	return &originLog{name: name, client: op.ReqID{Origin: name}.IsClient(), seen: map[uint64]memo{}}
}

// window is how many ids the origin keeps.
func (ol *originLog) window() int {
	if ol.client {
		return clientWindow
	}
	return dedupWindow
}

// memo is what dedup remembers of an applied id: its reply and the size
// charged for it to dedupMaxBytes, or that the reply is not kept.
type memo struct {
	reply any
	size  int
	lost  bool
}

// errRetried is the reply to a repeated request id whose first reply is
// not known: it was applied (or is too old to tell) and is not applied
// again.
var errRetried = errors.New("UNKNOWN the outcome of this write is unknown (its request was retried); read before retrying")

// lookup reports whether id was applied before (or is too old to tell)
// and, if so, the reply to give instead of applying it.
func (d *dedup) lookup(id op.ReqID) (any, bool) {
	ol := d.origins[id.Origin]
	if ol == nil {
		return nil, false
	}
	if m, ok := ol.seen[id.Seq]; ok {
		if m.lost {
			return errRetried, true
		}
		return m.reply, true
	}
	if id.Seq <= ol.floor {
		return errRetried, true
	}
	return nil, false
}

// record remembers that id was applied with reply, forgetting the
// origin's oldest id beyond the window, and the oldest replies beyond
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
	m := memo{reply: reply, size: replySize(reply)}
	if m.size > dedupMaxReply {
		m = memo{lost: true}
	}
	if old, forgot := ol.add(id.Seq, m); forgot && !old.lost {
		d.replies.forgotten(old)
	}
	if !m.lost {
		d.replies.push(ol, id.Seq, m.size)
	}
}

// add remembers seq and, past the window, forgets the oldest sequence;
// it returns what was remembered of that one, if it forgot one.
func (ol *originLog) add(seq uint64, m memo) (old memo, forgot bool) {
	if len(ol.order) < ol.window() {
		ol.order = append(ol.order, seq)
	} else {
		oldest := ol.order[ol.head]
		old, forgot = ol.seen[oldest]
		delete(ol.seen, oldest)
		ol.floor = max(ol.floor, oldest)
		ol.order[ol.head] = seq
		ol.head = (ol.head + 1) % len(ol.order)
	}
	ol.seen[seq] = m
	return old, forgot
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
// and the sequences oldest first. Then, only when there are client
// origins, their part (dedup_clients.go).

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
	b = binary.AppendUvarint(b, uint64(len(ol.order)))
	for i := range ol.order {
		b = binary.AppendUvarint(b, ol.order[(ol.head+i)%len(ol.order)])
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
	if err != nil || count > uint64(ol.window()) {
		return nil, fmt.Errorf("%w: %d ids: %v", errBadDedup, count, err)
	}
	for ; count > 0; count-- {
		seq, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errBadDedup, err)
		}
		ol.add(seq, memo{lost: true})
	}
	return ol, nil
}
