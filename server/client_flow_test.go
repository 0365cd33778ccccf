package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestClientReplyMatchesRedis: CLIENT REPLY OFF, SKIP and ON, alone, with
// pipelined writes, errors, RESET, RESP3 and QUIT, answer byte for byte
// as Redis 7.0 does.
func TestClientReplyMatchesRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	scripts := map[string]string{
		"modes": "CLIENT REPLY SKIP\nPING\nPING a\nCLIENT REPLY OFF\nPING b\nSET x 1\nCLIENT REPLY SKIP\nGET x\n" +
			"CLIENT REPLY foo\nCLIENT REPLY ON\nGET x\nCLIENT REPLY\nCLIENT REPLY SKIP\nCLIENT REPLY ON\n" +
			"CLIENT REPLY SKIP\nRESET\nQUIT\n",
		"pipelined writes": "DEL a l\nCLIENT REPLY OFF\nSET a 1\nINCR a\nLPUSH l x y\nINCR l\nNOSUCH cmd\n" +
			"CLIENT REPLY ON\nGET a\nLRANGE l 0 -1\nQUIT\n",
		"skip a write":   "DEL s\nCLIENT REPLY SKIP\nINCR s\nINCR s\nCLIENT REPLY SKIP\nINCR s\nGET s\nQUIT\n",
		"reset turns on": "CLIENT REPLY OFF\nPING\nRESET\nPING\nQUIT\n",
		// Pub/Sub confirmations are pushes: sent whatever the mode.
		// (One channel: UNSUBSCRIBE with none named goes through Redis's
		// channels in its dict's order, which its hash seed makes random.)
		"subscriptions": "CLIENT REPLY OFF\nSUBSCRIBE a\nPSUBSCRIBE c*\nUNSUBSCRIBE\nPUNSUBSCRIBE\n" +
			"SUBSCRIBE\nCLIENT REPLY ON\nPING\nQUIT\n",
		"resp3": "HELLO 3\nCLIENT REPLY SKIP\nHGETALL h\nHSET h f v\nCLIENT REPLY OFF\nHGETALL h\nCLIENT REPLY ON\nHGETALL h\nQUIT\n",
	}
	// (QUIT under CLIENT REPLY OFF closes the connection here; Redis 7.0
	// leaves it open, as it closes only after writing a reply, which
	// it never writes: sendAll would wait for it forever.)
	for name, script := range scripts {
		req := strings.ReplaceAll(script, "\n", "\r\n")
		if name == "resp3" {
			// HELLO 3's map names the server: compare from its reply on.
			req = strings.TrimPrefix(req, "HELLO 3\r\n")
			req = "HELLO 3\r\nCLIENT REPLY SKIP\r\nHELLO 3\r\n" + strings.TrimPrefix(req, "CLIENT REPLY SKIP\r\n")
		}
		got, want := sendAll(t, node.Addr().String(), req), sendAll(t, redis.Addr, req)
		if name == "resp3" {
			got, want = afterHello(t, got), afterHello(t, want)
		}
		if got != want {
			t.Errorf("%s:\n loomcache %q\n redis     %q", name, got, want)
		}
	}
}

// afterHello drops the first HELLO 3 reply (a map of 7 fields whose
// values name the server) from a RESP3 exchange.
func afterHello(t *testing.T, s string) string {
	t.Helper()
	if !strings.HasPrefix(s, "%7\r\n") {
		t.Fatalf("no HELLO map: %q", s)
	}
	lines := strings.SplitAfter(s, "\r\n")
	i, fields := 1, 0
	for fields < 14 && i < len(lines) {
		if strings.HasPrefix(lines[i], "$") {
			i += 2
		} else if strings.HasPrefix(lines[i], "*") {
			n := 0
			for _, c := range strings.TrimSpace(lines[i][1:]) {
				n = n*10 + int(c-'0')
			}
			i++
			for range n {
				if strings.HasPrefix(lines[i], "$") {
					i += 2
				} else {
					i++
				}
			}
		} else {
			i++
		}
		fields++
	}
	return strings.Join(lines[i:], "")
}

// waitHeld waits until n clients are held (INFO blocked_clients).
func waitHeld(t *testing.T, c *rawConn, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if infoInt(t, c, "clients", "blocked_clients") == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("never %d clients held", n)
		}
	}
}

// TestClientPauseWrite: CLIENT PAUSE WRITE holds the commands that may
// write (a script by its flags, EXEC by what it queued), not reads, until
// CLIENT UNPAUSE; each then runs, in order.
func TestClientPauseWrite(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	addr := node.Addr().String()
	admin := dialRaw(t, addr)
	admin.do("SET", "k", "v")
	if got := admin.do("CLIENT", "PAUSE", "100000", "WRITE"); got != "OK" {
		t.Fatalf("CLIENT PAUSE: %v", got)
	}
	r := dialRaw(t, addr)
	for _, cmd := range [][]string{
		{"GET", "k"}, {"PING"}, {"EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"},
		{"EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", "1", "k"},
	} {
		if got := r.do(cmd...); got != "v" && got != "PONG" {
			t.Fatalf("%v while paused for writes: %v", cmd, got)
		}
	}
	if got := r.do("MULTI"); got != "OK" {
		t.Fatal(got)
	}
	r.do("GET", "k")
	if got, ok := r.do("EXEC").([]any); !ok || len(got) != 1 || got[0] != "v" {
		t.Fatalf("a read-only EXEC while paused: %v", got)
	}
	held := []struct {
		cmd  []string
		want any
	}{
		{[]string{"SET", "k", "w"}, "OK"},
		{[]string{"EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "k2"}, "OK"},
		{[]string{"EVAL", "return 1", "0"}, "1"}, // no flags: it may write
	}
	var conns []*rawConn
	for i, h := range held {
		c := dialRaw(t, addr)
		c.send(h.cmd...)
		conns = append(conns, c)
		waitHeld(t, admin, i+1)
	}
	// A write queued in MULTI is held as it comes, as in Redis.
	tx := dialRaw(t, addr)
	tx.do("MULTI")
	tx.send("INCR", "n")
	waitHeld(t, admin, len(held)+1)
	if got := admin.str("GET", "k"); got != "v" {
		t.Fatalf("k = %q while its writers are held", got)
	}
	if got := admin.do("CLIENT", "UNPAUSE"); got != "OK" {
		t.Fatal(got)
	}
	for i, h := range held {
		if got, err := conns[i].read(); err != nil || got != h.want {
			t.Errorf("%v after the pause: %v %v", h.cmd, got, err)
		}
	}
	if got, err := tx.read(); err != nil || got != "QUEUED" {
		t.Errorf("INCR in MULTI after the pause: %v %v", got, err)
	}
	if got, ok := tx.do("EXEC").([]any); !ok || len(got) != 1 || got[0] != "1" {
		t.Errorf("EXEC after the pause: %v", got)
	}
	// (The held clients wake together: unlike Redis's, they are not
	// served in the order they were held.)
	if k, k2 := admin.str("GET", "k"), admin.str("GET", "k2"); k != "w" || k2 != "x" {
		t.Errorf("k = %q, k2 = %q after the pause, want the held writes applied", k, k2)
	}
	waitHeld(t, admin, 0)
}

// TestClientPauseAll: CLIENT PAUSE ALL holds every command, INFO and
// CLIENT UNPAUSE included, until its time is up; a second pause keeps
// the stronger kind and the later end.
func TestClientPauseAll(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	addr := node.Addr().String()
	admin := dialRaw(t, addr)
	admin.do("CLIENT", "PAUSE", "1000", "WRITE")
	admin.do("CLIENT", "PAUSE", "10", "ALL") // ALL, to the later end
	r := dialRaw(t, addr)
	r.send("PING")
	admin.send("CLIENT", "UNPAUSE")
	// Nothing answers while the pause lasts (a second, far longer than
	// a PING takes)...
	r.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if got, err := r.read(); err == nil {
		t.Fatalf("PING answered %v during CLIENT PAUSE ALL", got)
	}
	// ...and everything once it ends by itself.
	r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if got, err := r.read(); err != nil || got != "PONG" {
		t.Fatalf("PING after the pause: %v %v", got, err)
	}
	if got, err := admin.read(); err != nil || got != "OK" {
		t.Fatalf("UNPAUSE: %v %v", got, err)
	}
	if got := r.do("SET", "k", "v"); got != "OK" {
		t.Fatalf("SET after the pause: %v", got)
	}
}

// TestClientPauseLeavers: a held client that leaves runs nothing, and a
// node closing with clients held closes.
func TestClientPauseLeavers(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	addr := node.Addr().String()
	admin := dialRaw(t, addr)
	admin.do("CLIENT", "PAUSE", "100000", "WRITE")
	gone := dialRaw(t, addr)
	gone.send("SET", "left", "1")
	waitHeld(t, admin, 1)
	gone.nc.Close()
	waitHeld(t, admin, 0)
	admin.do("CLIENT", "UNPAUSE")
	if got := admin.do("EXISTS", "left"); got != "0" {
		t.Errorf("the write of a client that left while held ran: EXISTS %v", got)
	}
	admin.do("CLIENT", "PAUSE", "100000", "WRITE")
	held := dialRaw(t, addr)
	held.send("SET", "k", "v")
	waitHeld(t, admin, 1)
	if err := node.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := held.read(); err == nil {
		t.Error("a held client got a reply from a node that closed")
	}
}

// TestClientPauseExpiry: while writes are paused the keys that expire
// read as absent but are not deleted (expired_keys stays); after the
// pause they are.
func TestClientPauseExpiry(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	c := dialRaw(t, node.Addr().String())
	before := infoInt(t, c, "stats", "expired_keys")
	c.do("SET", "e1", "v", "PX", "10")
	c.do("SET", "e2", "v", "PX", "10")
	c.do("CLIENT", "PAUSE", "100000", "WRITE")
	for deadline := time.Now().Add(10 * time.Second); c.do("GET", "e1") != nil || c.do("GET", "e2") != nil; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the keys never expired")
		}
	}
	time.Sleep(300 * time.Millisecond) // three expiry rounds
	if n := infoInt(t, c, "stats", "expired_keys"); n != before {
		t.Fatalf("expired_keys %d during the pause, was %d", n, before)
	}
	c.do("CLIENT", "UNPAUSE")
	for deadline := time.Now().Add(10 * time.Second); infoInt(t, c, "stats", "expired_keys") != before+2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("expired_keys %d after the pause, want %d", infoInt(t, c, "stats", "expired_keys"), before+2)
		}
	}
}
