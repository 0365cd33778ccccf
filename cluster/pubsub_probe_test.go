package cluster

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pubsubProbe publishes through a scenario's faults and checks the
// guarantees docs/consistency.md states for Pub/Sub and keyspace
// notifications: subscribers on every node (a new connection, an
// incarnation, whenever one is lost) to a channel and to the keyspace
// events of the probe's keys; publishers through every node in turn,
// which PUBLISH and SET keys of their own, each message and key new.
type pubsubProbe struct {
	c     *cluster
	nodes []*node       // those running at the start, each with a subscriber
	stop  chan struct{} // ends the subscribers
	subs  sync.WaitGroup
	pubs  sync.WaitGroup

	trackers []*tracker // one per node (tracking_probe_test.go)
	tracking sync.WaitGroup
	trackEnd chan struct{} // ends the trackers' loops
	endTrack sync.Once

	mu     sync.Mutex
	status map[string]pubStatus // by message
	incs   []*incarnation       // every subscriber connection
	live   map[string]*incarnation
}

// pubStatus is what a PUBLISH's caller learnt.
type pubStatus uint8

const (
	pubAcked   pubStatus = iota + 1 // a receiver count came back
	pubFailed                       // a definite error: never applied
	pubUnknown                      // no answer, or UNKNOWN
)

// incarnation is one subscriber connection and what it received.
type incarnation struct {
	node string
	mu   sync.Mutex
	msgs []string
}

func (in *incarnation) received() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.msgs...)
}

const (
	probeChannel    = "fault-probe"
	probePublishers = 3
	probeFinals     = 5
	// probeKeys start the probe's keys: one hashtag, so one partition's
	// log orders all their events.
	probeKeys    = "{probe}"
	probeEvents  = "__keyspace@0__:" + probeKeys + "*"
	probeEventsN = len(probeEvents) - 1
)

// probeArgs are the arguments every node gets for the probe: the string
// class of keyspace events, on the key's channel.
func probeArgs() []string { return []string{"--notify-keyspace-events", "K$"} }

// startPubSubProbe starts the subscribers and the publishers; the
// publishers stop with ctx, the subscribers with finish.
func startPubSubProbe(ctx context.Context, c *cluster) *pubsubProbe {
	p := &pubsubProbe{c: c, nodes: c.launchedNodes(), stop: make(chan struct{}), trackEnd: make(chan struct{}),
		status: map[string]pubStatus{}, live: map[string]*incarnation{}}
	for _, n := range p.nodes {
		p.subs.Add(1)
		go p.subscribe(n)
		t := &tracker{node: n}
		p.trackers = append(p.trackers, t)
		p.tracking.Add(1)
		go func() {
			defer p.tracking.Done()
			t.track(p.trackEnd)
		}()
	}
	for i := range probePublishers {
		p.pubs.Add(1)
		go func() {
			defer p.pubs.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				nodes := c.launchedNodes()
				n := nodes[(i+seq)%len(nodes)]
				msg := fmt.Sprintf("p%d-%06d", i, seq)
				switch seq % 3 {
				case 0:
					p.publish(n, msg)
				case 1:
					p.publish(n, probeKeys+msg) // its "set" event is the message
				case 2:
					incrThrough(n, counterKey(seq%trackCounters)) // the trackers' keys
				}
				sleep(ctx, 10*time.Millisecond)
			}
		}()
	}
	return p
}

// subscribe keeps a subscriber connected to n until stop.
func (p *pubsubProbe) subscribe(n *node) {
	defer p.subs.Done()
	for {
		select {
		case <-p.stop:
			return
		default:
		}
		cn, err := dial(n.addr, time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var confirmed []string
		err = cn.pipeline(5*time.Second, [][]string{{"SUBSCRIBE", probeChannel}, {"PSUBSCRIBE", probeEvents}},
			func(_ int, r reply) { confirmed = append(confirmed, fmt.Sprint(r)) })
		if err != nil || strings.Join(confirmed, " ") != "[subscribe "+probeChannel+" 1] [psubscribe "+probeEvents+" 2]" {
			cn.Close()
			time.Sleep(100 * time.Millisecond)
			continue
		}
		cn.nc.SetDeadline(time.Time{})
		in := &incarnation{node: n.id}
		p.mu.Lock()
		p.incs = append(p.incs, in)
		p.live[n.id] = in
		p.mu.Unlock()
		done := make(chan struct{})
		go func() {
			select {
			case <-p.stop:
			case <-done:
			}
			cn.Close()
		}()
		for {
			r, err := readReply(cn.r)
			if err != nil {
				break
			}
			var got string
			switch m, _ := r.([]any); {
			case len(m) == 3 && m[0] == "message":
				got = m[2].(string)
			case len(m) == 4 && m[0] == "pmessage" && m[3] == "set" && m[2] != "__keyspace@0__:"+trackMarker:
				got = probeKeys + m[2].(string)[probeEventsN:]
			default:
				continue
			}
			in.mu.Lock()
			in.msgs = append(in.msgs, got)
			in.mu.Unlock()
		}
		close(done)
		p.mu.Lock()
		if p.live[n.id] == in {
			delete(p.live, n.id)
		}
		p.mu.Unlock()
	}
}

// publish publishes msg through n and records what came of it.
func (p *pubsubProbe) publish(n *node, msg string) pubStatus {
	st := pubFailed // not even sent, unless dialled
	if cn, err := dial(n.addr, time.Second); err == nil {
		st = pubUnknown
		args := []string{"PUBLISH", probeChannel, msg}
		if strings.HasPrefix(msg, probeKeys) {
			args = []string{"SET", msg, "1"}
		}
		r, err := cn.do(5*time.Second, args...)
		cn.Close()
		switch e, isErr := r.(errorReply); {
		case err != nil:
		case !isErr:
			st = pubAcked
		case !strings.HasPrefix(string(e), "UNKNOWN"):
			st = pubFailed
		}
	}
	p.mu.Lock()
	p.status[msg] = st
	p.mu.Unlock()
	return st
}

// finish stops the publishers, publishes the final messages once every
// node has a subscriber again, waits for every node's to receive them,
// and checks every incarnation's messages. It returns the problems
// found and a summary.
func (p *pubsubProbe) finish() ([]string, string) {
	p.pubs.Wait()
	defer func() {
		close(p.stop)
		p.subs.Wait()
		p.stopTrackers()
	}()
	nodes := p.nodes
	var problems []string
	deadline := time.Now().Add(30 * time.Second)
	for len(p.liveOnes()) < len(nodes) {
		if time.Now().After(deadline) {
			return []string{fmt.Sprintf("only %d of %d nodes have a subscriber after the faults", len(p.liveOnes()), len(nodes))}, ""
		}
		time.Sleep(50 * time.Millisecond)
	}
	live := p.liveOnes()
	var finals []string
	for i := range 2 * probeFinals {
		msg := fmt.Sprintf("final-%d", i)
		if i%2 == 1 {
			msg = probeKeys + msg
		}
		finals = append(finals, msg)
		for p.publish(nodes[i%len(nodes)], msg) != pubAcked {
			if time.Now().After(deadline) {
				return []string{"a final message was never acknowledged"}, ""
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, in := range live {
		for !hasAll(in.received(), finals) {
			if time.Now().After(deadline) {
				problems = append(problems, fmt.Sprintf("%s's subscriber did not receive the final messages: %q", in.node, tail(in.received(), 10)))
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	problems = append(problems, p.settleTrackers(deadline)...)
	p.mu.Lock()
	status := p.status
	incs := append([]*incarnation(nil), p.incs...)
	p.mu.Unlock()
	problems = append(problems, checkPubSub(status, incs)...)
	var acked, unknown, delivered int
	for _, st := range status {
		switch st {
		case pubAcked:
			acked++
		case pubUnknown:
			unknown++
		}
	}
	events := 0
	for _, in := range incs {
		for _, m := range in.received() {
			delivered++
			if strings.HasPrefix(m, probeKeys) {
				events++
			}
		}
	}
	if events == 0 {
		problems = append(problems, "no keyspace event was delivered")
	}
	conns := 0
	for _, t := range p.trackers {
		conns += t.conns
	}
	return problems, fmt.Sprintf("%d published or set (%d acknowledged, %d unknown), %d subscriber connections, %d deliveries (%d keyspace events); %d tracking connections, caches checked after the writes",
		len(status), acked, unknown, len(incs), delivered, events, conns)
}

func (p *pubsubProbe) liveOnes() []*incarnation {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*incarnation
	for _, in := range p.live {
		out = append(out, in)
	}
	return out
}

// checkPubSub checks the incarnations' messages against what the
// publishers learnt: nothing delivered that was refused or never sent;
// at most once per connection; each publisher's acknowledged messages
// in the order it published them (it sent one only once the one before
// was acknowledged, so the log holds them in that order); and one order
// for all: any two connections' common messages of one log in the same
// order (messages through partition 0's log, key events through their
// keys' partition's).
func checkPubSub(status map[string]pubStatus, incs []*incarnation) []string {
	var problems []string
	orders := make([]map[string]int, len(incs))
	for i, in := range incs {
		msgs := in.received()
		orders[i] = make(map[string]int, len(msgs))
		last := map[string]int{}
		for j, m := range msgs {
			switch status[m] {
			case pubFailed:
				problems = append(problems, fmt.Sprintf("%s: %q delivered though its PUBLISH was refused", in.node, m))
			case 0:
				if !strings.Contains(m, "final-") {
					problems = append(problems, fmt.Sprintf("%s: %q delivered, never published", in.node, m))
				}
			}
			if _, dup := orders[i][m]; dup {
				problems = append(problems, fmt.Sprintf("%s: %q delivered twice on one connection", in.node, m))
			}
			orders[i][m] = j
			pub, seqText, ok := strings.Cut(m, "-")
			seq, err := strconv.Atoi(seqText)
			if !ok || err != nil || status[m] != pubAcked {
				continue
			}
			if prev, seen := last[pub]; seen && seq <= prev {
				problems = append(problems, fmt.Sprintf("%s: %s's message %d after its %d", in.node, pub, seq, prev))
			}
			last[pub] = seq
		}
	}
	for i := range incs {
		for k := i + 1; k < len(incs); k++ {
			prev := map[bool]int{false: -1, true: -1} // by log: key events or not
			for _, m := range incs[k].received() {
				at, common := orders[i][m]
				if !common {
					continue
				}
				event := strings.HasPrefix(m, probeKeys)
				if at < prev[event] {
					problems = append(problems, fmt.Sprintf("%s and %s saw %q in another order", incs[i].node, incs[k].node, m))
					break
				}
				prev[event] = at
			}
		}
	}
	return problems
}

func hasAll(got, want []string) bool {
	set := make(map[string]bool, len(got))
	for _, g := range got {
		set[g] = true
	}
	for _, w := range want {
		if !set[w] {
			return false
		}
	}
	return true
}

func tail(xs []string, n int) []string { return xs[max(0, len(xs)-n):] }

// settleTrackers waits for every tracker to be connected, stops their
// loops and checks each one's cache (tracker.settle).
func (p *pubsubProbe) settleTrackers(deadline time.Time) []string {
	for {
		connected := 0
		for _, t := range p.trackers {
			t.mu.Lock()
			if t.cn != nil {
				connected++
			}
			t.mu.Unlock()
		}
		if connected == len(p.trackers) {
			break
		}
		if time.Now().After(deadline) {
			return []string{fmt.Sprintf("only %d of %d trackers connected after the faults", connected, len(p.trackers))}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stopTrackers()
	w, err := dial(p.nodes[0].addr, time.Second)
	if err != nil {
		return []string{err.Error()}
	}
	defer w.Close()
	var problems []string
	for _, t := range p.trackers {
		problems = append(problems, t.settle(w)...)
		if t.cn != nil {
			t.cn.Close()
		}
	}
	return problems
}

// stopTrackers ends the trackers' loops (their connections stay open).
func (p *pubsubProbe) stopTrackers() {
	p.endTrack.Do(func() { close(p.trackEnd) })
	p.tracking.Wait()
}

// incrThrough INCRs key through n, whatever comes of it.
func incrThrough(n *node, key string) {
	if cn, err := dial(n.addr, time.Second); err == nil {
		cn.do(5*time.Second, "INCR", key)
		cn.Close()
	}
}
