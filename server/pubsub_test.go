package server_test

import (
	"bufio"
	"bytes"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// psStep is one step of a Pub/Sub script: a request on one of the
// script's connections (args nil: nothing sent) and the number of frames
// read back from it.
type psStep struct {
	conn   int
	args   []string
	frames int
}

// runPubSubScript runs steps on fresh connections to addr and returns
// every frame read, raw, in order, each prefixed with its step.
func runPubSubScript(t *testing.T, addr string, conns int, steps []psStep) []string {
	t.Helper()
	cs := make([]net.Conn, conns)
	brs := make([]*bufio.Reader, conns)
	// {id:N} in a step's arguments stands for connection N's client id,
	// and the ids in the frames read are written back that way.
	var ids []string
	for i := range cs {
		cs[i], brs[i] = dial(t, addr)
		var b bytes.Buffer
		encode(&b, "CLIENT", "ID")
		cs[i].Write(b.Bytes())
		r, err := readReply(brs[i])
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, "{id:"+strconv.Itoa(i)+"}", strings.Trim(string(r), ":\r\n"))
	}
	toID := strings.NewReplacer(ids...)
	idName := map[string]string{}
	for i := 0; i < len(ids); i += 2 {
		idName[ids[i+1]] = ids[i]
	}
	// Where replies name a client id: HELLO, CLIENT INFO, CLIENT
	// GETREDIR and TRACKINGINFO, tracking-redir-broken.
	idAt := regexp.MustCompile(`(\$2\r\nid\r\n:|redirect\r\n:|redir-broken\r\n:|\bid=|redir=)(\d+)`)
	fromIDs := func(r string) string {
		return idAt.ReplaceAllStringFunc(r, func(m string) string {
			sm := idAt.FindStringSubmatch(m)
			if n, ok := idName[sm[2]]; ok {
				return sm[1] + n
			}
			return m
		})
	}
	var out []string
	for i, st := range steps {
		if st.args != nil {
			var b bytes.Buffer
			args := slices.Clone(st.args)
			for j := range args {
				args[j] = toID.Replace(args[j])
			}
			encode(&b, args...)
			if _, err := cs[st.conn].Write(b.Bytes()); err != nil {
				t.Fatalf("step %d %q: %v", i, st.args, err)
			}
		}
		for f := 0; f < st.frames; f++ {
			cs[st.conn].SetReadDeadline(time.Now().Add(10 * time.Second))
			r, err := readReply(brs[st.conn])
			if err != nil {
				t.Fatalf("step %d %q frame %d: %v (so far %q)", i, st.args, f, err, out)
			}
			reply := fromIDs(string(r))
			if n, ok := idName[strings.Trim(reply, ":\r\n")]; ok && len(st.args) > 1 && strings.EqualFold(st.args[1], "GETREDIR") {
				reply = ":" + n + "\r\n"
			}
			out = append(out, strings.Join(st.args, " ")+" => "+reply)
		}
	}
	return out
}

// The subscriber's side of Pub/Sub, byte for byte as Redis: subscribe
// and unsubscribe confirmations and their counts, messages for a channel
// and a pattern that both match (both are sent), RESP2 subscribed mode
// (its PING, its refusals, RESET leaving it), shard channels, RESP3
// pushes interleaved with ordinary replies, and PUBSUB's answers.
func TestPubSubAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	const sub, pub = 0, 1
	steps := []psStep{
		{sub, []string{"SUBSCRIBE", "a", "b", "a"}, 3},
		{sub, []string{"PING"}, 1},
		{sub, []string{"PING", "x"}, 1},
		{sub, []string{"GET", "k"}, 1},
		{sub, []string{"CLIENT", "LIST"}, 1},
		{sub, []string{"PSUBSCRIBE", "a*", "??z"}, 2},
		{pub, []string{"PUBLISH", "a", "hello"}, 1},
		{sub, nil, 2}, // message, then pmessage
		{pub, []string{"PUBLISH", "ax", "hi"}, 1},
		{sub, nil, 1},
		{pub, []string{"PUBLISH", "nobody", "hi"}, 1},
		{pub, []string{"PUBSUB", "NUMSUB", "a", "b", "c"}, 1},
		{pub, []string{"PUBSUB", "NUMSUB"}, 1},
		{pub, []string{"PUBSUB", "NUMPAT"}, 1},
		{pub, []string{"PUBSUB", "CHANNELS", "a"}, 1},
		{pub, []string{"PUBSUB", "CHANNELS", "a", "b"}, 1},
		{pub, []string{"PUBSUB", "HELP"}, 1},
		{pub, []string{"PUBSUB", "NUMPAT", "x"}, 1},
		{pub, []string{"PUBSUB", "BOGUS"}, 1},
		{pub, []string{"COMMAND", "GETKEYS", "SPUBLISH", "a", "b"}, 1}, // channels are not keys
		{pub, []string{"COMMAND", "GETKEYSANDFLAGS", "SSUBSCRIBE", "a", "b"}, 1},
		{pub, []string{"COMMAND", "INFO", "ssubscribe", "spublish", "pubsub|numsub"}, 1},
		{sub, []string{"UNSUBSCRIBE", "a", "zz"}, 2},
		{sub, []string{"UNSUBSCRIBE"}, 1},
		{sub, []string{"PUNSUBSCRIBE", "??z"}, 1},
		{sub, []string{"PUNSUBSCRIBE"}, 1},
		{sub, []string{"UNSUBSCRIBE"}, 1},
		{sub, []string{"PUNSUBSCRIBE"}, 1},
		{sub, []string{"SUNSUBSCRIBE"}, 1},
		{sub, []string{"PING"}, 1}, // no longer subscribed
		{sub, []string{"SSUBSCRIBE", "s1", "s2"}, 2},
		{sub, []string{"SUBSCRIBE", "s1"}, 1}, // counted apart from shard channels
		{pub, []string{"SPUBLISH", "s1", "m"}, 1},
		{sub, nil, 1},
		{pub, []string{"PUBLISH", "s1", "n"}, 1},
		{sub, nil, 1},
		{pub, []string{"PUBSUB", "SHARDCHANNELS", "*1"}, 1},
		{pub, []string{"PUBSUB", "SHARDNUMSUB", "s1", "s3"}, 1},
		{sub, []string{"SUNSUBSCRIBE", "s1"}, 1},
		{sub, []string{"SUNSUBSCRIBE"}, 1},
		{sub, []string{"SUNSUBSCRIBE"}, 1},
		{sub, []string{"MULTI"}, 1}, // still subscribed to s1
		{sub, []string{"EXEC"}, 1},
		{sub, []string{"SUBSCRIBE"}, 1},
		{sub, []string{"RESET"}, 1},
		{sub, []string{"PING"}, 1},
		{pub, []string{"PUBLISH", "s1", "after reset"}, 1},
		// RESP3: pushes, and every command allowed.
		{sub, []string{"HELLO", "3", "SETNAME", "x"}, 1},
		{sub, []string{"SUBSCRIBE", "c"}, 1},
		{sub, []string{"PSUBSCRIBE", "c*"}, 1},
		{sub, []string{"CLIENT", "INFO"}, 1}, // flags=P sub=1 psub=1 ssub=0
		{pub, []string{"PUBLISH", "c", "x3"}, 1},
		{sub, nil, 2},
		{sub, []string{"GET", "k"}, 1},
		{sub, []string{"PING"}, 1},
		{sub, []string{"MULTI"}, 1},
		{sub, []string{"SUBSCRIBE", "in-multi"}, 1},
		{sub, []string{"EXEC"}, 1},
		{pub, []string{"PUBLISH", "in-multi", "after exec"}, 1},
		{sub, nil, 1},
		{sub, []string{"UNSUBSCRIBE", "in-multi"}, 1},
		{sub, []string{"UNSUBSCRIBE"}, 1},
		{sub, []string{"UNSUBSCRIBE"}, 1},
		{sub, []string{"PUNSUBSCRIBE", "c*", "d*"}, 2},
		{sub, []string{"SSUBSCRIBE", "t"}, 1},
		{pub, []string{"SPUBLISH", "t", ""}, 1},
		{sub, nil, 1},
		{sub, []string{"HELLO", "2"}, 1}, // the id differs: filtered below
		{pub, []string{"SPUBLISH", "t", "resp2 again"}, 1},
		{sub, nil, 1},
	}
	comparePubSubScript(t, node.Addr().String(), redis.Addr, 2, steps, "")
}

// comparePubSubScript runs steps against LoomCache and Redis and compares
// the frames, but for the figures that differ between servers (CLIENT
// LIST's, HELLO's) and what matches also.
func comparePubSubScript(t *testing.T, loom, redis string, conns int, steps []psStep, also string) {
	t.Helper()
	got := runPubSubScript(t, loom, conns, steps)
	want := runPubSubScript(t, redis, conns, steps)
	clean := regexp.MustCompile(`id=\S+ addr=\S+ laddr=\S+ fd=\d+ |age=\d+ idle=\d+ |qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ |rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ |=\d+\r\ntxt:|:\d+\r\n\$4\r\nmode`)
	if also != "" {
		clean = regexp.MustCompile(also + "|" + clean.String())
	}
	for i := range want {
		if i >= len(got) {
			t.Fatalf("missing frames from %d: want %q", i, want[i:])
		}
		g, w := clean.ReplaceAllString(got[i], ""), clean.ReplaceAllString(want[i], "")
		if g != w {
			t.Errorf("frame %d:\n got %q\nwant %q", i, g, w)
		}
	}
}

// ACL channel rules apply to PUBLISH, SUBSCRIBE, SSUBSCRIBE and
// PSUBSCRIBE (a pattern must be allowed literally), not to the
// unsubscribes, with Redis's replies.
func TestPubSubChannelPermissionsAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	steps := []psStep{
		{0, []string{"ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*", "resetchannels", "&ok*"}, 1},
		{1, []string{"AUTH", "u", "x"}, 1},
		{1, []string{"PUBLISH", "no", "m"}, 1},
		{1, []string{"PUBLISH", "ok1", "m"}, 1},
		{1, []string{"SPUBLISH", "no", "m"}, 1},
		{1, []string{"SUBSCRIBE", "ok1", "no"}, 1},
		{1, []string{"SSUBSCRIBE", "no"}, 1},
		{1, []string{"PSUBSCRIBE", "ok1*"}, 1},
		{1, []string{"PSUBSCRIBE", "ok*"}, 1},
		{1, []string{"UNSUBSCRIBE", "no"}, 1},
		{1, []string{"PUNSUBSCRIBE", "zz"}, 1},
		{1, []string{"SUNSUBSCRIBE", "no"}, 1},
		{0, []string{"ACL", "DRYRUN", "u", "PUBLISH", "no", "m"}, 1},
		{0, []string{"ACL", "DRYRUN", "u", "SUBSCRIBE", "ok", "nope"}, 1},
	}
	got := runPubSubScript(t, node.Addr().String(), 2, steps)
	want := runPubSubScript(t, redis.Addr, 2, steps)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("frame %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}

// Pipelined PUBLISHes are proposed without waiting for the writes before
// them (as writes are), and their replies still come in request order,
// as Redis's, the messages in the order published.
func TestPubSubPipelinedPublishAsRedis(t *testing.T) {
	node := nodetest.Start(t, server.Config{})
	redis := nodetest.StartRedis(t)
	var req bytes.Buffer
	var n int
	for i := 0; i < 50; i++ {
		encode(&req, "SET", "k", "v")
		encode(&req, "PUBLISH", "c", "m"+strings.Repeat("x", i))
		encode(&req, "GET", "k")
		encode(&req, "SPUBLISH", "s", "n"+strings.Repeat("y", i))
		encode(&req, "PUBLISH", "nobody", "z")
		n += 5
	}
	run := func(addr string) (replies, messages []string) {
		sub, subr := dial(t, addr)
		var b bytes.Buffer
		encode(&b, "SUBSCRIBE", "c")
		encode(&b, "SSUBSCRIBE", "s")
		sub.Write(b.Bytes())
		for range 2 {
			if _, err := readReply(subr); err != nil {
				t.Fatal(err)
			}
		}
		c, br := dial(t, addr)
		if _, err := c.Write(req.Bytes()); err != nil {
			t.Fatal(err)
		}
		for range n {
			r, err := readReply(br)
			if err != nil {
				t.Fatal(err)
			}
			replies = append(replies, string(r))
		}
		for range 100 {
			r, err := readReply(subr)
			if err != nil {
				t.Fatal(err)
			}
			messages = append(messages, string(r))
		}
		return replies, messages
	}
	gotR, gotM := run(node.Addr().String())
	wantR, wantM := run(redis.Addr)
	if strings.Join(gotR, "") != strings.Join(wantR, "") {
		t.Errorf("replies:\n got %q\nwant %q", gotR, wantR)
	}
	// Shard and plain messages are different logs on LoomCache: only
	// each one's order is promised.
	split := func(ms []string) (plain, shard []string) {
		for _, m := range ms {
			if strings.Contains(m, "smessage") {
				shard = append(shard, m)
			} else {
				plain = append(plain, m)
			}
		}
		return plain, shard
	}
	gp, gs := split(gotM)
	wp, ws := split(wantM)
	if strings.Join(gp, "") != strings.Join(wp, "") || strings.Join(gs, "") != strings.Join(ws, "") {
		t.Errorf("messages:\n got %q\nwant %q", gotM, wantM)
	}
}
