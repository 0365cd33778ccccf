package server_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestHashFieldExpiryCluster: field deadlines are the leader's absolute
// times, so every node reports the same ones, a node that caught up from
// a snapshot too; the leader's active expiry deletes the expired fields
// on every node (HLEN, which counts fields not deleted yet, drops on the
// followers with no read of the fields), and followers read the same
// hashes as the leader.
func TestHashFieldExpiryCluster(t *testing.T) {
	// A short log after a snapshot, so a node that joins installs it.
	c := nodetest.StartCluster(t, 3, func(_ int, cfg *server.Config) {
		cfg.SnapshotThreshold = 500
		cfg.TrailingLogs = 10
	})
	leader := c.Leader()
	lc := dialRaw(t, leader.Addr().String())
	// A hashtable and a listpack, each with fields that expire soon and
	// fields that expire in an hour or never.
	args := []string{"HSET", "big"}
	for i := range 600 {
		args = append(args, fmt.Sprintf("f%d", i), "v")
	}
	lc.do(args...)
	lc.do("HSET", "small", "a", "1", "b", "2", "c", "3")
	startedAt := time.Now().UnixMilli() // before the deadlines are set
	// "Soon" leaves the join, which installs a snapshot, seconds under
	// the race detector on a busy machine (300 ms was not always enough).
	soon := []string{"HPEXPIRE", "big", "5000", "FIELDS", "400"}
	for i := range 400 {
		soon = append(soon, fmt.Sprintf("f%d", i))
	}
	lc.do(soon...)
	lc.do("HPEXPIRE", "small", "5000", "FIELDS", "2", "a", "b")
	lc.do("HEXPIRE", "big", "3600", "FIELDS", "1", "f599")
	for i := range 50 { // more log than TrailingLogs keeps
		lc.do("SET", fmt.Sprintf("filler%d", i), "v")
	}
	joinFromSnapshot(t, c, leader)

	deadlines := func(rc *rawConn) []any {
		return []any{
			rc.do("HPEXPIRETIME", "big", "FIELDS", "4", "f0", "f399", "f400", "f599"),
			rc.do("HPEXPIRETIME", "small", "FIELDS", "3", "a", "b", "c"),
		}
	}
	want := deadlines(lc)
	if d, _ := strconv.ParseInt(want[0].([]any)[0].(string), 10, 64); d <= 0 {
		t.Fatalf("leader's deadlines: %v", want)
	}
	followers := caughtUpReaders(t, c, leader)
	for i, rc := range followers {
		if got := deadlines(rc); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("follower %d: deadlines %v, leader %v", i+1, got, want)
		}
	}

	time.Sleep(time.Until(time.UnixMilli(startedAt + 5100))) // past the short deadlines
	for i, rc := range append([]*rawConn{lc}, followers...) {
		eventually(t, fmt.Sprintf("node %d to delete the expired fields", i), func() bool {
			return rc.do("HLEN", "big") == "200" && rc.do("HLEN", "small") == "1"
		})
		got := rc.do("HGETALL", "small")
		if !slices.Equal(got.([]any), []any{"c", "3"}) {
			t.Errorf("node %d: HGETALL small %v", i, got)
		}
		if ttl := rc.do("HTTL", "big", "FIELDS", "3", "f0", "f400", "f599").([]any); ttl[0] != "-2" || ttl[1] != "-1" || ttl[2] == "-2" {
			t.Errorf("node %d: HTTL %v", i, ttl)
		}
	}
}
