package cluster

import (
	"fmt"
	"strings"
)

// The queue: a list that RPUSH fills with unique elements and LPOP and
// BLPOP (with a short timeout, so it also waits, on the node the client
// is on, for a push to be applied there) empty, and LRANGE reads whole.
// The model holds the list as its elements joined by queueSep; a popped
// element is the head of the list at the pop's linearization point, so
// an element served twice, lost, or popped out of order fails the check.

// queueSep joins a queue's elements in the model's register; elements
// are chunks without it.
const queueSep = "|"

// queueElement is RPUSH's unique element for a client's call.
func queueElement(client, seq int) string { return fmt.Sprintf("e%d.%d", client, seq) }

// blpopTimeout is the workload's BLPOP timeout (seconds): long enough to
// wait for pushes, short enough to keep calls short.
const blpopTimeout = "0.2"

// applyQueue is the specification of the queue's calls.
func applyQueue(s register, in input) (register, output) {
	var elems []string
	if s.exists {
		elems = strings.Split(s.val, queueSep)
	}
	switch in.op {
	case opRPush:
		elems = append(elems, in.arg)
		return register{true, strings.Join(elems, queueSep)}, output{n: int64(len(elems))}
	case opLPop, opBLPop:
		if len(elems) == 0 {
			return s, output{null: true}
		}
		head := elems[0]
		if len(elems) == 1 {
			return register{}, output{val: head}
		}
		return register{true, strings.Join(elems[1:], queueSep)}, output{val: head}
	case opLRange:
		return s, output{val: s.val}
	}
	panic("not a queue op")
}

// queueOutcome reads the reply of a queue call; ok is false for a reply
// that is not one a correct server sends.
func queueOutcome(in input, r reply) (out output, ok bool) {
	switch in.op {
	case opRPush:
		n, ok := r.(int64)
		return output{n: n}, ok
	case opLPop:
		if r == nil {
			return output{null: true}, true
		}
		s, ok := r.(string)
		return output{val: s}, ok
	case opBLPop:
		if r == nil {
			return output{null: true}, true
		}
		if a, ok := r.([]any); ok && len(a) == 2 && a[0] == in.key {
			s, ok := a[1].(string)
			return output{val: s}, ok
		}
	case opLRange:
		if a, ok := r.([]any); ok {
			elems := make([]string, len(a))
			for i, e := range a {
				if elems[i], ok = e.(string); !ok {
					return output{}, false
				}
			}
			return output{val: strings.Join(elems, queueSep)}, true
		}
	}
	return output{}, false
}

// checkQueue checks a queue key's history against its final value, by
// counting: every element in the list or served by a pop was pushed (by
// an RPUSH acknowledged or of unknown outcome), is served at most once
// and is not both served and still listed; every acknowledged push is
// served or listed, but for at most as many as the pops whose outcome is
// unknown (each may have popped one, its reply lost).
func checkQueue(key string, ops []record, fin register) []string {
	var problems []string
	pushed := map[string]result{}
	served := map[string]int{}
	unknownPops := 0
	for _, r := range ops {
		switch {
		case r.in.op == opRPush:
			pushed[r.in.arg] = r.out.res
		case r.in.op != opLPop && r.in.op != opBLPop:
		case r.out.res == resUnknown:
			unknownPops++
		case r.out.res == resOK && !r.out.null:
			served[r.out.val]++
		}
	}
	listed := map[string]int{}
	if fin.exists && fin.val != "" {
		for _, e := range strings.Split(fin.val, queueSep) {
			listed[e]++
		}
	}
	for _, where := range []map[string]int{served, listed} {
		for e, n := range where {
			switch res, ok := pushed[e]; {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s: %s popped or listed, never pushed", key, e))
			case res == resRefused:
				problems = append(problems, fmt.Sprintf("%s: %s popped or listed, its RPUSH refused", key, e))
			}
			if n > 1 {
				problems = append(problems, fmt.Sprintf("%s: %s popped or listed %d times", key, e, n))
			}
		}
	}
	lost := 0
	for e, res := range pushed {
		if served[e] > 0 && listed[e] > 0 {
			problems = append(problems, fmt.Sprintf("%s: %s popped and still listed", key, e))
		}
		if res == resOK && served[e] == 0 && listed[e] == 0 {
			lost++
		}
	}
	if lost > unknownPops {
		problems = append(problems, fmt.Sprintf("%s: %d acknowledged pushes neither popped nor listed, %d pops of unknown outcome",
			key, lost, unknownPops))
	}
	return problems
}
