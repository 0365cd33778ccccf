package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
	"github.com/redis/go-redis/v9"
)

const incrScript = "local v = tonumber(redis.call('get', KEYS[1]) or '0'); redis.call('set', KEYS[1], v + 1); return v + 1"

// TestScriptsOnEveryNode: scripts and functions run the same from any
// node; the script cache and the libraries are replicated, so EVALSHA and
// FCALL work on every node and after the leader is gone; a script's
// commands are checked against its caller's user on the leader; and a
// read-modify-write script run from every node at once loses no update.
func TestScriptsOnEveryNode(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader, followers := c.Leader(), c.Followers()
	fc := dialRaw(t, followers[0].Addr().String())

	sha := fc.str("SCRIPT", "LOAD", incrScript)
	if got := fc.str("EVALSHA", sha, "1", "n"); got != "1" {
		t.Fatalf("EVALSHA through a follower: %q", got)
	}
	if got := fc.str("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('bump', function(keys) return redis.call('incr', keys[1]) end)"); got != "lib" {
		t.Fatalf("FUNCTION LOAD: %q", got)
	}
	for _, n := range c.Nodes {
		nc := dialRaw(t, n.Addr().String())
		if got := nc.str("FCALL", "bump", "1", "f"); strings.HasPrefix(got, "-") {
			t.Fatalf("FCALL on %s: %s", n.Cfg.ID, got)
		}
	}

	// ACL inside a forwarded script: bob may run scripts and GET, not SET.
	if r := fc.do("ACL", "SETUSER", "bob", "on", ">pw", "+@scripting", "+get", "~*"); r != "OK" {
		t.Fatalf("ACL SETUSER: %v", r)
	}
	bc := dialRaw(t, followers[1].Addr().String())
	eventually(t, "bob to exist on the other follower", func() bool { return bc.do("AUTH", "bob", "pw") == "OK" })
	if got := fmt.Sprint(bc.do("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "n")); !strings.Contains(got, "The user executing the script can't run this command or subcommand") {
		t.Fatalf("a denied SET inside bob's script: %s", got)
	}
	if got := fmt.Sprint(bc.do("EVAL", "return redis.call('get', KEYS[1])", "1", "n")); got != "1" {
		t.Fatalf("an allowed GET inside bob's script: %s", got)
	}

	// Contention from every node.
	const workers, rounds = 6, 30
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for i := 0; i < workers; i++ {
		rc := redis.NewClient(&redis.Options{Addr: c.Nodes[i%len(c.Nodes)].Addr().String(), MaxRetries: -1})
		t.Cleanup(func() { rc.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := redis.NewScript(incrScript)
			for r := 0; r < rounds; r++ {
				if err := s.Run(ctx, rc, []string{"hot"}).Err(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	lc := dialRaw(t, leader.Addr().String())
	if got, want := lc.str("GET", "hot"), fmt.Sprint(workers*rounds); got != want {
		t.Fatalf("hot = %s, want %s", got, want)
	}

	// The leader goes; the cache and the libraries stay.
	leader.Stop()
	next := c.Leader()
	nc := dialRaw(t, next.Addr().String())
	if got := nc.str("EVALSHA", sha, "1", "n"); got != "2" {
		t.Fatalf("EVALSHA after a failover: %q", got)
	}
	if got := nc.str("FCALL", "bump", "1", "n"); got != "3" {
		t.Fatalf("FCALL after a failover: %q", got)
	}
}

// TestScriptsSurviveRestart: SCRIPT LOAD and FUNCTION LOAD are replicated
// state, in snapshots and in the log a restart replays.
func TestScriptsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, SnapshotThreshold: 50}
	n := nodetest.Start(t, cfg)
	c := dialRaw(t, n.Addr().String())
	sha := c.str("SCRIPT", "LOAD", "return 'in the snapshot'")
	c.str("FUNCTION", "LOAD", "#!lua name=snap\nredis.register_function('snapf', function() return 'snap' end)")
	for i := 0; i < 100; i++ { // past a snapshot
		c.do("SET", "k", fmt.Sprint(i))
	}
	sha2 := c.str("SCRIPT", "LOAD", "return 'in the log'")
	c.str("FUNCTION", "LOAD", "#!lua name=logged\nredis.register_function('logf', function() return 'log' end)")
	n.Stop()

	cfg.Addr, cfg.RaftAddr = n.Cfg.Addr, n.Cfg.RaftAddr
	n2 := nodetest.Start(t, cfg)
	c2 := dialRaw(t, n2.Addr().String())
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := fmt.Sprint(c2.do("EVALSHA", sha, "0"), c2.do("EVALSHA", sha2, "0"), c2.do("FCALL", "snapf", "0"), c2.do("FCALL", "logf", "0"))
		if got == "in the snapshotin the logsnaplog" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a restart: %s", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
