package main

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// ringSize bounds how far apart, in seq, two messages of a publisher
// whose deliveries are being counted can be; the window is well under it.
const ringSize = 1 << 16

// publisher is one connection PUBLISHing seq 1, 2, ... one at a time
// (each waits for its reply: no pipelining), at most window messages
// ahead of the oldest one not yet delivered to every subscriber.
type publisher struct {
	id      int
	conn    net.Conn
	r       *respReader
	credits chan struct{} // a token per message in flight: sent, not yet delivered to all
	counts  [ringSize]atomic.Int32
	subs    int32

	sent    atomic.Uint64 // the last seq sent
	inWin   uint64        // messages sent in the measured time
	errors  uint64
	lastErr error
}

func dialPublisher(id int, addr string, window, subs int) (*publisher, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &publisher{
		id: id, conn: conn, r: newRESPReader(bufio.NewReader(conn)),
		credits: make(chan struct{}, window), subs: int32(subs),
	}, nil
}

// delivered counts seq's delivery to one subscriber; the last one frees
// its credit.
func (p *publisher) delivered(seq uint64) {
	c := &p.counts[seq%ringSize]
	if c.Add(1) == p.subs {
		c.Store(0)
		<-p.credits
	}
}

// run publishes until b.end. A message waiting for a credit at b.end is
// not sent.
func (p *publisher) run(b *bench, channel string) {
	var (
		cmd, payload []byte
		ch           = []byte(channel)
		verb         = []byte("PUBLISH")
		stop         = time.NewTimer(time.Until(b.end))
	)
	defer stop.Stop()
	// A server that stops answering ends the publisher, not the run.
	p.conn.SetDeadline(b.end.Add(30 * time.Second))
	for seq := uint64(1); ; seq++ {
		select {
		case p.credits <- struct{}{}:
		case <-stop.C:
			return
		}
		now := time.Now()
		if !now.Before(b.end) {
			return
		}
		payload = appendPayload(payload[:0], p.id, seq, now.UnixNano())
		cmd = appendCommand(cmd[:0], verb, ch, payload)
		if _, err := p.conn.Write(cmd); err != nil {
			p.fail(fmt.Errorf("publish: %w", err))
			return
		}
		f, err := p.r.read()
		if err == nil && len(f) == 1 {
			_, err = strconv.Atoi(string(f[0]))
		}
		if _, refused := err.(errReply); refused {
			// Not published: seq goes again with the next message.
			p.fail(err)
			<-p.credits
			seq--
			continue
		}
		// Unanswered, the message may have gone out or not: it counts
		// as sent, and a subscriber that never gets it counts it lost.
		p.sent.Store(seq)
		if err != nil {
			p.fail(err)
			return
		}
		if !now.Before(b.measureFrom) {
			p.inWin++
		}
	}
}

func (p *publisher) fail(err error) {
	p.errors++
	if p.lastErr == nil {
		p.lastErr = err
	}
}
