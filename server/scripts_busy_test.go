package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestBusyScript: past busy-reply-threshold a running script makes other
// clients' commands answer BUSY (allow-busy ones still run, EXEC aborts);
// SCRIPT KILL stops a script that wrote nothing, not one that did; and
// nothing of a killed script is applied.
func TestBusyScript(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	a, b := dialRaw(t, n.Addr().String()), dialRaw(t, n.Addr().String())
	if r := b.do("CONFIG", "SET", "lua-time-limit", "50"); r != "OK" {
		t.Fatal(r)
	}
	b.do("MULTI")
	b.do("INCR", "q")
	a.send("EVAL", "redis.call('get', 'x'); while true do end", "0")
	eventually(t, "PING to answer BUSY", func() bool {
		return strings.HasPrefix(fmt.Sprint(b.do("PING")), "-BUSY Redis is busy running a script.")
	})
	if got := fmt.Sprint(b.do("EXEC")); !strings.HasPrefix(got, "-EXECABORT Transaction discarded because of: BUSY") {
		t.Fatalf("EXEC during a busy script: %s", got)
	}
	if got := fmt.Sprint(b.do("FUNCTION", "KILL")); !strings.HasPrefix(got, "-BUSY") {
		t.Fatalf("FUNCTION KILL of a script: %s", got)
	}
	if got := b.do("SCRIPT", "KILL"); got != "OK" {
		t.Fatalf("SCRIPT KILL: %v", got)
	}
	r, err := a.read()
	if err != nil || !strings.HasPrefix(fmt.Sprint(r), "-ERR Script killed by user with SCRIPT KILL...") {
		t.Fatalf("the killed script's reply: %v, %v", r, err)
	}
	if got := b.do("PING"); got != "PONG" {
		t.Fatalf("PING after the kill: %v", got)
	}

	// A script that wrote cannot be killed, and finishes.
	a.send("EVAL", "redis.call('set', 'w', 1); local t0 = redis.call('time'); local t; repeat t = redis.call('time') until (t[1] - t0[1]) * 1000000 + (t[2] - t0[2]) > 400000; return 'done'", "0")
	eventually(t, "PING to answer BUSY", func() bool {
		return strings.HasPrefix(fmt.Sprint(b.do("PING")), "-BUSY")
	})
	if got := fmt.Sprint(b.do("SCRIPT", "KILL")); !strings.HasPrefix(got, "-UNKILLABLE") {
		t.Fatalf("SCRIPT KILL of a script that wrote: %s", got)
	}
	if r, err := a.read(); err != nil || r != "done" {
		t.Fatalf("the unkillable script's reply: %v, %v", r, err)
	}
	if got := b.do("GET", "w"); got != "1" {
		t.Fatalf("w = %v", got)
	}
	if got := b.do("SCRIPT", "KILL"); fmt.Sprint(got) != "-NOTBUSY No scripts in execution right now." {
		t.Fatalf("SCRIPT KILL with nothing running: %v", got)
	}
}

// TestStopWithScriptRunning: a node stops even while a script loops.
func TestStopWithScriptRunning(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	a, b := dialRaw(t, n.Addr().String()), dialRaw(t, n.Addr().String())
	b.do("CONFIG", "SET", "busy-reply-threshold", "10")
	a.send("EVAL", "while true do end", "0")
	eventually(t, "the script to run", func() bool {
		return strings.HasPrefix(fmt.Sprint(b.do("PING")), "-BUSY")
	})
	done := make(chan error, 1)
	go func() { done <- n.Stop() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not stop while a script looped")
	}
}
