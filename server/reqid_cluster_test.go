package server_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// pipe sends the commands in one write and returns their replies.
func (c *rawConn) pipe(cmds ...[]string) []any {
	c.t.Helper()
	var b strings.Builder
	for _, args := range cmds {
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		c.t.Fatal(err)
	}
	out := make([]any, len(cmds))
	for i := range cmds {
		r, err := c.read()
		if err != nil {
			c.t.Fatalf("%v: %v", cmds[i], err)
		}
		out[i] = r
	}
	return out
}

// withID sends RAFT.REQID origin seq and then cmd, and returns cmd's
// reply (RAFT.REQID's must be +OK).
func (c *rawConn) withID(origin string, seq int, cmd ...string) any {
	c.t.Helper()
	r := c.pipe([]string{"RAFT.REQID", origin, fmt.Sprint(seq)}, cmd)
	if r[0] != "OK" {
		c.t.Fatalf("RAFT.REQID %s %d: %v", origin, seq, r[0])
	}
	return r[1]
}

// TestClientRequestIDs: a write sent twice under one RAFT.REQID id is
// applied once and both replies are the first's, on the leader, through
// a follower and across the two; a write that proposed nothing (its
// reply read from the leader's state) still answers a retry with the
// first attempt's reply; the id lasts one command; a transaction takes
// the id given before MULTI.
func TestClientRequestIDs(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	lc, fc := dialRaw(t, c.Leader().Addr().String()), dialRaw(t, c.Followers()[0].Addr().String())
	same := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
		}
	}

	t.Run("leader", func(t *testing.T) {
		same("INCR", lc.withID("a", 1, "INCR", "n"), "1")
		same("INCR again", lc.withID("a", 1, "INCR", "n"), "1")
		same("INCR, another origin", lc.withID("b", 1, "INCR", "n"), "2")
		same("n", lc.do("GET", "n"), "2")
		// SET NX: its retry is not refused by its own first attempt.
		same("SET NX", lc.withID("a", 2, "SET", "k", "v1", "NX"), "OK")
		same("SET NX again", lc.withID("a", 2, "SET", "k", "v2", "NX"), "OK")
		same("k", lc.do("GET", "k"), "v1")
		// Pipelined: the second is answered by the first.
		same("pipelined", fmt.Sprint(lc.pipe(
			[]string{"RAFT.REQID", "a", "3"}, []string{"INCR", "p"},
			[]string{"RAFT.REQID", "a", "3"}, []string{"INCR", "p"}, []string{"GET", "p"})), "[OK 1 OK 1 1]")
	})

	t.Run("pipelined writes go together", func(t *testing.T) {
		// RAFT.REQID does not wait for the writes before it: a pipeline
		// of writes, each named, shares log entries.
		index := func() int {
			v, _ := strconv.Atoi(infoField(lc.str("INFO", "raft"), "raft_last_log_index"))
			return v
		}
		before := index()
		var cmds [][]string
		for i := range 200 {
			cmds = append(cmds, []string{"RAFT.REQID", "pl", strconv.Itoa(i + 1)}, []string{"INCR", "pl"})
		}
		r := lc.pipe(cmds...)
		if r[len(r)-1] != "200" {
			t.Fatalf("the last INCR replied %v", r[len(r)-1])
		}
		if n := index() - before; n > 100 {
			t.Errorf("200 named INCRs in a pipeline took %d log entries", n)
		}
	})

	t.Run("marker", func(t *testing.T) {
		// The retry finds the set gone (its first attempt popped it)
		// and proposes nothing: the marker takes the first's reply.
		lc.do("SADD", "s", "a")
		same("SPOP", lc.withID("m", 1, "SPOP", "s"), "a")
		same("SPOP again", lc.withID("m", 1, "SPOP", "s"), "a")
		// The marker comes first: the id's reply is its null, and the
		// later attempt, which would pop, applies nothing.
		same("SPOP of nothing", lc.withID("m", 2, "SPOP", "e"), nil)
		lc.do("SADD", "e", "x")
		same("SPOP again, with a member", lc.withID("m", 2, "SPOP", "e"), nil)
		same("SCARD e", lc.do("SCARD", "e"), "1")
		// A syntax error is the id's reply too.
		same("SPOP with a bad count", lc.withID("m", 3, "SPOP", "e", "x"), "-ERR value is out of range, must be positive")
		same("SPOP, the same id", lc.withID("m", 3, "SPOP", "e"), "-ERR value is out of range, must be positive")
		// Pipelined, the marker waits behind the writes before it.
		lc.do("SADD", "q", "a")
		same("pipelined", fmt.Sprint(lc.pipe(
			[]string{"RAFT.REQID", "m", "4"}, []string{"SPOP", "q"},
			[]string{"RAFT.REQID", "m", "4"}, []string{"SPOP", "q"}, []string{"SCARD", "q"})), "[OK a OK a 0]")
		// Through a follower, forwarded: the leader proposes the marker.
		same("SPOP through a follower", fc.withID("m", 5, "SPOP", "none"), nil)
		lc.do("SADD", "none", "x")
		same("SPOP again on the leader", lc.withID("m", 5, "SPOP", "none"), nil)
	})

	t.Run("forwarded", func(t *testing.T) {
		same("INCR through a follower", fc.withID("f", 1, "INCR", "fw"), "1")
		same("again through it", fc.withID("f", 1, "INCR", "fw"), "1")
		same("again on the leader", lc.withID("f", 1, "INCR", "fw"), "1")
		same("fw", lc.do("GET", "fw"), "1")
		same("on the leader first", lc.withID("f", 2, "INCR", "fw"), "2")
		same("then through a follower", fc.withID("f", 2, "INCR", "fw"), "2")
		// A client's id never meets a node's: origin n1 is not node n1.
		same("origin named as a node", lc.withID(c.Leader().Cfg.ID, 1, "INCR", "fw"), "3")
	})

	t.Run("one command", func(t *testing.T) {
		// The id goes with the next command, whatever it is.
		lc.do("RAFT.REQID", "o", "1")
		same("GET takes the id", lc.do("GET", "g"), nil)
		same("INCR without an id", lc.do("INCR", "g"), "1")
		same("INCR with the id GET dropped", lc.withID("o", 1, "INCR", "g"), "2")
		lc.do("RAFT.REQID", "o", "2")
		same("an unknown command takes it", lc.do("NOSUCH"), "-ERR unknown command 'NOSUCH', with args beginning with: ")
		same("INCR after", lc.withID("o", 2, "INCR", "g"), "3")
		same("a second RAFT.REQID replaces the first", fmt.Sprint(lc.pipe(
			[]string{"RAFT.REQID", "o", "3"}, []string{"RAFT.REQID", "o", "4"}, []string{"INCR", "g"},
			[]string{"RAFT.REQID", "o", "3"}, []string{"INCR", "g"})), "[OK OK 4 OK 5]")
	})

	t.Run("transaction", func(t *testing.T) {
		tx := func(rc *rawConn, seq int) string {
			r := rc.pipe([]string{"RAFT.REQID", "t", fmt.Sprint(seq)}, []string{"MULTI"},
				[]string{"INCR", "tx"}, []string{"INCR", "tx"}, []string{"EXEC"})
			return fmt.Sprint(r)
		}
		same("MULTI", tx(lc, 1), "[OK OK QUEUED QUEUED [1 2]]")
		same("MULTI again", tx(lc, 1), "[OK OK QUEUED QUEUED [1 2]]")
		same("through a follower", tx(fc, 1), "[OK OK QUEUED QUEUED [1 2]]")
		same("another id, through a follower", tx(fc, 2), "[OK OK QUEUED QUEUED [3 4]]")
		same("it again on the leader", tx(lc, 2), "[OK OK QUEUED QUEUED [3 4]]")
		same("tx", lc.do("GET", "tx"), "4")
		// Inside MULTI it is refused, and the transaction aborts.
		same("inside MULTI", fmt.Sprint(lc.pipe([]string{"MULTI"}, []string{"RAFT.REQID", "t", "3"},
			[]string{"INCR", "tx"}, []string{"EXEC"})),
			"[OK -ERR Command not allowed inside a transaction QUEUED -EXECABORT Transaction discarded because of previous errors.]")
		// The id given to MULTI is the EXEC's, not a queued command's.
		same("queued", fmt.Sprint(lc.pipe([]string{"RAFT.REQID", "t", "4"}, []string{"MULTI"},
			[]string{"INCR", "tx"}, []string{"EXEC"}, []string{"INCR", "tx"})), "[OK OK QUEUED [5] 6]")
	})

	t.Run("invalid", func(t *testing.T) {
		const bad = "-ERR invalid request id"
		for _, args := range [][]string{
			{"", "1"}, {"a b", "1"}, {"a\x00", "1"}, {"a/b", "1"}, {strings.Repeat("x", 65), "1"},
			{"a", "0"}, {"a", "-1"}, {"a", "+1"}, {"a", "01"}, {"a", "x"}, {"a", "9223372036854775808"},
		} {
			same(fmt.Sprintf("RAFT.REQID %q %q", args[0], args[1]), lc.do(append([]string{"RAFT.REQID"}, args...)...), bad)
		}
		same("64 bytes, 2^63-1", lc.do("RAFT.REQID", strings.Repeat("A.z_0:9-", 8), "9223372036854775807"), "OK")
		lc.do("PING")
		same("arity", lc.do("RAFT.REQID", "a"), "-ERR wrong number of arguments for 'raft.reqid' command")
	})

	t.Run("acl", func(t *testing.T) {
		// Any user may name an id; the command it precedes is checked.
		lc.do("ACL", "SETUSER", "inc", "on", ">pw", "+incr", "~*")
		uc := dialRaw(t, c.Leader().Addr().String())
		same("before AUTH", uc.do("RAFT.REQID", "u", "1"), "OK")
		same("AUTH", uc.do("AUTH", "inc", "pw"), "OK")
		same("INCR", uc.withID("u", 1, "INCR", "acl"), "1")
		same("INCR again", uc.withID("u", 1, "INCR", "acl"), "1")
		same("GET", uc.withID("u", 2, "GET", "acl"), "-NOPERM this user has no permissions to run the 'get' command")
		same("SET", uc.withID("u", 2, "SET", "acl", "x"), "-NOPERM this user has no permissions to run the 'set' command")
		same("acl", lc.do("GET", "acl"), "1")
	})
}
