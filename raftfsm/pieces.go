package raftfsm

import (
	"errors"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/internal/memcopy"
	"github.com/loomcache/loomcache/op"
)

// Large ops go to Raft in pieces (op.Piece): one 200 MB entry takes
// seconds to store (Pebble, fsync) and send on every node, and everything
// behind it in the log waits that long, the leader's heartbeats being
// starved of CPU and memory bandwidth meanwhile (a leader lost its quorum
// with a 10 MB SET). In pieces, the proposer's queue lets other writes
// pass between them, every entry stays small enough for the log cache and
// for one Pebble batch, and a node holds the op's bytes once while they
// arrive.
//
// The leader proposes the pieces of an op in order, at most pieceWindow
// of them unanswered (pieceWindowAlone until another write is proposed
// meanwhile); each node's FSM appends them to the upload they name, and
// applies the op (replying to it) when its last piece applies.
// The pieces of an upload are all proposed in one term: a leader that
// loses leadership fails them, and an entry of a later term drops the
// uploads of earlier ones on every node, since no piece of those can
// follow. A snapshot cannot hold an upload, so none is taken while one is
// open (a node restored from it would miss the first pieces).

const (
	// pieceThreshold: an op encoded larger than this goes in pieces.
	pieceThreshold = 1 << 20
	// pieceBytes is the op bytes one piece carries: a piece's entry is
	// then at most 256 KB, the most a follower's transport decodes in one
	// allocation (see hand).
	pieceBytes = 256<<10 - op.PieceHead
	// pieceWindow bounds an upload's pieces proposed and not answered:
	// 1 MB, which is what each round trip to the followers then carries,
	// and what a write proposed meanwhile waits behind (the round in
	// flight, then its own). With 200 MB uploads on a 3-node loopback
	// cluster, 4 MB (a full batch) took the upload no faster (6 to 10 s
	// either way) and the small writes meanwhile waited 4 times longer
	// (p99 190 to 260 ms, not 50 to 60).
	pieceWindow = (1 << 20) / pieceBytes
	// pieceWindowAlone is the window of an upload while no other write
	// is proposed (other uploads aside): nothing waits behind its
	// rounds, so it fills a batch (maxBatchBytes), and a 10 MB SET
	// through a follower of 3 nodes takes 3 rounds to the followers,
	// not 10. It shrinks to pieceWindow once another write is proposed.
	pieceWindowAlone = maxBatchBytes / pieceBytes
	// maxUploadGap drops an upload that has had no piece for this many
	// log entries: its leader stopped proposing without losing its term
	// (a piece refused for a timeout) and its abort did not make it.
	// Pieces of a live upload are entries apart, not thousands.
	maxUploadGap = 1 << 16
)

// errUploadOpen refuses a snapshot while an op's pieces are arriving.
var errUploadOpen = errors.New("a large write is being replicated in pieces; snapshot later")

// pieceError is the FSM's reply to a piece that does not continue its
// upload (its earlier pieces were dropped): the op is not applied, on any
// node.
type pieceError struct{}

func (pieceError) Error() string {
	return "ERR a large write lost part of its data in a leader change and was not applied; retry"
}

// uploads are the ops whose pieces are arriving, all of the same term;
// the FSM goroutine owns them.
type uploads struct {
	term  uint64
	index uint64 // the entry being applied
	open  map[uint64]*upload
}

type upload struct {
	buf  []byte // the op's bytes so far; cap is its size
	last uint64 // index of the entry of its last piece
}

// at is called for every entry before it is applied: it drops the
// uploads no piece can continue.
func (u *uploads) at(l *raft.Log) {
	u.index = l.Index
	if l.Term != u.term {
		u.term = l.Term
		clear(u.open)
	}
	for id, up := range u.open {
		if l.Index-up.last > maxUploadGap {
			delete(u.open, id)
		}
	}
}

// pending reports whether an upload is open.
func (u *uploads) pending() bool { return len(u.open) > 0 }

// reset drops every upload (a snapshot restored holds none).
func (u *uploads) reset() { *u = uploads{} }

// add applies one piece. It returns the op when the piece completes it,
// or the reply to the piece.
func (u *uploads) add(enc []byte) (whole []byte, reply any) {
	p, err := op.DecodePiece(enc)
	if err != nil {
		return nil, decodeError{err}
	}
	up := u.open[p.Upload]
	if p.Total == 0 {
		delete(u.open, p.Upload)
		return nil, nil
	}
	if up == nil {
		if p.Offset != 0 {
			return nil, pieceError{}
		}
		up = &upload{buf: make([]byte, 0, p.Total)}
		if u.open == nil {
			u.open = map[uint64]*upload{}
		}
		u.open[p.Upload] = up
	}
	if p.Offset != uint64(len(up.buf)) || uint64(cap(up.buf)) != p.Total {
		delete(u.open, p.Upload)
		return nil, pieceError{}
	}
	up.buf = memcopy.Append(up.buf, p.Data)
	up.last = u.index
	if uint64(len(up.buf)) < p.Total {
		return nil, nil
	}
	delete(u.open, p.Upload)
	return up.buf, nil
}

// applyPiece applies a piece; the caller holds the store's write lock.
// The op it completes was assembled in a buffer of its own, which the
// applier may keep (a 200 MB value is then stored without a copy, which
// on the FSM goroutine, under the store's lock, held up every apply and
// read for as long as it took).
func (f *fsm) applyPiece(enc []byte) any {
	whole, reply := f.uploads.add(enc)
	if whole == nil {
		return reply
	}
	return f.decodeApply(whole, true, new(opSlot))
}

// proposePieces proposes the op whose encoding is parts (op.EncodeParts;
// total bytes, over pieceThreshold) in pieces, and returns the future of
// its last, whose reply is the op's. Each piece is copied from the parts
// as it is proposed, so the op is never held whole a second time. It
// returns once the last piece is queued, so the caller's next op is
// applied after this one (and the parts may change). When a piece before
// the last fails, the last is never proposed and the op is certainly not
// applied: ErrNoLeader.
func (n *Node) proposePieces(parts [][]byte, total int) Future {
	id := n.prop.uploadSeq.Add(1)
	others := n.prop.others.Load()
	var window [pieceWindowAlone]Future
	src := partCursor{parts: parts}
	answered := 0 // the pieces before it are answered
	for k, off := 0, 0; ; k++ {
		end := min(off+pieceBytes, total)
		for limit := n.prop.uploadWindow(others); k-answered >= limit; answered++ {
			if _, err := window[answered%pieceWindowAlone].Result(); err != nil {
				n.abortUpload(id)
				return Future{err: ErrNoLeader}
			}
		}
		p := op.Piece{Upload: id, Total: uint64(total), Offset: uint64(off)}
		enc := op.AppendPieceHead(make([]byte, 0, op.PieceSize(end-off)), p, end-off)
		enc = src.appendNext(enc, end-off)
		window[k%pieceWindowAlone] = n.prop.add(enc)
		if end == total {
			return window[k%pieceWindowAlone]
		}
		off = end
	}
}

// uploadWindow is how many pieces an upload that began when p.others
// was since may have unanswered.
func (p *proposer) uploadWindow(since uint64) int {
	if p.others.Load() != since {
		return pieceWindow
	}
	return pieceWindowAlone
}

// partCursor hands out the bytes of parts in order.
type partCursor struct {
	parts [][]byte
	off   int // bytes of parts[0] handed out
}

// appendNext appends the next k bytes to dst.
func (c *partCursor) appendNext(dst []byte, k int) []byte {
	for k > 0 {
		p := c.parts[0][c.off:]
		m := min(k, len(p))
		dst = memcopy.Append(dst, p[:m])
		k -= m
		if c.off += m; c.off == len(c.parts[0]) {
			c.parts, c.off = c.parts[1:], 0
		}
	}
	return dst
}

// abortUpload tells the nodes to drop an upload that will not be
// finished, if this node still leads; otherwise a later term drops it.
func (n *Node) abortUpload(id uint64) {
	if n.raft.State() == raft.Leader {
		n.prop.add(op.AppendPiece(nil, op.Piece{Upload: id}))
	}
}
