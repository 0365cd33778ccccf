package scripting

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Helpers for tests against a real redis-server: starting one on a free
// loopback port, and a raw RESP connection that returns replies byte for
// byte.

func startRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir(), "--busy-reply-threshold", "5000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("redis-server on %s did not start", addr)
	return ""
}

type rawConn struct {
	c     net.Conn
	r     *bufio.Reader
	proto int
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{c: c, r: bufio.NewReader(c), proto: 2}
}

func encodeCommand(args [][]byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n", len(a))
		b.Write(a)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

// do sends a command and returns its raw reply.
func (rc *rawConn) do(args ...[]byte) []byte {
	rc.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := rc.c.Write(encodeCommand(args)); err != nil {
		return []byte("-CONN " + err.Error() + "\r\n")
	}
	var out bytes.Buffer
	if err := readReply(rc.r, &out); err != nil {
		return []byte("-CONN " + err.Error() + "\r\n")
	}
	return out.Bytes()
}

func (rc *rawConn) cmd(args ...string) []byte {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return rc.do(b...)
}

func (rc *rawConn) setProto(p int) {
	if rc.proto != p {
		rc.cmd("HELLO", strconv.Itoa(p))
		rc.proto = p
	}
}

// readReply copies one complete RESP2/RESP3 reply.
func readReply(r *bufio.Reader, out *bytes.Buffer) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		return err
	}
	out.Write(line)
	if len(line) < 3 {
		return fmt.Errorf("short line %q", line)
	}
	body := string(line[1 : len(line)-2])
	switch line[0] {
	case '$', '=', '!':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		out.Write(buf)
	case '*', '~', '>', '%', '|':
		n, _ := strconv.Atoi(body)
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		for i := 0; i < n; i++ {
			if err := readReply(r, out); err != nil {
				return err
			}
		}
		if line[0] == '|' {
			return readReply(r, out)
		}
	}
	return nil
}

// redisHost is a Host that sends each command to a real redis-server and
// refuses, as scriptCall does, what a script may not run (it knows the
// commands from COMMAND INFO).
type redisHost struct {
	mu    sync.Mutex
	conn  *rawConn
	e     *Engine
	infos map[string]cmdInfo
	logs  []string
}

type cmdInfo struct {
	known bool
	arity int
	flags map[string]bool
}

func (h *redisHost) info(name string) cmdInfo {
	name = strings.ToLower(name)
	if ci, ok := h.infos[name]; ok {
		return ci
	}
	h.conn.setProto(2)
	rep := h.conn.cmd("COMMAND", "INFO", name)
	ci := cmdInfo{flags: map[string]bool{}}
	// *1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n...
	lines := strings.Split(string(rep), "\r\n")
	if len(lines) > 4 && lines[1] != "*-1" && lines[1] != "_" {
		ci.known = true
		ci.arity, _ = strconv.Atoi(strings.TrimPrefix(lines[4], ":"))
		n, _ := strconv.Atoi(strings.TrimPrefix(lines[5], "*"))
		for i := 0; i < n && 6+i < len(lines); i++ {
			ci.flags[strings.TrimPrefix(lines[6+i], "+")] = true
		}
	}
	h.infos[name] = ci
	return ci
}

func (h *redisHost) Call(args [][]byte, proto int) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	ci := h.info(string(args[0]))
	n := len(args)
	switch {
	case !ci.known:
		return []byte("-ERR Unknown Redis command called from script\r\n")
	case (ci.arity > 0 && ci.arity != n) || n < -ci.arity:
		return []byte("-ERR Wrong number of args calling Redis command from script\r\n")
	case ci.flags["noscript"]:
		return []byte("-ERR This Redis command is not allowed from script\r\n")
	}
	if r := h.e.Running(); r != nil && r.ReadOnly && (ci.flags["write"] || ci.flags["may_replicate"]) {
		return []byte("-ERR Write commands are not allowed from read-only scripts.\r\n")
	}
	h.conn.setProto(proto)
	return h.conn.do(args...)
}

func (h *redisHost) ACLCheck(args [][]byte) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.info(string(args[0])).known {
		return false, fmt.Errorf("unknown command")
	}
	return true, nil
}

func (h *redisHost) Log(level int, msg string) {
	h.mu.Lock()
	h.logs = append(h.logs, fmt.Sprintf("%d %s", level, msg))
	h.mu.Unlock()
}
