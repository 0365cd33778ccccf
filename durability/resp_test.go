package durability

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// conn is a minimal RESP2 client: these tests want control over
// pipelining and connection loss that a full client hides.
type conn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
}

// serverError is an error reply ("-ERR ...").
type serverError string

func (e serverError) Error() string { return string(e) }

func dial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10)}, nil
}

func mustDial(t testing.TB, addr string) *conn {
	t.Helper()
	c, err := dial(addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (c *conn) Close() error { return c.nc.Close() }

// send buffers one command; flush writes the buffered commands.
func (c *conn) send(args ...string) {
	fmt.Fprintf(c.w, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(c.w, "$%d\r\n%s\r\n", len(a), a)
	}
}

func (c *conn) flush() error { return c.w.Flush() }

// do sends one command and reads its reply. A server error comes back
// as a serverError.
func (c *conn) do(args ...string) (any, error) {
	c.send(args...)
	if err := c.flush(); err != nil {
		return nil, err
	}
	return c.read()
}

// read reads one reply: string (status), serverError, int64, []byte,
// nil, or []any.
func (c *conn) read() (any, error) {
	c.nc.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := c.r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || !strings.HasSuffix(line, "\r\n") {
		return nil, fmt.Errorf("bad reply line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return nil, serverError(body)
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("bad bulk length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return nil, err
		}
		return buf[:n], nil
	case '*':
		n, err := strconv.Atoi(body)
		if err != nil || n < -1 {
			return nil, fmt.Errorf("bad array length %q", body)
		}
		if n == -1 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			v, err := c.read()
			var se serverError
			if err != nil && !errors.As(err, &se) {
				return nil, err
			}
			if err != nil {
				v = se
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown reply type %q", line)
}

// info returns the fields of INFO section as a map.
func info(t testing.TB, addr, section string) map[string]string {
	t.Helper()
	c := mustDial(t, addr)
	defer c.Close()
	v, err := c.do("INFO", section)
	if err != nil {
		t.Fatalf("INFO %s: %v", section, err)
	}
	b, ok := v.([]byte)
	if !ok {
		t.Fatalf("INFO %s: %T reply", section, v)
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, "#") {
			out[k] = v
		}
	}
	return out
}

// infoUint reads one unsigned field of an INFO section.
func infoUint(t testing.TB, fields map[string]string, name string) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(fields[name], 10, 64)
	if err != nil {
		t.Fatalf("INFO field %s = %q: %v", name, fields[name], err)
	}
	return v
}
