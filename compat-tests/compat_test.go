package compattests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

const (
	// replyTimeout is how long one reply may take before the side is
	// reported as not answering.
	replyTimeout = 10 * time.Second
	// rawIdle is how long a connection must stay quiet after a !raw send
	// for everything it answered to count as read.
	rawIdle = 200 * time.Millisecond
	// rawFirst is how long a !raw step waits for the first byte: longer
	// than rawIdle, as a write must be fsync'd before LoomCache answers.
	rawFirst = time.Second
	// rawLimit bounds what one !raw step may read.
	rawLimit = 1 << 20
	// closedMark stands for a connection the server closed, so that two
	// servers closing at the same point compare equal.
	closedMark = "<connection closed>"
)

// TestScripts runs every testdata/*.txt script against redis-server and
// LoomCache, over RESP2 and then RESP3, and compares every reply.
// COMPAT_ONLY=strings (or strings.txt) runs one file.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	if only := os.Getenv("COMPAT_ONLY"); only != "" {
		want := strings.TrimSuffix(filepath.Base(only), ".txt") + ".txt"
		files = nil
		if _, err := os.Stat(filepath.Join("testdata", want)); err != nil {
			t.Fatalf("COMPAT_ONLY=%s: %v", only, err)
		}
		files = []string{filepath.Join("testdata", want)}
	}
	if len(files) == 0 {
		t.Fatal("no scripts in testdata/")
	}
	// Parse everything first: a broken script fails the run before any
	// server starts, and is never mistaken for a passing one.
	scripts := make(map[string][]Step, len(files))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		steps, err := ParseScript(filepath.Base(f), src)
		if err != nil {
			t.Fatalf("script syntax: %v", err)
		}
		scripts[f] = steps
	}

	redis := nodetest.StartRedis(t)
	// Started as redis-server is (--save ''), so CONFIG GET save agrees.
	loom := nodetest.Start(t, server.Config{Fsync: true, Directives: [][2]string{{"save", ""}}})
	loomAddr := loom.Addr().String()

	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", name, proto), func(t *testing.T) {
				flushAll(t, "redis", redis.Addr)
				flushAll(t, "loomcache", loomAddr)
				runScript(t, filepath.Base(f), scripts[f], proto, redis.Addr, loomAddr)
			})
		}
	}
}

// flushAll empties every database of the server at addr.
func flushAll(t *testing.T, who, addr string) {
	t.Helper()
	c, err := dial(addr, 2)
	if err != nil {
		t.Fatalf("%s: %v", who, err)
	}
	defer c.close()
	r, err := c.do([][]byte{[]byte("FLUSHALL")})
	if err != nil {
		t.Fatalf("%s: FLUSHALL: %v", who, err)
	}
	if string(r.Raw) != "+OK\r\n" {
		t.Fatalf("%s: FLUSHALL replied %q", who, r.Raw)
	}
}

// runScript runs steps on fresh connections to both servers and reports
// every reply that differs.
func runScript(t *testing.T, file string, steps []Step, proto int, redisAddr, loomAddr string) {
	mismatches, err := compareServers(file, steps, proto, redisAddr, loomAddr)
	for _, m := range mismatches {
		t.Error(m)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// compareServers runs steps against redis (the reference) and loom on
// fresh connections speaking RESP proto, and returns a message for every
// reply that differs. err is a failure that stopped the run.
func compareServers(file string, steps []Step, proto int, redisAddr, loomAddr string) (mismatches []string, err error) {
	sides := [2]*side{{name: "redis", addr: redisAddr}, {name: "loomcache", addr: loomAddr}}
	defer sides[0].close()
	defer sides[1].close()
	for _, s := range sides {
		if err := s.connect(proto); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	for _, st := range steps {
		if !st.RunsUnder(proto) {
			continue
		}
		if st.Kind == stepSleep {
			time.Sleep(st.Sleep)
			continue
		}
		// Both sides at once: a !raw step waits for idleness on each.
		var got [2][]byte
		var errs [2]error
		var wg sync.WaitGroup
		for i, s := range sides {
			wg.Go(func() { got[i], errs[i] = s.run(st, proto) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				return mismatches, fmt.Errorf("%s:%d: %s: %s: %w", file, st.Line, st.Text, sides[i].name, err)
			}
		}
		if st.Compare == compareNothing {
			continue
		}
		want, have := got[0], got[1]
		if st.Compare == compareType {
			want, have = want[:min(1, len(want))], have[:min(1, len(have))]
		}
		if !bytes.Equal(want, have) {
			mismatches = append(mismatches, fmt.Sprintf("%s:%d: %s\n\tredis:     %s\n\tloomcache: %s",
				file, st.Line, st.Text, quote(got[0]), quote(got[1])))
		}
	}
	return mismatches, nil
}

// quote shows a reply as a Go string, cut short if it is huge.
func quote(b []byte) string {
	const max = 4000
	if len(b) > max {
		return fmt.Sprintf("%q... (%d bytes)", b[:max], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// side is one server under comparison and the script's connection to it.
type side struct {
	name string
	addr string
	c    *conn // nil after the server closed it: reconnect before the next step
}

func (s *side) connect(proto int) error {
	c, err := dial(s.addr, proto)
	if err != nil {
		return err
	}
	s.c = c
	return nil
}

func (s *side) close() {
	if s.c != nil {
		s.c.close()
		s.c = nil
	}
}

// run performs one step and returns the bytes to compare. A connection
// the server closed (after QUIT, a protocol error, ...) reads as
// closedMark and is replaced by a fresh one for the next step.
func (s *side) run(st Step, proto int) ([]byte, error) {
	if s.c == nil {
		if err := s.connect(proto); err != nil {
			return nil, fmt.Errorf("reconnect: %w", err)
		}
	}
	if st.Kind == stepRaw {
		out, closed, err := s.c.raw(st.Raw)
		if closed {
			s.close()
			out = append(out, closedMark...)
		}
		return out, err
	}
	r, err := s.c.do(st.Args)
	switch {
	case err == nil:
	case isClosed(err):
		s.close()
		return []byte(closedMark), nil
	case isTimeout(err):
		s.close()
		return []byte(fmt.Sprintf("<no reply within %v>", replyTimeout)), nil
	default:
		return nil, err
	}
	switch st.Compare {
	case compareSorted:
		return r.Sorted(), nil
	case compareRules:
		return r.RulesSorted(), nil
	}
	return r.Raw, nil
}

// conn is a raw RESP connection.
type conn struct {
	nc net.Conn
	br *bufio.Reader
}

// dial connects to addr and, for RESP3, sends HELLO 3 first.
func dial(addr string, proto int) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	c := &conn{nc: nc, br: bufio.NewReader(nc)}
	if proto == 3 {
		r, err := c.do([][]byte{[]byte("HELLO"), []byte("3")})
		if err != nil {
			c.close()
			return nil, fmt.Errorf("HELLO 3: %w", err)
		}
		if r.Type != '%' {
			c.close()
			return nil, fmt.Errorf("HELLO 3 replied %q", r.Raw)
		}
	}
	return c, nil
}

func (c *conn) close() { c.nc.Close() }

// do sends one command and reads its reply.
func (c *conn) do(args [][]byte) (Reply, error) {
	c.nc.SetDeadline(time.Now().Add(replyTimeout))
	if _, err := c.nc.Write(encodeCommand(args)); err != nil {
		return Reply{}, err
	}
	return ReadReply(c.br)
}

// raw sends b as is and returns everything read until the connection has
// been idle for rawIdle (rawFirst before any byte came), and whether the
// server closed it.
func (c *conn) raw(b []byte) (out []byte, closed bool, err error) {
	c.nc.SetDeadline(time.Now().Add(replyTimeout))
	if _, err := c.nc.Write(b); err != nil {
		if isClosed(err) {
			return nil, true, nil
		}
		return nil, false, err
	}
	deadline := time.Now().Add(replyTimeout)
	buf := make([]byte, 4096)
	for len(out) < rawLimit && time.Now().Before(deadline) {
		wait := rawIdle
		if len(out) == 0 {
			wait = rawFirst
		}
		c.nc.SetReadDeadline(time.Now().Add(wait))
		n, err := c.br.Read(buf)
		out = append(out, buf[:n]...)
		switch {
		case err == nil:
		case isTimeout(err):
			return out, false, nil
		case isClosed(err):
			return out, true, nil
		default:
			return out, false, err
		}
	}
	return out, false, fmt.Errorf("still reading after %d bytes", len(out))
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isClosed reports an error that means the peer closed the connection.
func isClosed(err error) bool {
	for _, e := range []error{io.EOF, io.ErrUnexpectedEOF, net.ErrClosed, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
