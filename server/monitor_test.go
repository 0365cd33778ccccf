package server_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// monitorStamp is a MONITOR line's time and client address, which differ
// from run to run ("lua" is kept).
var monitorStamp = regexp.MustCompile(`^\+\d+\.\d{6} \[(\d+) (?:lua|[^\]]+)\]`)

func normMonitorLine(l string) string {
	return monitorStamp.ReplaceAllStringFunc(l, func(m string) string {
		if strings.HasSuffix(m, " lua]") {
			return "+T " + m[strings.Index(m, "["):]
		}
		return monitorStamp.ReplaceAllString(m, "+T [$1 ADDR]")
	})
}

// startMonitor connects a monitor and reads its +OK.
func startMonitor(t *testing.T, addr string) *rawConn {
	t.Helper()
	m := dialRaw(t, addr)
	if r := m.str("MONITOR"); r != "OK" {
		t.Fatalf("MONITOR: %q", r)
	}
	return m
}

// monitorLines reads m's lines, normalized, up to the one containing stop.
func monitorLines(t *testing.T, m *rawConn, stop string) []string {
	t.Helper()
	m.nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	var lines []string
	for {
		l, err := m.br.ReadString('\n')
		if err != nil {
			t.Fatalf("monitor: %v after %q", err, lines)
		}
		lines = append(lines, normMonitorLine(l))
		if strings.Contains(l, stop) {
			return lines
		}
	}
}

func requests(cmds ...[]string) string {
	var b bytes.Buffer
	for _, c := range cmds {
		encode(&b, c...)
	}
	return b.String()
}

// TestMonitorMatchesRedis: what a monitor sees of another client's
// commands is, but for the time and the client's port, Redis 7.0's line
// for line: quoting, the database after the command, script calls as
// [db lua] after their EVAL, redacted passwords, MULTI/EXEC in order,
// commands refused before running (unknown, arity) and admin ones
// absent.
func TestMonitorMatchesRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	scripts := map[string][][]string{
		"quoting": {{"SET", "foo", "bar"}, {"GET", "foo"}, {"SET", "k", "a\"b\\c\n\r\t\a\b\x00\xff é"},
			{"SELECT", "3"}, {"SET", "x", "1"}, {"SELECT", "0"}, {"INCR", "foo"}, {"PING"}, {"ECHO", "hi"}},
		"scripts": {{"EVAL", "redis.call('set',KEYS[1],ARGV[1]); redis.call('select','2'); return redis.call('get',KEYS[1])", "1", "foo", "bar"},
			{"EVALSHA", strings.Repeat("0", 40), "0"}, {"EVAL", "return 1", "x"},
			{"FUNCTION", "LOAD", "REPLACE", "#!lua name=mon\nredis.register_function('f', function(k) return redis.call('get', k[1]) end)"},
			{"FCALL", "f", "1", "foo"}},
		"auth": {{"AUTH", "x"}, {"AUTH", "a", "b"}, {"AUTH", "a", "b", "c"}, {"HELLO", "2", "AUTH", "nouser", "pw"},
			{"HELLO", "4", "AUTH", "a", "b"}, {"HELLO", "2", "AUTH", "u", "p", "SETNAME", "n"}},
		"multi": {{"MULTI"}, {"SET", "a", "1"}, {"INCR", "a"}, {"SELECT", "4"}, {"EXEC"},
			{"MULTI"}, {"NOSUCHCMD"}, {"EXEC"}, {"EXEC"}, {"MULTI"}, {"GET", "a"}, {"DISCARD"}},
		"refused and admin": {{"GET"}, {"NOSUCH", "x"}, {"CONFIG", "GET", "maxmemory"}, {"CLIENT", "ID"},
			{"CLIENT", "LIST"}, {"MONITOR"}, {"LPUSH", "l", "a"}, {"INCR", "l"}, {"SCRIPT", "FLUSH"},
			{"BLPOP", "none", "0.01"}, {"BLPOP", "l", "0"}},
		"exec refused": {{"ACL", "SETUSER", "mon-noexec", "on", "nopass", "+@all", "-exec", "~*"},
			{"AUTH", "mon-noexec", "x"}, {"MULTI"}, {"PING"}, {"EXEC"}},
		"resp3": {{"HELLO", "3"}, {"HSET", "h", "f", "v"}, {"HGETALL", "h"}, {"RESET"}, {"GET", "x"}},
	}
	for name, cmds := range scripts {
		t.Run(name, func(t *testing.T) {
			var got [2][]string
			for i, addr := range []string{node.Addr().String(), redis.Addr} {
				c := dialRaw(t, addr)
				c.str("FLUSHALL")
				m := startMonitor(t, addr)
				sendAll(t, addr, requests(append(cmds, []string{"QUIT"})...))
				got[i] = monitorLines(t, m, `"QUIT"`)
			}
			if strings.Join(got[0], "") != strings.Join(got[1], "") {
				t.Errorf("loomcache:\n%s\nredis:\n%s", strings.Join(got[0], ""), strings.Join(got[1], ""))
			}
		})
	}
}

// TestMonitorClientMatchesRedis: the monitor itself may run only what
// Redis lets a replica run (no keyspace access), sees its own commands,
// gets no reply to a second MONITOR, and leaves monitor mode with RESET;
// MONITOR queued in MULTI is refused at EXEC. CLIENT INFO shows it with
// flags=O and cmd=monitor.
func TestMonitorClientMatchesRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	req := requests([]string{"MULTI"}, []string{"MONITOR"}, []string{"EXEC"}, []string{"MONITOR"},
		[]string{"GET", "k"}, []string{"SET", "k", "v"}, []string{"EVAL", "return 1", "0"}, []string{"MONITOR"},
		[]string{"PING"}, []string{"CLIENT", "SETNAME", "m"}, []string{"RESET"}, []string{"GET", "k"}, []string{"QUIT"})
	var got [2]string
	for i, addr := range []string{node.Addr().String(), redis.Addr} {
		dialRaw(t, addr).str("FLUSHALL")
		var lines []string
		for _, l := range strings.SplitAfter(sendAll(t, addr, req), "\r\n") {
			lines = append(lines, normMonitorLine(l))
		}
		got[i] = strings.Join(lines, "")
	}
	if got[0] != got[1] {
		t.Errorf("loomcache %q\nredis     %q", got[0], got[1])
	}
	m := startMonitor(t, node.Addr().String())
	m.send("CLIENT", "INFO")
	info, err := m.br.ReadString('\n') // the bulk's length
	if err == nil {
		info, err = m.br.ReadString('\n')
	}
	if err != nil || !strings.Contains(info, " flags=O ") || !strings.Contains(info, " cmd=client|info ") {
		t.Errorf("CLIENT INFO of a monitor: %q %v", info, err)
	}
	c := dialRaw(t, node.Addr().String())
	list := c.str("CLIENT", "LIST")
	if !regexp.MustCompile(`flags=O .* cmd=client\|info `).MatchString(list) {
		t.Errorf("CLIENT LIST: no monitor with flags=O:\n%s", list)
	}
	if n, want := infoInt(t, c, "clients", "connected_clients"), strings.Count(list, "\n"); n != want {
		t.Errorf("connected_clients = %d, CLIENT LIST has %d (Redis counts monitors)", n, want)
	}
}

// A monitor that stops reading is closed once its queue reaches the
// normal class's hard limit (Redis 7.0 counts monitors as normal
// clients), and logged; the clients it watched go on. With the normal
// class unlimited (the default) the pubsub class's limits bound it.
func TestMonitorOutputLimitClosesMonitor(t *testing.T) {
	for name, limit := range map[string]string{"normal": "normal 256kb 0 0", "default normal": "pubsub 256kb 0 0"} {
		t.Run(name, func(t *testing.T) {
			logs := &logBuf{}
			node := nodetest.Start(t, server.Config{LogOutput: logs,
				Directives: [][2]string{{"client-output-buffer-limit", limit}}})
			addr := node.Addr().String()
			m := startMonitor(t, addr)
			c := dialRaw(t, addr)
			big := strings.Repeat("v", 64<<10)
			for i := 0; i < 2000 && !strings.Contains(logs.String(), "overcoming of output buffer limits"); i++ {
				if r := c.str("SET", "k", big); r != "OK" {
					t.Fatal(r)
				}
			}
			closedWithin(t, m, "monitor over the limit")
			if r := c.str("PING"); r != "PONG" {
				t.Fatal(r)
			}
			logs.waitLogged(t, "scheduled to be closed ASAP for overcoming of output buffer limits")
		})
	}
}

// A command a follower forwards to the leader is shown by the follower's
// monitors, once, and not by the leader's; a transaction forwarded whole
// shows its commands on the follower as Redis would.
func TestMonitorForwardedCommands(t *testing.T) {
	c := nodetest.StartCluster(t, 3, nil)
	f := c.Followers()[0]
	fm, lm := startMonitor(t, f.Addr().String()), startMonitor(t, c.Leader().Addr().String())
	cl := dialRaw(t, f.Addr().String())
	cl.str("SET", "k", "v")
	cl.str("GET", "k")
	cl.str("MULTI")
	cl.str("INCR", "n")
	cl.str("SELECT", "2")
	cl.do("EXEC")
	cl.str("SELECT", "0")
	cl.str("ECHO", "end")
	want := []string{
		`+T [0 ADDR] "SET" "k" "v"` + "\r\n",
		`+T [0 ADDR] "GET" "k"` + "\r\n",
		`+T [0 ADDR] "MULTI"` + "\r\n",
		`+T [0 ADDR] "INCR" "n"` + "\r\n",
		`+T [2 ADDR] "SELECT" "2"` + "\r\n",
		`+T [2 ADDR] "EXEC"` + "\r\n",
		`+T [0 ADDR] "SELECT" "0"` + "\r\n",
		`+T [0 ADDR] "ECHO" "end"` + "\r\n",
	}
	if got := monitorLines(t, fm, `"end"`); strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("follower's monitor:\n%s\nwant:\n%s", strings.Join(got, ""), strings.Join(want, ""))
	}
	// The leader shows its own clients' commands, and none of those.
	dialRaw(t, c.Leader().Addr().String()).str("ECHO", "leader")
	if got := monitorLines(t, lm, `"leader"`); len(got) != 1 {
		t.Errorf("leader's monitor showed forwarded commands: %q", got)
	}
}

// With several partitions, each led by some node, a node shows each
// command its client sends once: whether it runs here, goes to another
// node, or runs on every partition (DBSIZE, FLUSHALL); other nodes show
// none of them.
func TestMonitorPartitionedShowsOnce(t *testing.T) {
	c := startPartitioned(t, 3)
	var mons []*rawConn
	for _, n := range c.Nodes {
		mons = append(mons, startMonitor(t, n.Addr().String()))
	}
	cl := dialRaw(t, c.Nodes[0].Addr().String())
	var want []string
	for _, cmd := range [][]string{{"FLUSHALL"}, {"SET", "a", "1"}, {"SET", "b", "2"}, {"SET", "c", "3"},
		{"MGET", "a", "a"}, {"DBSIZE"}, {"KEYS", "*"}, {"ECHO", "end"}} {
		cl.do(cmd...)
		line := "+T [0 ADDR]"
		for _, a := range cmd {
			line += ` "` + a + `"`
		}
		want = append(want, line+"\r\n")
	}
	if got := monitorLines(t, mons[0], `"end"`); strings.Join(got, "") != strings.Join(want, "") {
		t.Errorf("node 0's monitor:\n%s\nwant:\n%s", strings.Join(got, ""), strings.Join(want, ""))
	}
	for i, n := range c.Nodes[1:] {
		dialRaw(t, n.Addr().String()).str("ECHO", "own")
		if got := monitorLines(t, mons[i+1], `"own"`); len(got) != 1 {
			t.Errorf("node %d showed another node's client's commands: %q", i+1, got)
		}
	}
}

// Under CLIENT REPLY OFF, and for the command CLIENT REPLY SKIP skips, a
// monitor gets no lines either, its own commands' included, as in Redis.
func TestMonitorClientReplyMatchesRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	var got [2]string
	for i, addr := range []string{node.Addr().String(), redis.Addr} {
		m := startMonitor(t, addr)
		c := dialRaw(t, addr)
		m.send("CLIENT", "REPLY", "OFF")
		for deadline := time.Now().Add(10 * time.Second); !regexp.MustCompile(`flags=O .*cmd=client\|reply `).MatchString(c.str("CLIENT", "LIST")); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("CLIENT REPLY OFF never ran")
			}
		}
		c.str("SET", "x", "1")
		for _, cmd := range [][]string{{"CLIENT", "REPLY", "ON"}, {"CLIENT", "REPLY", "SKIP"}, {"PING", "skipped"}, {"PING"}} {
			m.send(cmd...)
		}
		lines := monitorLines(t, m, "\"PING\"\r\n") // its commands ran
		c.str("ECHO", "end")
		got[i] = strings.Join(append(lines, monitorLines(t, m, `"end"`)...), "")
	}
	if got[0] != got[1] {
		t.Errorf("loomcache %q\nredis     %q", got[0], got[1])
	}
}

// clientInfoVarying are the CLIENT INFO fields whose values are the
// connection's own (ids, addresses, times, buffers, which pipelining
// fills), the bulk lengths that follow from them, and HELLO's id.
var clientInfoVarying = regexp.MustCompile(`(id|addr|laddr|fd|age|idle|qbuf|qbuf-free|obl|rbs|rbp|tot-mem)=\S+|\$\d+\r\n|:\d+\r\n\$4\r\nmode`)

// RESET leaves MONITOR, subscriptions, MULTI and WATCH, CLIENT REPLY
// OFF, the database, RESP3 and the name, and keeps CLIENT NO-EVICT,
// byte for byte as Redis.
func TestResetMatchesRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	scripts := map[string][][]string{
		"monitor": {{"CLIENT", "SETNAME", "x"}, {"SELECT", "3"}, {"CLIENT", "NO-EVICT", "on"}, {"MONITOR"},
			{"RESET"}, {"CLIENT", "INFO"}, {"GET", "k"}},
		"subscriptions": {{"SUBSCRIBE", "a"}, {"PSUBSCRIBE", "b*"}, {"SSUBSCRIBE", "c"}, {"RESET"},
			{"CLIENT", "INFO"}, {"PUBLISH", "a", "m"}},
		"resp3 subscriptions": {{"HELLO", "3"}, {"SUBSCRIBE", "a"}, {"RESET"}, {"CLIENT", "INFO"}, {"PUBLISH", "a", "m"}},
		"multi":               {{"WATCH", "k"}, {"MULTI"}, {"SET", "k", "1"}, {"RESET"}, {"CLIENT", "INFO"}, {"EXEC"}},
		"reply off":           {{"CLIENT", "REPLY", "OFF"}, {"PING"}, {"RESET"}, {"PING"}},
		"reply skip":          {{"CLIENT", "REPLY", "SKIP"}, {"RESET"}, {"PING"}},
		"name and db":         {{"CLIENT", "SETNAME", "n"}, {"SELECT", "2"}, {"SET", "k", "v"}, {"RESET"}, {"CLIENT", "GETNAME"}, {"GET", "k"}},
	}
	for name, cmds := range scripts {
		t.Run(name, func(t *testing.T) {
			var got [2]string
			for i, addr := range []string{node.Addr().String(), redis.Addr} {
				dialRaw(t, addr).str("FLUSHALL")
				got[i] = clientInfoVarying.ReplaceAllString(sendAll(t, addr, requests(append(cmds, []string{"QUIT"})...)), "")
			}
			if got[0] != got[1] {
				t.Errorf("loomcache %q\nredis     %q", got[0], got[1])
			}
		})
	}
}
