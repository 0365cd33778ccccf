package raftfsm

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

// Client origins (op.ClientOrigin: the ids clients give their writes
// with RAFT.REQID) are many and come and go, where a cluster has a few
// nodes: each keeps a smaller window of ids, and a partition remembers
// at most dedupMaxClients of them; past that, the one least recently
// applied is forgotten entirely (its retries would apply again). Recency
// is the order of applies, so every node forgets the same origin, and
// the snapshot keeps that order.

const (
	// clientWindow is the span of sequences remembered per client
	// origin (2 KB of bits): a client retries a write within a second or
	// two of sending it, while its other callers' writes, numbered after
	// it, go on; the window covers as many as that.
	clientWindow = 1 << 14
	// dedupMaxClients bounds the client origins a partition remembers.
	dedupMaxClients = 1024
)

// clientList is the client origins in the order their last id was
// applied, linked through their originLogs: oldest first.
type clientList struct {
	oldest, newest *originLog
	n              int
}

func (l *clientList) pushNewest(ol *originLog) {
	ol.prev, ol.next = l.newest, nil
	if l.newest != nil {
		l.newest.next = ol
	} else {
		l.oldest = ol
	}
	l.newest = ol
	l.n++
}

func (l *clientList) remove(ol *originLog) {
	if ol.prev != nil {
		ol.prev.next = ol.next
	} else {
		l.oldest = ol.next
	}
	if ol.next != nil {
		ol.next.prev = ol.prev
	} else {
		l.newest = ol.prev
	}
	ol.prev, ol.next = nil, nil
	l.n--
}

// touch makes ol the most recently applied.
func (l *clientList) touch(ol *originLog) {
	if l.newest != ol {
		l.remove(ol)
		l.pushNewest(ol)
	}
}

// addOrigin remembers a new origin; a client's makes room first by
// forgetting the least recently applied client origin.
func (d *dedup) addOrigin(ol *originLog) *originLog {
	if d.origins == nil {
		d.origins = map[string]*originLog{}
	}
	if ol.client {
		for d.clients.n >= dedupMaxClients {
			d.forgetClient(d.clients.oldest)
		}
		d.clients.pushNewest(ol)
	}
	d.origins[ol.name] = ol
	return ol
}

// forgetClient forgets a client origin: its ids, and its replies, which
// no longer count against dedupMaxBytes (their queue entries go stale).
func (d *dedup) forgetClient(ol *originLog) {
	d.clients.remove(ol)
	delete(d.origins, ol.name)
	for _, m := range ol.held {
		d.replies.forgotten(m)
	}
	ol.held = nil
}

// Snapshot form of the client origins, after the nodes' (and absent when
// there are none, so a snapshot without clients is as before them):
// uvarint count, then the client origins least recently applied first,
// each as a node origin is.

func (d *dedup) appendClients(b []byte) []byte {
	if d.clients.n == 0 {
		return b
	}
	b = binary.AppendUvarint(b, uint64(d.clients.n))
	for ol := d.clients.oldest; ol != nil; ol = ol.next {
		b = ol.appendTo(b)
	}
	return b
}

// readClients reads appendClients' part, if r has one.
func (d *dedup) readClients(r *bufio.Reader) error {
	if _, err := r.Peek(1); err == io.EOF {
		return nil
	}
	// appendClients writes no part rather than an empty one.
	n, err := binary.ReadUvarint(r)
	if err != nil || n == 0 || n > dedupMaxClients {
		return fmt.Errorf("%w: %d client origins: %v", errBadDedup, n, err)
	}
	for ; n > 0; n-- {
		ol, err := readOriginLog(r)
		if err != nil {
			return err
		}
		if !ol.client || d.origins[ol.name] != nil {
			return fmt.Errorf("%w: client origin %q not a client's, or twice", errBadDedup, ol.name)
		}
		d.addOrigin(ol)
	}
	return nil
}
