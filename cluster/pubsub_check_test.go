package cluster

import (
	"strings"
	"testing"
)

// The Pub/Sub checker reports each kind of broken guarantee, and nothing
// for histories that keep them (a connection may miss messages; unknown
// ones may arrive or not, anywhere in a publisher's order).
func TestCheckPubSubCatches(t *testing.T) {
	status := map[string]pubStatus{"p0-000001": pubAcked, "p0-000002": pubUnknown, "p0-000003": pubAcked,
		"p1-000001": pubAcked, "p1-000002": pubFailed, "{probe}p2-000001": pubAcked, "{probe}p2-000003": pubAcked}
	inc := func(msgs ...string) *incarnation { return &incarnation{node: "n", msgs: msgs} }
	for _, c := range []struct {
		incs []*incarnation
		want string // a problem containing this; "" none
	}{
		{[]*incarnation{inc("p0-000001", "p1-000001", "p0-000003"), inc("p1-000001", "p0-000003")}, ""},
		{[]*incarnation{inc("p0-000001", "p0-000003", "p0-000002"), inc("p0-000002")}, ""},
		{[]*incarnation{inc("p0-000001", "p1-000002")}, "refused"},
		{[]*incarnation{inc("p0-000001", "p9-000001")}, "never published"},
		{[]*incarnation{inc("p0-000001", "p0-000001")}, "twice"},
		{[]*incarnation{inc("p0-000003", "p0-000001")}, "message 1 after its 3"},
		{[]*incarnation{inc("p0-000001", "p1-000001"), inc("p1-000001", "p0-000001")}, "another order"},
		{[]*incarnation{inc("p0-000002", "p1-000001"), inc("p1-000001", "p0-000002")}, "another order"},
		// Key events and messages are of different logs: no order between
		// them, but one among the events.
		{[]*incarnation{inc("p0-000001", "{probe}p2-000001"), inc("{probe}p2-000001", "p0-000001")}, ""},
		{[]*incarnation{inc("{probe}p2-000001", "{probe}p2-000003"), inc("{probe}p2-000003", "{probe}p2-000001")}, "another order"},
	} {
		problems := checkPubSub(status, c.incs)
		got := strings.Join(problems, "\n")
		if (c.want == "") != (len(problems) == 0) || !strings.Contains(got, c.want) {
			t.Errorf("%v: problems %q, want one with %q", c.incs, problems, c.want)
		}
	}
}
