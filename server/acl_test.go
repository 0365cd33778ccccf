package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// client is one connection that keeps its state (its user) across
// commands.
type client struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func connect(t *testing.T, addr string) *client {
	nc, br := dial(t, addr)
	return &client{t: t, nc: nc, br: br}
}

// do sends one command and returns its raw reply; a closed connection
// reads as "closed".
func (c *client) do(args ...string) string {
	c.t.Helper()
	var buf bytes.Buffer
	encode(&buf, args...)
	if _, err := c.nc.Write(buf.Bytes()); err != nil {
		return "closed"
	}
	rep, err := readReply(c.br)
	if err == io.EOF || err != nil && strings.Contains(err.Error(), "reset") {
		return "closed"
	}
	if err != nil {
		c.t.Fatalf("%q: %v", args, err)
	}
	return string(rep)
}

const (
	noPermKey = "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
	noAuth    = "-NOAUTH Authentication required.\r\n"
)

// TestACLThroughRaft (in-process, 3 nodes): a user created through a
// follower is enforced by every node, denied commands are answered before
// anything is proposed (the log does not grow), and deleting the user
// closes its connections on every node.
func TestACLThroughRaft(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	leader, f := c.Leader(), c.Followers()[0]
	if got := text(t, f.Addr().String(), "ACL", "SETUSER", "alice", "on", ">pw", "~a*", "+get", "+set", "+acl|whoami"); got != "+OK\r\n" {
		t.Fatalf("ACL SETUSER through a follower: %q", got)
	}
	nodes := []*nodetest.InProcess{leader, c.Followers()[0], c.Followers()[1]}
	eventually(t, "every node to know alice", func() bool {
		for _, n := range nodes {
			if !strings.Contains(text(t, n.Addr().String(), "ACL", "USERS"), "alice") {
				return false
			}
		}
		return true
	})
	conns := make([]*client, len(nodes))
	for i, n := range nodes {
		cl := connect(t, n.Addr().String())
		conns[i] = cl
		if got := cl.do("AUTH", "alice", "pw"); got != "+OK\r\n" {
			t.Fatalf("AUTH alice on %s: %q", n.Cfg.ID, got)
		}
		if got := cl.do("SET", fmt.Sprint("a", i), "v"); got != "+OK\r\n" {
			t.Errorf("SET a%d as alice on %s: %q", i, n.Cfg.ID, got)
		}
		before := leader.Node().Stats().LastLogIndex
		if got := cl.do("SET", "b", "v"); got != noPermKey {
			t.Errorf("SET b as alice on %s: %q", n.Cfg.ID, got)
		}
		if got := cl.do("DEL", "a1"); got != "-NOPERM this user has no permissions to run the 'del' command\r\n" {
			t.Errorf("DEL as alice on %s: %q", n.Cfg.ID, got)
		}
		if after := leader.Node().Stats().LastLogIndex; after != before {
			t.Errorf("denied commands on %s grew the log from %d to %d", n.Cfg.ID, before, after)
		}
		if got := cl.do("GET", "a0"); got != "$1\r\nv\r\n" {
			t.Errorf("GET a0 as alice on %s: %q", n.Cfg.ID, got)
		}
	}
	// Every node logged its own denials.
	for _, n := range nodes {
		log := oneByOne(t, n.Addr().String(), [][]string{{"ACL", "LOG"}})[0]
		if !bytes.Contains(log, []byte("$3\r\ndel\r\n")) || !bytes.Contains(log, []byte("$1\r\nb\r\n")) {
			t.Errorf("ACL LOG on %s lacks the denials: %q", n.Cfg.ID, log)
		}
	}
	if got := text(t, c.Followers()[1].Addr().String(), "ACL", "DELUSER", "alice"); got != ":1\r\n" {
		t.Fatalf("ACL DELUSER through a follower: %q", got)
	}
	for _, cl := range conns {
		eventually(t, "alice's connection to close", func() bool { return cl.do("PING") == "closed" })
	}
}

// TestACLSurvivesRestartAndSnapshot (real processes): users and
// requirepass survive kill -9 of every node, and a node that catches up
// from a snapshot has them too.
func TestACLSurvivesRestartAndSnapshot(t *testing.T) {
	ps := nodetest.StartProcessCluster(t, nodetest.ProcessCluster{N: 3, Args: []string{"--snapshot-threshold", "100", "--trailing-logs", "5"}})
	if got := text(t, ps[1].Addr, "ACL", "SETUSER", "bob", "on", ">bobpw", "~*", "+@all", "-flushall"); got != "+OK\r\n" {
		t.Fatalf("ACL SETUSER: %q", got)
	}
	// Enough writes for snapshots and a compacted log.
	var reqs [][]string
	for i := 0; i < 1000; i++ {
		reqs = append(reqs, []string{"SET", fmt.Sprint("k", i), "v"})
	}
	for r := 0; r < 10; r++ {
		pipelined(t, ps[0].Addr, reqs[r*100:(r+1)*100])
	}
	for _, p := range ps {
		eventually(t, "every node to snapshot and compact its log", func() bool {
			info := text(t, p.Addr, "INFO", "raft")
			return infoField(info, "raft_last_snapshot_index") != "0" && infoField(info, "raft_first_log_index") != "1"
		})
	}
	for _, p := range ps {
		p.Kill()
	}
	nodetest.RestartAll(t, ps)
	for _, p := range ps {
		cl := connect(t, p.Addr)
		var got string
		eventually(t, "bob to authenticate after the restart", func() bool {
			got = cl.do("AUTH", "bob", "bobpw")
			return got == "+OK\r\n"
		})
		if got := cl.do("FLUSHALL"); !strings.HasPrefix(got, "-NOPERM") {
			t.Errorf("FLUSHALL as bob on %s after restart: %q", p.Addr, got)
		}
		if got := cl.do("GET", "k999"); got != "$1\r\nv\r\n" {
			t.Errorf("GET as bob on %s after restart: %q", p.Addr, got)
		}
	}
	for _, p := range ps {
		if info := text(t, p.Addr, "INFO", "raft"); infoField(info, "raft_restored_snapshot_index") == "0" {
			t.Errorf("%s restarted without a snapshot:\n%s", p.Addr, info)
		}
	}
}

// TestRequirePass: requirepass (startup directive and CONFIG SET) is the
// default user's password, connections must authenticate (NOAUTH before,
// Redis's unauthenticated request limits), HELLO AUTH authenticates, and
// the setting survives a restart without undoing a later password change.
func TestRequirePass(t *testing.T) {
	dir := t.TempDir()
	cfg := server.Config{DataDir: dir, Directives: [][2]string{{"requirepass", "s3cret"}}}
	n := nodetest.Start(t, cfg)
	addr := n.Addr().String()
	cl := connect(t, addr)
	eventually(t, "the startup password to apply", func() bool { return cl.do("AUTH", "s3cret") == "+OK\r\n" })
	fresh := connect(t, addr)
	for _, tc := range [][2]string{
		{"GET k", noAuth},
		{"PING", noAuth},
		{"AUTH wrong", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"HELLO 3 SETNAME x", "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n"},
	} {
		if got := fresh.do(strings.Fields(tc[0])...); got != tc[1] {
			t.Errorf("%s before AUTH: %q, want %q", tc[0], got, tc[1])
		}
	}
	if got := fresh.do("HELLO", "2", "AUTH", "default", "s3cret"); !strings.HasPrefix(got, "*14\r\n") {
		t.Errorf("HELLO 2 AUTH: %q", got)
	}
	if got := fresh.do("CONFIG", "GET", "requirepass"); got != "*2\r\n$11\r\nrequirepass\r\n$6\r\ns3cret\r\n" {
		t.Errorf("CONFIG GET requirepass: %q", got)
	}
	// Unauthenticated requests are held to 10 arguments, as in Redis.
	raw := connect(t, addr)
	raw.nc.Write([]byte("*11\r\n"))
	if got, _ := io.ReadAll(raw.br); string(got) != "-ERR Protocol error: unauthenticated multibulk length\r\n" {
		t.Errorf("11 arguments unauthenticated: %q", got)
	}
	// A password changed later survives a restart with the same
	// startup directive.
	if got := fresh.do("ACL", "SETUSER", "default", "resetpass", ">changed"); got != "+OK\r\n" {
		t.Fatalf("ACL SETUSER default: %q", got)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	n = nodetest.Start(t, cfg)
	addr = n.Addr().String()
	cl = connect(t, addr)
	eventually(t, "the restarted node to take the changed password", func() bool { return cl.do("AUTH", "changed") == "+OK\r\n" })
	if got := connect(t, addr).do("AUTH", "s3cret"); got != "-WRONGPASS invalid username-password pair or user is disabled.\r\n" {
		t.Errorf("AUTH with the startup password after it was changed: %q", got)
	}
	if got := cl.do("CONFIG", "SET", "requirepass", ""); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET requirepass '': %q", got)
	}
	// (A connection is held to authenticate until the startup password
	// has gone through Raft, which may still be under way.)
	eventually(t, "connections without a password after CONFIG SET requirepass ''", func() bool {
		return connect(t, addr).do("GET", "k") == "$-1\r\n"
	})
}

// TestACLFile: --aclfile loads at startup (a bad one stops the start with
// Redis's error), ACL SAVE writes it, ACL LOAD reads it back and closes
// the connections of users it drops.
func TestACLFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.acl")
	os.WriteFile(file, []byte("user carol on >cpw ~c* +get\nuser broken on +nosuch\n"), 0o600)
	if _, err := server.New(server.Config{DataDir: t.TempDir(), ACLFile: file, Addr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0"}); err == nil ||
		!strings.Contains(err.Error(), "users.acl:2: Error in applying operation '+nosuch'") {
		t.Fatalf("a bad aclfile: %v", err)
	}
	os.WriteFile(file, []byte("user carol on >cpw ~c* +get\n"), 0o600)
	n := nodetest.Start(t, server.Config{DataDir: t.TempDir(), ACLFile: file})
	addr := n.Addr().String()
	carol := connect(t, addr)
	eventually(t, "carol from the aclfile", func() bool { return carol.do("AUTH", "carol", "cpw") == "+OK\r\n" })
	if got := carol.do("GET", "x"); got != noPermKey {
		t.Errorf("GET x as carol: %q", got)
	}
	admin := connect(t, addr)
	if got := admin.do("ACL", "SETUSER", "dan", "on", "nopass", "+@all", "~*"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if got := admin.do("ACL", "SAVE"); got != "+OK\r\n" {
		t.Fatalf("ACL SAVE: %q", got)
	}
	saved, _ := os.ReadFile(file)
	if !strings.Contains(string(saved), "user dan on nopass") || !strings.Contains(string(saved), "user carol on #") {
		t.Errorf("saved aclfile:\n%s", saved)
	}
	os.WriteFile(file, []byte("user dan on nopass ~* +@all\n"), 0o600)
	if got := admin.do("ACL", "LOAD"); got != "+OK\r\n" {
		t.Fatalf("ACL LOAD: %q", got)
	}
	eventually(t, "carol's connection to close after ACL LOAD dropped her", func() bool { return carol.do("PING") == "closed" })
	if got := admin.do("ACL", "USERS"); got != "*2\r\n$3\r\ndan\r\n$7\r\ndefault\r\n" {
		t.Errorf("ACL USERS after LOAD: %q", got)
	}
	os.WriteFile(file, []byte("user x on +nosuch\n"), 0o600)
	if got := admin.do("ACL", "LOAD"); !strings.HasPrefix(got, "-ERR /") || !strings.Contains(got, "no change to the previously active ACL rules was performed") {
		t.Errorf("ACL LOAD of a bad file: %q", got)
	}
}

// ACL LOG entries carry what Redis's do, field by field (but the age and
// the client's address and id).
func TestACLLogEntries(t *testing.T) {
	redis := nodetest.StartRedis(t)
	n := nodetest.Start(t, server.Config{})
	var logs [2]string
	for i, addr := range []string{redis.Addr, n.Addr().String()} {
		cl := connect(t, addr)
		for _, cmd := range [][]string{
			{"ACL", "LOG", "RESET"},
			{"ACL", "SETUSER", "logu", "on", ">pw", "~k*", "+get", "+set"},
			{"AUTH", "logu", "wrong"},
			{"AUTH", "logu", "pw"},
			{"GET", "x"},
			{"GET", "x"},
			{"DEL", "k"},
			{"AUTH", "default", "x"},
		} {
			cl.do(cmd...)
		}
		logs[i] = cl.do("ACL", "LOG")
		cl.do("ACL", "DELUSER", "logu")
		cl.do("ACL", "LOG", "RESET")
	}
	norm := func(s string) string {
		lines := strings.Split(s, "\r\n")
		for i := 1; i < len(lines); i++ {
			switch {
			case lines[i-1] == "age-seconds" && i+1 < len(lines):
				lines[i], lines[i+1] = "$age", "age"
			case strings.HasPrefix(lines[i], "id="):
				f := strings.Fields(lines[i])
				for j := range f {
					if k, _, _ := strings.Cut(f[j], "="); k == "id" || k == "addr" || k == "laddr" || k == "fd" || k == "qbuf" || k == "qbuf-free" || k == "argv-mem" || k == "tot-mem" || k == "rbs" || k == "rbp" || k == "age" || k == "idle" {
						f[j] = k + "=?"
					}
				}
				lines[i], lines[i-1] = strings.Join(f, " "), "$n"
			}
		}
		return strings.Join(lines, "\n")
	}
	if got, want := norm(logs[1]), norm(logs[0]); got != want {
		t.Errorf("ACL LOG:\nloomcache:\n%s\nredis:\n%s", got, want)
	}
}

// dialFrom connects to addr from a given local IP.
func dialFrom(t *testing.T, local, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc, bufio.NewReader(nc)
}

// TestProtectedMode: a client from 127.0.0.2 (not the 127.0.0.1 or ::1
// Redis accepts) gets Redis's DENIED reply, byte for byte, while the
// default user has no password and protected-mode is on; a password or
// protected-mode no lets it in.
func TestProtectedMode(t *testing.T) {
	redis := nodetest.StartRedis(t, "--protected-mode", "yes")
	n := nodetest.Start(t, server.Config{})
	addr := n.Addr().String()
	first := func(a string) string {
		nc, br := dialFrom(t, "127.0.0.2", a)
		nc.Write([]byte("PING\r\n"))
		b, _ := io.ReadAll(br)
		return string(b)
	}
	want := first(redis.Addr)
	if !strings.HasPrefix(want, "-DENIED") {
		t.Fatalf("redis-server from 127.0.0.2: %q", want)
	}
	if got := first(addr); got != want {
		t.Errorf("from 127.0.0.2:\n got %q\nwant %q", got, want)
	}
	if got := infoField(text(t, addr, "INFO", "stats"), "rejected_connections"); got != "1" {
		t.Errorf("rejected_connections %s, want 1", got)
	}
	local := connect(t, addr)
	if got := local.do("ACL", "SETUSER", "default", ">pw"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	nc, br := dialFrom(t, "127.0.0.2", addr)
	nc.Write([]byte("PING\r\n"))
	if line, _ := br.ReadString('\n'); line != noAuth {
		t.Errorf("from 127.0.0.2 with a password set: %q", line)
	}
	if got := local.do("ACL", "SETUSER", "default", "nopass"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	if got := local.do("CONFIG", "SET", "protected-mode", "no"); got != "+OK\r\n" {
		t.Fatal(got)
	}
	nc, br = dialFrom(t, "127.0.0.2", addr)
	nc.Write([]byte("PING\r\n"))
	if line, _ := br.ReadString('\n'); line != "+PONG\r\n" {
		t.Errorf("from 127.0.0.2 with protected-mode no: %q", line)
	}
}
