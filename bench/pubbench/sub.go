package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// subscriber is one connection SUBSCRIBEd to the channel. Its goroutine
// reads every message, records its delivery latency and checks that the
// messages of each publisher come in order, each once.
type subscriber struct {
	conn net.Conn
	r    *respReader
	next []uint64 // per publisher, the seq it expects next (from 1)

	received, lost, reordered uint64
	disconnected              error // why the connection ended before the run did, if it did
}

// subscribe dials addr and subscribes to channel, waiting for the
// confirmation: from then on the server delivers to it.
func subscribe(addr, channel string, publishers int) (*subscriber, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	s := &subscriber{conn: conn, r: newRESPReader(bufio.NewReaderSize(conn, 4096)), next: make([]uint64, publishers)}
	for i := range s.next {
		s.next[i] = 1
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(appendCommand(nil, []byte("SUBSCRIBE"), []byte(channel))); err != nil {
		conn.Close()
		return nil, err
	}
	f, err := s.r.read()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("subscribe on %s: %w", addr, err)
	}
	if len(f) != 3 || string(f[0]) != "subscribe" || string(f[1]) != channel {
		conn.Close()
		return nil, fmt.Errorf("subscribe on %s: unexpected reply %q", addr, f)
	}
	conn.SetDeadline(time.Time{})
	return s, nil
}

// receive reads messages until the connection is closed, the bench's
// close when stopping is set, the server's otherwise.
func (s *subscriber) receive(b *bench, hist *histogram, stopping *atomic.Bool) {
	message := []byte("message")
	for {
		f, err := s.r.read()
		now := time.Now().UnixNano()
		if err != nil {
			if !stopping.Load() {
				s.disconnected = err
			}
			return
		}
		if len(f) != 3 || !bytes.Equal(f[0], message) {
			s.disconnected = fmt.Errorf("unexpected push %q", f)
			return
		}
		pub, seq, sent, err := parsePayload(f[2])
		if err != nil || pub >= len(s.next) {
			s.disconnected = fmt.Errorf("message %q: %v", f[2], err)
			return
		}
		s.received++
		switch want := s.next[pub]; {
		case seq < want:
			s.reordered++ // late or repeated: already counted lost when skipped
			continue
		case seq > want:
			s.lost += seq - want
		}
		s.next[pub] = seq + 1
		if sent >= b.measureFrom.UnixNano() && sent < b.end.UnixNano() {
			hist.add(time.Duration(now - sent))
		}
		if now >= b.measureFrom.UnixNano() && now < b.end.UnixNano() {
			b.deliveredInWindow.Add(1)
		}
		b.pubs[pub].delivered(seq)
		b.delivered.Add(1)
	}
}

// finish counts as lost each publisher's messages after the last one
// the subscriber got.
func (s *subscriber) finish(sent []uint64) {
	for p, last := range sent {
		if s.next[p] <= last {
			s.lost += last + 1 - s.next[p]
		}
	}
}
