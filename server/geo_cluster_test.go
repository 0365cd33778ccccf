package server_test

import (
	"fmt"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestGeoCluster: GEOADD and the storing searches sent to a follower are
// forwarded, and every node (one that joined from a snapshot too) holds
// the same geohash scores and the same stored results, distances
// included; a follower answers the searches as the leader does.
func TestGeoCluster(t *testing.T) {
	// A short log after a snapshot, so a node that joins installs it.
	c := nodetest.StartCluster(t, 3, func(_ int, cfg *server.Config) {
		cfg.SnapshotThreshold = 500
		cfg.TrailingLogs = 10
	})
	leader := c.Leader()
	fc := dialRaw(t, c.Followers()[0].Addr().String())
	args := []string{"GEOADD", "pts"}
	for i := range 200 {
		args = append(args, fmt.Sprint(-10+float64(i)*0.1), fmt.Sprint(40+float64(i%20)*0.05), fmt.Sprintf("p%d", i))
	}
	if r := fc.do(args...); r != "200" {
		t.Fatalf("GEOADD through a follower: %v", r)
	}
	for _, cmd := range [][]string{
		{"GEOSEARCHSTORE", "box", "pts", "FROMLONLAT", "0", "40.5", "BYBOX", "800", "300", "km", "COUNT", "50", "STOREDIST"},
		{"GEORADIUS", "pts", "-5", "40.5", "250", "km", "STORE", "circle"},
		{"GEORADIUSBYMEMBER", "pts", "p7", "100", "mi", "DESC", "COUNT", "9", "STOREDIST", "near"},
	} {
		if r := fc.do(cmd...); r == "0" || fmt.Sprint(r)[0] == 'E' {
			t.Fatalf("%v through a follower: %v", cmd, r)
		}
	}
	lc := dialRaw(t, leader.Addr().String())
	reads := func(rc *rawConn) string {
		return fmt.Sprint(
			rc.do("ZRANGE", "pts", "0", "-1", "WITHSCORES"),
			rc.do("ZRANGE", "box", "0", "-1", "WITHSCORES"),
			rc.do("ZRANGE", "circle", "0", "-1", "WITHSCORES"),
			rc.do("ZRANGE", "near", "0", "-1", "WITHSCORES"),
			rc.do("GEOSEARCH", "pts", "FROMMEMBER", "p3", "BYRADIUS", "120", "km", "WITHDIST", "WITHCOORD", "COUNT", "5"),
		)
	}
	want := reads(lc)
	for i := range 50 { // more log than TrailingLogs keeps
		lc.do("SET", fmt.Sprintf("filler%d", i), "v")
	}
	joinFromSnapshot(t, c, leader)
	for i, rc := range caughtUpReaders(t, c, leader) {
		if got := reads(rc); got != want {
			t.Errorf("node %d differs from the leader:\n%s\n%s", i+1, got, want)
		}
	}
}
