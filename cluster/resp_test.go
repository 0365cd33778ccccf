package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// errorReply is an error reply from the server (a definite answer).
type errorReply string

func (e errorReply) Error() string { return string(e) }

// reply is a decoded RESP2 reply: nil (null), string (status or bulk),
// int64, []any, or errorReply.
type reply = any

// conn is a minimal RESP2 client connection with a deadline per call.
type conn struct {
	nc   net.Conn
	r    *bufio.Reader
	addr string
}

func dial(addr string, timeout time.Duration) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	return &conn{nc: nc, r: bufio.NewReader(nc), addr: addr}, nil
}

func (c *conn) Close() error { return c.nc.Close() }

// do sends one command and reads its reply within timeout. A non-nil
// error is a transport failure (timeout, connection lost): after it the
// connection is unusable and the command's fate is unknown. An error
// reply comes back as an errorReply value with a nil error.
func (c *conn) do(timeout time.Duration, args ...string) (reply, error) {
	var r reply
	err := c.pipeline(timeout, [][]string{args}, func(_ int, got reply) { r = got })
	return r, err
}

// pipeline sends the commands in one write and reads their replies, all
// within timeout, calling got with each as it arrives. A non-nil error is
// as for do: the commands whose replies did not arrive have unknown fates.
func (c *conn) pipeline(timeout time.Duration, cmds [][]string, got func(i int, r reply)) error {
	c.nc.SetDeadline(time.Now().Add(timeout))
	var b []byte
	for _, args := range cmds {
		b = fmt.Appendf(b, "*%d\r\n", len(args))
		for _, a := range args {
			b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if _, err := c.nc.Write(b); err != nil {
		return err
	}
	for i := range cmds {
		r, err := readReply(c.r)
		if err != nil {
			return err
		}
		got(i, r)
	}
	return nil
}

func readReply(r *bufio.Reader) (reply, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("malformed reply line %q", line)
	}
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return errorReply(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '_':
		return nil, nil
	case '#', ',', '(':
		return body, nil
	case '>':
		v, err := readAggregate(r, body, 1)
		if err != nil || v == nil {
			return nil, err
		}
		return push(v.([]any)), nil
	case '%':
		return readAggregate(r, body, 2)
	case '*', '~':
		n, err := strconv.Atoi(body)
		if err != nil {
			return nil, err
		}
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readReply(r); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, errors.New("unknown reply type " + strconv.Quote(line))
}

// push is a RESP3 push frame (an invalidation, a message), apart from
// the replies it may come between.
type push []any

// readAggregate reads n×per elements (a push's, a map's) after the header
// body n.
func readAggregate(r *bufio.Reader, body string, per int) (reply, error) {
	n, err := strconv.Atoi(body)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil
	}
	out := make([]any, n*per)
	for i := range out {
		if out[i], err = readReply(r); err != nil {
			return nil, err
		}
	}
	return out, nil
}
