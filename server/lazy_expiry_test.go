package server_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// expiredKeys is INFO stats' expired_keys.
func expiredKeys(t *testing.T, c *rawConn) int {
	t.Helper()
	m := regexp.MustCompile(`expired_keys:(\d+)`).FindStringSubmatch(c.str("INFO", "stats"))
	if m == nil {
		t.Fatal("no expired_keys in INFO stats")
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// readExpiry runs pause.tcl's passive expiry steps against addr: keys
// that expire while writes are paused stay (reads miss them, nothing is
// deleted); once unpaused, a read of each deletes it before its reply,
// counted and notified. It returns the expired_keys growth seen during
// the pause and after each read, and the events a subscriber received.
func readExpiry(t *testing.T, addr string) []string {
	c, sub := dialRaw(t, addr), dialRaw(t, addr)
	c.do("CONFIG", "SET", "notify-keyspace-events", "Ex")
	if r := fmt.Sprint(sub.do("SUBSCRIBE", "__keyevent@0__:expired")); r != "[subscribe __keyevent@0__:expired 1]" {
		t.Fatalf("SUBSCRIBE: %s", r)
	}
	base := expiredKeys(t, c)
	c.do("MULTI")
	c.do("SET", "foo", "1", "PX", "10")
	c.do("SET", "bar", "2", "PX", "10")
	c.do("CLIENT", "PAUSE", "50000", "WRITE")
	c.do("EXEC")
	var out []string
	for c.do("GET", "foo") != nil || c.do("GET", "bar") != nil {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(250 * time.Millisecond) // several rounds of active expiry
	out = append(out, fmt.Sprint("paused:", expiredKeys(t, c)-base, " dbsize:", c.do("DBSIZE")))
	c.do("CLIENT", "UNPAUSE")
	for _, k := range []string{"foo", "bar"} {
		c.do("GET", k)
		out = append(out, fmt.Sprint("after GET ", k, ": ", expiredKeys(t, c)-base))
	}
	sub.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	return readFrames(t, sub, 2, out)
}

// readFrames appends the next n frames c reads (replies or pushes) to out.
func readFrames(t *testing.T, c *rawConn, n int, out []string) []string {
	t.Helper()
	for range n {
		r, err := c.read()
		if err != nil {
			t.Fatalf("after %q: %v", out, err)
		}
		out = append(out, fmt.Sprint(r))
	}
	return out
}

// A read that finds a key past its deadline deletes it as Redis's does:
// expired_keys counts it and "expired" is published before the read's
// reply; while writes are paused (CLIENT PAUSE WRITE) reads delete
// nothing, and neither does active expiry.
func TestReadExpiresAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	got := readExpiry(t, node.Addr().String())
	want := readExpiry(t, redis.Addr)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if len(want) != 5 || want[0] != "paused:0 dbsize:2" || want[2] != "after GET bar: 2" {
		t.Fatalf("Redis did not behave as pause.tcl says: %q", want)
	}
}
