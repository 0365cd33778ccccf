package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// keyClass is a key of the workload and the commands run on it (repeated
// entries weigh more). The counter and the log keep the no-loss checks
// exact; the registers mix every command.
type keyClass struct {
	name string
	ops  []kind
}

var workloadKeys = []keyClass{
	{"ctr", []kind{opIncr, opIncr, opIncr, opGet}},
	{"log", []kind{opAppend, opAppend, opGet}},
	{"reg1", []kind{opSet, opGet, opGet, opAppend, opIncr, opDel}},
	{"reg2", []kind{opSet, opGet, opGet, opAppend, opIncr, opDel}},
}

// nextInput picks a call on a key of the given epoch. SET values are
// integers (so INCR has work) and APPEND chunks are unique, both derived
// from the client and its count.
func nextInput(rng *rand.Rand, client, seq, epoch int) input {
	k := workloadKeys[rng.IntN(len(workloadKeys))]
	in := input{op: k.ops[rng.IntN(len(k.ops))], key: fmt.Sprintf("%s:%d", k.name, epoch)}
	switch in.op {
	case opSet:
		in.arg = strconv.Itoa((client+1)*1_000_000 + seq)
	case opAppend:
		in.arg = chunk(client, seq)
	}
	return in
}

// workload configures the clients.
type workload struct {
	clients int
	timeout time.Duration // per call: past it the outcome is unknown
	maxOps  int           // per client
	// pace is the least time between the starts of a client's calls: it
	// keeps clients busy for the whole run (not done before the fault)
	// and the history small enough to check quickly.
	pace time.Duration
	// epoch is how long the clients use one set of keys before moving to
	// fresh ones. A call of unknown outcome stays open to the end of its
	// key's history, and porcupine's search grows with both: short-lived
	// keys keep long runs checkable (as Jepsen's independent keys do).
	epoch time.Duration
	seed  uint64
	// depth is how many calls the odd-numbered clients send at once, in
	// one pipeline (the others send one at a time): through a follower a
	// pipeline goes to the leader as one batch.
	depth int
}

// run starts w.clients clients, client i on node i mod N, each with its
// own connection and one call (or one pipeline) in flight, until ctx ends
// or each made maxOps calls. Every call is recorded in h. A client whose connection
// fails goes back to its own node, and tries the next one while its own
// refuses connections. It returns the replies no correct server sends.
func (w workload) run(ctx context.Context, c *cluster, h *history) []string {
	var (
		wg         sync.WaitGroup
		mu         sync.Mutex
		unexpected []string
	)
	for i := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(w.seed, uint64(i)))
			home := i % len(c.nodes)
			target := home
			var cn *conn
			defer func() {
				if cn != nil {
					cn.Close()
				}
			}()
			for seq := 0; seq < w.maxOps && ctx.Err() == nil; {
				n := c.nodes[target]
				if cn == nil {
					var err error
					if cn, err = dial(n.addr, 500*time.Millisecond); err != nil {
						target = (target + 1) % len(c.nodes)
						sleep(ctx, 100*time.Millisecond)
						continue
					}
				}
				depth := 1
				if i%2 == 1 {
					depth = max(1, w.depth)
				}
				ins := make([]input, depth)
				cmds := make([][]string, depth)
				for k := range ins {
					ins[k] = nextInput(rng, i, seq, int(time.Since(h.start)/w.epoch))
					cmds[k] = ins[k].args()
					seq++
				}
				began := time.Now()
				call := h.now()
				var out output
				note := func(k int, r reply, err error) {
					var bad string
					out, bad = outcome(ins[k], r, err)
					h.add(record{client: i, node: n.id, in: ins[k], out: out, call: call, ret: h.now()})
					if bad != "" {
						mu.Lock()
						unexpected = append(unexpected, n.id+": "+ins[k].String()+": "+bad)
						mu.Unlock()
					}
				}
				answered := 0
				err := cn.pipeline(w.timeout, cmds, func(k int, r reply) {
					note(k, r, nil)
					answered++
				})
				for k := answered; k < depth; k++ {
					note(k, nil, err)
				}
				switch {
				case err != nil:
					cn.Close()
					cn, target = nil, home
					sleep(ctx, time.Duration(100+rng.IntN(200))*time.Millisecond)
				case out.res == resRefused:
					sleep(ctx, 50*time.Millisecond)
				default:
					sleep(ctx, w.pace-time.Since(began))
				}
			}
		}()
	}
	wg.Wait()
	return unexpected
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// finalReads reads every key of the history through every serving node
// once the faults have healed, retrying refusals, and records the reads
// (as clients first, first+1, ...). It returns the value each key was
// read with.
func finalReads(c *cluster, h *history, first int) (map[string]register, error) {
	keys := map[string]bool{}
	for _, r := range h.records() {
		keys[r.in.key] = true
	}
	final := map[string]register{}
	for i, n := range c.nodes {
		var cn *conn
		for k := range keys {
			in := input{op: opGet, key: k}
			deadline := time.Now().Add(leaderBound)
			for {
				var err error
				if cn == nil {
					cn, err = dial(n.addr, time.Second)
				}
				var out output
				if err == nil {
					call := h.now()
					var r reply
					r, err = cn.do(10*time.Second, in.args()...)
					out, _ = outcome(in, r, err)
					h.add(record{client: first + i, node: n.id, in: in, out: out, call: call, ret: h.now()})
				}
				if err != nil && cn != nil {
					cn.Close()
					cn = nil
				}
				if err == nil && out.res == resOK {
					final[k] = register{exists: !out.null, val: out.val}
					break
				}
				if time.Now().After(deadline) {
					return nil, fmt.Errorf("final %v via %s: %v %v", in, n.id, out, err)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		if cn != nil {
			cn.Close()
		}
	}
	return final, nil
}
