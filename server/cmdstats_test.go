package server_test

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// statsSequence runs, on one server, commands that succeed, fail, are
// rejected (arity, NOPERM, OOM, in MULTI), run in MULTI/EXEC and from
// scripts, and a blocked XREADGROUP answered with NOGROUP.
func statsSequence(t *testing.T, addr string) {
	c := dialRaw(t, addr)
	steps := [][]string{
		{"CONFIG", "RESETSTAT"},
		{"SET", "a", "1"},
		{"LPUSH", "a", "x"},            // WRONGTYPE: failed
		{"GET"},                        // arity: rejected
		{"NOSUCHCOMMAND"},              // counted nowhere but errorstats
		{"CONFIG", "GET", "maxmemory"}, // a subcommand
		{"CONFIG"},                     // the container's arity
		{"CONFIG", "NOSUCHSUB"},
		{"EXPIRE", "a", "100"},
		{"EVAL", "redis.call('set','x','y'); return redis.call('select', 99)", "0"},
		{"EVAL", "return redis.pcall('lpush','a','z')", "0"},
		{"EVAL", "local t = redis.pcall('lpush','a','z'); return 1", "0"},
		{"EVAL", "return redis.error_reply('MY_ERR x')", "0"},
		{"EVAL", "return redis.error_reply('')", "0"},
		{"EVAL", "return redis.call('nosuchcommand')", "0"},
		{"EVAL_RO", "return redis.call('set','x','y')", "1", "x"}, // set rejected
		{"MULTI"}, {"SET", "b", "2"}, {"INCR", "a"}, {"LPUSH", "a", "q"}, {"EXEC"},
		{"MULTI"}, {"GET"}, {"EXEC"}, // EXECABORT
		{"MULTI"}, {"WATCH", "x"}, {"DISCARD"},
		{"GEOADD", "g", "13", "38", "p"},
		{"SET", "g", "1"},
		{"GEOADD", "g", "13", "38", "p"},
		{"ACL", "SETUSER", "limited", "on", "nopass", "+get", "~*"},
		{"CONFIG", "SET", "maxmemory", "1"},
		{"SET", "oom", "1"}, // OOM: rejected
		{"EVAL", "return redis.call('set','x','y')", "1", "x"},
		{"CONFIG", "SET", "maxmemory", "0"},
		{"XGROUP", "CREATE", "s", "grp", "$", "MKSTREAM"},
	}
	for _, s := range steps {
		c.do(s...)
	}
	limited := dialRaw(t, addr)
	limited.do("AUTH", "limited", "x")
	limited.do("SET", "k", "v") // NOPERM: rejected

	blocked := dialRaw(t, addr)
	blocked.send("XREADGROUP", "GROUP", "grp", "alice", "BLOCK", "0", "STREAMS", "s", ">")
	eventually(t, "XREADGROUP to block", func() bool {
		return strings.Contains(c.do("INFO", "clients").(string), "blocked_clients:1")
	})
	c.do("XGROUP", "DESTROY", "s", "grp")
	if r, err := blocked.read(); err != nil || !strings.HasPrefix(r.(string), "-NOGROUP") {
		t.Fatalf("blocked XREADGROUP got %v, %v; want a NOGROUP error", r, err)
	}
}

var usecFields = regexp.MustCompile(`usec=\d+,usec_per_call=\d+\.\d\d,`)

// statsLines returns INFO's commandstats (without the usec fields, and
// without the INFO calls the sequence made) and errorstats lines, and
// total_error_replies, sorted (Redis prints commandstats in hash order).
func statsLines(t *testing.T, addr string) []string {
	c := dialRaw(t, addr)
	var out []string
	for _, sec := range []string{"commandstats", "errorstats", "stats"} {
		for _, l := range strings.Split(c.do("INFO", sec).(string), "\r\n") {
			switch {
			case strings.HasPrefix(l, "cmdstat_info:"), strings.HasPrefix(l, "cmdstat_command"):
			case strings.HasPrefix(l, "cmdstat_"):
				out = append(out, usecFields.ReplaceAllString(l, ""))
			case strings.HasPrefix(l, "errorstat_"), strings.HasPrefix(l, "total_error_replies:"):
				out = append(out, l)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestCommandStatsMatchRedis: after the same commands, INFO commandstats,
// errorstats and total_error_replies read as redis-server's.
func TestCommandStatsMatchRedis(t *testing.T) {
	redis := nodetest.StartRedis(t)
	node := nodetest.Start(t, server.Config{Fsync: true})
	statsSequence(t, redis.Addr)
	want := statsLines(t, redis.Addr)
	statsSequence(t, node.Addr().String())
	got := statsLines(t, node.Addr().String())
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stats differ from redis-server's\ngot:\n%s\n\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(want) < 20 {
		t.Errorf("only %d lines: the sequence did not run", len(want))
	}
}

// TestCommandStatsReset: CONFIG RESETSTAT clears commandstats, errorstats
// and total_error_replies; INFO alone and "default" leave commandstats
// out, "all" and "everything" print it.
func TestCommandStatsReset(t *testing.T) {
	node := nodetest.Start(t, server.Config{Fsync: true})
	c := dialRaw(t, node.Addr().String())
	c.do("LPUSH", "l", "x")
	c.do("GET", "l")
	if got := c.do("INFO", "commandstats").(string); !strings.Contains(got, "cmdstat_get:calls=1,") || !strings.Contains(got, "failed_calls=1") {
		t.Fatalf("commandstats before reset:\n%s", got)
	}
	for _, arg := range [][]string{{"INFO"}, {"INFO", "default"}} {
		if got := c.do(arg...).(string); strings.Contains(got, "# Commandstats") || !strings.Contains(got, "errorstat_WRONGTYPE:count=1") {
			t.Errorf("%v:\n%s", arg, got)
		}
	}
	for _, arg := range []string{"all", "everything"} {
		if got := c.do("INFO", arg).(string); !strings.Contains(got, "cmdstat_lpush:calls=1,") {
			t.Errorf("INFO %s has no commandstats:\n%s", arg, got)
		}
	}
	// A blocking command's wait is not its time, as in Redis.
	c.do("BLPOP", "nolist", "0.5")
	m := regexp.MustCompile(`cmdstat_blpop:calls=1,usec=(\d+),`).FindStringSubmatch(c.do("INFO", "commandstats").(string))
	if m == nil {
		t.Fatal("no cmdstat_blpop")
	}
	if usec, _ := strconv.Atoi(m[1]); usec >= 500000 {
		t.Errorf("BLPOP that waited 0.5s counted usec=%d", usec)
	}
	c.do("CONFIG", "RESETSTAT")
	got := c.do("INFO", "everything").(string)
	for _, gone := range []string{"cmdstat_get", "cmdstat_lpush", "errorstat_", "total_error_replies:1"} {
		if strings.Contains(got, gone) {
			t.Errorf("after CONFIG RESETSTAT, INFO has %q:\n%s", gone, got)
		}
	}
}

// TestCommandStatsOnFollower: a command a follower forwards is counted
// on the follower, where its client is (as Redis counts a command on the
// node that serves the client), not on the leader that ran it.
func TestCommandStatsOnFollower(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader, follower := c.Leader(), c.Followers()[0]
	f := dialRaw(t, follower.Addr().String())
	f.do("SET", "fk", "1")
	f.do("LPUSH", "fk", "x") // WRONGTYPE, from the leader
	// A pipeline: the forwards go together, their replies split.
	f.send("INCR", "fk")
	f.send("HSET", "fk", "f", "v")
	for range 2 {
		if _, err := f.read(); err != nil {
			t.Fatal(err)
		}
	}
	got := strings.Join(statsLines(t, follower.Addr().String()), "\n")
	want := strings.Join([]string{
		"cmdstat_hset:calls=1,rejected_calls=0,failed_calls=1",
		"cmdstat_incr:calls=1,rejected_calls=0,failed_calls=0",
		"cmdstat_lpush:calls=1,rejected_calls=0,failed_calls=1",
		"cmdstat_set:calls=1,rejected_calls=0,failed_calls=0",
		"errorstat_WRONGTYPE:count=2",
		"total_error_replies:2",
	}, "\n")
	if got != want {
		t.Errorf("follower's stats:\n%s\nwant:\n%s", got, want)
	}
	if l := statsLines(t, leader.Addr().String()); len(l) != 1 || l[0] != "total_error_replies:0" {
		t.Errorf("leader counted the forwarded commands: %q", l)
	}
}

// TestCommandStatsPartitioned: with several partitions, a command is
// counted once on the node its client is on, whichever partitions ran it
// (a whole-keyspace command runs on all of them).
func TestCommandStatsPartitioned(t *testing.T) {
	c := startPartitioned(t, 3)
	first := dialRaw(t, c.Nodes[0].Addr().String())
	for i := range 6 {
		first.do("SET", "pk"+strconv.Itoa(i), "v")
	}
	first.do("DBSIZE")
	first.do("KEYS", "*")
	first.do("LPUSH", "pk0", "x")
	want := []string{
		"cmdstat_dbsize:calls=1,rejected_calls=0,failed_calls=0",
		"cmdstat_keys:calls=1,rejected_calls=0,failed_calls=0",
		"cmdstat_lpush:calls=1,rejected_calls=0,failed_calls=1",
		"cmdstat_set:calls=6,rejected_calls=0,failed_calls=0",
		"errorstat_WRONGTYPE:count=1",
		"total_error_replies:1",
	}
	if got := statsLines(t, c.Nodes[0].Addr().String()); !slices.Equal(got, want) {
		t.Errorf("stats of the client's node:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, n := range c.Nodes[1:] {
		if l := statsLines(t, n.Addr().String()); len(l) != 1 || l[0] != "total_error_replies:0" {
			t.Errorf("node %s counted another node's client's commands: %q", n.Addr(), l)
		}
	}
}
