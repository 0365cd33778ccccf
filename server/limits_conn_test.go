package server_test

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// logBuf collects a node's log.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLogged waits up to 10 s for text in the log: a connection logs
// its end as it ends, which may be just after its peer saw the close.
func (l *logBuf) waitLogged(t *testing.T, text string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(l.String(), text); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("%q not logged:\n%s", text, l.String())
			return
		}
	}
}

// sendAll writes chunks to a new connection and returns what comes back
// until the server closes it (a reset after a close with unread input
// counts as closed).
func sendAll(t *testing.T, addr string, chunks ...string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	for _, ch := range chunks {
		if _, err := c.Write([]byte(ch)); err != nil {
			break // closed before reading everything
		}
	}
	got, err := readUntilClosed(c)
	if err != nil {
		t.Fatalf("not closed: %v (read %.60q)", err, got)
	}
	return string(got)
}

// A client whose pending request passes client-query-buffer-limit is
// closed without a reply, as Redis closes it; one whose request stays
// under it is served, however large the length it declared.
func TestQueryBufferLimitClosesAsRedis(t *testing.T) {
	logs := &logBuf{}
	node := nodetest.Start(t, server.Config{LogOutput: logs, Directives: [][2]string{{"client-query-buffer-limit", "1mb"}}})
	redis := nodetest.StartRedis(t, "--client-query-buffer-limit", "1mb")
	setHead := func(n int) string { return "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + strconv.Itoa(n) + "\r\n" }
	for _, srv := range []struct{ name, addr string }{{"redis", redis.Addr}, {"loomcache", node.Addr().String()}} {
		t.Run(srv.name, func(t *testing.T) {
			// Over the limit: nothing back, closed.
			if got := sendAll(t, srv.addr, setHead(2<<20), strings.Repeat("v", 1<<20+1024)); got != "" {
				t.Errorf("over the limit: %.60q", got)
			}
			// Declared over the limit, sent under it, then finished in a
			// request that fits: served.
			c := dialReplies(t, srv.addr)
			c.nc.Write([]byte(setHead(900_000) + strings.Repeat("v", 800_000)))
			c.nc.Write([]byte(strings.Repeat("v", 100_000) + "\r\n"))
			if got, err := readReply(c.br); err != nil || string(got) != "+OK\r\n" {
				t.Errorf("under the limit: %q %v", got, err)
			}
			if got := c.raw("STRLEN", "k"); got != ":900000\r\n" {
				t.Errorf("STRLEN: %q", got)
			}
			// The limit is per request: requests of 900KB one after the
			// other are fine.
			for i := 0; i < 3; i++ {
				if got := c.raw("SET", "k", strings.Repeat("w", 900_000)); got != "+OK\r\n" {
					t.Errorf("request %d: %q", i, got)
				}
			}
		})
	}
	if !strings.Contains(logs.String(), "Closing client that reached max query buffer length: id=") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
	// Unlike Redis, LoomCache counts the arguments already parsed: they
	// stay in its buffer (Redis moves them out and lets them grow), so
	// an unfinished request of 3MB in 1KB arguments is closed too.
	var many strings.Builder
	many.WriteString("*5000\r\n$4\r\nECHO\r\n")
	for i := 0; i < 3000; i++ {
		many.WriteString("$1000\r\n" + strings.Repeat("a", 1000) + "\r\n")
	}
	if got := sendAll(t, node.Addr().String(), many.String()); got != "" {
		t.Errorf("3MB of arguments: %.60q", got)
	}
}

// client-output-buffer-limit's hard limit: a reply that takes the pending
// output past it closes the connection, and nothing of that batch is
// written, as in Redis (even the PONG before it).
func TestOutputBufferHardLimitAsRedis(t *testing.T) {
	limit := [][2]string{{"client-output-buffer-limit", "normal 1mb 0 0"}}
	logs := &logBuf{}
	node := nodetest.Start(t, server.Config{LogOutput: logs, Directives: limit})
	redis := nodetest.StartRedis(t, "--client-output-buffer-limit", "normal 1mb 0 0")
	var req bytes.Buffer
	encode(&req, "PING")
	encode(&req, "GET", "big")
	for _, srv := range []struct{ name, addr string }{{"redis", redis.Addr}, {"loomcache", node.Addr().String()}} {
		t.Run(srv.name, func(t *testing.T) {
			c := dialReplies(t, srv.addr)
			if got := c.raw("SET", "big", strings.Repeat("x", 2<<20)); got != "+OK\r\n" {
				t.Fatal(got)
			}
			if got := c.raw("SET", "fits", strings.Repeat("y", 800_000)); got != "+OK\r\n" {
				t.Fatal(got)
			}
			if got := sendAll(t, srv.addr, req.String()); got != "" {
				t.Errorf("PING + GET of 2MB: %d bytes back", len(got))
			}
			// 800KB fits (Redis counts the reply blocks it allocates,
			// rounded up to jemalloc's size classes, so 1MB would not).
			if got := c.raw("GET", "fits"); len(got) != 800_000+len("$800000\r\n\r\n") {
				t.Errorf("GET of 800KB: %d bytes", len(got))
			}
			// Small replies never reach even a tiny limit.
			if got := c.raw("CONFIG", "SET", "client-output-buffer-limit", "normal 6 6 6"); got != "+OK\r\n" {
				t.Fatal(got)
			}
			for i := 0; i < 10; i++ {
				if got := c.raw("PING"); got != "+PONG\r\n" {
					t.Fatal(got)
				}
			}
		})
	}
	if !strings.Contains(logs.String(), "scheduled to be closed ASAP for overcoming of output buffer limits") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
}

// A client reading its replies promptly is not closed for pipelining,
// however much it pipelines: replies are written out at half the limit at
// the latest. (Redis, which writes 64KB per event loop turn while it
// answers a 16KB read's worth of requests, does close such a client.)
func TestOutputBufferLimitSparesPromptReaders(t *testing.T) {
	node := nodetest.Start(t, server.Config{Directives: [][2]string{{"client-output-buffer-limit", "normal 256kb 128kb 0"}}})
	c := dialReplies(t, node.Addr().String())
	val := strings.Repeat("v", 1000)
	c.raw("SET", "k", val)
	var req bytes.Buffer
	const n = 20000
	for i := 0; i < n; i++ {
		encode(&req, "GET", "k")
	}
	errc := make(chan error, 1)
	go func() { _, err := c.nc.Write(req.Bytes()); errc <- err }()
	want := bulk(val)
	for i := 0; i < n; i++ {
		got, err := readReply(c.br)
		if err != nil || string(got) != want {
			t.Fatalf("reply %d: %.40q %v", i, got, err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// The soft limit: a client that leaves more than it pending for longer
// than the soft seconds is closed; one that reads is not.
func TestOutputBufferSoftLimit(t *testing.T) {
	logs := &logBuf{}
	// The prompt reader has 30 s to take a 64 MB reply (it must not be
	// closed however slow the machine); the stalled client, 1 s.
	node := nodetest.Start(t, server.Config{LogOutput: logs, Directives: [][2]string{{"client-output-buffer-limit", "normal 0 1mb 30"}}})
	addr := node.Addr().String()
	admin := dialRaw(t, addr)
	admin.within = time.Minute // 64 MB through Raft, under the race detector on a busy machine
	const size = 64 << 20      // more than the socket buffers on both ends take
	if got := admin.str("SET", "big", strings.Repeat("x", size)); got != "OK" {
		t.Fatal(got)
	}
	// A prompt reader gets all of it.
	reader := dialReplies(t, addr)
	if got := reader.raw("GET", "big"); len(got) != size+len("$67108864\r\n\r\n") {
		t.Fatalf("prompt reader: %d bytes", len(got))
	}
	// A client that does not read is closed once the soft time is over.
	if got := admin.str("CONFIG", "SET", "client-output-buffer-limit", "normal 0 1mb 1"); got != "OK" {
		t.Fatal(got)
	}
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096)
	var req bytes.Buffer
	encode(&req, "GET", "big")
	nc.Write(req.Bytes())
	waitClients(t, admin, 3)
	waitClients(t, admin, 2) // closed; admin and reader remain
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	got, err := readUntilClosed(nc)
	if err != nil || len(got) >= size {
		t.Errorf("stalled client read %d bytes, %v", len(got), err)
	}
	if !strings.Contains(logs.String(), "overcoming of output buffer limits") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
}

// waitClients waits until the node reports n connected clients.
func waitClients(t *testing.T, c *rawConn, n int) {
	t.Helper()
	want := strconv.Itoa(n)
	deadline := time.Now().Add(30 * time.Second)
	for infoField(c.str("INFO", "clients"), "connected_clients") != want {
		if time.Now().After(deadline) {
			t.Fatalf("connected_clients = %s, want %s", infoField(c.str("INFO", "clients"), "connected_clients"), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With Redis's default limits (normal 0 0 0) nothing is closed, and a
// client that pipelines without reading its replies does not make the
// node buffer them: once its writes block, the connection stops reading
// requests, and the rest wait in the client's socket.
func TestNeverReadingPipelineIsBackpressured(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	addr := node.Addr().String()
	admin := dialRaw(t, addr)
	key := strings.Repeat("k", 1000) // 1KB requests...
	val := strings.Repeat("v", 16<<10)
	if got := admin.str("SET", key, val); got != "OK" { // ...16KB replies
		t.Fatal(got)
	}
	var req bytes.Buffer
	const n = 50000 // 50MB of requests for 800MB of replies
	for i := 0; i < n; i++ {
		encode(&req, "GET", key)
	}
	base := heapAlloc()
	commands := func() int {
		v, _ := strconv.Atoi(infoField(admin.str("INFO", "stats"), "total_commands_processed"))
		return v
	}
	c0 := commands()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// The client's write blocks: the node has stopped reading.
	nc.SetWriteDeadline(time.Now().Add(3 * time.Second))
	sent, err := nc.Write(req.Bytes())
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("wrote %d of %d bytes: %v", sent, req.Len(), err)
	}
	c1 := commands()
	grown := int64(heapAlloc()) - int64(base)
	c2 := commands()
	t.Logf("blocked after %d of %d bytes; %d GETs answered; heap grew %d KB", sent, req.Len(), c1-c0-1, grown>>10)
	if c2 != c1+1 { // only the INFO in between
		t.Errorf("the node kept reading the blocked pipeline: %d, then %d commands", c1, c2)
	}
	if c1-c0 >= n/2 {
		t.Errorf("%d of %d GETs answered though no reply was read", c1-c0, n)
	}
	if grown > 16<<20 {
		t.Errorf("heap grew %d MB for one stalled pipeline", grown>>20)
	}
	// Nothing was lost: reading the replies lets the rest through.
	nc.SetDeadline(time.Now().Add(60 * time.Second))
	errc := make(chan error, 1)
	go func() { _, err := nc.Write(req.Bytes()[sent:]); errc <- err }()
	br := bufio.NewReaderSize(nc, 64<<10)
	want := bulk(val)
	for i := 0; i < n; i++ {
		got, err := readReply(br)
		if err != nil || string(got) != want {
			t.Fatalf("reply %d: %.40q %v", i, got, err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// maxclients: the refused client gets Redis's bytes and is closed; it
// costs no goroutine and no session, and counts as Redis counts it (in
// rejected_connections, not in total_connections_received).
func TestMaxClientsAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{Directives: [][2]string{{"maxclients", "2"}}})
	redis := nodetest.StartRedis(t, "--maxclients", "2")
	stats := func(c *rawConn) (int, int) {
		info := c.str("INFO", "stats")
		total, _ := strconv.Atoi(infoField(info, "total_connections_received"))
		rejected, _ := strconv.Atoi(infoField(info, "rejected_connections"))
		return total, rejected
	}
	for _, srv := range []struct{ name, addr string }{{"redis", redis.Addr}, {"loomcache", node.Addr().String()}} {
		t.Run(srv.name, func(t *testing.T) {
			a, b := dialRaw(t, srv.addr), dialRaw(t, srv.addr)
			b.str("PING")
			total0, rejected0 := stats(a)
			g0 := runtime.NumGoroutine()
			for i := 0; i < 20; i++ {
				if got := sendAll(t, srv.addr, "PING\r\n"); got != "-ERR max number of clients reached\r\n" {
					t.Fatalf("refused client %d: %q", i, got)
				}
			}
			total, rejected := stats(a)
			if total != total0 || rejected != rejected0+20 {
				t.Errorf("total_connections_received %d -> %d, rejected_connections %d -> %d", total0, total, rejected0, rejected)
			}
			if srv.name == "loomcache" {
				if g := runtime.NumGoroutine(); g > g0 {
					t.Errorf("goroutines %d -> %d", g0, g)
				}
				if n := len(node.Clients()); n != 2 {
					t.Errorf("%d clients registered", n)
				}
			}
		})
	}
}

// The largest values CONFIG SET takes are no limits at all, on both.
func TestLargestLimitsAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	for _, srv := range []struct{ name, addr string }{{"redis", redis.Addr}, {"loomcache", node.Addr().String()}} {
		t.Run(srv.name, func(t *testing.T) {
			c := dialReplies(t, srv.addr)
			for _, kv := range [][2]string{
				{"client-query-buffer-limit", "9223372036854775807"},
				{"proto-max-bulk-len", "9223372036854775807"},
				{"client-output-buffer-limit", "normal 18446744073709551615 18446744073709551615 2147483647"},
			} {
				if got := c.raw("CONFIG", "SET", kv[0], kv[1]); got != "+OK\r\n" {
					t.Fatalf("%v: %q", kv, got)
				}
			}
			val := strings.Repeat("z", 3<<20)
			if got := c.raw("SET", "k", val); got != "+OK\r\n" {
				t.Fatalf("SET: %.40q", got)
			}
			if got := c.raw("GET", "k"); got != bulk(val) {
				t.Fatalf("GET: %d bytes", len(got))
			}
		})
	}
}
