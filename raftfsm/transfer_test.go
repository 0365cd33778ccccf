package raftfsm

import (
	"errors"
	"testing"

	"github.com/hashicorp/raft"
)

// TestTransferLeadershipRefusals: the requests a leader refuses before
// asking raft for anything, and the one it has nothing to do for.
func TestTransferLeadershipRefusals(t *testing.T) {
	n := openLeader(t, testConfig(t, t.TempDir()))
	defer n.Close()
	// A nonvoter commits with the one voter's quorum; it need not run.
	if err := n.raft.AddNonvoter("nv", raft.ServerAddress(freeAddr(t)), 0, 0).Error(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id   string
		want error
		text string
	}{
		{"n9", ErrUnknownNode, "unknown node id 'n9'"},
		{"nv", ErrNotVoter, "node 'nv' is not a voter"},
		{"", nil, "no voter to transfer the leadership to: this node is the only one"},
		{"n1", nil, ""},
	} {
		err := n.TransferLeadership(tc.id)
		switch {
		case tc.text == "" && err != nil:
			t.Errorf("TransferLeadership(%q) = %v, want nil", tc.id, err)
		case tc.text != "" && (err == nil || err.Error() != tc.text || tc.want != nil && !errors.Is(err, tc.want)):
			t.Errorf("TransferLeadership(%q) = %v, want %q", tc.id, err, tc.text)
		}
	}
	if !n.IsLeader() || n.lease.noLeaseTerm.Load() != 0 {
		t.Errorf("a refused transfer changed something: leader %v, no lease in term %d", n.IsLeader(), n.lease.noLeaseTerm.Load())
	}
}
