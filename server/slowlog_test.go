package server_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestSlowLogRecordsCommands: with slowlog-log-slower-than 0 every
// command is logged as the client sent it, a write with its Raft round
// trip, newest first, with the client's address and name; AUTH's
// password redacted, as Redis shows it.
func TestSlowLogRecordsCommands(t *testing.T) {
	n := nodetest.Start(t, server.Config{Fsync: true})
	c := dialRaw(t, n.Addr().String())
	c.do("CONFIG", "SET", "slowlog-log-slower-than", "0")
	c.do("CLIENT", "SETNAME", "lognamed")
	c.do("SLOWLOG", "RESET")
	long := strings.Repeat("v", 130)
	c.do("SET", "k", long)
	c.do("AUTH", "nosuchpass")
	c.do("GET", "k")
	entries, ok := c.do("SLOWLOG", "GET").([]any)
	if !ok || len(entries) != 4 {
		t.Fatalf("SLOWLOG GET: %v", entries)
	}
	var cmds []string
	for _, e := range entries {
		f := e.([]any)
		if len(f) != 6 {
			t.Fatalf("entry %v", f)
		}
		args := fmt.Sprint(f[3])
		cmds = append(cmds, args)
		if f[5] != "lognamed" || !strings.HasPrefix(f[4].(string), "127.0.0.1:") {
			t.Errorf("entry %v: client %v %v", args, f[4], f[5])
		}
	}
	want := []string{"[GET k]", "[AUTH (redacted)]", "[SET k " + long[:128] + "... (2 more bytes)]", "[SLOWLOG RESET]"}
	if fmt.Sprint(cmds) != fmt.Sprint(want) {
		t.Errorf("logged %q, want %q", cmds, want)
	}
	if got := c.do("SLOWLOG", "LEN"); got != "5" { // and SLOWLOG GET itself
		t.Errorf("SLOWLOG LEN = %v", got)
	}

	// A transaction's commands each, EXEC not (skip_slowlog); a script
	// and its calls, these as Redis's script client ("?:0", no name).
	c.do("SLOWLOG", "RESET")
	c.do("MULTI")
	c.do("SET", "m", "1")
	c.do("INCR", "m")
	c.do("EXEC")
	c.do("EVAL", "redis.call('set','x','1') return 1", "0")
	var got []string
	for _, e := range c.do("SLOWLOG", "GET").([]any) {
		f := e.([]any)
		got = append(got, fmt.Sprintf("%v %v %v", f[3], strings.SplitN(f[4].(string), ":", 2)[0], f[5]))
	}
	want = []string{
		"[EVAL redis.call('set','x','1') return 1 0] 127.0.0.1 lognamed", "[set x 1] ? ",
		"[INCR m] 127.0.0.1 lognamed", "[SET m 1] 127.0.0.1 lognamed", "[MULTI] 127.0.0.1 lognamed",
		"[SLOWLOG RESET] 127.0.0.1 lognamed",
	}
	if !slices.Equal(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}

// TestLatencyHistogramAndStats: LATENCY HISTOGRAM and INFO latencystats
// count each command's calls from CONFIG RESETSTAT on.
func TestLatencyHistogramAndStats(t *testing.T) {
	n := nodetest.Start(t, server.Config{Fsync: true})
	c := dialRaw(t, n.Addr().String())
	c.do("CONFIG", "RESETSTAT")
	c.do("SET", "a", "1")
	c.do("SET", "b", "2")
	c.do("CLIENT", "ID")
	h, ok := c.do("LATENCY", "HISTOGRAM", "set", "client", "nosuch").([]any)
	if !ok || len(h) != 4 || h[0] != "set" || h[2] != "client|id" {
		t.Fatalf("LATENCY HISTOGRAM: %v", h)
	}
	set := h[1].([]any)
	if set[0] != "calls" || set[1] != "2" || set[2] != "histogram_usec" {
		t.Errorf("set: %v", set)
	}
	buckets := set[3].([]any)
	if len(buckets) == 0 || len(buckets)%2 != 0 || buckets[len(buckets)-1] != "2" {
		t.Errorf("set's buckets %v: the last is cumulative, 2", buckets)
	}
	info := c.str("INFO", "latencystats")
	if !strings.Contains(info, "\r\nlatency_percentiles_usec_set:p50=") || !strings.Contains(info, ",p99.9=") {
		t.Errorf("INFO latencystats: %q", info)
	}
	c.do("CONFIG", "SET", "latency-tracking", "no")
	c.do("CONFIG", "RESETSTAT")
	c.do("SET", "a", "1")
	if h := c.do("LATENCY", "HISTOGRAM"); fmt.Sprint(h) != "[]" {
		t.Errorf("tracking off: %v", h)
	}
}

// TestSlowLogOnFollower: a command a follower forwards is recorded where
// its client is, with the leader's round trip, and not on the leader.
func TestSlowLogOnFollower(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader, follower := c.Leader(), c.Followers()[0]
	l, f := dialRaw(t, leader.Addr().String()), dialRaw(t, follower.Addr().String())
	for _, n := range []*rawConn{l, f} {
		n.do("CONFIG", "SET", "slowlog-log-slower-than", "0")
		n.do("SLOWLOG", "RESET")
		n.do("CONFIG", "RESETSTAT")
	}
	f.do("SET", "fk", "1")
	entries := f.do("SLOWLOG", "GET", "1").([]any)
	if len(entries) != 1 || fmt.Sprint(entries[0].([]any)[3]) != "[SET fk 1]" {
		t.Errorf("follower's slow log: %v", entries)
	}
	if h := fmt.Sprint(f.do("LATENCY", "HISTOGRAM", "set")); !strings.HasPrefix(h, "[set [calls 1 histogram_usec") {
		t.Errorf("follower's histogram: %s", h)
	}
	for _, e := range l.do("SLOWLOG", "GET", "-1").([]any) {
		if args := fmt.Sprint(e.([]any)[3]); strings.Contains(args, "fk") {
			t.Errorf("leader logged the forwarded command: %s", args)
		}
	}
	if h := fmt.Sprint(l.do("LATENCY", "HISTOGRAM", "set")); h != "[]" {
		t.Errorf("leader's histogram of set: %s", h)
	}
}
