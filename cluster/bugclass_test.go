package cluster

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The bug classes Jepsen found in RedisRaft (jepsen.io/analyses/redis-raft-1b3fbf6),
// each a scenario of its own, run with the workload and checked with
// porcupine and the no-loss checker as every scenario is
// (docs/consistency.md, "RedisRaft's bug classes").

// TestMembershipDuringPartition: RedisRaft lost updates when its
// membership changed while the network was split. Here one node is cut
// off (a follower, the leader staying on the majority side; or the
// leader itself), and while the partition holds a spare node is added
// (RAFT.NODE ADD), the cut-off node removed (RAFT.NODE REMOVE) and the
// leadership handed on (RAFT.TRANSFER), through the majority; a cut-off
// leader is sent the same changes first, none of which may be
// acknowledged. The heal adds the removed node back.
func TestMembershipDuringPartition(t *testing.T) {
	runScenarios(t, onOneAndThree([]scenario{
		{
			name: "membership-leader-on-majority", nodes: 3, spares: 1, hold: 2 * time.Second,
			doc: "start 3 (+1 spare); cut a follower off; through the majority add the spare, remove the " +
				"cut-off follower, transfer the leadership; heal; add the removed node back; check",
			inject: membershipChange(false),
		},
		{
			name: "membership-leader-on-minority", nodes: 3, spares: 1, hold: 2 * time.Second,
			doc: "start 3 (+1 spare); cut the leader off; send it REMOVE, ADD and TRANSFER (none may be " +
				"acknowledged); through the majority add the spare, remove the old leader, transfer the " +
				"leadership; heal; add the old leader back; check",
			inject: membershipChange(true),
		},
	}))
}

// TestRestartAfterSnapshot: RedisRaft crashed on restart when a snapshot
// and the log compaction after it left a gap. The nodes snapshot every
// few hundred ops and keep one entry behind a snapshot; a node is killed
// the moment its RAFT.INFO shows a new snapshot, restarted at once, and
// must come back, hold that snapshot and catch up.
func TestRestartAfterSnapshot(t *testing.T) {
	args := []string{"--snapshot-threshold", "300", "--trailing-logs", "1"}
	hold := 200 * time.Millisecond
	runScenarios(t, onOneAndThree([]scenario{
		{
			name: "snapshot-restart-leader", nodes: 3, args: args, hold: hold,
			doc:    "start 3 (snapshot every 300 ops); kill -9 the leader right after it snapshots; restart it; check",
			inject: restartAfterSnapshot("leader"),
		},
		{
			name: "snapshot-restart-follower", nodes: 3, args: args, hold: hold,
			doc:    "start 3 (snapshot every 300 ops); kill -9 a follower right after it snapshots; restart it; check",
			inject: restartAfterSnapshot("follower"),
		},
		{
			name: "snapshot-restart-all", nodes: 3, args: args, hold: hold, restartsAll: true,
			doc:    "start 3 (snapshot every 300 ops); kill -9 every node right after the leader snapshots; restart them; check",
			inject: restartAfterSnapshot("all"),
		},
	}))
}

// TestReadsRightAfterRestart: RedisRaft served reads from an empty state
// after a restart, before replaying its log. Readers dial the killed
// nodes without pause and read the workload's keys the moment a node
// accepts connections again; porcupine rejects any read older than an
// acknowledged write.
func TestReadsRightAfterRestart(t *testing.T) {
	hold := 500 * time.Millisecond
	runScenarios(t, onOneAndThree([]scenario{
		{
			name: "restart-leader-read-at-once", nodes: 3, hold: hold,
			doc:    "start 3; kill -9 the leader; restart it with readers on it from its first moment; check",
			inject: readsAfterRestart(false),
		},
		{
			name: "restart-all-read-at-once", nodes: 3, hold: hold, restartsAll: true,
			doc:    "start 3; kill -9 every node; restart them with readers on each from its first moment; check",
			inject: readsAfterRestart(true),
		},
	}))
}

// TestPauseAcrossElections: a leader stopped (SIGSTOP) with calls in
// flight, while the others elect a leader and hand the leadership on
// twice, then continued (SIGCONT) with those calls still waiting on it.
// Its lease must have lapsed by then (the monotonic clock runs while a
// process is stopped) and its writes of the old term must not stand.
// Answers it reads when it resumes, to requests sent before the pause,
// must not renew its lease (raftfsm/acks.go): on 3 partitions this
// scenario once found a stale read that such answers explain.
func TestPauseAcrossElections(t *testing.T) {
	runScenarios(t, onOneAndThree([]scenario{{
		name: "pause-leader-across-elections", nodes: 3, hold: 500 * time.Millisecond,
		doc: "start 3; SIGSTOP the leader and send it calls; the others elect a leader and transfer " +
			"the leadership twice; SIGCONT it with the calls in flight; check",
		inject: pauseAcrossElections,
	}}))
}

// membershipChange is the inject of TestMembershipDuringPartition.
func membershipChange(cutLeader bool) func(c *cluster) (string, func()) {
	return func(c *cluster) (string, func()) {
		l, fs := c.leader(), c.followers()
		x := fs[0]
		if cutLeader {
			x = l
		}
		var majority []*node
		for _, n := range c.launchedNodes() {
			if n != x {
				majority = append(majority, n)
			}
		}
		spare := c.spare()
		side := nodeIDs(majority)
		if spare != nil {
			side = append(side, spare.id)
		}
		c.net.Partition([]string{x.id}, side)
		what := fmt.Sprintf("partition [%s] | %v", x.id, side)

		var stale sync.WaitGroup
		if cutLeader {
			// Sent at once, while the cut-off leader still believes it
			// leads: it appends the changes it can but commits none. The
			// REMOVE goes first, as a leader transferring its leadership
			// refuses configuration changes.
			cmds := [][]string{{"RAFT.NODE", "REMOVE", fs[0].id}, {"RAFT.TRANSFER", fs[1].id}}
			if spare != nil {
				cmds = append(cmds, []string{"RAFT.NODE", "ADD", spare.id, spare.advertise})
			}
			for i, cmd := range cmds {
				if i > 0 {
					time.Sleep(20 * time.Millisecond)
				}
				stale.Add(1)
				go func() {
					defer stale.Done()
					sent := time.Now()
					r, err := admin(x, cmd...)
					c.t.Logf("%s sent to the cut-off leader %s: %v %v (in %v)", strings.Join(cmd, " "), x.id, r, err,
						time.Since(sent).Round(time.Millisecond))
					if r == "OK" && cmd[0] == "RAFT.NODE" {
						c.t.Errorf("%s acknowledged by a leader cut off from the majority", strings.Join(cmd, " "))
					}
				}()
			}
		}

		// Through the majority: add the spare (in later rounds, when none
		// is left, a member again: a configuration entry all the same),
		// remove the cut-off node, hand the leadership on.
		added := majority[len(majority)-1]
		if spare != nil {
			c.startSpare(spare, majority[0].addr)
			added = spare
		}
		c.adminOK(majority, "RAFT.NODE", "ADD", added.id, added.advertise)
		if spare != nil {
			majority = append(majority, spare)
		}
		c.adminOK(majority, "RAFT.NODE", "REMOVE", x.id)
		what += "; add " + added.id + ", remove " + x.id + "; " + c.transferAmong(majority)
		// The changes sent to the cut-off node end (refused, or of
		// unknown outcome) before the heal: none may reach a leader
		// after it.
		stale.Wait()
		return what, func() {
			c.net.Heal()
			c.adminOK(majority, "RAFT.NODE", "ADD", x.id, x.advertise)
		}
	}
}

// restartAfterSnapshot is the inject of TestRestartAfterSnapshot: which
// is "leader", "follower" or "all" (every node, right after the leader's
// snapshot).
func restartAfterSnapshot(which string) func(c *cluster) (string, func()) {
	return func(c *cluster) (string, func()) {
		watch := c.leader()
		targets := []*node{watch}
		switch which {
		case "follower":
			watch = c.followers()[0]
			targets = []*node{watch}
		case "all":
			targets = c.launchedNodes()
		}
		began := time.Now()
		snap := c.nextSnapshot(watch)
		for _, n := range targets {
			c.kill(n)
		}
		what := fmt.Sprintf("kill -9 %v right after %s's snapshot at index %d (after %v)", nodeIDs(targets), watch.id, snap,
			time.Since(began).Round(time.Millisecond))
		return what, func() {
			began := time.Now()
			for _, n := range targets {
				c.restart(n)
			}
			restarted := time.Since(began)
			for _, n := range targets {
				c.caughtUp(n, snap, n == watch)
			}
			c.t.Logf("restarted in %v, caught up in %v", restarted.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
		}
	}
}

// readsAfterRestart is the inject of TestReadsRightAfterRestart: it kills
// the leader (or every node); the heal restarts them while readers dial
// each one without pause, and lets them read for readWindow after.
func readsAfterRestart(all bool) func(c *cluster) (string, func()) {
	return func(c *cluster) (string, func()) {
		targets := []*node{c.leader()}
		if all {
			targets = c.launchedNodes()
		}
		for _, n := range targets {
			c.kill(n)
		}
		return fmt.Sprintf("kill -9 %v, read at once after the restart", nodeIDs(targets)), func() {
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for i, n := range targets {
				for j := range readersPerNode {
					wg.Add(1)
					go func() {
						defer wg.Done()
						c.readAtOnce(stop, n, readerClients+i*readersPerNode+j)
					}()
				}
			}
			for _, n := range targets {
				c.restart(n)
			}
			time.Sleep(readWindow)
			close(stop)
			wg.Wait()
			c.t.Logf("reads at once after the restart: %s", tally(c.h.records(), readerClients, stoppedClient))
		}
	}
}

// pauseAcrossElections is the inject of TestPauseAcrossElections.
func pauseAcrossElections(c *cluster) (string, func()) {
	l := c.leader()
	cn, err := dial(l.addr, time.Second)
	if err != nil {
		c.t.Fatalf("dial %s: %v", l.id, err)
	}
	c.pause(l)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.sendStopped(l, cn)
	}()
	var others []*node
	for _, n := range c.launchedNodes() {
		if n != l {
			others = append(others, n)
		}
	}
	what := "SIGSTOP leader " + l.id + " with calls in flight; " + c.transferAmong(others) + "; " + c.transferAmong(others)
	return what, func() {
		c.resume(l)
		<-done
		var b strings.Builder
		for _, r := range c.h.records() {
			if r.client == stoppedClient {
				fmt.Fprintf(&b, "; %v: %s", r.in, r.out.show(r.in.op))
				if r.out.error != "" {
					fmt.Fprintf(&b, " (%s)", r.out.error)
				}
			}
		}
		c.t.Logf("calls in flight on %s while it was stopped%s", l.id, b.String())
	}
}

// tally counts the outcomes of the calls of clients from..to-1.
func tally(recs []record, from, to int) string {
	var n [4]int
	for _, r := range recs {
		if r.client >= from && r.client < to {
			n[r.out.res]++
		}
	}
	return fmt.Sprintf("%d served, %d refused (LOADING, CLUSTERDOWN), %d unknown", n[resOK]+n[resNotInt], n[resRefused], n[resUnknown])
}

func nodeIDs(ns []*node) []string {
	var ids []string
	for _, n := range ns {
		ids = append(ids, n.id)
	}
	return ids
}

// Client ids of the scenarios' own calls, clear of the workload's and
// the final reads' (workload.clients + node index).
const (
	readerClients  = 100
	readersPerNode = 2
	stoppedClient  = 200
)

// readWindow is how long the readers of readsAfterRestart go on once
// the nodes answer again.
const readWindow = 2 * time.Second

// adminTimeout bounds an admin command: a probe of a node behind a cut
// link takes 5 s, a forward with no leader 3 s per attempt.
const adminTimeout = 20 * time.Second

// admin sends one command to n on a connection of its own.
func admin(n *node, args ...string) (reply, error) {
	cn, err := dial(n.addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	return cn.do(adminTimeout, args...)
}

// adminOK sends a membership change that is safe to repeat (RAFT.NODE
// ADD or REMOVE) through the nodes of via in turn until one replies +OK:
// a refusal, an unknown outcome or a lost connection is tried again.
func (c *cluster) adminOK(via []*node, args ...string) {
	c.t.Helper()
	deadline := time.Now().Add(leaderBound)
	for i := 0; ; i++ {
		n := via[i%len(via)]
		r, err := admin(n, args...)
		if err == nil && r == "OK" {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s through %s: %v %v", strings.Join(args, " "), n.id, r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// transferAmong hands the leadership to another of nodes with
// RAFT.TRANSFER, sent to a third node where there is one, and waits for
// a leader (the new one, or the old if the transfer failed). It tries up
// to three times and says what happened.
func (c *cluster) transferAmong(nodes []*node) string {
	var tried []string
	for range 3 {
		l := c.leader()
		var to, via *node
		for i := len(nodes) - 1; i >= 0; i-- { // the last added first
			n := nodes[i]
			switch {
			case n == l || !n.serving():
			case to == nil:
				to = n
			case via == nil:
				via = n
			}
		}
		if to == nil {
			return "no node to transfer the leadership to"
		}
		if via == nil {
			via = l
		}
		r, err := admin(via, "RAFT.TRANSFER", to.id)
		if err == nil && r == "OK" {
			return fmt.Sprintf("transfer %s→%s (via %s), now %s leads", l.id, to.id, via.id, c.leader().id)
		}
		tried = append(tried, fmt.Sprintf("%s→%s: %v %v", l.id, to.id, r, err))
		time.Sleep(200 * time.Millisecond)
	}
	return "transfer failed: " + strings.Join(tried, "; ")
}

// nextSnapshot waits until n's RAFT.INFO shows a snapshot newer than the
// one it shows now, and returns its index.
func (c *cluster) nextSnapshot(n *node) uint64 {
	c.t.Helper()
	first := uint64(0)
	deadline := time.Now().Add(leaderBound)
	for i := 0; ; i++ {
		if f, err := raftInfo(n); err == nil {
			idx, _ := strconv.ParseUint(f["last_snapshot_index"], 10, 64)
			if i == 0 {
				first = idx
			} else if idx > first {
				return idx
			}
		} else if i == 0 {
			c.t.Fatalf("RAFT.INFO of %s: %v", n.id, err)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s took no snapshot after index %d within %v", n.id, first, leaderBound)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// caughtUp waits until n, restarted, has applied index idx, and with
// kept, that it still holds a snapshot at least that new.
func (c *cluster) caughtUp(n *node, idx uint64, kept bool) {
	c.t.Helper()
	deadline := time.Now().Add(leaderBound)
	for {
		f, err := raftInfo(n)
		applied, _ := strconv.ParseUint(f["last_applied_index"], 10, 64)
		snap, _ := strconv.ParseUint(f["last_snapshot_index"], 10, 64)
		if err == nil && applied >= idx && (!kept || snap >= idx) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s after its restart: applied %d, snapshot %d, want both at least %d (%v)", n.id, applied, snap, idx, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readAtOnce reads the workload's keys of the current epoch through n as
// client id, one read at a time with no pause, redialling at once when
// the node refuses connections, until stop closes. Every read is
// recorded.
func (c *cluster) readAtOnce(stop <-chan struct{}, n *node, id int) {
	var cn *conn
	defer func() {
		if cn != nil {
			cn.Close()
		}
	}()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		if cn == nil {
			var err error
			if cn, err = dial(n.addr, 50*time.Millisecond); err != nil {
				time.Sleep(2 * time.Millisecond)
				continue
			}
		}
		k := workloadKeys[(i+id)%len(workloadKeys)]
		in := readOf(input{op: k.ops[0], key: fmt.Sprintf("%s:%d", k.name, c.epoch())})
		call := c.h.now()
		r, err := cn.do(c.work.timeout, in.cmds()[0]...)
		out, bad := outcome(in, r, err)
		c.h.add(record{client: id, node: n.id, in: in, out: out, call: call, ret: c.h.now()})
		if bad != "" {
			c.t.Errorf("unexpected reply: %s: %v: %s", n.id, in, bad)
		}
		if err != nil {
			cn.Close()
			cn = nil
		}
	}
}

// epoch is the workload's current key epoch.
func (c *cluster) epoch() int { return int(time.Since(c.h.start) / c.work.epoch) }

// sendStopped sends a pipeline of writes and a read to the stopped node n
// on cn (they wait in its socket until it runs again) and records them
// as a client of the workload would, with a timeout long enough to see
// the node continue.
func (c *cluster) sendStopped(n *node, cn *conn) {
	w := c.work
	w.timeout = leaderBound
	cl := &client{w: w, c: c, h: c.h, id: stoppedClient, cn: cn,
		unexpected: func(s string) { c.t.Errorf("unexpected reply: %s", s) }}
	e, seq := c.epoch(), int(c.h.now())
	key := func(class string) string { return fmt.Sprintf("%s:%d", class, e) }
	ins := []input{
		{op: opIncr, key: key("ctr")},
		{op: opAppend, key: key("log"), arg: chunk(stoppedClient, seq)},
		{op: opTx, key: key("tx")},
		{op: opRPush, key: key("q"), arg: queueElement(stoppedClient, seq)},
		{op: opGet, key: key("reg1")},
	}
	cl.send(n, ins)
	cn.Close()
}
