package cluster

import (
	"fmt"
	"strconv"
	"strings"
)

// xadd is what an XADD's caller learnt: acknowledged (with the id the
// reply gave), refused (never applied) or unknown.
type xadd struct {
	st pubStatus
	id string
}

// streamEntry is one entry of the probe's stream: its id and its one
// field's value.
type streamEntry struct{ id, value string }

// delivery is one entry delivered as new (">") to a consumer, and what
// came of the XACK sent for it, if one was.
type delivery struct {
	consumer  string
	id, value string
	ack       ackStatus
}

// ackStatus is what an XACK's caller learnt.
type ackStatus uint8

const (
	ackNone       ackStatus = iota // not sent
	ackDone                        // 1: it was pending, and is no more
	ackNotPending                  // 0: it was not pending
	ackRefused                     // a definite error: not applied
	ackUnknown                     // no answer, or UNKNOWN
)

// streamView is one node's answer, once writes stopped: XRANGE - +,
// XINFO GROUPS (as text) and XPENDING's entries (id: consumer).
type streamView struct {
	node    string
	entries []streamEntry
	groups  string
	pending map[string]string
}

// checkStream checks the consumers' deliveries and the nodes' views
// against what the producers learnt:
//  1. no id delivered as new twice, to one consumer or two;
//  2. every delivered entry sent, never refused, under the id its
//     acknowledged XADD replied, and in the stream as delivered;
//  3. every acknowledged XADD in the stream under its id, nothing in the
//     stream that was refused or never sent or is there twice, ids
//     strictly increasing, and every node answering the same;
//  4. every delivered entry not XACKed (or whose XACK was refused)
//     pending for the consumer it went to, every entry XACKed not
//     pending, and no XACK of a delivered entry answered 0.
func checkStream(sent map[string]xadd, got []delivery, views []streamView) []string {
	if len(views) == 0 {
		return []string{"no node's view of the stream"}
	}
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	ref := views[0]
	inStream := make(map[string]string, len(ref.entries)) // id: value
	values := make(map[string]string, len(ref.entries))   // value: id
	var last streamEntry
	for i, e := range ref.entries {
		inStream[e.id] = e.value
		if prev, dup := values[e.value]; dup {
			add("%s: %q is in the stream twice (%s and %s)", ref.node, e.value, prev, e.id)
		}
		values[e.value] = e.id
		if i > 0 && !idLess(last.id, e.id) {
			add("%s: stream id %s after %s", ref.node, e.id, last.id)
		}
		last = e
		if bad := unsent(sent, e); bad != "" {
			add("%s: in the stream: %s", ref.node, bad)
		}
	}
	for v, x := range sent {
		if _, ok := values[v]; x.st == pubAcked && !ok {
			add("%s: acknowledged XADD %s %q is not in the stream", ref.node, x.id, v)
		}
	}
	for _, d := range diverging(views) {
		add("%s", d)
	}

	first := map[string]delivery{} // by id
	for _, d := range got {
		if f, twice := first[d.id]; twice {
			add("%s delivered as new twice: to %s and to %s", d.id, f.consumer, d.consumer)
			continue
		}
		first[d.id] = d
		if bad := unsent(sent, streamEntry{d.id, d.value}); bad != "" {
			add("%s: delivered: %s", d.consumer, bad)
		}
		if v, ok := inStream[d.id]; !ok || v != d.value {
			add("%s: %s %q delivered, the stream has %q there", d.consumer, d.id, d.value, v)
		}
		switch owner, pending := ref.pending[d.id]; d.ack {
		case ackNone, ackRefused:
			if owner != d.consumer {
				add("%s: %s delivered and not acknowledged, pending for %q", d.consumer, d.id, owner)
			}
		case ackDone:
			if pending {
				add("%s: %s XACKed, still pending for %q", d.consumer, d.id, owner)
			}
		case ackNotPending:
			add("%s: %s delivered, its XACK found it not pending", d.consumer, d.id)
		}
	}
	return problems
}

// unsent says what is wrong with e as the producers' XADDs tell it ("" if
// it was sent, not refused, and acknowledged under its id if at all).
func unsent(sent map[string]xadd, e streamEntry) string {
	switch x, ok := sent[e.value]; {
	case !ok:
		return fmt.Sprintf("%s %q, never sent", e.id, e.value)
	case x.st == pubFailed:
		return fmt.Sprintf("%s %q, though its XADD was refused", e.id, e.value)
	case x.st == pubAcked && x.id != e.id:
		return fmt.Sprintf("%s %q, its XADD replied %s", e.id, e.value, x.id)
	}
	return ""
}

// diverging describes how the views differ from the first one.
func diverging(views []streamView) []string {
	var out []string
	ref := views[0]
	for _, v := range views[1:] {
		switch {
		case fmt.Sprint(v.entries) != fmt.Sprint(ref.entries):
			out = append(out, fmt.Sprintf("%s and %s answer XRANGE differently (%d and %d entries)", ref.node, v.node, len(ref.entries), len(v.entries)))
		case v.groups != ref.groups:
			out = append(out, fmt.Sprintf("%s and %s answer XINFO GROUPS differently: %s and %s", ref.node, v.node, ref.groups, v.groups))
		case fmt.Sprint(v.pending) != fmt.Sprint(ref.pending):
			out = append(out, fmt.Sprintf("%s and %s answer XPENDING differently (%d and %d entries)", ref.node, v.node, len(ref.pending), len(v.pending)))
		}
	}
	return out
}

// idLess orders stream ids ("ms-seq") as numbers.
func idLess(a, b string) bool {
	am, as := splitID(a)
	bm, bs := splitID(b)
	return am < bm || am == bm && as < bs
}

func splitID(id string) (ms, seq uint64) {
	m, s, _ := strings.Cut(id, "-")
	ms, _ = strconv.ParseUint(m, 10, 64)
	seq, _ = strconv.ParseUint(s, 10, 64)
	return ms, seq
}
