package server_test

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// TestFollowerRegistryAsLeft: on a follower, the users, scripts and
// libraries a client just changed through it (the leader applied them)
// are there for its next command, on a new connection too: AUTH as the
// user just made, FUNCTION LIST after FUNCTION DELETE, SCRIPT EXISTS
// after SCRIPT LOAD. Without the catch-up each raced the follower's apply.
func TestFollowerRegistryAsLeft(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	f := c.Followers()[0].Addr().String()
	for i := range 20 {
		user := fmt.Sprint("u", i)
		if got := text(t, f, "ACL", "SETUSER", user, "on", ">pw", "+@all", "~*"); got != "+OK\r\n" {
			t.Fatalf("ACL SETUSER: %q", got)
		}
		if got := text(t, f, "AUTH", user, "pw"); got != "+OK\r\n" {
			t.Fatalf("AUTH as the user just made: %q", got)
		}
		lib := fmt.Sprint("lib", i)
		code := fmt.Sprintf("#!lua name=%s\nredis.register_function('f%d', function() return 1 end)", lib, i)
		if got := text(t, f, "FUNCTION", "LOAD", code); got != lib {
			t.Fatalf("FUNCTION LOAD: %q", got)
		}
		if got := text(t, f, "FUNCTION", "LIST", "LIBRARYNAME", lib); got == "*0\r\n" {
			t.Fatalf("FUNCTION LIST after LOAD: %q", got)
		}
		if got := text(t, f, "FUNCTION", "DELETE", lib); got != "+OK\r\n" {
			t.Fatalf("FUNCTION DELETE: %q", got)
		}
		if got := text(t, f, "FUNCTION", "LIST", "LIBRARYNAME", lib); got != "*0\r\n" {
			t.Fatalf("FUNCTION LIST after DELETE: %q", got)
		}
		script := fmt.Sprintf("return %d", i)
		sum := sha1.Sum([]byte(script))
		sha := hex.EncodeToString(sum[:])
		if got := text(t, f, "SCRIPT", "LOAD", script); got != sha {
			t.Fatalf("SCRIPT LOAD: %q", got)
		}
		if got := text(t, f, "SCRIPT", "EXISTS", sha); got != "*1\r\n:1\r\n" {
			t.Fatalf("SCRIPT EXISTS after SCRIPT LOAD: %q", got)
		}
	}
}
