package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// closedWithin reads c until the server closes it (the reply bytes are
// dropped) and fails if it does not within the test's minute.
func closedWithin(t *testing.T, c *rawConn, what string) {
	t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(time.Minute))
	if _, err := readUntilClosed(c.nc); err != nil {
		t.Fatalf("%s: not closed: %v", what, err)
	}
}

// A subscriber that stops reading is closed once its queued messages
// reach the pubsub class's hard limit, as Redis closes it, and logged;
// the publisher and the node go on.
func TestPubSubOutputLimitClosesSubscriber(t *testing.T) {
	lim := [][2]string{{"client-output-buffer-limit", "pubsub 256kb 0 0"}}
	logs := &logBuf{}
	node := nodetest.Start(t, server.Config{LogOutput: logs, Directives: lim})
	redis := nodetest.StartRedis(t, "--client-output-buffer-limit", "pubsub 256kb 0 0")
	big := strings.Repeat("m", 64<<10)
	for _, srv := range []struct{ name, addr string }{{"redis", redis.Addr}, {"loomcache", node.Addr().String()}} {
		t.Run(srv.name, func(t *testing.T) {
			sub := dialRaw(t, srv.addr)
			if r := sub.do("SUBSCRIBE", "firehose"); len(r.([]any)) != 3 {
				t.Fatal(r)
			}
			// The socket's buffers take a few MB before the queue grows.
			pub := dialRaw(t, srv.addr)
			closed := false
			for i := 0; i < 2000 && !closed; i++ {
				r := pub.str("PUBLISH", "firehose", big)
				closed = r == "0"
			}
			if !closed {
				t.Fatal("the subscriber that does not read was never dropped")
			}
			closedWithin(t, sub, "subscriber over the limit")
			if r := pub.str("PING"); r != "PONG" {
				t.Fatal(r)
			}
		})
	}
	if !strings.Contains(logs.String(), "scheduled to be closed ASAP for overcoming of output buffer limits") {
		t.Errorf("no warning logged:\n%s", logs.String())
	}
}

// Redis closes the connections subscribed to a channel or pattern their
// user may no longer use (ACLKillPubsubClientsIfNeeded), and only those.
func TestPubSubRevokedChannelsDisconnect(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	for _, srv := range []struct{ name, addr string }{{"redis", redis.Addr}, {"loomcache", node.Addr().String()}} {
		t.Run(srv.name, func(t *testing.T) {
			admin := dialRaw(t, srv.addr)
			if r := admin.str("ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*", "resetchannels", "&ok*", "&news"); r != "OK" {
				t.Fatal(r)
			}
			login := func(subscribe ...string) *rawConn {
				c := dialRaw(t, srv.addr)
				if r := c.str("AUTH", "u", "x"); r != "OK" {
					t.Fatal(r)
				}
				if r := c.do(subscribe...); len(r.([]any)) != 3 {
					t.Fatal(r)
				}
				return c
			}
			pattern := login("PSUBSCRIBE", "ok*")
			channel := login("SUBSCRIBE", "ok1")
			news := login("SUBSCRIBE", "news")
			// ok* is no longer listed literally: the pattern goes; ok1
			// still matches ok1*; news is listed.
			if r := admin.str("ACL", "SETUSER", "u", "resetchannels", "&ok1*", "&news"); r != "OK" {
				t.Fatal(r)
			}
			closedWithin(t, pattern, "pattern subscriber")
			if r := channel.do("PING"); len(r.([]any)) != 2 {
				t.Fatalf("channel subscriber: %v", r)
			}
			if r := admin.str("ACL", "SETUSER", "u", "resetchannels", "&news"); r != "OK" {
				t.Fatal(r)
			}
			closedWithin(t, channel, "channel subscriber")
			if r := news.do("PING"); len(r.([]any)) != 2 {
				t.Fatalf("news subscriber: %v", r)
			}
		})
	}
}

// A node shuts down with subscribers that stopped reading and writers
// blocked on their sockets: closing the connections ends the writers.
func TestPubSubShutdownStopsWriters(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	big := strings.Repeat("m", 256<<10)
	pub := dialRaw(t, node.Addr().String())
	for i := 0; i < 3; i++ {
		sub := dialRaw(t, node.Addr().String())
		sub.do("SUBSCRIBE", "c")
	}
	for i := 0; i < 40; i++ { // 10MB each: their writers block
		if r := pub.str("PUBLISH", "c", big); r != "3" {
			t.Fatal(r)
		}
	}
	if err := node.Stop(); err != nil {
		t.Fatal(err)
	}
}
