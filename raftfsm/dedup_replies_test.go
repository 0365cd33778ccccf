package raftfsm

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/loomcache/loomcache/op"
)

// heldReplies counts the replies d holds, and their size, from its ids;
// it checks that the queue's figure agrees.
func heldReplies(t *testing.T, d *dedup) (n, size int) {
	t.Helper()
	for _, ol := range d.origins {
		for seq, m := range ol.held {
			if !ol.applied(seq) {
				t.Fatalf("%q %d: a reply held for an id not remembered", ol.name, seq)
			}
			n++
			size += m.size
		}
	}
	if size != d.replies.bytes {
		t.Fatalf("replies held add up to %d bytes, the queue says %d", size, d.replies.bytes)
	}
	if size > dedupMaxBytes {
		t.Fatalf("%d bytes of replies held, more than %d", size, dedupMaxBytes)
	}
	return n, size
}

// numbered is a reply of size bytes that says which it is.
func numbered(i, size int) []byte {
	b := make([]byte, size)
	binary.BigEndian.PutUint64(b, uint64(i))
	return b
}

// TestDedupReplyBudget: replies past dedupMaxBytes, across origins, are
// forgotten oldest first; their ids are not.
func TestDedupReplyBudget(t *testing.T) {
	var d dedup
	const size, per = 1000, 5000
	origins := []string{"n1", "n2", "n3"}
	var ids []op.ReqID
	for seq := uint64(1); seq <= per; seq++ {
		for _, o := range origins {
			id := op.ReqID{Origin: o, Seq: seq}
			d.record(id, numbered(len(ids), size))
			ids = append(ids, id)
		}
	}
	keep := dedupMaxBytes / size
	if n, _ := heldReplies(t, &d); n != keep {
		t.Fatalf("%d replies held, want %d", n, keep)
	}
	for i, id := range ids {
		got, dup := d.lookup(id)
		if !dup {
			t.Fatalf("%v: forgotten", id)
		}
		if i < len(ids)-keep {
			if got != errRetried {
				t.Fatalf("%v (%d of %d): %v, want errRetried", id, i, len(ids), got)
			}
			continue
		}
		if b, ok := got.([]byte); !ok || !bytes.Equal(b, numbered(i, size)) {
			t.Fatalf("%v (%d of %d): not its reply", id, i, len(ids))
		}
	}
	// A reply over dedupMaxReply is not held, and costs nothing.
	before := d.replies.bytes
	d.record(op.ReqID{Origin: "n4", Seq: 1}, make([]byte, dedupMaxReply+1))
	if got, dup := d.lookup(op.ReqID{Origin: "n4", Seq: 1}); !dup || got != errRetried {
		t.Errorf("big reply: %v %v", got, dup)
	}
	if d.replies.bytes != before {
		t.Errorf("a reply not held costs %d bytes", d.replies.bytes-before)
	}
}

// TestDedupReplyQueueBounded: the ids an origin's window forgets take
// their replies with them, and the queue does not grow with the stale
// entries they leave.
func TestDedupReplyQueueBounded(t *testing.T) {
	var d dedup
	for seq := uint64(1); seq <= 12*dedupWindow; seq++ {
		d.record(op.ReqID{Origin: "n1", Seq: seq}, int64(seq))
		if q := d.replies.queued(); q > 2*dedupWindow+replyQueueCompactMin {
			t.Fatalf("after %d: %d entries queued", seq, q)
		}
	}
	if n, size := heldReplies(t, &d); n != dedupWindow || size != dedupWindow*replySize(int64(0)) {
		t.Fatalf("%d replies of %d bytes held, want the window's %d", n, size, dedupWindow)
	}
}

// replyHistory is a random history of recorded request ids: several
// origins, replies of every kind and size (some too big to hold), one
// origin past its window, sequences now and then out of order.
type replyHistory struct {
	ids     []op.ReqID
	replies []any
}

func newReplyHistory(n int) *replyHistory {
	rng := rand.New(rand.NewPCG(7, 9))
	h := &replyHistory{}
	next := map[string]uint64{}
	for i := 0; i < n; i++ {
		o := []string{"n1", "n1", "n1", "n2", "n3"}[rng.IntN(5)]
		next[o] += 8 // n1 goes past its window
		seq := next[o]
		if rng.IntN(20) == 0 {
			seq-- // an older sequence, not applied yet
		}
		var r any
		switch rng.IntN(4) {
		case 0:
			r = int64(i)
		case 1:
			r = numbered(i, 8+rng.IntN(2000))
		case 2:
			r = numbered(i, 8+rng.IntN(dedupMaxReply+dedupMaxReply/8))
		default:
			r = []any{int64(i), numbered(i, 8+rng.IntN(500))}
		}
		h.ids = append(h.ids, op.ReqID{Origin: o, Seq: seq})
		h.replies = append(h.replies, r)
	}
	return h
}

func (h *replyHistory) feed(d *dedup, from, to int) {
	for i := from; i < to; i++ {
		if _, dup := d.lookup(h.ids[i]); !dup {
			d.record(h.ids[i], h.replies[i])
		}
	}
}

func sameReply(a, b any) bool {
	switch a := a.(type) {
	case []byte:
		b, ok := b.([]byte)
		return ok && bytes.Equal(a, b)
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameReply(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// TestDedupRepliesDeterministic: which replies are held depends on the
// ops applied only. Two nodes applying the same history hold the same
// replies; a node that restored a snapshot partway holds, of the replies
// applied since, exactly what a node that never restored holds.
func TestDedupRepliesDeterministic(t *testing.T) {
	h := newReplyHistory(30000)
	var a, b dedup
	h.feed(&a, 0, len(h.ids))
	h.feed(&b, 0, len(h.ids))
	heldReplies(t, &a)
	for i, id := range h.ids {
		ra, da := a.lookup(id)
		rb, db := b.lookup(id)
		if da != db || !sameReply(ra, rb) {
			t.Fatalf("%d %v: %v %v and %v %v", i, id, ra, da, rb, db)
		}
	}

	for _, cut := range []int{1000, 14000, 25000} {
		var whole, restored dedup
		h.feed(&whole, 0, cut)
		if err := restored.read(bufio.NewReader(bytes.NewReader(whole.appendTo(nil)))); err != nil {
			t.Fatal(err)
		}
		h.feed(&whole, cut, len(h.ids))
		h.feed(&restored, cut, len(h.ids))
		heldReplies(t, &whole)
		heldReplies(t, &restored)
		held := 0
		for i := cut; i < len(h.ids); i++ {
			id := h.ids[i]
			rw, dw := whole.lookup(id)
			rr, dr := restored.lookup(id)
			if !dw || !dr || !sameReply(rw, rr) {
				t.Fatalf("restored at %d, %d %v: %v %v, never restored %v %v", cut, i, id, rr, dr, rw, dw)
			}
			if rw != errRetried {
				held++
			}
		}
		if held == 0 {
			t.Fatalf("restored at %d: no reply held", cut)
		}
		if !bytes.Equal(whole.appendTo(nil), restored.appendTo(nil)) {
			t.Fatalf("restored at %d: the ids differ", cut)
		}
	}
}
