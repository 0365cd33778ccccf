package raftfsm

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/loomcache/loomcache/op"
)

// blockedCount is how many proposals wait for room.
func (p *proposer) blockedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.blocked)
}

// awaitBlocked waits until n proposals wait for room (30 s: a failure
// detector, not a timing).
func awaitBlocked(t *testing.T, p *proposer, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for p.blockedCount() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d proposals blocked, want %d", p.blockedCount(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// addAsync proposes an op of size bytes from its own goroutine; the
// channel yields its future once add returns.
func addAsync(p *proposer, size int) chan Future {
	ch := make(chan Future, 1)
	go func() { ch <- p.add(make([]byte, size)) }()
	return ch
}

// returned reports whether the proposal of ch has returned, leaving its
// future in ch.
func returned(ch chan Future) bool {
	select {
	case f := <-ch:
		ch <- f
		return true
	default:
		return false
	}
}

// TestProposerBoundsWaitingBytes: the ops waiting to be handed to raft
// hold at most maxWaitingBytes; the proposals past it wait, in arrival
// order, until batches taken make room; an op alone may be any size.
func TestProposerBoundsWaitingBytes(t *testing.T) {
	p := newProposer() // not started: the test takes the batches
	const room = 100
	for i := 0; i < maxWaitingBytes/maxBatchBytes-1; i++ {
		p.add(make([]byte, maxBatchBytes)) // one batch each
	}
	p.add(make([]byte, maxBatchBytes-room))
	if p.bytes != maxWaitingBytes-room {
		t.Fatalf("%d bytes waiting", p.bytes)
	}
	first := addAsync(p, maxBatchBytes/2)
	awaitBlocked(t, p, 1)
	second := addAsync(p, room) // it fits, but arrived after first
	awaitBlocked(t, p, 2)
	if returned(first) || returned(second) {
		t.Fatal("a proposal past the bound returned")
	}
	if b := p.next(); b == nil || b.bytes != maxBatchBytes {
		t.Fatalf("next: %+v", b)
	}
	for _, ch := range []chan Future{first, second} {
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatal("a proposal was not admitted once there was room")
		}
	}
	if p.bytes != maxWaitingBytes-room-maxBatchBytes/2+room {
		t.Fatalf("%d bytes waiting after the admissions", p.bytes)
	}
	// Empty the queue: an op bigger than the bound then goes alone.
	for b := p.next(); b != nil; b = p.next() {
	}
	if p.bytes != 0 {
		t.Fatalf("%d bytes waiting in an empty queue", p.bytes)
	}
	big := addAsync(p, maxWaitingBytes+1)
	select {
	case <-big:
	case <-time.After(30 * time.Second):
		t.Fatal("an op bigger than the bound waited in an empty queue")
	}
	after := addAsync(p, 1)
	awaitBlocked(t, p, 1)
	p.next()
	select {
	case <-after:
	case <-time.After(30 * time.Second):
		t.Fatal("a proposal was not admitted once the big op was taken")
	}
}

// TestProposerArena: ops encoded into their batch's arena are the same
// bytes Encode gives, across the arena's growth, each op's own (the
// arena's next op cannot overwrite it), and the waiting bytes counted
// are the exact encodings', not the bounds reserved.
func TestProposerArena(t *testing.T) {
	p := newProposer() // not started: the test takes the batches
	var want [][]byte
	total := 0
	for i := 0; i < 100; i++ {
		o := op.Op{Type: op.Set, Now: int64(i), Args: [][]byte{[]byte(fmt.Sprint("key:", i)), bytes.Repeat([]byte{'v'}, i*37)}}
		p.addOp(&o, o.Size())
		enc := o.Encode(nil)
		want = append(want, enc)
		total += len(enc)
	}
	if p.bytes != total {
		t.Fatalf("%d bytes waiting, the encodings are %d", p.bytes, total)
	}
	b := p.next()
	if b == nil || len(b.ops) != len(want) || b.bytes != total || p.next() != nil {
		t.Fatalf("batch %+v", b)
	}
	for i, enc := range b.ops {
		if !bytes.Equal(enc, want[i]) || cap(enc) != len(enc) {
			t.Fatalf("op %d: %x (cap %d), want %x", i, enc, cap(enc), want[i])
		}
	}
	if p.bytes != 0 {
		t.Fatalf("%d bytes waiting in an empty queue", p.bytes)
	}
}
