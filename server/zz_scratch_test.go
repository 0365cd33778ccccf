package server_test

import (
	"math/rand"
	"net"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

func probeIdle(addr string, in []byte) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "dial " + err.Error()
	}
	defer c.Close()
	c.Write(in)
	var out []byte
	buf := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		n, err := c.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return string(out)
			}
			return string(out) + "<CLOSED>"
		}
	}
}

func TestScratchDiff(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	seeds := []string{
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n", "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "PING\r\n", "ECHO \"a\\x41\" 'b'\r\n",
		"*2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n", "*1\r\n$4\r\nPING\r\n", "SET k v\r\nGET k\r\n",
	}
	rnd := rand.New(rand.NewSource(1))
	alphabet := []byte("*$\r\n0123456789-+ \"'\\x\x00abPINGSET")
	diffs := 0
	for i := 0; i < 400; i++ {
		in := []byte(seeds[rnd.Intn(len(seeds))] + seeds[rnd.Intn(len(seeds))])
		for m := 0; m < 1+rnd.Intn(3); m++ {
			p := rnd.Intn(len(in))
			switch rnd.Intn(3) {
			case 0:
				in[p] = alphabet[rnd.Intn(len(alphabet))]
			case 1:
				in = append(in[:p], in[p+1:]...)
			case 2:
				in = append(in[:p], append([]byte{alphabet[rnd.Intn(len(alphabet))]}, in[p:]...)...)
			}
			if len(in) == 0 {
				in = []byte("x")
			}
		}
		a, b := probeIdle(redis.Addr, in), probeIdle(node.Addr().String(), in)
		if a != b {
			diffs++
			t.Logf("in %q\n  redis %q\n  loom  %q", in, a, b)
		}
		probeIdle(redis.Addr, []byte("FLUSHALL\r\n"))
		probeIdle(node.Addr().String(), []byte("FLUSHALL\r\n"))
	}
	t.Logf("%d diffs", diffs)
}
