package cluster

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// The stream checker reports each kind of broken guarantee, and nothing
// for a run that keeps them (an unknown XADD may be in the stream or not,
// an entry whose XACK is unknown may be pending or not).
func TestCheckStreamCatches(t *testing.T) {
	type run struct {
		sent  map[string]xadd
		got   []delivery
		views []streamView
	}
	base := func() run {
		entries := []streamEntry{{"1-0", "x0-000001"}, {"2-0", "x1-000001"}, {"2-1", "x0-000002"}, {"3-0", "x1-000002"}}
		pending := map[string]string{"2-0": "n2-1", "2-1": "n1-1"}
		view := func(node string) streamView {
			return streamView{node: node, entries: slices.Clone(entries), groups: "[[name g pending 2]]", pending: maps.Clone(pending)}
		}
		return run{
			sent: map[string]xadd{"x0-000001": {pubAcked, "1-0"}, "x0-000002": {pubUnknown, ""}, "x0-000003": {pubFailed, ""},
				"x1-000001": {pubAcked, "2-0"}, "x1-000002": {pubAcked, "3-0"}, "x1-000003": {pubUnknown, ""}},
			got: []delivery{{"n1-1", "1-0", "x0-000001", ackDone}, {"n2-1", "2-0", "x1-000001", ackNone},
				{"n1-1", "2-1", "x0-000002", ackUnknown}, {"n3-2", "3-0", "x1-000002", ackUnknown}},
			views: []streamView{view("n1"), view("n2"), view("n3")},
		}
	}
	// appended has every node's stream end with value as 4-0.
	appended := func(value string) func(r *run) {
		return func(r *run) {
			for i := range r.views {
				r.views[i].entries = append(r.views[i].entries, streamEntry{"4-0", value})
			}
		}
	}
	// pendingAs has every node's PEL hold id for consumer ("": not hold it).
	pendingAs := func(id, consumer string) func(r *run) {
		return func(r *run) {
			for _, v := range r.views {
				if delete(v.pending, id); consumer != "" {
					v.pending[id] = consumer
				}
			}
		}
	}
	for _, c := range []struct {
		name   string
		change func(r *run)
		want   string // a problem containing this; "" none
	}{
		{"kept", func(*run) {}, ""},
		{"an unknown XACK applied", pendingAs("2-1", ""), ""},
		{"delivered twice", func(r *run) { r.got = append(r.got, delivery{"n3-1", "2-0", "x1-000001", ackNone}) }, "2-0 delivered as new twice"},
		{"redelivered to one consumer", func(r *run) { r.got = append(r.got, delivery{"n1-1", "1-0", "x0-000001", ackNone}) }, "to n1-1 and to n1-1"},
		{"delivered, never sent", func(r *run) { r.got[0].value = "x9-000001" }, "never sent"},
		{"delivered, refused", func(r *run) { r.got[0].value = "x0-000003" }, `delivered: 1-0 "x0-000003", though its XADD was refused`},
		{"delivered under another id", func(r *run) { r.got[3].id = "3-9" }, `delivered: 3-9 "x1-000002", its XADD replied 3-0`},
		{"delivered, not in the stream", func(r *run) { r.got = append(r.got, delivery{"n1-1", "4-0", "x1-000003", ackUnknown}) }, "the stream has \"\""},
		{"acknowledged XADD lost", func(r *run) { r.sent["x1-000003"] = xadd{pubAcked, "4-0"} }, "acknowledged XADD 4-0 \"x1-000003\" is not in the stream"},
		{"acknowledged XADD under another id", func(r *run) { r.sent["x1-000002"] = xadd{pubAcked, "3-5"} }, `in the stream: 3-0 "x1-000002", its XADD replied 3-5`},
		{"ids out of order", func(r *run) {
			for i := range r.views {
				r.views[i].entries[1], r.views[i].entries[2] = r.views[i].entries[2], r.views[i].entries[1]
			}
		}, "stream id 2-0 after 2-1"},
		{"added twice", appended("x0-000002"), "in the stream twice"},
		{"refused, yet in the stream", appended("x0-000003"), `in the stream: 4-0 "x0-000003", though its XADD was refused`},
		{"in the stream, never sent", appended("zz"), `in the stream: 4-0 "zz", never sent`},
		{"XRANGE differs", func(r *run) { r.views[2].entries = r.views[2].entries[:3] }, "n1 and n3 answer XRANGE differently"},
		{"XINFO GROUPS differs", func(r *run) { r.views[1].groups = "[[name g pending 3]]" }, "answer XINFO GROUPS differently"},
		{"XPENDING differs", func(r *run) { r.views[1].pending["1-0"] = "n1-1" }, "answer XPENDING differently"},
		{"delivery not pending", pendingAs("2-0", ""), "n2-1: 2-0 delivered and not acknowledged, pending for \"\""},
		{"pending for another consumer", pendingAs("2-0", "n3-2"), "pending for \"n3-2\""},
		{"refused XACK, not pending", func(r *run) {
			r.got[2].ack = ackRefused
			pendingAs("2-1", "")(r)
		}, "2-1 delivered and not acknowledged"},
		{"XACKed, still pending", pendingAs("1-0", "n1-1"), "1-0 XACKed, still pending"},
		{"XACK found nothing pending", func(r *run) { r.got[0].ack = ackNotPending }, "its XACK found it not pending"},
	} {
		r := base()
		c.change(&r)
		problems := checkStream(r.sent, r.got, r.views)
		got := strings.Join(problems, "\n")
		if (c.want == "") != (len(problems) == 0) || !strings.Contains(got, c.want) {
			t.Errorf("%s: problems %q, want one with %q", c.name, problems, c.want)
		}
	}
}
