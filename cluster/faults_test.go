package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

// scenario is one fault, injected into a running cluster while clients
// write through every node, then healed.
type scenario struct {
	name  string
	nodes int
	doc   string
	// inject starts the fault and returns what it did and what heals it.
	inject func(c *cluster) (what string, heal func())
	// lossy marks the checkers' own test: the fault loses acknowledged
	// writes on purpose, and both checkers must say so.
	lossy bool
	// restartsAll: every node restarts, so the counters INFO reports
	// (evicted_keys) start again.
	restartsAll bool
	// spares, partitions and args shape the cluster beside nodes (see
	// shape).
	spares     int
	partitions int
	args       []string
	// hold, when set, is how long the fault lasts between inject and
	// heal instead of the run's (a scenario whose inject takes its time,
	// or that heals right after).
	hold time.Duration
}

var scenarios = []scenario{
	{
		name: "kill-leader", nodes: 3,
		doc: "start 3; kill -9 the leader while clients write through every node; restart it; check",
		inject: func(c *cluster) (string, func()) {
			l := c.leader()
			c.kill(l)
			return "kill -9 leader " + l.id, func() { c.restart(l) }
		},
	},
	{
		name: "kill-follower", nodes: 3,
		doc: "start 3; kill -9 a follower; restart it; check",
		inject: func(c *cluster) (string, func()) {
			f := c.followers()[0]
			c.kill(f)
			return "kill -9 follower " + f.id, func() { c.restart(f) }
		},
	},
	{
		name: "pause-leader", nodes: 3,
		doc: "start 3; SIGSTOP the leader (its sockets stay open, nothing answers); SIGCONT it; check",
		inject: func(c *cluster) (string, func()) {
			l := c.leader()
			c.pause(l)
			return "SIGSTOP leader " + l.id, func() { c.resume(l) }
		},
	},
	{
		name: "pause-follower", nodes: 3,
		doc: "start 3; SIGSTOP a follower; SIGCONT it; check",
		inject: func(c *cluster) (string, func()) {
			f := c.followers()[0]
			c.pause(f)
			return "SIGSTOP follower " + f.id, func() { c.resume(f) }
		},
	},
	{
		name: "partition-leader", nodes: 3,
		doc: "start 3; cut the leader off from both followers (its clients stay connected); heal; check",
		inject: func(c *cluster) (string, func()) {
			l := c.leader()
			c.net.Isolate(l.id)
			return "isolate leader " + l.id, c.net.Heal
		},
	},
	{
		name: "partition-follower", nodes: 3,
		doc: "start 3; cut a follower off from the others; heal; check",
		inject: func(c *cluster) (string, func()) {
			f := c.followers()[0]
			c.net.Isolate(f.id)
			return "isolate follower " + f.id, c.net.Heal
		},
	},
	{
		name: "partition-leader-minority-5", nodes: 5,
		doc: "start 5; split {leader, one follower} from the other three; heal; check",
		inject: func(c *cluster) (string, func()) {
			l, f := c.leader(), c.followers()
			minority := []string{l.id, f[0].id}
			var majority []string
			for _, n := range f[1:] {
				majority = append(majority, n.id)
			}
			c.net.Partition(minority, majority)
			return fmt.Sprintf("partition %v | %v", minority, majority), c.net.Heal
		},
	},
	{
		name: "kill-all-restart", nodes: 3, restartsAll: true,
		doc: "start 3; kill -9 every node at once; restart them all; check",
		inject: func(c *cluster) (string, func()) {
			for _, n := range c.nodes {
				c.kill(n)
			}
			return "kill -9 every node", func() {
				for _, n := range c.nodes {
					c.restart(n)
				}
			}
		},
	},
	{
		name: "checkers-catch-wiped-data", nodes: 3, lossy: true, restartsAll: true,
		doc: "start 3; kill -9 every node and delete every data directory; restart; both checkers must report the lost writes",
		inject: func(c *cluster) (string, func()) {
			for _, n := range c.nodes {
				c.kill(n)
				if err := os.RemoveAll(n.dataDir); err != nil {
					c.t.Fatal(err)
				}
			}
			return "kill -9 every node, wipe its data", func() {
				for _, n := range c.nodes {
					c.restart(n)
				}
			}
		},
	},
}

// runConfig is how long and how hard the scenarios run.
type runConfig struct {
	soak      bool
	duration  time.Duration // of each scenario's workload; 0: one fault
	calm      time.Duration // before and after each fault
	hold      time.Duration // how long a fault lasts (in a soak, up to twice that)
	work      workload
	checkTime time.Duration // porcupine's bound
}

// loadRunConfig reads LOOMCACHE_SOAK: unset, one short round per
// scenario; "1", a minute of repeated faults per scenario with more
// clients; a Go duration, that long per scenario.
func loadRunConfig(t *testing.T) runConfig {
	rc := runConfig{
		// A fault held 4 s outlasts the 3 s a node waits for a leader
		// before answering CLUSTERDOWN, so refusals are exercised too.
		calm: 1500 * time.Millisecond, hold: 4 * time.Second, checkTime: 2 * time.Minute,
		work: workload{clients: 6, timeout: 5 * time.Second, maxOps: 20000, pace: 3 * time.Millisecond,
			epoch: 5 * time.Second, depth: 3, seed: uint64(time.Now().UnixNano())},
	}
	v := os.Getenv("LOOMCACHE_SOAK")
	if v == "" || v == "0" {
		return rc
	}
	rc.soak, rc.duration = true, time.Minute
	if v != "1" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("LOOMCACHE_SOAK=%q: want 1 or a duration", v)
		}
		rc.duration = d
	}
	rc.work.clients, rc.work.maxOps, rc.checkTime = 12, 1<<30, 10*time.Minute
	return rc
}

// figures are one scenario's numbers, for the summary.
type figures struct {
	name           string
	calls, checked int
	unknown        int
	run, check     time.Duration
	result         porcupine.CheckResult
	faults         int
}

// TestFaults runs every scenario against real processes and checks each
// history with porcupine and with checkNoLoss. The workload's seed is
// logged; failures keep the node logs, the history and porcupine's
// visualization and name their paths.
func TestFaults(t *testing.T) { runScenarios(t, scenarios) }

// TestFaultsPartitioned runs the 3-node scenarios on 3 partitions. The
// leader a fault aims at is partition 0's; balancing has put the other
// partitions' leaders on the other nodes, so every fault also hits nodes
// that lead one partition and follow the others, and the workload's keys
// are spread over all three.
func TestFaultsPartitioned(t *testing.T) {
	runScenarios(t, partitioned(3, scenarios, func(sc scenario) bool { return sc.nodes == 3 && !sc.lossy }))
}

// partitioned returns the scenarios keep takes, on p partitions, named
// with a "-p<p>" suffix.
func partitioned(p int, list []scenario, keep func(scenario) bool) []scenario {
	var out []scenario
	for _, sc := range list {
		if keep(sc) {
			sc.name = fmt.Sprintf("%s-p%d", sc.name, p)
			sc.partitions = p
			sc.doc += fmt.Sprintf(" (%d partitions)", p)
			out = append(out, sc)
		}
	}
	return out
}

// onOneAndThree returns each scenario as it is (one partition) and on
// three partitions.
func onOneAndThree(list []scenario) []scenario {
	return append(list, partitioned(3, list, func(scenario) bool { return true })...)
}

// runScenarios runs each scenario as a subtest and logs a summary.
func runScenarios(t *testing.T, list []scenario) {
	rc := loadRunConfig(t)
	t.Logf("seed %d, %d clients, soak %v", rc.work.seed, rc.work.clients, rc.soak)
	var all []figures
	for _, sc := range list {
		t.Run(sc.name, func(t *testing.T) {
			all = append(all, runScenario(t, sc, rc))
		})
	}
	var b strings.Builder
	for _, f := range all {
		fmt.Fprintf(&b, "\n  %-32s %d fault(s), %5d calls (%3d unknown), porcupine %v on %5d ops in %6v, scenario %v",
			f.name, f.faults, f.calls, f.unknown, f.result, f.checked, f.check.Round(time.Millisecond), f.run.Round(100*time.Millisecond))
	}
	t.Log("summary:" + b.String())
}

func runScenario(t *testing.T, sc scenario, rc runConfig) figures {
	t.Log(sc.doc)
	began := time.Now()
	c := startCluster(t, shape{nodes: sc.nodes, spares: sc.spares, partitions: sc.partitions, args: sc.args})
	h := newHistory()
	c.h, c.work = h, rc.work
	// With partitions, a third of the clients are native ones, which
	// send each call to its partition's leader.
	c.work.native = sc.partitions > 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	unexpected := make(chan []string, 1)
	go func() { unexpected <- c.work.run(ctx, c, h) }()
	filled := make(chan struct{})
	go fill(ctx, c, filled)
	probe := startPubSubProbe(ctx, c)
	streams := startStreamProbe(ctx, c)
	types := startTypesProbe(ctx, c)

	end := time.Now().Add(rc.duration)
	if sc.lossy {
		end = time.Now() // one round is proof enough, in a soak too
	}
	faults := 0
	for faults == 0 || time.Now().Add(2*rc.calm+rc.hold).Before(end) {
		time.Sleep(rc.calm)
		hold := rc.hold
		if sc.hold > 0 {
			hold = sc.hold
		}
		if rc.soak {
			hold += time.Duration(rand.Int64N(int64(hold)))
		}
		what, heal := sc.inject(c)
		done := h.faultStart(what)
		time.Sleep(hold)
		heal()
		done()
		t.Logf("%s for %v, healed", what, hold.Round(time.Millisecond))
		faults++
	}
	time.Sleep(rc.calm)
	cancel()
	bad := <-unexpected
	<-filled

	c.waitServing()
	if problems, summary := probe.finish(); len(problems) > 0 {
		t.Errorf("Pub/Sub and keyspace events through the faults (%s):\n%s", summary, strings.Join(problems[:min(20, len(problems))], "\n"))
	} else {
		t.Logf("Pub/Sub and keyspace events through the faults: %s; at most once, in one order, every node delivering again after", summary)
	}
	switch problems, summary := streams.finish(); {
	case sc.lossy && len(problems) == 0:
		t.Errorf("stream group: every node's data was wiped, yet the stream probe found nothing wrong (%s)", summary)
	case sc.lossy:
		t.Logf("stream probe: %d problems, the first: %s", len(problems), problems[0])
	case len(problems) > 0:
		t.Errorf("stream group deliveries through the faults (%s):\n%s", summary, strings.Join(problems[:min(20, len(problems))], "\n"))
	default:
		t.Logf("stream group deliveries through the faults: %s; none delivered as new twice, every delivery pending until XACKed", summary)
	}
	switch problems, summary := types.finish(); {
	case sc.lossy && len(problems) == 0:
		t.Errorf("bitmap, HyperLogLog, geo, RESTORE: every node's data was wiped, yet the probe found nothing wrong (%s)", summary)
	case sc.lossy:
		t.Logf("bitmap, HyperLogLog, geo and RESTORE probe: %d problems, the first: %s", len(problems), problems[0])
	case len(problems) > 0:
		t.Errorf("SETBIT, PFADD, GEOADD and RESTORE through the faults (%s):\n%s", summary, strings.Join(problems, "\n"))
	default:
		t.Logf("SETBIT, PFADD, GEOADD and RESTORE through the faults: %s; every acknowledged write there, none refused, every node alike", summary)
	}
	if err := c.waitConverged(); err != nil {
		t.Error(err)
	} else if ev, err := checkEviction(c, !sc.restartsAll); err != nil {
		t.Errorf("eviction: %v", err)
	} else {
		t.Logf("eviction: %d keys evicted (all nodes' count), every node within maxmemory with the same keys", ev)
	}
	final, err := finalReads(c, h, rc.work.clients)
	if err != nil {
		t.Fatal(err)
	}
	recs := h.records()
	sort.Slice(recs, func(i, j int) bool { return recs[i].call < recs[j].call })
	f := figures{name: sc.name, calls: len(recs), faults: faults}
	for _, r := range recs {
		if r.out.res == resUnknown {
			f.unknown++
		}
	}
	t.Logf("history: %s", describe(recs))
	if c.work.native {
		native := 0
		for _, r := range recs {
			if r.node == "native" {
				native++
			}
		}
		if native == 0 {
			t.Error("no call went through the native client")
		}
		t.Logf("%d calls through the native client, %d writes resent under their request ids", native, h.nativeResent.Load())
	}
	for _, b := range bad {
		t.Errorf("unexpected reply: %s", b)
	}

	base := filepath.Join(c.dir, sc.name)
	checkStart := time.Now()
	f.result, f.checked, err = linearizable(recs, h.faults, rc.checkTime, base+".html")
	f.check = time.Since(checkStart)
	t.Logf("porcupine: %v on %d operations in %v", f.result, f.checked, f.check.Round(time.Millisecond))
	problems := checkNoLoss(recs, final)
	switch {
	case sc.lossy:
		t.Logf("no-loss checker: %d problems, the first: %s", len(problems), strings.Join(problems[:min(1, len(problems))], ""))
		if f.result != porcupine.Illegal || len(problems) == 0 {
			writeHistory(t, base+".txt", recs, h.faults)
			t.Errorf("acknowledged writes were wiped, yet porcupine says %v and the no-loss checker found %d problems (history %s.txt)",
				f.result, len(problems), base)
		}
		for _, class := range missedLoss(recs, problems, h.faults[0].start, "tx", "cas") {
			writeHistory(t, base+".txt", recs, h.faults)
			t.Errorf("%s keys had acknowledged writes before the wipe, yet the no-loss checker reports none lost (history %s.txt)",
				class, base)
		}
	default:
		if f.result != porcupine.Ok {
			writeHistory(t, base+".txt", recs, h.faults)
			t.Errorf("history not linearizable (%v): %s.txt, visualization %s.html (%v)", f.result, base, base, err)
		}
		if len(problems) > 0 {
			writeHistory(t, base+".txt", recs, h.faults)
			t.Errorf("lost or phantom writes (history %s.txt):\n%s", base, strings.Join(problems, "\n"))
		}
	}
	f.run = time.Since(began)
	return f
}

// missedLoss returns the classes among those named that had a write
// acknowledged before the time wiped (all data lost) and yet no problem
// reported on one of their keys: a checker that missed the loss.
func missedLoss(recs []record, problems []string, wiped int64, classes ...string) []string {
	var missed []string
	for _, class := range classes {
		acked := false
		for _, r := range recs {
			if r.in.op.write() && r.out.res == resOK && !r.out.null && r.ret < wiped &&
				strings.HasPrefix(r.in.key, class+":") {
				acked = true
				break
			}
		}
		caught := false
		for _, p := range problems {
			caught = caught || strings.HasPrefix(p, class+":")
		}
		if acked && !caught {
			missed = append(missed, class)
		}
	}
	return missed
}

// writeHistory writes the history as text, one call per line in order of
// call, with the fault windows.
func writeHistory(t *testing.T, path string, recs []record, faults []fault) {
	var b strings.Builder
	ms := func(ns int64) string {
		if ns == 1<<63-1 {
			return "∞"
		}
		return fmt.Sprintf("%.3f", float64(ns)/1e6)
	}
	for _, f := range faults {
		fmt.Fprintf(&b, "# fault %s from %s to %s ms\n", f.what, ms(f.start), ms(f.end))
	}
	for _, r := range recs {
		fmt.Fprintf(&b, "%s\t%s\tc%d\t%s\t%v\t%s", ms(r.call), ms(r.ret), r.client, r.node, r.in, r.out.show(r.in.op))
		if r.out.error != "" {
			fmt.Fprintf(&b, "\t%q", r.out.error)
		}
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Errorf("write history: %v", err)
	}
}
