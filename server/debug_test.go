package server_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

const debugRefused = `-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`

// TestDebugRefusedByDefault: enable-debug-command is no unless set at
// startup, and CONFIG SET cannot change it (immutable, as Redis).
func TestDebugRefusedByDefault(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	c := dialRaw(t, n.Addr().String())
	if r := c.do("DEBUG", "SLEEP", "0"); r != debugRefused {
		t.Fatalf("DEBUG with enable-debug-command no: %q", r)
	}
	if r := c.do("CONFIG", "SET", "enable-debug-command", "no"); r != "-ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - can't set immutable config" {
		t.Fatalf("CONFIG SET enable-debug-command: %q", r)
	}
	local := nodetest.Start(t, server.Config{Directives: [][2]string{{"enable-debug-command", "local"}}})
	lc := dialRaw(t, local.Addr().String()) // from 127.0.0.1
	if r := lc.do("DEBUG", "SLEEP", "0"); r != "OK" {
		t.Fatalf("DEBUG from a local client with enable-debug-command local: %q", r)
	}
	if r := lc.do("CONFIG", "GET", "enable-debug-command"); r.([]any)[1] != "local" {
		t.Fatalf("CONFIG GET enable-debug-command: %q", r)
	}
}

// TestDebugSubcommands: OBJECT in Redis's line format, SET-ACTIVE-EXPIRE
// holding the expiry cycle off, RELOAD restoring the data from a fresh
// snapshot unchanged.
func TestDebugSubcommands(t *testing.T) {
	n := nodetest.Start(t, server.Config{Directives: [][2]string{{"enable-debug-command", "yes"}}})
	c := dialRaw(t, n.Addr().String())
	c.do("SET", "s", "hello")
	c.do("RPUSH", "l", "a", "b")
	c.do("HSET", "h", "f", "v")
	line := c.do("DEBUG", "OBJECT", "s").(string)
	if !regexp.MustCompile(`^Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:\d+ lru:\d+ lru_seconds_idle:\d+$`).MatchString(line) {
		t.Fatalf("DEBUG OBJECT s: %q", line)
	}
	if r := c.do("DEBUG", "OBJECT", "nokey"); r != "-ERR no such key" {
		t.Fatalf("DEBUG OBJECT nokey: %q", r)
	}
	if r := c.do("DEBUG", "NOSUCH"); r != "-ERR unknown subcommand or wrong number of arguments for 'NOSUCH'. Try DEBUG HELP." {
		t.Fatalf("DEBUG NOSUCH: %q", r)
	}

	// With the cycle off an expired key stays until read; on, it goes.
	c.do("DEBUG", "SET-ACTIVE-EXPIRE", "0")
	c.do("SET", "e", "v", "PX", "1")
	time.Sleep(300 * time.Millisecond) // several expiry rounds
	if got := infoInt(t, c, "stats", "expired_keys"); got != 0 {
		t.Fatalf("expired_keys %d with active expiry off", got)
	}
	c.do("DEBUG", "SET-ACTIVE-EXPIRE", "1")
	deadline := time.Now().Add(20 * time.Second)
	for infoInt(t, c, "stats", "expired_keys") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the expired key was never expired once active expiry was back on")
		}
		time.Sleep(10 * time.Millisecond)
	}

	restores := infoInt(t, c, "raft", "raft_snapshot_restores")
	if r := c.do("DEBUG", "RELOAD"); r != "OK" {
		t.Fatalf("DEBUG RELOAD: %q", r)
	}
	if got := infoInt(t, c, "raft", "raft_snapshot_restores"); got != restores+1 {
		t.Fatalf("raft_snapshot_restores %d after DEBUG RELOAD, was %d", got, restores)
	}
	if r := c.do("GET", "s"); r != "hello" {
		t.Fatalf("GET s after RELOAD: %q", r)
	}
	if r := c.do("LRANGE", "l", "0", "-1").([]any); len(r) != 2 || r[0] != "a" || r[1] != "b" {
		t.Fatalf("LRANGE l after RELOAD: %q", r)
	}
	if r := c.do("HGET", "h", "f"); r != "v" {
		t.Fatalf("HGET h f after RELOAD: %q", r)
	}
	if r := c.do("DBSIZE"); r != "3" {
		t.Fatalf("DBSIZE after RELOAD: %q", r)
	}
}

// TestRestoreRefusesBadSnapshots: RAFT.RESTORE checks a snapshot whole
// before Raft installs it (hashicorp/raft panics on one its FSM cannot
// restore): garbage, a truncated backup and one with a byte flipped are
// refused, the node serves on with its data, and the intact backup
// restores.
func TestRestoreRefusesBadSnapshots(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	c := dialRaw(t, n.Addr().String())
	c.do("SET", "k", "v")
	b := c.do("RAFT.BACKUP").([]any)
	index, term, data := b[0].(string), b[1].(string), b[2].(string)
	c.do("SET", "k", "changed")
	flipped := []byte(data)
	flipped[len(flipped)/2] ^= 0xff
	for name, bad := range map[string]string{"garbage": "not a snapshot", "truncated": data[:len(data)-3],
		"flipped": string(flipped)} {
		r, _ := c.do("RAFT.RESTORE", index, term, bad).(string)
		if name != "flipped" && !strings.HasPrefix(r, "-ERR not a valid snapshot") {
			t.Fatalf("RAFT.RESTORE of a %s snapshot: %q", name, r)
		}
		if got := c.do("PING"); got != "PONG" {
			t.Fatalf("after a %s snapshot: PING = %q", name, got)
		}
	}
	if r := c.do("RAFT.RESTORE", index, term, data); r != "OK" {
		t.Fatalf("RAFT.RESTORE of the backup: %q", r)
	}
	if r := c.do("GET", "k"); r != "v" {
		t.Fatalf("GET k after the restore = %q; want the backup's v", r)
	}
}
