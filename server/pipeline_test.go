package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// encode writes one request as a RESP multibulk.
func encode(buf *bytes.Buffer, args ...string) {
	fmt.Fprintf(buf, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(buf, "$%d\r\n%s\r\n", len(a), a)
	}
}

// readReply reads one whole RESP2/RESP3 reply and returns its raw bytes.
func readReply(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, fmt.Errorf("short reply line %q", line)
	}
	out := line
	n, _ := strconv.Atoi(string(line[1 : len(line)-2]))
	switch line[0] {
	case '$', '!', '=':
		if n >= 0 {
			b := make([]byte, n+2)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, err
			}
			out = append(out, b...)
		}
	case '*', '~', '>', '%', '|':
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			e, err := readReply(br)
			if err != nil {
				return nil, err
			}
			out = append(out, e...)
		}
	}
	return out, nil
}

func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return c, bufio.NewReader(c)
}

// oneByOne sends each request and reads its reply before the next.
func oneByOne(t *testing.T, addr string, reqs [][]string) [][]byte {
	t.Helper()
	c, br := dial(t, addr)
	out := make([][]byte, len(reqs))
	var buf bytes.Buffer
	for i, r := range reqs {
		buf.Reset()
		encode(&buf, r...)
		if _, err := c.Write(buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		rep, err := readReply(br)
		if err != nil {
			t.Fatalf("request %d %q: %v", i, r, err)
		}
		out[i] = rep
	}
	return out
}

// pipelined sends every request in one write, then reads the replies.
func pipelined(t *testing.T, addr string, reqs [][]string) [][]byte {
	t.Helper()
	c, br := dial(t, addr)
	var buf bytes.Buffer
	for _, r := range reqs {
		encode(&buf, r...)
	}
	errc := make(chan error, 1)
	go func() { _, err := c.Write(buf.Bytes()); errc <- err }()
	out := make([][]byte, len(reqs))
	for i := range reqs {
		rep, err := readReply(br)
		if err != nil {
			t.Fatalf("reply %d (%q): %v", i, reqs[i], err)
		}
		out[i] = rep
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	return out
}

// mixedRequests is a reproducible mix of writes and reads on a few keys,
// with the errors a pipeline must keep in place: syntax and arity errors
// written by handlers between proposed writes, and failed writes (INCR on
// a non-integer).
func mixedRequests(n int, seed int64) [][]string {
	rng := rand.New(rand.NewSource(seed))
	reqs := make([][]string, 0, n)
	for len(reqs) < n {
		k := fmt.Sprintf("pl:%d", rng.Intn(6))
		var r []string
		switch x := rng.Intn(100); {
		case x < 25:
			r = []string{"SET", k, strconv.Itoa(rng.Intn(50))}
		case x < 30:
			r = []string{"SET", k, "notanumber"}
		case x < 33:
			r = []string{"SET", k, "v", "GET"}
		case x < 35:
			r = []string{"SET", k, "v", "BADOPTION"}
		case x < 55:
			r = []string{"INCR", k}
		case x < 75:
			r = []string{"GET", k}
		case x < 85:
			r = []string{"DEL", k, fmt.Sprintf("pl:%d", rng.Intn(6))}
		case x < 88:
			r = []string{"INCR"}
		case x < 91:
			r = []string{"MSET", k, "7", fmt.Sprintf("pl:%d", rng.Intn(6)), "x"}
		case x < 94:
			r = []string{"PING"}
		case x < 97:
			r = []string{"ECHO", k}
		default:
			r = []string{"DBSIZE"}
		}
		reqs = append(reqs, r)
	}
	return reqs
}

func flushAll(t *testing.T, addr string, keys int) {
	t.Helper()
	req := []string{"DEL"}
	for i := 0; i < keys; i++ {
		req = append(req, fmt.Sprintf("pl:%d", i))
	}
	oneByOne(t, addr, [][]string{req})
}

func compareReplies(t *testing.T, what string, reqs [][]string, got, want [][]byte) {
	t.Helper()
	bad := 0
	for i := range reqs {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s: request %d %q: got %q, want %q", what, i, reqs[i], got[i], want[i])
			if bad++; bad == 10 {
				t.FailNow()
			}
		}
	}
}

// TestPipelineMatchesOneByOne: a pipeline of mixed writes and reads on one
// connection gets exactly the replies of the same requests sent one at a
// time, on LoomCache and on a real redis-server.
func TestPipelineMatchesOneByOne(t *testing.T) {
	node := nodetest.Start(t, server.Config{Fsync: true})
	redis := nodetest.StartRedis(t)
	lc := node.Addr().String()
	for _, seed := range []int64{1, 2, 3} {
		reqs := mixedRequests(1000, seed)
		flushAll(t, redis.Addr, 6)
		want := oneByOne(t, redis.Addr, reqs)
		flushAll(t, lc, 6)
		serial := oneByOne(t, lc, reqs)
		flushAll(t, lc, 6)
		piped := pipelined(t, lc, reqs)
		compareReplies(t, fmt.Sprintf("seed %d, one by one vs redis", seed), reqs, serial, want)
		compareReplies(t, fmt.Sprintf("seed %d, pipelined vs one by one", seed), reqs, piped, serial)
	}
}

// TestPipelinedWritesShareCommits: writes pipelined on one connection are
// proposed without waiting for each other, so far fewer entries and WAL
// commits than writes make them durable.
func TestPipelinedWritesShareCommits(t *testing.T) {
	node := nodetest.Start(t, server.Config{Fsync: true})
	const n = 1000
	reqs := make([][]string, n)
	for i := range reqs {
		reqs[i] = []string{"SET", fmt.Sprintf("gc:%d", i), "v"}
	}
	before := node.Node().Stats().WAL
	for i, rep := range pipelined(t, node.Addr().String(), reqs) {
		if string(rep) != "+OK\r\n" {
			t.Fatalf("reply %d: %q", i, rep)
		}
	}
	after := node.Node().Stats().WAL
	entries, batches := after.Entries-before.Entries, after.Batches-before.Batches
	t.Logf("%d writes: %d entries in %d WAL commits", n, entries, batches)
	// Writes proposed together share an entry (raftfsm's batches), and
	// entries a commit.
	if entries == 0 || batches*2 > n {
		t.Errorf("%d writes took %d entries in %d WAL commits; want at least 2 writes a commit", n, entries, batches)
	}
}

// TestPipelineProtocolOrder: a reply deferred behind Raft is written in
// the protocol that was in force when its request was read, and a
// protocol error after deferred writes comes after their replies.
func TestPipelineProtocolOrder(t *testing.T) {
	node := nodetest.Start(t, server.Config{Fsync: true})
	addr := node.Addr().String()
	tests := []struct {
		name string
		send string
		want string // prefix of everything read until the connection closes
	}{
		{"null before HELLO 3",
			"*4\r\n$3\r\nSET\r\n$5\r\npo:k1\r\n$1\r\nv\r\n$3\r\nGET\r\n*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*1\r\n$4\r\nQUIT\r\n",
			"$-1\r\n%7\r\n"},
		{"protocol error after writes",
			"*3\r\n$3\r\nSET\r\n$5\r\npo:k2\r\n$1\r\nv\r\n*2\r\n$4\r\nINCR\r\n$5\r\npo:k2\r\n*1\r\n$x\r\n",
			"+OK\r\n-ERR value is not an integer or out of range\r\n-ERR Protocol error: invalid bulk length\r\n"},
		{"QUIT after writes",
			"*3\r\n$3\r\nSET\r\n$5\r\npo:k3\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$5\r\npo:k3\r\n*1\r\n$4\r\nQUIT\r\n",
			"+OK\r\n:2\r\n+OK\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dial(t, addr)
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(br)
			if !bytes.HasPrefix(got, []byte(tc.want)) {
				t.Errorf("got %q, want it to begin with %q", got, tc.want)
			}
		})
	}
}
