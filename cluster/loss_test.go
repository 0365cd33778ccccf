package cluster

import (
	"fmt"
	"regexp"
	"sort"
)

// chunkRe matches the APPEND chunks of the workload ("x<client>.<seq>;"),
// unique across a run, so the final value says which appends it holds.
var chunkRe = regexp.MustCompile(`x[0-9]+\.[0-9]+;`)

func chunk(client, seq int) string { return fmt.Sprintf("x%d.%d;", client, seq) }

// checkNoLoss checks, independently of porcupine and in terms a reader
// can verify by hand, that the final values (read after every fault has
// healed) keep every acknowledged write and nothing that was refused or
// never sent:
//
//   - every chunk in a final value was sent by an APPEND on that key that
//     succeeded or whose outcome is unknown, and appears once (a retry
//     applied twice would show it twice);
//   - every acknowledged APPEND's chunk is there, unless a SET or DEL of
//     the key that may have run after it (acknowledged or unknown, and not
//     finished before the APPEND began) could have overwritten it;
//   - a key written only by INCR holds at least the number of acknowledged
//     INCRs and at most that plus the unknown ones;
//   - a transaction's pair moves together and loses no transaction
//     (checkPair), and a CAS key loses no CAS and applies none twice
//     (checkCAS).
//
// It returns one line per problem.
func checkNoLoss(recs []record, final map[string]register) []string {
	var problems []string
	byKey := map[string][]record{}
	for _, r := range recs {
		byKey[r.in.key] = append(byKey[r.in.key], r)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ops := byKey[k]
		if ops[0].in.op.pair() {
			problems = append(problems, checkPair(k, ops, final)...)
			continue
		}
		if ops[0].in.op.queue() {
			if fin, ok := final[k]; ok {
				problems = append(problems, checkQueue(k, ops, fin)...)
			} else {
				problems = append(problems, fmt.Sprintf("%s: no final value read", k))
			}
			continue
		}
		fin, ok := final[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no final value read", k))
			continue
		}
		problems = append(problems, checkChunks(k, ops, fin)...)
		problems = append(problems, checkCounter(k, ops, fin)...)
		problems = append(problems, checkCAS(k, ops, fin)...)
	}
	return problems
}

func checkChunks(key string, ops []record, fin register) []string {
	var problems []string
	sent := map[string]result{} // chunk → outcome of its APPEND
	for _, r := range ops {
		if r.in.op == opAppend {
			sent[r.in.arg] = r.out.res
		}
	}
	present := map[string]int{}
	for _, c := range chunkRe.FindAllString(fin.val, -1) {
		present[c]++
	}
	for c, n := range present {
		res, ok := sent[c]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: final value holds %s, never sent on this key", key, c))
		case res == resRefused:
			problems = append(problems, fmt.Sprintf("%s: final value holds %s, whose APPEND was refused", key, c))
		}
		if n > 1 {
			problems = append(problems, fmt.Sprintf("%s: final value holds %s %d times (applied twice)", key, c, n))
		}
	}
	for _, a := range ops {
		if a.in.op != opAppend || a.out.res != resOK || present[a.in.arg] > 0 {
			continue
		}
		overwritten := false
		for _, w := range ops {
			if (w.in.op == opSet || w.in.op == opDel) &&
				(w.out.res == resOK || w.out.res == resUnknown) && w.ret >= a.call {
				overwritten = true
				break
			}
		}
		if !overwritten {
			problems = append(problems, fmt.Sprintf("%s: acknowledged APPEND of %s (client %d via %s) lost: final value %q",
				key, a.in.arg, a.client, a.node, fin.val))
		}
	}
	return problems
}

func checkCounter(key string, ops []record, fin register) []string {
	var acked, unknown int64
	for _, r := range ops {
		switch {
		case r.in.op == opGet:
		case r.in.op != opIncr && r.in.op != opEval:
			return nil // not a pure counter
		case r.out.res == resOK:
			acked++
		case r.out.res == resUnknown:
			unknown++
		}
	}
	if acked+unknown == 0 {
		return nil
	}
	var v int64
	if fin.exists {
		n, ok := isInt(fin.val)
		if !ok {
			return []string{fmt.Sprintf("%s: counter holds %q, not an integer", key, fin.val)}
		}
		v = n
	}
	if v < acked || v > acked+unknown {
		return []string{fmt.Sprintf("%s: counter is %d after %d acknowledged and %d unknown INCRs (want %d..%d)",
			key, v, acked, unknown, acked, acked+unknown)}
	}
	return nil
}

// checkPair checks the pair of counters that only transactions write,
// both at once, from nothing:
//
//   - every acknowledged EXEC returned two equal values, and every MGET
//     (one command, atomic) read two equal values: no transaction was
//     seen half applied;
//   - the final values are equal, at least the number of acknowledged
//     EXECs and at most that plus the unknown ones: none was lost, none
//     applied twice.
func checkPair(key string, ops []record, final map[string]register) []string {
	var problems []string
	ka, kb := pairKeys(key)
	fa, okA := final[ka]
	fb, okB := final[kb]
	if !okA || !okB {
		return []string{fmt.Sprintf("%s: no final value read", key)}
	}
	var acked, unknown int64
	for _, r := range ops {
		if r.in.op == opTx && r.out.res == resUnknown {
			unknown++
		}
		if r.out.res != resOK {
			continue
		}
		if r.out.two[0] != r.out.two[1] {
			problems = append(problems, fmt.Sprintf("%s: %v (client %d via %s) returned %v and %v: the pair moved apart",
				key, r.in.op, r.client, r.node, r.out.two[0], r.out.two[1]))
		}
		if r.in.op == opTx {
			acked++
		}
	}
	if fa != fb {
		return append(problems, fmt.Sprintf("%s: final values %v and %v differ", key, fa, fb))
	}
	v, ok := counterValue(fa)
	switch {
	case !ok:
		problems = append(problems, fmt.Sprintf("%s: pair holds %v, not an integer", key, fa))
	case v < acked || v > acked+unknown:
		problems = append(problems, fmt.Sprintf("%s: pair is %d after %d acknowledged and %d unknown transactions (want %d..%d)",
			key, v, acked, unknown, acked, acked+unknown))
	}
	return problems
}

// checkCAS checks a key that only WATCH compare-and-set loops write, each
// setting it to the value its GET read plus one (nothing: 0):
//
//   - no two acknowledged CASes replaced the same value: the value only
//     grows, so the second would have overwritten the first (an update
//     lost, or one CAS applied twice);
//   - the final value is at least every acknowledged CAS's new value;
//   - the final value, the number of CASes applied, is at least the
//     number acknowledged and at most that plus the unknown ones. An EXEC
//     a WATCH aborted applied nothing and is not counted.
func checkCAS(key string, ops []record, fin register) []string {
	var (
		problems       []string
		sawCAS         bool
		acked, unknown int64
		top            int64
		from           = map[register]record{}
	)
	for _, r := range ops {
		sawCAS = sawCAS || r.in.op == opCAS
		switch {
		case r.in.op == opGet:
		case r.in.op != opCAS:
			return nil // not a CAS key
		case r.out.res == resUnknown:
			unknown++
		case r.out.res == resOK && !r.out.null:
			acked++
			if prev, dup := from[r.in.expect]; dup {
				problems = append(problems, fmt.Sprintf("%s: two acknowledged CASes replaced %v (clients %d via %s and %d via %s)",
					key, r.in.expect, prev.client, prev.node, r.client, r.node))
			}
			from[r.in.expect] = r
			n, _ := isInt(r.in.arg)
			top = max(top, n)
		}
	}
	if !sawCAS {
		return nil
	}
	v, ok := counterValue(fin)
	switch {
	case !ok:
		problems = append(problems, fmt.Sprintf("%s: CAS key holds %v, not an integer", key, fin))
	case v < top:
		problems = append(problems, fmt.Sprintf("%s: final value %d below the %d an acknowledged CAS set", key, v, top))
	case v < acked || v > acked+unknown:
		problems = append(problems, fmt.Sprintf("%s: CAS key is %d after %d acknowledged and %d unknown CASes (want %d..%d)",
			key, v, acked, unknown, acked, acked+unknown))
	}
	return problems
}

// counterValue is the count a counter holds: a missing key holds 0.
func counterValue(r register) (int64, bool) {
	if !r.exists {
		return 0, true
	}
	return isInt(r.val)
}

// describe sums a history up for the test log.
func describe(recs []record) string {
	var n [4]int
	var tx, cas [4]int
	aborted, pushes, served, empty := 0, 0, 0, 0
	for _, r := range recs {
		n[r.out.res]++
		switch {
		case r.in.op == opRPush && r.out.res == resOK:
			pushes++
		case (r.in.op == opLPop || r.in.op == opBLPop) && r.out.res == resOK && r.out.null:
			empty++
		case (r.in.op == opLPop || r.in.op == opBLPop) && r.out.res == resOK:
			served++
		case r.in.op == opTx:
			tx[r.out.res]++
		case r.in.op == opCAS && r.out.res == resOK && r.out.null:
			aborted++
		case r.in.op == opCAS:
			cas[r.out.res]++
		}
	}
	return fmt.Sprintf("%d calls: %d ok, %d not-int, %d refused, %d unknown; "+
		"transactions %d ok, %d refused, %d unknown; CAS %d applied, %d aborted by WATCH, %d refused, %d unknown; "+
		"queue %d pushed, %d popped, %d pops found it empty",
		len(recs), n[resOK], n[resNotInt], n[resRefused], n[resUnknown],
		tx[resOK], tx[resRefused], tx[resUnknown], cas[resOK], aborted, cas[resRefused], cas[resUnknown],
		pushes, served, empty)
}
