package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// rawConn is a bare RESP connection to a node.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
	// within bounds each request and its reply; 0: 10 s.
	within time.Duration
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

// send writes args as one request; it and the reply must come within
// c.within (10 s unless set).
func (c *rawConn) send(args ...string) {
	c.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	d := c.within
	if d == 0 {
		d = 10 * time.Second
	}
	c.nc.SetDeadline(time.Now().Add(d))
	if _, err := c.nc.Write([]byte(b.String())); err != nil {
		c.t.Fatal(err)
	}
}

// do sends args and returns the reply: a string for simple, error (with
// its '-'), integer (as text) and bulk replies, a []any for arrays.
func (c *rawConn) do(args ...string) any {
	c.t.Helper()
	c.send(args...)
	r, err := c.read()
	if err != nil {
		c.t.Fatalf("%v: %v", args, err)
	}
	return r
}

func (c *rawConn) read() (any, error) {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return line, nil
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.br, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '_':
		return nil, nil
	case '*', '>', '~', '%':
		n, _ := strconv.Atoi(line[1:])
		if line[0] == '%' {
			n *= 2 // a map's keys and values, in turn
		}
		out := make([]any, 0, max(n, 0))
		for i := 0; i < n; i++ {
			e, err := c.read()
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if line[0] == '>' {
			return push(out), nil
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

// push is a RESP3 push frame, as rawConn.read returns it.
type push []any

func (c *rawConn) str(args ...string) string {
	c.t.Helper()
	s, ok := c.do(args...).(string)
	if !ok {
		c.t.Fatalf("%v: not a string reply", args)
	}
	return s
}

// infoField returns one "name:value" field of an INFO text.
func infoField(info, name string) string {
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return v
		}
	}
	return ""
}

var sectionTitle = regexp.MustCompile(`(?m)^# (\w+)\r$`)

func TestInfoSections(t *testing.T) {
	n := nodetest.Start(t, server.Config{Fsync: true})
	c := dialRaw(t, n.Addr().String())
	// As Redis's default sections: all but commandstats.
	def := []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "Raft", "CPU",
		"Modules", "Errorstats", "Cluster", "Keyspace"}
	withCmdStats := []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "Raft", "CPU",
		"Modules", "Commandstats", "Errorstats", "Cluster", "Keyspace"}
	all := []string{"Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "Raft", "CPU",
		"Modules", "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace"}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, def},
		{[]string{"default"}, def},
		{[]string{"default", "commandstats"}, withCmdStats},
		{[]string{"all", "default"}, all},
		{[]string{"LatencyStats", "cpu"}, []string{"CPU", "Latencystats"}},
		{[]string{"module_list"}, []string{"Modules"}},
		{[]string{"everything"}, all},
		{[]string{"ALL", "server"}, all},
		{[]string{"keyspace", "cluster"}, []string{"Cluster", "Keyspace"}},
		{[]string{"RAFT", "persistence", "raft"}, []string{"Persistence", "Raft"}},
		{[]string{"nosuch"}, nil},
	} {
		info := c.str(append([]string{"INFO"}, tc.args...)...)
		var got []string
		for _, m := range sectionTitle.FindAllStringSubmatch(info, -1) {
			got = append(got, m[1])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("INFO %v: sections %v, want %v", tc.args, got, tc.want)
		}
		if strings.HasSuffix(info, "\r\n\r\n") || strings.Contains(info, "\r\n\r\n\r\n") {
			t.Errorf("INFO %v: blank lines out of place: %q", tc.args, info)
		}
	}

	c.do("SET", "k1", "v")
	c.do("SELECT", "5")
	c.do("SET", "k2", "v")
	info := c.str("INFO")
	_, port, _ := net.SplitHostPort(n.Addr().String())
	for name, want := range map[string]string{
		"redis_version":     "7.0.15",
		"loomcache_version": server.Version,
		"tcp_port":          port,
		"process_id":        strconv.Itoa(os.Getpid()),
		"connected_clients": "1",
		"maxclients":        "10000",
		"maxmemory":         "0",
		"maxmemory_policy":  "noeviction",
		// what the Tcl suite's wait_lazyfree_done and eviction tests read
		"mem_not_counted_for_evict": "0",
		"lazyfree_pending_objects":  "0",
		"role":                      "master",
		"raft_node_id":              "n1",
		"aof_enabled":               "1",
		"cluster_enabled":           "0",
		"db0":                       "keys=1,expires=0,avg_ttl=0",
		"db5":                       "keys=1,expires=0,avg_ttl=0",
	} {
		if got := infoField(info, name); got != want {
			t.Errorf("INFO %s = %q, want %q", name, got, want)
		}
	}
	if infoField(info, "db1") != "" {
		t.Error("INFO lists an empty database")
	}
	if v, err := strconv.ParseUint(infoField(info, "used_memory"), 10, 64); err != nil || v == 0 {
		t.Errorf("used_memory = %q", infoField(info, "used_memory"))
	}
}

func TestConfigResetStat(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	c := dialRaw(t, n.Addr().String())
	for i := 0; i < 3; i++ {
		c.do("PING")
	}
	if got := infoField(c.str("INFO", "stats"), "total_commands_processed"); got != "4" {
		t.Errorf("total_commands_processed = %s before RESETSTAT, want 4", got)
	}
	if got := c.str("CONFIG", "RESETSTAT"); got != "OK" {
		t.Fatalf("CONFIG RESETSTAT: %s", got)
	}
	stats := c.str("INFO", "stats")
	// INFO itself is the one command since.
	if got := infoField(stats, "total_commands_processed"); got != "1" {
		t.Errorf("total_commands_processed = %s after RESETSTAT, want 1", got)
	}
	if got := infoField(stats, "total_connections_received"); got != "0" {
		t.Errorf("total_connections_received = %s after RESETSTAT, want 0", got)
	}
}

func TestConfigGetSet(t *testing.T) {
	dir := t.TempDir()
	n := nodetest.Start(t, server.Config{DataDir: dir, Fsync: false, Databases: 4})
	c := dialRaw(t, n.Addr().String())
	_, port, _ := net.SplitHostPort(n.Addr().String())
	_, raftPort, _ := net.SplitHostPort(n.Cfg.RaftAddr)
	get := func(name string) any { return c.do("CONFIG", "GET", name) }
	for _, tc := range []struct {
		name string
		want any
	}{
		{"port", []any{"port", port}},
		{"PORT", []any{"PORT", port}},
		{"bind", []any{"bind", "127.0.0.1"}},
		{"databases", []any{"databases", "4"}},
		{"dir", []any{"dir", dir}},
		{"appendonly", []any{"appendonly", "no"}},
		{"appendfsync", []any{"appendfsync", "no"}},
		{"save", []any{"save", "3600 1 300 100 60 10000"}},
		{"proto-max-bulk-len", []any{"proto-max-bulk-len", "536870912"}},
		{"nosuch", []any{}},
	} {
		if got := get(tc.name); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("CONFIG GET %s = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"maxmemory", "2mb"}, "OK"},
		{[]string{"maxmemory-policy", "allkeys-LRU", "timeout", "30"}, "OK"},
		{[]string{"appendfsync", "no"}, "OK"},
		{[]string{"appendfsync", "sometimes"}, "-ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no"},
		{[]string{"appendfsync", "everysec"}, "OK"},
		{[]string{"appendonly", "yes"}, "OK"},
		{[]string{"appendonly", "no"}, "OK"},
		// A port in use (the cluster port) fails the apply, as in Redis.
		{[]string{"port", raftPort}, "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."},
		{[]string{"port", port, "bind", "127.0.0.1"}, "OK"},
		{[]string{"bind", "0.0.0.0"}, "-ERR CONFIG SET failed (possibly related to argument 'bind') - can't set immutable config"},
		{[]string{"dir", "/"}, "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"},
		{[]string{"save", "60 1"}, "OK"},
		{[]string{"save", "60 x"}, "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"},
		{[]string{"daemonize", "no"}, "-ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config"},
		{[]string{"rdbcompression", "maybe"}, "-ERR CONFIG SET failed (possibly related to argument 'rdbcompression') - argument must be 'yes' or 'no'"},
		{[]string{"rdbcompression", "no"}, "OK"},
		// All or nothing: the bad second value leaves timeout as it was.
		{[]string{"timeout", "99", "maxclients", "0"}, "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive"},
	} {
		if got := c.str(append([]string{"CONFIG", "SET"}, tc.args...)...); got != tc.want {
			t.Errorf("CONFIG SET %v = %q, want %q", tc.args, got, tc.want)
		}
	}
	for name, want := range map[string]string{"maxmemory": "2097152", "maxmemory-policy": "allkeys-lru", "timeout": "30",
		"save": "60 1", "appendfsync": "everysec", "rdbcompression": "no"} {
		if got := get(name); fmt.Sprint(got) != fmt.Sprint([]any{name, want}) {
			t.Errorf("CONFIG GET %s = %v, want %s", name, got, want)
		}
	}
	mem := c.str("INFO", "memory")
	if infoField(mem, "maxmemory") != "2097152" || infoField(mem, "maxmemory_human") != "2.00M" ||
		infoField(mem, "maxmemory_policy") != "allkeys-lru" {
		t.Errorf("INFO memory does not follow CONFIG SET:\n%s", mem)
	}
	// Patterns: each setting once, whatever matches it.
	got := c.do("CONFIG", "GET", "maxmemory*", "MAXMEMORY", "timeout")
	if fmt.Sprint(got) != fmt.Sprint([]any{"maxmemory", "2097152", "maxmemory-policy", "allkeys-lru",
		"maxmemory-samples", "5", "maxmemory-eviction-tenacity", "10", "maxmemory-clients", "0", "timeout", "30"}) {
		t.Errorf("CONFIG GET maxmemory* MAXMEMORY timeout = %v", got)
	}
}

func TestClientKillClosesConnection(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	a := dialRaw(t, n.Addr().String())
	b := dialRaw(t, n.Addr().String())
	if got := b.str("CLIENT", "SETNAME", "victim"); got != "OK" {
		t.Fatal(got)
	}
	bid := b.str("CLIENT", "ID")
	list := a.str("CLIENT", "LIST")
	if strings.Count(list, "\n") != 2 || !strings.Contains(list, "id="+bid+" ") || !strings.Contains(list, "name=victim ") {
		t.Fatalf("CLIENT LIST:\n%s", list)
	}
	if got := a.str("CLIENT", "KILL", "ID", bid); got != "1" {
		t.Fatalf("CLIENT KILL ID %s = %s", bid, got)
	}
	b.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := b.br.ReadByte(); err == nil {
		t.Error("killed connection still open")
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Contains(a.str("CLIENT", "LIST"), "name=victim") {
		if time.Now().After(deadline) {
			t.Fatal("killed client still listed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The old form may kill the caller: it gets +OK, then the connection
	// closes.
	if got := a.str("CLIENT", "KILL", a.nc.LocalAddr().String()); got != "OK" {
		t.Fatalf("CLIENT KILL own address = %s", got)
	}
	if _, err := a.br.ReadByte(); err == nil {
		t.Error("connection that killed itself still open")
	}
}

func TestLastSaveFollowsSnapshots(t *testing.T) {
	n := nodetest.Start(t, server.Config{})
	c := dialRaw(t, n.Addr().String())
	c.do("SET", "k", "v")
	if err := n.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	metas, _ := filepath.Glob(filepath.Join(n.Cfg.DataDir, "snapshots", "*", "meta.json"))
	if len(metas) == 0 {
		t.Fatal("no snapshot on disk")
	}
	// Date the snapshot in the future: LASTSAVE must report its time.
	when := time.Now().Add(time.Hour).Truncate(time.Second)
	for _, m := range metas {
		if err := os.Chtimes(m, when, when); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.str("LASTSAVE"); got != strconv.FormatInt(when.Unix(), 10) {
		t.Errorf("LASTSAVE = %s, want %d", got, when.Unix())
	}
	if got := infoField(c.str("INFO", "persistence"), "rdb_last_save_time"); got != strconv.FormatInt(when.Unix(), 10) {
		t.Errorf("rdb_last_save_time = %s, want %d", got, when.Unix())
	}
}
