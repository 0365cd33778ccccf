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
	logs.waitLogged(t, "scheduled to be closed ASAP for overcoming of output buffer limits")
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
	sub := dialRaw(t, node.Addr().String())
	sub.do("PSUBSCRIBE", "c*")
	sub.do("SSUBSCRIBE", "s")
	for _, f := range []string{"pubsub_channels", "pubsub_patterns", "pubsubshard_channels"} {
		if n := infoInt(t, pub, "stats", f); n != 1 {
			t.Errorf("INFO %s: %d", f, n)
		}
	}
	for i := 0; i < 40; i++ { // 10MB each: their writers block
		if r := pub.str("PUBLISH", "c", big); r != "4" {
			t.Fatal(r)
		}
	}
	if err := node.Stop(); err != nil {
		t.Fatal(err)
	}
}

// A node replaying its log at startup delivers none of the messages in
// it (they were delivered when first applied), though a client may
// subscribe while it loads, as Redis allows; what is published once it
// has loaded is delivered.
func TestPubSubReplayDeliversNothing(t *testing.T) {
	dir := t.TempDir()
	node := nodetest.Start(t, server.Config{DataDir: dir})
	pub := dialRaw(t, node.Addr().String())
	for i := 0; i < 50; i++ {
		if r := pub.str("PUBLISH", "c", "old"); r != "0" {
			t.Fatal(r)
		}
	}
	if err := node.Node().Snapshot(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ { // in the WAL after the snapshot
		pub.str("PUBLISH", "c", "old")
	}
	node.Stop()

	r := restart(t, dir, nil)
	sub := dialWhenListening(t, r.cfg.Addr)
	if got := sub.do("SUBSCRIBE", "c"); got != "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n" {
		t.Fatalf("SUBSCRIBE while loading: %q", got)
	}
	r.restored(t) // the snapshot, then the WAL replays
	r.loaded(t)
	after := dialRaw(t, r.cfg.Addr)
	if got := after.str("PUBLISH", "c", "new"); got != "1" {
		t.Fatalf("PUBLISH after loading: %s", got)
	}
	if got, err := readReply(sub.br); err != nil || string(got) != "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$3\r\nnew\r\n" {
		t.Fatalf("first message: %q %v", got, err)
	}
}
