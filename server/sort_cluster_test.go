package server_test

import (
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// SORT's BY and GET patterns are checked against the caller's user on
// the leader, also when the command came through a follower: a user who
// may read only some keys is refused them there as on the leader.
func TestSortPatternsCheckedForTheCallerThroughAFollower(t *testing.T) {
	cl := nodetest.StartCluster(t, 3, nil)
	l := dialRaw(t, cl.Leader().Addr().String())
	if r := l.str("ACL", "SETUSER", "u", "on", ">pw", "~l*", "+@all"); r != "OK" {
		t.Fatalf("ACL SETUSER: %q", r)
	}
	l.str("RPUSH", "l1", "2", "1")
	f := dialRaw(t, cl.Followers()[0].Addr().String())
	eventually(t, "the user on the follower", func() bool { return f.str("AUTH", "u", "pw") == "OK" })
	const denied = "-ERR BY option of SORT denied due to insufficient ACL permissions."
	if r := f.do("SORT", "l1", "BY", "w_*"); r != denied {
		t.Errorf("SORT BY through a follower: %v, want %q", r, denied)
	}
	if r := f.do("SORT", "l1", "GET", "#"); r != "-ERR GET option of SORT denied due to insufficient ACL permissions." {
		t.Errorf("SORT GET # through a follower: %v", r)
	}
	if r := f.do("SORT", "l1"); !sameReply(r, []any{"1", "2"}) {
		t.Errorf("SORT through a follower: %v", r)
	}
	if r := l.do("SORT", "l1", "BY", "w_*"); !sameReply(r, []any{"1", "2"}) {
		t.Errorf("SORT BY as the default user: %v", r)
	}
}
