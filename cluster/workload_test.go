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
// exact; the registers mix every command; the pair and the CAS key are
// written only by transactions.
type keyClass struct {
	name string
	ops  []kind
}

var workloadKeys = []keyClass{
	{"ctr", []kind{opIncr, opIncr, opIncr, opGet}},
	{"log", []kind{opAppend, opAppend, opGet}},
	{"reg1", []kind{opSet, opGet, opGet, opAppend, opIncr, opDel}},
	{"reg2", []kind{opSet, opGet, opGet, opAppend, opIncr, opDel}},
	// A pair of counters that MULTI/INCR/INCR/EXEC moves together and
	// MGET reads together: atomicity, on every node, under faults.
	{"tx", []kind{opTx, opTx, opTx, opMGet}},
	// A counter that WATCH compare-and-set loops move: a WATCH must abort
	// an EXEC whose read went stale, even across a failover.
	{"cas", []kind{opCAS, opCAS, opGet}},
	// A counter that only a Lua script moves, by a GET and a SET (one
	// Exec op, as a transaction's writes are): the model takes it as an
	// INCR, so a script whose GET and SET another write split (two
	// scripts returning one value) or that was applied twice fails as a
	// lost or doubled INCR does.
	{"lua", []kind{opEval, opEval, opGet}},
	// A queue that pushes fill and pops (blocking ones too) empty: an
	// element served twice or lost fails.
	{"q", []kind{opRPush, opRPush, opLPop, opBLPop, opLRange}},
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
	case opRPush:
		in.arg = queueElement(client, seq)
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
	// native: every third client goes through the native Go client
	// (native_test.go) instead of a connection to one node.
	native bool
}

// casAttempts is how many times a CAS loop tries again after a WATCH
// aborted its EXEC.
const casAttempts = 3

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
			cl := &client{w: w, c: c, h: h, id: i, rng: rand.New(rand.NewPCG(w.seed, uint64(i))),
				home: i % len(c.nodes), target: i % len(c.nodes)}
			cl.unexpected = func(s string) {
				mu.Lock()
				unexpected = append(unexpected, s)
				mu.Unlock()
			}
			if w.native && i%3 == 2 {
				cl.nativeLoop(ctx)
			} else {
				cl.loop(ctx)
			}
		}()
	}
	wg.Wait()
	return unexpected
}

// client is one client of the workload.
type client struct {
	w            workload
	c            *cluster
	h            *history
	id           int
	rng          *rand.Rand
	home, target int // its own node, the node it talks to
	cn           *conn
	seq          int
	unexpected   func(string)
}

func (cl *client) loop(ctx context.Context) {
	defer func() {
		if cl.cn != nil {
			cl.cn.Close()
		}
	}()
	for cl.seq < cl.w.maxOps && ctx.Err() == nil {
		n := cl.c.nodes[cl.target]
		if cl.cn == nil {
			var err error
			if cl.cn, err = dial(n.addr, 500*time.Millisecond); err != nil {
				cl.target = (cl.target + 1) % len(cl.c.nodes)
				sleep(ctx, 100*time.Millisecond)
				continue
			}
		}
		depth := 1
		if cl.id%2 == 1 {
			depth = max(1, cl.w.depth)
		}
		// A CAS needs its GET's reply before it sends MULTI, so it ends
		// a batch: the calls before it go in one pipeline, then it runs.
		var ins []input
		for len(ins) < depth && (len(ins) == 0 || ins[len(ins)-1].op != opCAS) {
			ins = append(ins, nextInput(cl.rng, cl.id, cl.seq, int(time.Since(cl.h.start)/cl.w.epoch)))
			cl.seq++
		}
		began := time.Now()
		var out output
		var err error
		if last := ins[len(ins)-1]; last.op == opCAS {
			if len(ins) > 1 {
				out, err = cl.send(n, ins[:len(ins)-1])
			}
			if err == nil {
				out, err = cl.cas(n, last.key)
			}
		} else {
			out, err = cl.send(n, ins)
		}
		switch {
		case err != nil:
			cl.cn.Close()
			cl.cn, cl.target = nil, cl.home
			sleep(ctx, time.Duration(100+cl.rng.IntN(200))*time.Millisecond)
		case out.res == resRefused:
			sleep(ctx, 50*time.Millisecond)
		default:
			sleep(ctx, cl.w.pace-time.Since(began))
		}
	}
}

// send sends the calls' commands in one pipeline and records each call
// once its last reply arrives, or with an unknown outcome if the
// connection fails first. It returns the last call's output and the
// connection's error.
func (cl *client) send(n *node, ins []input) (output, error) {
	var cmds [][]string
	var owner []int // the call each command belongs to
	for k, in := range ins {
		for _, c := range in.cmds() {
			cmds = append(cmds, c)
			owner = append(owner, k)
		}
	}
	call := cl.h.now()
	replies := make([][]reply, len(ins))
	var out output
	err := cl.cn.pipeline(cl.w.timeout, cmds, func(i int, r reply) {
		k := owner[i]
		replies[k] = append(replies[k], r)
		if len(replies[k]) == len(ins[k].cmds()) {
			out = cl.note(n, ins[k], call, replies[k], nil)
		}
	})
	for k, in := range ins {
		if len(replies[k]) < len(in.cmds()) {
			out = cl.note(n, in, call, nil, err)
		}
	}
	return out, err
}

// note records a call that began at call: its replies (one per command)
// or the connection's error. It returns the call's output.
func (cl *client) note(n *node, in input, call int64, rs []reply, err error) output {
	var out output
	var bad string
	if err != nil {
		out, bad = outcome(in, nil, err)
	} else {
		for _, r := range rs[:len(rs)-1] {
			if bad == "" {
				bad = queueReply(r)
			}
		}
		var b string
		out, b = outcome(in, rs[len(rs)-1], nil)
		if bad == "" {
			bad = b
		}
	}
	cl.h.add(record{client: cl.id, node: n.id, in: in, out: out, call: call, ret: cl.h.now()})
	if bad != "" {
		cl.unexpected(n.id + ": " + in.String() + ": " + bad)
	}
	return out
}

// cas runs a WATCH compare-and-set loop on key: WATCH and GET in one
// pipeline, then MULTI, SET key <read+1>, EXEC, again while a WATCH
// aborts the EXEC, up to casAttempts times. The GET is recorded as any
// GET, the EXEC as a CAS from the value read. It returns the last call's
// output and the connection's error.
func (cl *client) cas(n *node, key string) (output, error) {
	var out output
	for range casAttempts {
		get := input{op: opGet, key: key}
		call := cl.h.now()
		var watched reply
		var rs []reply
		err := cl.cn.pipeline(cl.w.timeout, [][]string{{"WATCH", key}, get.cmds()[0]}, func(i int, r reply) {
			if i == 0 {
				watched = r
			} else {
				rs = append(rs, r)
			}
		})
		if err != nil {
			return cl.note(n, get, call, nil, err), err
		}
		// The WATCH's reply is judged with the GET's: a refused WATCH
		// watches nothing, and no CAS follows it.
		out = cl.note(n, get, call, []reply{watched, rs[0]}, nil)
		v, isCounter := counterValue(register{exists: !out.null, val: out.val})
		if watched != "OK" || out.res != resOK || !isCounter {
			// Nothing to compare with: forget the WATCH (porcupine judges
			// a value that is not a counter).
			_, err := cl.cn.do(cl.w.timeout, "UNWATCH")
			return out, err
		}
		in := input{op: opCAS, key: key, arg: strconv.FormatInt(v+1, 10),
			expect: register{exists: !out.null, val: out.val}}
		if out, err = cl.send(n, []input{in}); err != nil || !(out.res == resOK && out.null) {
			return out, err
		}
	}
	return out, nil
}

// readOf is the read of the whole model key a call works on: a GET, an
// MGET of a pair, an LRANGE of a queue.
func readOf(c input) input {
	in := input{op: opGet, key: c.key}
	if c.op.pair() {
		in.op = opMGet
	} else if c.op.queue() {
		in.op = opLRange
	}
	return in
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
	reads := map[string]input{} // a GET per key, an MGET per pair
	for _, r := range h.records() {
		reads[r.in.key] = readOf(r.in)
	}
	final := map[string]register{}
	for i, n := range c.launchedNodes() {
		var cn *conn
		for _, in := range reads {
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
					r, err = cn.do(10*time.Second, in.cmds()[0]...)
					out, _ = outcome(in, r, err)
					h.add(record{client: first + i, node: n.id, in: in, out: out, call: call, ret: h.now()})
				}
				if err != nil && cn != nil {
					cn.Close()
					cn = nil
				}
				if err == nil && out.res == resOK && in.op == opMGet {
					a, b := pairKeys(in.key)
					final[a], final[b] = out.two[0], out.two[1]
					break
				}
				if err == nil && out.res == resOK {
					final[in.key] = register{exists: !out.null && (in.op != opLRange || out.val != ""), val: out.val}
					break
				}
				if time.Now().After(deadline) {
					return nil, fmt.Errorf("final %v via %s: %s %v", in, n.id, out.show(in.op), err)
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
