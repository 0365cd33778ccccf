package server_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// replyConn sends requests and returns each reply's raw bytes.
type replyConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialReplies(t *testing.T, addr string) *replyConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &replyConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *replyConn) raw(args ...string) string {
	c.t.Helper()
	var req bytes.Buffer
	encode(&req, args...)
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write(req.Bytes()); err != nil {
		c.t.Fatalf("%q: %v", args, err)
	}
	reply, err := readReply(c.br)
	if err != nil {
		c.t.Fatalf("%q: %v", args, err)
	}
	return string(reply)
}

// limitValues are CONFIG SET values for each limit directive, good and
// bad, each followed by a CONFIG GET: replies and the value left behind
// must be Redis's, byte for byte.
var limitValues = map[string][]string{
	"client-query-buffer-limit": {
		"1mb", "1048576", "2GB", "1048575", "100", "1k", "-1", "abc", "", " 1mb", "1mb ", "1.5mb", "1m",
		"99999999999999999999", "10000000000gb", "17179869185gb", "9223372036854775807",
		"9223372036854775808", "1gb",
	},
	"proto-max-bulk-len": {
		"1mb", "2gb", "100", "abc", "-1", "", "9223372036854775807", "512mb",
	},
	"client-output-buffer-limit": {
		"normal 1mb 512kb 10", "normal 0 0 0", "", "normal", "normal 1 2", "master 0 0 0",
		"Normal 0 0 0", "replica 1gb 1gb 1", "SLAVE 0 0 0", "PubSub 5 6 7",
		"pubsub abc 0 0", "pubsub 1x 0 0", "pubsub -1 0 0", "pubsub 0 -1 0", "pubsub 0 0 -1",
		"pubsub 0 0 abc", "pubsub 0 0 10x", "pubsub 0 0 99999999999", "pubsub 0 0 -99999999999",
		"pubsub 0 0 4294967301", "pubsub 0 0 +5", "pubsub 0 0 0x10", "pubsub 0 0 \t5", "pubsub \t5 0 0",
		"normal 0 0 0 bogus 0 0 0", "bogus -1 0 0", "normal -1 0 0 bogus 0 0 0",
		"normal 5 5 5 normal 6 6 6", "normal 1 2 3 pubsub -1 0 0", "  normal   7 8  9  ", "normal 0 0 ",
		"normal \"1\" 2 3", "normal 99999999999999999999 10000000000gb 0", "pubsub 1.5mb 0 0",
		"normal 1K 2kB 3", "pubsub 1g 1G 0",
		"normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60",
	},
}

func TestLimitDirectivesMatchRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	lc, rc := dialReplies(t, node.Addr().String()), dialReplies(t, redis.Addr)
	same := func(args ...string) {
		t.Helper()
		if got, want := lc.raw(args...), rc.raw(args...); got != want {
			t.Errorf("%q:\n loomcache %q\n redis     %q", args, got, want)
		}
	}
	for _, name := range []string{"client-query-buffer-limit", "client-output-buffer-limit", "proto-max-bulk-len"} {
		same("CONFIG", "GET", name)
		same("CONFIG", "GET", strings.ToUpper(name))
		for _, v := range limitValues[name] {
			same("CONFIG", "SET", name, v)
			same("CONFIG", "GET", name)
		}
	}
	// Several at once are all or nothing, checked in order.
	same("CONFIG", "SET", "client-query-buffer-limit", "3mb", "client-output-buffer-limit", "normal 1 2")
	same("CONFIG", "SET", "client-query-buffer-limit", "3mb", "client-output-buffer-limit", "normal 1 2 3")
	same("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0", "client-output-buffer-limit", "normal 0 0 0")
	same("CONFIG", "SET", "proto-max-bulk-len", "0", "client-query-buffer-limit", "4mb")
	for _, name := range []string{"client-query-buffer-limit", "client-output-buffer-limit", "proto-max-bulk-len"} {
		same("CONFIG", "GET", name)
	}
	// Redis 7.0.15 counts no buffer-limit disconnections in INFO stats
	// (those fields came in 7.2), so neither does LoomCache. The limits
	// go back to none first: a normal class of "1 2 3" may be in force,
	// and Redis's reply buffer, shrunk while the connection idled, no
	// longer holds INFO's reply whole (it then closes the connection).
	same("CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")
	for _, f := range []string{"client_query_buffer_limit_disconnections", "client_output_buffer_limit_disconnections"} {
		if strings.Contains(rc.raw("INFO", "stats"), f) || strings.Contains(lc.raw("INFO", "stats"), f) {
			t.Errorf("INFO stats has %s", f)
		}
	}
}

// The limit directives at startup, repeated as redis.conf repeats
// client-output-buffer-limit once per class, end as in redis-server
// given the same: applied in order, the last one winning.
func TestLimitDirectivesAtStartup(t *testing.T) {
	directives := [][2]string{
		{"client-output-buffer-limit", "normal 1mb 512kb 10"},
		{"client-output-buffer-limit", "pubsub 1 2 3"},
		{"client-query-buffer-limit", "2mb"},
		{"client-query-buffer-limit", "3mb"},
		{"proto-max-bulk-len", "4mb"},
	}
	sameAtStartup(t, directives, []string{"client-query-buffer-limit", "client-output-buffer-limit", "proto-max-bulk-len"})
}

// sameAtStartup starts a node and a redis-server with the same startup
// directives and checks that CONFIG GET of each name answers the same;
// it returns the node.
func sameAtStartup(t *testing.T, directives [][2]string, names []string) *nodetest.InProcess {
	t.Helper()
	var args []string
	for _, d := range directives {
		args = append(args, "--"+d[0], d[1])
	}
	node := nodetest.Start(t, server.Config{Directives: directives})
	redis := nodetest.StartRedis(t, args...)
	lc, rc := dialReplies(t, node.Addr().String()), dialReplies(t, redis.Addr)
	for _, name := range names {
		if got, want := lc.raw("CONFIG", "GET", name), rc.raw("CONFIG", "GET", name); got != want {
			t.Errorf("%s:\n loomcache %q\n redis     %q", name, got, want)
		}
	}
	return node
}

func TestBadLimitDirectivesAtStartup(t *testing.T) {
	refusedAtStartup(t, [][2]string{
		{"client-query-buffer-limit", "1k"},
		{"client-query-buffer-limit", "lots"},
		{"client-output-buffer-limit", "normal 0 0"},
		{"client-output-buffer-limit", "master 0 0 0"},
		{"client-output-buffer-limit", "normal -1 0 0"},
		{"proto-max-bulk-len", "100"},
	})
}

// refusedAtStartup checks that each directive, given alone at startup,
// stops the node with an error that names it.
func refusedAtStartup(t *testing.T, directives [][2]string) {
	t.Helper()
	for _, d := range directives {
		_, err := server.New(server.Config{ID: "n1", Addr: nodetest.FreeAddr(t), RaftAddr: nodetest.FreeAddr(t),
			DataDir: t.TempDir(), LogOutput: io.Discard, Directives: [][2]string{d}})
		if err == nil {
			t.Errorf("%v accepted", d)
		} else if !strings.HasPrefix(err.Error(), d[0]+": ") {
			t.Errorf("%v: %v", d, err)
		}
	}
}
