package server_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// badCase is bytes a client sends (each chunk one write) and the exact
// reply; closed says the server hangs up after it, otherwise the
// connection must still answer PING.
type badCase struct {
	name   string
	chunks []string
	want   string
	closed bool
}

// pongAfter is the reply to the PING sent after an open case, if that
// is not +PONG.
var pongAfter = map[string]string{
	"replies before a partial request": "$4\r\nPING\r\n", // the PING ends it
}

func protoErr(msg string) string { return "-ERR Protocol error: " + msg + "\r\n" }

func pieces(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// binary is a value holding every byte, CR LF and NUL included.
var binary = func() string {
	var b strings.Builder
	for i := 0; i < 3; i++ {
		for c := 0; c < 256; c++ {
			b.WriteByte(byte(c))
		}
		b.WriteString("\r\n\x00\r\n")
	}
	return b.String()
}()

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func request(args ...string) string {
	s := fmt.Sprintf("*%d\r\n", len(args))
	for _, a := range args {
		s += bulk(a)
	}
	return s
}

var badCases = []badCase{
	// Malformed requests: Redis's error, then the connection is closed.
	{"invalid multibulk length", []string{"*3000000000\r\n"}, protoErr("invalid multibulk length"), true},
	{"*01", []string{"*01\r\n"}, protoErr("invalid multibulk length"), true},
	{"$-5", []string{"*1\r\n$-5\r\n"}, protoErr("invalid bulk length"), true},
	{"$4294967296", []string{"*1\r\n$4294967296\r\n"}, protoErr("invalid bulk length"), true},
	{"over proto-max-bulk-len", []string{"*1\r\n$536870913\r\n"}, protoErr("invalid bulk length"), true},
	{"expected $ got x", []string{"*1\r\nx4\r\n"}, protoErr("expected '$', got 'x'"), true},
	{"expected $ got f", []string{"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"}, protoErr("expected '$', got 'f'"), true},
	{"expected $ got CR", []string{"*1\r\n\r\n"}, protoErr("expected '$', got ' '"), true},
	{"unbalanced quotes", []string{"SET \"a b\r\n"}, protoErr("unbalanced quotes in request"), true},
	{"text after quote", []string{"ECHO 'a'b\r\n"}, protoErr("unbalanced quotes in request"), true},
	{"too big inline request", pieces(strings.Repeat("a", 70000), 4096), protoErr("too big inline request"), true},
	{"too big mbulk count", pieces("*"+strings.Repeat("1", 70000), 4096), protoErr("too big mbulk count string"), true},
	{"too big bulk count", pieces("*1\r\n$"+strings.Repeat("1", 70000), 4096), protoErr("too big bulk count string"), true},
	{"NUL in inline never ends the line", []string{"PING\x00\r\nPING\r\n", strings.Repeat("x", 70000)}, protoErr("too big inline request"), true},
	{"NUL in mbulk count", []string{"*1\x00\r\n", strings.Repeat("x", 70000)}, protoErr("too big mbulk count string"), true},
	{"replies before the error", []string{"PING\r\n*x\r\n"}, "+PONG\r\n" + protoErr("invalid multibulk length"), true},
	{"QUIT", []string{"QUIT\r\n"}, "+OK\r\n", true},

	// Odd but valid input: the connection stays usable.
	{"$-5 is an inline command", []string{"$-5\r\n"}, "-ERR unknown command '$-5', with args beginning with: \r\n", false},
	{"empty requests ignored", []string{"*-1\r\n*0\r\n\r\n\n  \r\nPING\r\n"}, "+PONG\r\n", false},
	{"two bytes after a bulk skipped", []string{"*1\r\n$4\r\nPINGxyPING\r\n"}, "+PONG\r\n+PONG\r\n", false},
	{"inline escapes", []string{"ECHO \"\\x41\\n\"\r\nECHO 'a\\'b'\r\n"}, "$2\r\nA\n\r\n$3\r\na'b\r\n", false},
	{"byte by byte", pieces(request("ECHO", "hi")+"PING\r\n", 1), "$2\r\nhi\r\n+PONG\r\n", false},
	{"binary key and value", []string{request("SET", "k\r\n\x00\xff", binary) + request("GET", "k\r\n\x00\xff")}, "+OK\r\n" + bulk(binary), false},
	{"binary value byte by byte", pieces(request("SET", "\x00", "\r\n")+request("GET", "\x00"), 1), "+OK\r\n" + bulk("\r\n"), false},
	{"unknown command", []string{"FOO bar\r\n"}, "-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n", false},
	{"wrong arity GET", []string{"GET\r\n"}, "-ERR wrong number of arguments for 'get' command\r\n", false},
	{"wrong arity SET", []string{request("SET", "k")}, "-ERR wrong number of arguments for 'set' command\r\n", false},
	// Complete requests are answered while the next is still arriving.
	{"replies before a partial request", []string{"SET k v\r\nGET k\r\n*2\r\n$4\r\nECHO\r\n$4\r\n"},
		"+OK\r\n$1\r\nv\r\n", false},
}

// exchange sends the chunks and reads the reply: everything until the
// server closes, or len(want) bytes for a connection that stays open.
func exchange(addr string, tc badCase) (string, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	for _, ch := range tc.chunks {
		if _, err := c.Write([]byte(ch)); err != nil {
			break // the server may close before reading everything
		}
	}
	if tc.closed {
		got, err := readUntilClosed(c)
		return string(got), err
	}
	got := make([]byte, len(tc.want))
	if _, err := io.ReadFull(c, got); err != nil {
		return string(got), err
	}
	// Still open and in step: nothing else was sent.
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return string(got), err
	}
	want := pongAfter[tc.name]
	if want == "" {
		want = "+PONG\r\n"
	}
	pong := make([]byte, len(want))
	if _, err := io.ReadFull(c, pong); err != nil || string(pong) != want {
		return string(got), fmt.Errorf("PING after the reply: %q, %v", pong, err)
	}
	return string(got), nil
}

// readUntilClosed reads until the server closes; a reset after a close
// with unread input counts as closed.
func readUntilClosed(c net.Conn) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestBadInput(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, srv := range []struct{ name, addr string }{{"redis", redis.Addr}, {"loomcache", node.Addr().String()}} {
				got, err := exchange(srv.addr, tc)
				if err != nil {
					t.Errorf("%s: %v (read %q)", srv.name, err, got)
				} else if got != tc.want {
					t.Errorf("%s: %q, want %q", srv.name, got, tc.want)
				}
			}
		})
	}
}

// hostile returns what one hostile connection does, by number, and checks
// what it can of the server's answers.
func hostile(addr string, i int) error {
	kinds := 5
	switch k := i % (len(badCases) + kinds); {
	case k < len(badCases):
		tc := badCases[k]
		got, err := exchange(addr, tc)
		if err == nil && got != tc.want {
			err = fmt.Errorf("%q, want %q", got, tc.want)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tc.name, err)
		}
		return nil
	case k == len(badCases): // half a multibulk, then an abrupt reset
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		c.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nh"))
		c.(*net.TCPConn).SetLinger(0)
		return c.Close()
	case k == len(badCases)+1: // 512MB announced, 64KB sent, gone
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		c.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nh\r\n$536870912\r\n" + strings.Repeat("v", 64<<10)))
		return c.Close()
	case k == len(badCases)+2: // a pipeline it never reads the replies of
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		c.Write([]byte(strings.Repeat("PING\r\n", 20000)))
		return c.Close()
	case k == len(badCases)+3: // binary keys of its own, round trip
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		key := fmt.Sprintf("h:%d\r\n\x00", i)
		val := binary[i%256:]
		c.Write([]byte(request("SET", key, val) + request("GET", key)))
		want := "+OK\r\n" + bulk(val)
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
			return fmt.Errorf("binary round trip: %q %v", got, err)
		}
		return nil
	default: // a request cut anywhere, then gone
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return err
		}
		req := request("SET", fmt.Sprintf("h:cut:%d", i), binary)
		c.Write([]byte(req[:rand.Intn(len(req))]))
		return c.Close()
	}
}

// goodClient is a well-behaved client speaking plain RESP.
type goodClient struct {
	c  net.Conn
	rd *bufio.Reader
}

func (g *goodClient) do(want string, args ...string) error {
	g.c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := g.c.Write([]byte(request(args...))); err != nil {
		return err
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(g.rd, got); err != nil {
		return err
	}
	if string(got) != want {
		return fmt.Errorf("%q: got %q, want %q", args, got, want)
	}
	return nil
}

func goodValue(i int) string { return fmt.Sprintf("value %d\r\n\x00%s", i, strings.Repeat("v", i%300)) }

func TestHostileClients(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	addr := node.Addr().String()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	good := &goodClient{c: c, rd: bufio.NewReader(c)}
	if err := good.do("+OK\r\n", "SET", "good:warmup", "x"); err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()

	// Each hostile connection goes through every kind of abuse at least
	// once and keeps going until the good client has done 40 round
	// trips, so the two surely overlap.
	const hostiles, minGood = 50, 40
	rounds := len(badCases) + 5
	var goodOps atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	total := atomic.Int64{}
	for h := 0; h < hostiles; h++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds || goodOps.Load() < minGood; r++ {
				total.Add(1)
				if err := hostile(addr, h+r); err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("hostile %d: %w", h, err))
					mu.Unlock()
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// The good client keeps writing and reading while they run.
	n := 0
	for busy := true; busy; n++ {
		select {
		case <-done:
			busy = false
		default:
		}
		goodOps.Store(int64(n))
		key := fmt.Sprintf("good:%d", n)
		if err := good.do("+OK\r\n", "SET", key, goodValue(n)); err != nil {
			t.Fatalf("good client SET %d: %v", n, err)
		}
		if err := good.do(bulk(goodValue(n)), "GET", key); err != nil {
			t.Fatalf("good client GET %d: %v", n, err)
		}
	}
	t.Logf("good client: %d SET/GET pairs alongside %d hostile connections", n, total.Load())
	for _, err := range errs {
		t.Error(err)
	}
	// Nothing it wrote was lost or changed.
	for i := 0; i < n; i++ {
		if err := good.do(bulk(goodValue(i)), "GET", fmt.Sprintf("good:%d", i)); err != nil {
			t.Errorf("after the storm: %v", err)
		}
	}
	if err := good.do("+PONG\r\n", "PING"); err != nil {
		t.Fatal(err)
	}

	// Every hostile connection's goroutine ends and it leaves the registry.
	deadline := time.Now().Add(30 * time.Second)
	for {
		g, clients := runtime.NumGoroutine(), len(node.Clients())
		if g <= baseline && clients == 1 {
			break
		}
		if time.Now().After(deadline) {
			var dump bytes.Buffer
			pprof.Lookup("goroutine").WriteTo(&dump, 1)
			t.Fatalf("%d goroutines (baseline %d), %d clients registered (want 1)\n%s", g, baseline, clients, dump.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heapAlloc returns the live heap after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A connection idle after a 100MB request and a 100MB reply keeps neither:
// the node runs in this process, so its heap is this heap.
func TestBadInputIdleAfterBigRequest(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	c, err := net.Dial("tcp", node.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	const size = 100 << 20
	base := heapAlloc()
	for _, req := range []struct{ head, line string }{
		{"*2\r\n$7\r\nNOTACMD\r\n", "-ERR unknown command 'NOTACMD', with args beginning with: '" + strings.Repeat("v", 128) + "' \r\n"},
		{"*2\r\n$4\r\nECHO\r\n", fmt.Sprintf("$%d\r\n", size)},
	} {
		msg := []byte(req.head + bulk(strings.Repeat("v", size)))
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		msg = nil
		rd := bufio.NewReader(c)
		line, err := rd.ReadString('\n')
		if err != nil || line != req.line {
			t.Fatalf("reply %.80q, %v; want %.80q", line, err, req.line)
		}
		if line[0] == '$' { // the echoed 100MB, read and dropped
			if _, err := io.CopyN(io.Discard, rd, size+2); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := (&goodClient{c: c, rd: bufio.NewReader(c)}).do("+PONG\r\n", "PING"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		grown := int64(heapAlloc()) - int64(base)
		if grown < 32<<20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an idle connection keeps %d MB after a 100MB request", grown>>20)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
