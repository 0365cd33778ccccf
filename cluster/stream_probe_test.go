package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// streamProbe checks through a scenario's faults what docs/consistency.md
// ("Blocking stream reads") promises of consumer groups: XREADGROUP's
// delivery is a replicated write, so an entry delivered as new to one
// consumer is never delivered as new again, to it or another, on any
// node, across a leader change, and it stays pending until acknowledged.
// Producers XADD through every node in turn, each value new; a consumer
// per node (a new consumer name for each connection) reads the group
// with ">" and XACKs every other entry it gets. At the end the nodes'
// stream, groups and pending entries are checked against what the
// clients learnt (checkStream).
type streamProbe struct {
	c     *cluster
	nodes []*node
	stop  chan struct{} // ends the consumers
	prods sync.WaitGroup
	cons  sync.WaitGroup
	setup error // the group could not be created

	mu     sync.Mutex
	sent   map[string]xadd // by value
	got    []delivery
	alive  map[string]time.Time // by node: the last XREADGROUP answered
	incs   int                  // consumer connections
	oddity []string             // replies of no expected shape
}

const (
	probeStream    = probeKeys + "stream" // one hashtag: one partition
	probeGroup     = "g"
	probeProducers = 3
)

// startStreamProbe creates the group and starts the consumers and the
// producers; the producers stop with ctx, the consumers with finish.
func startStreamProbe(ctx context.Context, c *cluster) *streamProbe {
	p := &streamProbe{c: c, nodes: c.launchedNodes(), stop: make(chan struct{}),
		sent: map[string]xadd{}, alive: map[string]time.Time{}}
	if p.setup = p.createGroup(); p.setup != nil {
		return p
	}
	for _, n := range p.nodes {
		p.cons.Add(1)
		go p.consume(n)
	}
	for i := range probeProducers {
		p.prods.Add(1)
		go func() {
			defer p.prods.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				nodes := c.launchedNodes()
				p.add(nodes[(i+seq)%len(nodes)], fmt.Sprintf("x%d-%06d", i, seq))
				sleep(ctx, 15*time.Millisecond)
			}
		}()
	}
	return p
}

// createGroup creates the group (and the stream) through the nodes in
// turn until one answers OK or BUSYGROUP (an earlier try that timed out
// may have created it).
func (p *streamProbe) createGroup() error {
	deadline := time.Now().Add(leaderBound)
	for i := 0; ; i++ {
		var r reply
		cn, err := dial(p.nodes[i%len(p.nodes)].addr, time.Second)
		if err == nil {
			r, err = cn.do(5*time.Second, "XGROUP", "CREATE", probeStream, probeGroup, "$", "MKSTREAM")
			cn.Close()
		}
		if e, isErr := r.(errorReply); err == nil && (!isErr || len(e) > 9 && e[:9] == "BUSYGROUP") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("XGROUP CREATE: %v %v", r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// add XADDs value through n and records what came of it.
func (p *streamProbe) add(n *node, value string) xadd {
	x := xadd{st: pubFailed} // not even sent, unless dialled
	if cn, err := dial(n.addr, time.Second); err == nil {
		x.st = pubUnknown
		r, err := cn.do(5*time.Second, "XADD", probeStream, "*", "v", value)
		cn.Close()
		switch r := r.(type) {
		case nil:
		case errorReply:
			if !isUnknown(r) {
				x.st = pubFailed
			}
		case string:
			if err == nil {
				x = xadd{st: pubAcked, id: r}
			}
		default:
			p.odd("XADD replied %v", r)
		}
	}
	p.mu.Lock()
	p.sent[value] = x
	p.mu.Unlock()
	return x
}

func isUnknown(e errorReply) bool { return len(e) >= 8 && e[:8] == "UNKNOWN " }

func (p *streamProbe) odd(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.oddity) < 20 {
		p.oddity = append(p.oddity, fmt.Sprintf(format, args...))
	}
}

func (p *streamProbe) stopped() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// consume keeps a consumer reading the group through n until stop, a new
// connection and consumer name whenever one is lost.
func (p *streamProbe) consume(n *node) {
	defer p.cons.Done()
	for inc := 1; !p.stopped(); inc++ {
		cn, err := dial(n.addr, time.Second)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		p.mu.Lock()
		p.incs++
		p.mu.Unlock()
		p.readAs(n, cn, fmt.Sprintf("%s-%d", n.id, inc))
		cn.Close()
	}
}

// readAs reads the group as consumer name on cn until stop or a lost
// connection, recording every entry delivered and XACKing every other.
func (p *streamProbe) readAs(n *node, cn *conn, name string) {
	for count := 0; !p.stopped(); {
		r, err := cn.do(5*time.Second, "XREADGROUP", "GROUP", probeGroup, name, "COUNT", "10", "BLOCK", "200",
			"STREAMS", probeStream, ">")
		if err != nil {
			return
		}
		if _, isErr := r.(errorReply); isErr {
			time.Sleep(100 * time.Millisecond) // no leader, or its outcome unknown: read again
			continue
		}
		entries, ok := groupEntries(r)
		if !ok {
			p.odd("XREADGROUP replied %v", r)
			continue
		}
		p.mu.Lock()
		p.alive[n.id] = time.Now()
		first := len(p.got)
		for _, e := range entries {
			p.got = append(p.got, delivery{consumer: name, id: e.id, value: e.value})
		}
		p.mu.Unlock()
		var acks [][]string
		var at []int // p.got's index of each XACK
		for i, e := range entries {
			if count++; count%2 == 0 {
				acks = append(acks, []string{"XACK", probeStream, probeGroup, e.id})
				at = append(at, first+i)
			}
		}
		if len(acks) == 0 {
			continue
		}
		p.setAcks(at, ackUnknown) // until a reply says otherwise
		err = cn.pipeline(5*time.Second, acks, func(i int, r reply) {
			st := ackUnknown
			switch e, isErr := r.(errorReply); {
			case r == int64(1):
				st = ackDone
			case r == int64(0):
				st = ackNotPending
			case isErr && !isUnknown(e):
				st = ackRefused
			case !isErr:
				p.odd("XACK replied %v", r)
			}
			p.setAcks(at[i:i+1], st)
		})
		if err != nil {
			return
		}
	}
}

func (p *streamProbe) setAcks(at []int, st ackStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, i := range at {
		p.got[i].ack = st
	}
}

// groupEntries returns the entries of an XREADGROUP reply on the probe's
// stream (none for a null reply); false if it is of another shape.
func groupEntries(r reply) ([]streamEntry, bool) {
	if r == nil {
		return nil, true
	}
	streams, _ := r.([]any)
	if len(streams) != 1 {
		return nil, false
	}
	kv, _ := streams[0].([]any)
	if len(kv) != 2 || kv[0] != probeStream {
		return nil, false
	}
	return rangeEntries(kv[1])
}

// rangeEntries decodes a list of entries [id [v value]] (XRANGE's reply).
func rangeEntries(r reply) ([]streamEntry, bool) {
	list, ok := r.([]any)
	if !ok {
		return nil, false
	}
	out := make([]streamEntry, 0, len(list))
	for _, item := range list {
		e, _ := item.([]any)
		if len(e) != 2 {
			return nil, false
		}
		id, okID := e[0].(string)
		fields, _ := e[1].([]any)
		if !okID || len(fields) != 2 || fields[0] != "v" {
			return nil, false
		}
		value, ok := fields[1].(string)
		if !ok {
			return nil, false
		}
		out = append(out, streamEntry{id: id, value: value})
	}
	return out, true
}

// finish stops the producers, adds final entries once the cluster serves
// again and waits for them to be delivered and for every node's consumer
// to be answered after them; then it stops the consumers, reads every
// node's stream, groups and pending entries, and checks them. It returns
// the problems found and a summary.
func (p *streamProbe) finish() ([]string, string) {
	p.prods.Wait()
	defer func() {
		if !p.stopped() {
			close(p.stop)
		}
		p.cons.Wait()
	}()
	if p.setup != nil {
		return []string{p.setup.Error()}, ""
	}
	var problems []string
	deadline := time.Now().Add(20 * time.Second)
	finals := map[string]bool{} // by id
	for i := range 2 * len(p.nodes) {
		// Each try a value of its own: an unknown one may be in the stream.
		x := p.add(p.nodes[i%len(p.nodes)], fmt.Sprintf("final-%d-0", i))
		for try := 1; x.st != pubAcked && time.Now().Before(deadline); try++ {
			time.Sleep(100 * time.Millisecond)
			x = p.add(p.nodes[i%len(p.nodes)], fmt.Sprintf("final-%d-%d", i, try))
		}
		if x.st != pubAcked {
			return []string{"a final XADD was never acknowledged"}, ""
		}
		finals[x.id] = true
	}
	added := time.Now()
	for !p.settled(finals, added) {
		if time.Now().After(deadline) {
			problems = append(problems, "the final entries were not all delivered, or a node's consumer was not answered after them")
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	close(p.stop)
	p.cons.Wait()
	views, err := p.readViews()
	if err != nil {
		return append(problems, err.Error()), ""
	}
	p.mu.Lock()
	sent, got := p.sent, append([]delivery(nil), p.got...)
	problems = append(problems, p.oddity...)
	incs := p.incs
	p.mu.Unlock()
	problems = append(problems, checkStream(sent, got, views)...)
	var acked, unknown, xacked int
	for _, x := range sent {
		switch x.st {
		case pubAcked:
			acked++
		case pubUnknown:
			unknown++
		}
	}
	for _, d := range got {
		if d.ack == ackDone {
			xacked++
		}
	}
	return problems, fmt.Sprintf("%d XADDs (%d acknowledged, %d unknown), %d entries in the stream, %d consumer connections, %d deliveries (%d XACKed), %d pending, the same on %d nodes",
		len(sent), acked, unknown, len(views[0].entries), incs, len(got), xacked, len(views[0].pending), len(views))
}

// settled reports whether every final entry was delivered and every
// node's consumer answered since added.
func (p *streamProbe) settled(finals map[string]bool, added time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.nodes {
		if !p.alive[n.id].After(added) {
			return false
		}
	}
	seen := 0
	for _, d := range p.got {
		if finals[d.id] {
			seen++
		}
	}
	return seen >= len(finals)
}

// readViews reads every node's view of the stream. Writes have stopped,
// but one sent before may still be in flight (a forward whose client
// gave up): views that differ are read again, after the nodes converge,
// a few times before they count as a divergence.
func (p *streamProbe) readViews() ([]streamView, error) {
	for try := 0; ; try++ {
		var views []streamView
		for _, n := range p.nodes {
			v, err := readView(n)
			if err != nil {
				return nil, err
			}
			views = append(views, v)
		}
		if len(diverging(views)) == 0 || try == 4 {
			return views, nil
		}
		time.Sleep(200 * time.Millisecond)
		if err := p.c.waitConverged(); err != nil {
			return nil, err
		}
	}
}

// readView reads n's XRANGE, XINFO GROUPS and XPENDING of the stream on
// a connection of its own (default reads: linearizable on every node).
func readView(n *node) (streamView, error) {
	v := streamView{node: n.id, pending: map[string]string{}}
	cn, err := dial(n.addr, time.Second)
	if err != nil {
		return v, fmt.Errorf("%s: %v", n.id, err)
	}
	defer cn.Close()
	var rng, pend reply
	err = cn.pipeline(20*time.Second, [][]string{{"XRANGE", probeStream, "-", "+"}, {"XINFO", "GROUPS", probeStream},
		{"XPENDING", probeStream, probeGroup, "-", "+", "1000000"}}, func(i int, r reply) {
		switch i {
		case 0:
			rng = r
		case 1:
			v.groups = fmt.Sprint(r)
		case 2:
			pend = r
		}
	})
	if err != nil {
		return v, fmt.Errorf("%s: reading the stream: %v", n.id, err)
	}
	var ok bool
	if v.entries, ok = rangeEntries(rng); !ok {
		return v, fmt.Errorf("%s: XRANGE replied %v", n.id, rng)
	}
	list, ok := pend.([]any)
	for _, item := range list {
		e, _ := item.([]any)
		if len(e) != 4 {
			ok = false
			break
		}
		v.pending[fmt.Sprint(e[0])] = fmt.Sprint(e[1]) // id: consumer
	}
	if !ok {
		return v, fmt.Errorf("%s: XPENDING replied %v", n.id, pend)
	}
	return v, nil
}
