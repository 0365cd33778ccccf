package rdb

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The codec against a real redis-server: every value Redis DUMPs decodes,
// and encodes back to Redis's bytes given the encoding OBJECT ENCODING
// names.

type respConn struct {
	c net.Conn
	r *bufio.Reader
}

func (c *respConn) do(t testing.TB, args ...string) any {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.c.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	v, err := readReply(c.r)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readReply(r *bufio.Reader) (any, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return fmt.Errorf("%s", line[1:]), nil
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil, nil
		}
		p := make([]byte, n+2)
		if _, err := io.ReadFull(r, p); err != nil {
			return nil, err
		}
		return string(p[:n]), nil
	case '*':
		n, _ := strconv.Atoi(line[1:])
		out := make([]any, 0, max(n, 0))
		for range n {
			v, err := readReply(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply %q", line)
}

// startRedis starts a redis-server on a free port, or skips when there is
// none on this machine.
func startRedis(t testing.TB) *respConn {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed: the reference codec is not available")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--dir", dir,
		"--logfile", filepath.Join(dir, "log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			rc := &respConn{c: c, r: bufio.NewReader(c)}
			t.Cleanup(func() { c.Close() })
			return rc
		}
		if i > 200 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fillRedis writes one key of every type and encoding.
func fillRedis(t testing.TB, c *respConn) {
	big := strings.Repeat("abcdefghij", 30)
	c.do(t, "SET", "s:int", "12345")
	c.do(t, "SET", "s:neg", "-7")
	c.do(t, "SET", "s:bigint", "123456789012345")
	c.do(t, "SET", "s:short", "hello")
	c.do(t, "SET", "s:empty", "")
	c.do(t, "SET", "s:long", big+"xyz")
	c.do(t, "SET", "s:incompressible", "q9w8e7r6t5y4u3i2o1p0asdfghjk")
	c.do(t, "RPUSH", "l:small", "a", "1", "-300", "70000", "-9000000000", "hello world", "")
	for i := range 300 {
		c.do(t, "RPUSH", "l:big", fmt.Sprintf("element-%d-%s", i, strings.Repeat("x", i%50)))
	}
	c.do(t, "SADD", "set:int", "1", "5", "-3", "100000", "9999999999")
	c.do(t, "SADD", "set:str", "a", "b", "c")
	c.do(t, "HSET", "h:small", "f1", "v1", "n", "42", "big", big)
	c.do(t, "HSET", "h:lp", "f1", "v1", "n", "42", "f3", "-12")
	c.do(t, "ZADD", "z:small", "1", "a", "2.5", "b", "-3", "c", "1e100", "d", "0.1", "e", "inf", "f")
	args := []string{"ZADD", "z:big"}
	for i := range 200 {
		args = append(args, strconv.Itoa(i*3), fmt.Sprintf("m%d", i))
	}
	c.do(t, args...)
	c.do(t, "PFADD", "hll", "a", "b", "c")
	for i := range 250 {
		c.do(t, "XADD", "x", "*", "f", strconv.Itoa(i), "g", "v")
	}
	c.do(t, "XADD", "x", "*", "other", "1")
	c.do(t, "XDEL", "x", firstStreamID(t, c))
	c.do(t, "XGROUP", "CREATE", "x", "g1", "0")
	c.do(t, "XREADGROUP", "GROUP", "g1", "alice", "COUNT", "3", "STREAMS", "x", ">")
	c.do(t, "XGROUP", "CREATE", "x", "g0", "$")
}

func firstStreamID(t testing.TB, c *respConn) string {
	v := c.do(t, "XRANGE", "x", "-", "+", "COUNT", "1").([]any)
	return v[0].([]any)[0].(string)
}

func TestAgainstRedis(t *testing.T) {
	c := startRedis(t)
	fillRedis(t, c)
	keys := c.do(t, "KEYS", "*").([]any)
	if len(keys) < 15 {
		t.Fatalf("keys: %v", keys)
	}
	for _, k := range keys {
		key := k.(string)
		p := c.do(t, "DUMP", key).(string)
		enc := c.do(t, "OBJECT", "ENCODING", key).(string)
		v, err := DecodePayload([]byte(p))
		if err != nil {
			t.Fatalf("%s (%s): %v", key, enc, err)
		}
		var body []byte
		switch enc {
		case "int", "embstr", "raw":
			body = EncodeString(v.Str)
		case "quicklist":
			body = EncodeQuicklist(v.Elems, v.Nodes)
		case "intset":
			body, _ = EncodeIntset(v.Elems)
		case "hashtable":
			if v.Kind == KindSet {
				body = EncodeSet(v.Elems)
			} else {
				body = EncodeHash(v.Elems)
			}
		case "listpack":
			if v.Kind == KindHash {
				body = EncodeHashListpack(v.Elems)
			} else {
				body = EncodeZSetListpack(v.ZSet)
			}
		case "skiplist":
			ms := v.ZSet
			// the payload lists them from the tail: back to rank order
			for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
				ms[i], ms[j] = ms[j], ms[i]
			}
			body = EncodeZSetSkiplist(ms)
		case "stream":
			body = EncodeStream(v.Stream)
		default:
			t.Fatalf("%s: encoding %s", key, enc)
		}
		t.Logf("%s %s %d bytes", key, enc, len(p))
		if got := Payload(body); !bytes.Equal(got, []byte(p)) {
			t.Errorf("%s (%s): encoded\n%q\nRedis\n%q", key, enc, got, p)
		}
		// and Redis takes our bytes back
		if r := c.do(t, "RESTORE", key+":copy", "0", string(Payload(body))); r != "OK" {
			t.Errorf("%s: RESTORE of ours: %v", key, r)
		}
	}
}
