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
//     INCRs and at most that plus the unknown ones.
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
		fin, ok := final[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: no final value read", k))
			continue
		}
		problems = append(problems, checkChunks(k, ops, fin)...)
		problems = append(problems, checkCounter(k, ops, fin)...)
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
		case r.in.op != opIncr:
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

// describe sums a history up for the test log.
func describe(recs []record) string {
	var n [4]int
	for _, r := range recs {
		n[r.out.res]++
	}
	return fmt.Sprintf("%d calls: %d ok, %d not-int, %d refused, %d unknown", len(recs),
		n[resOK], n[resNotInt], n[resRefused], n[resUnknown])
}
