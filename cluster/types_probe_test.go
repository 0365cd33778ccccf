package cluster

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/loomcache/loomcache/rdb"
)

// typesProbe puts issue 14's other writes through a scenario's faults:
// SETBIT, PFADD and GEOADD of new elements, and RESTORE of a Redis DUMP
// payload into a new key, through every node in turn.
// At the end (checkTypes) every acknowledged write must be there, nothing
// refused may be, PFCOUNT must count what was added within HyperLogLog's
// error, and every node, read locally (READONLY) once the writes stopped,
// must hold the same bytes, the same HyperLogLog registers and the same
// geohash scores: appliers that compute (bits, HLL registers, geohashes)
// compute alike everywhere.
type typesProbe struct {
	c    *cluster
	done sync.WaitGroup

	mu   sync.Mutex
	sent map[typedWrite]pubStatus
}

// typedWrite is one probe write: SETBIT of bit n, PFADD of element n,
// GEOADD of member n, RESTORE of key n.
type typedWrite struct {
	cmd string
	n   int
}

const (
	probeBits = probeKeys + "bits"
	probeHLL  = probeKeys + "hll"
	probeGeo  = probeKeys + "geo"
)

var typedCmds = [...]string{"SETBIT", "PFADD", "GEOADD", "RESTORE"}

// restoreKey is RESTORE n's key; its value is the string restoreValue(n).
func restoreKey(n int) string   { return probeKeys + "restored" + strconv.Itoa(n) }
func restoreValue(n int) string { return "r" + strconv.Itoa(n) }

// args are the write's command line; member n's coordinates differ with n.
func (w typedWrite) args() []string {
	n := strconv.Itoa(w.n)
	switch w.cmd {
	case "SETBIT":
		return []string{"SETBIT", probeBits, n, "1"}
	case "PFADD":
		return []string{"PFADD", probeHLL, "e" + n}
	case "RESTORE":
		payload := rdb.Payload(rdb.EncodeString([]byte(restoreValue(w.n))))
		return []string{"RESTORE", restoreKey(w.n), "0", string(payload)}
	}
	lon := strconv.FormatFloat(-170+float64(w.n%3400)/10, 'f', 1, 64)
	lat := strconv.FormatFloat(-80+float64(w.n%1600)/10, 'f', 1, 64)
	return []string{"GEOADD", probeGeo, lon, lat, "m" + n}
}

// startTypesProbe starts two writers; they stop with ctx.
func startTypesProbe(ctx context.Context, c *cluster) *typesProbe {
	p := &typesProbe{c: c, sent: map[typedWrite]pubStatus{}}
	for i := range 2 {
		p.done.Add(1)
		go func() {
			defer p.done.Done()
			for seq := 0; ctx.Err() == nil; seq++ {
				nodes := c.launchedNodes()
				w := typedWrite{cmd: typedCmds[seq%len(typedCmds)], n: 2*seq + i}
				p.write(nodes[(i+seq)%len(nodes)], w)
				sleep(ctx, 15*time.Millisecond)
			}
		}()
	}
	return p
}

// write sends w through n and records what came of it: an integer reply
// (RESTORE: OK) is acknowledged; an error that is not UNKNOWN was refused; a reply
// lost is unknown.
func (p *typesProbe) write(n *node, w typedWrite) {
	st := pubFailed
	if cn, err := dial(n.addr, time.Second); err == nil {
		st = pubUnknown
		r, err := cn.do(5*time.Second, w.args()...)
		cn.Close()
		switch r := r.(type) {
		case int64:
			if err == nil {
				st = pubAcked
			}
		case string:
			if err == nil && r == "OK" {
				st = pubAcked
			}
		case errorReply:
			if !isUnknown(r) {
				st = pubFailed
			}
		}
	}
	p.mu.Lock()
	p.sent[w] = st
	p.mu.Unlock()
}

// typesView is one node's local copy of the probe's keys.
type typesView struct {
	node              string
	bits, hll         string
	geo               []any // ZRANGE WITHSCORES
	count             int64 // PFCOUNT
	restored          []any // MGET of the keys RESTORE was sent for
	bitsErr, countErr error
}

// readTypes reads n's own copy (READONLY: served from its keyspace, with
// no proposal: PFCOUNT leaves a stale cache as it is), with the keys of
// the RESTOREs sent, in restores' order.
func readTypes(n *node, restores []int) (typesView, error) {
	v := typesView{node: n.id}
	cn, err := dial(n.addr, time.Second)
	if err != nil {
		return v, err
	}
	defer cn.Close()
	var rs []reply
	mget := []string{"MGET"}
	for _, r := range restores {
		mget = append(mget, restoreKey(r))
	}
	cmds := [][]string{{"READONLY"}, {"GET", probeBits}, {"GET", probeHLL},
		{"ZRANGE", probeGeo, "0", "-1", "WITHSCORES"}, {"PFCOUNT", probeHLL}}
	if len(restores) > 0 {
		cmds = append(cmds, mget)
	}
	err = cn.pipeline(5*time.Second, cmds, func(_ int, r reply) { rs = append(rs, r) })
	if err != nil {
		return v, err
	}
	if len(rs) != len(cmds) || rs[0] != "OK" {
		return v, fmt.Errorf("%s: READONLY and its reads answered %v", n.id, rs)
	}
	v.bits, _ = rs[1].(string)
	v.hll, _ = rs[2].(string)
	v.geo, _ = rs[3].([]any)
	v.count, _ = rs[4].(int64)
	if len(restores) > 0 {
		v.restored, _ = rs[5].([]any)
	}
	return v, nil
}

// finish stops the writers and checks what every node holds (after the
// scenario healed and the cluster serves). It returns the problems found
// and a summary.
func (p *typesProbe) finish() ([]string, string) {
	p.done.Wait()
	p.mu.Lock()
	sent := make(map[typedWrite]pubStatus, len(p.sent))
	for w, st := range p.sent {
		sent[w] = st
	}
	p.mu.Unlock()
	restores := restoresOf(sent)
	nodes := p.c.launchedNodes()
	var views []typesView
	for try := 0; ; try++ {
		views = views[:0]
		var err error
		for _, n := range nodes {
			var v typesView
			if v, err = readTypes(n, restores); err != nil {
				break
			}
			views = append(views, v)
		}
		if err == nil && sameTypes(views) || try == 50 {
			if err != nil {
				return []string{err.Error()}, ""
			}
			break
		}
		time.Sleep(200 * time.Millisecond) // a node still applying
	}
	acked := 0
	for _, st := range sent {
		if st == pubAcked {
			acked++
		}
	}
	return checkTypes(sent, views), fmt.Sprintf("%d writes (%d acknowledged), %d bytes of bits, %d geo members, PFCOUNT %d, %d keys restored, on %d nodes",
		len(sent), acked, len(views[0].bits), len(views[0].geo)/2, views[0].count, restoredCount(views[0]), len(views))
}

// restoresOf lists the RESTOREs sent, by n: the keys readTypes reads.
func restoresOf(sent map[typedWrite]pubStatus) []int {
	var ns []int
	for w := range sent {
		if w.cmd == "RESTORE" {
			ns = append(ns, w.n)
		}
	}
	slices.Sort(ns)
	return ns
}

func restoredCount(v typesView) int {
	n := 0
	for _, r := range v.restored {
		if r != nil {
			n++
		}
	}
	return n
}

func sameTypes(vs []typesView) bool {
	for _, v := range vs[1:] {
		if v.bits != vs[0].bits || v.hll != vs[0].hll || fmt.Sprint(v.geo) != fmt.Sprint(vs[0].geo) ||
			fmt.Sprint(v.restored) != fmt.Sprint(vs[0].restored) {
			return false
		}
	}
	return true
}

// checkTypes holds the nodes' views to what the writers learnt.
func checkTypes(sent map[typedWrite]pubStatus, views []typesView) []string {
	var problems []string
	add := func(format string, args ...any) {
		if len(problems) < 20 {
			problems = append(problems, fmt.Sprintf(format, args...))
		}
	}
	if !sameTypes(views) {
		for _, v := range views[1:] {
			add("%s and %s hold different bits, HyperLogLog bytes, geo scores or restored keys", views[0].node, v.node)
		}
	}
	v := views[0]
	bit := func(n int) bool { return n/8 < len(v.bits) && v.bits[n/8]&(0x80>>(n%8)) != 0 }
	members := map[string]bool{}
	for i := 0; i+1 < len(v.geo); i += 2 {
		members[fmt.Sprint(v.geo[i])] = true
	}
	restored := map[int]bool{}
	for i, n := range restoresOf(sent) {
		if i < len(v.restored) && v.restored[i] != nil {
			if got := fmt.Sprint(v.restored[i]); got != restoreValue(n) {
				add("RESTORE %d's key holds %q, not %q", n, got, restoreValue(n))
			}
			restored[n] = true
		}
	}
	var pfMin, pfMax int
	for w, st := range sent {
		var there bool
		switch w.cmd {
		case "SETBIT":
			there = bit(w.n)
		case "GEOADD":
			there = members["m"+strconv.Itoa(w.n)]
		case "RESTORE":
			there = restored[w.n]
		case "PFADD":
			if st == pubAcked {
				pfMin++
			}
			if st != pubFailed {
				pfMax++
			}
			continue
		}
		switch {
		case st == pubAcked && !there:
			add("%v was acknowledged and is not there", w.args())
		case st == pubFailed && there:
			add("%v was refused and is there", w.args())
		}
	}
	for i := range 8 * len(v.bits) {
		if _, ok := sent[typedWrite{"SETBIT", i}]; bit(i) && !ok {
			add("bit %d is set and was never sent", i)
		}
	}
	// HyperLogLog's standard error at 16384 registers is 0.81%; 4% and a
	// few elements of slack leave no room for a lost or doubled batch.
	if lo, hi := float64(pfMin)*0.96-3, float64(pfMax)*1.04+3; float64(v.count) < lo || float64(v.count) > hi {
		add("PFCOUNT %d, yet %d to %d elements were added", v.count, pfMin, pfMax)
	}
	return problems
}
