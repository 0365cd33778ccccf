package client

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/redis/go-redis/v9"
)

// reply is an error reply as go-redis returns them (a redis.Error).
type reply string

func (e reply) Error() string { return string(e) }
func (reply) RedisError()     {}

// TestJudge: what is sent again, and how, for each outcome of a send; a
// -MOVED records the partition's new leader.
func TestJudge(t *testing.T) {
	life, end := context.WithCancel(context.Background())
	defer end()
	r := &router{nodes: map[string]*redis.Client{}, leaders: []string{"", "", ""},
		refreshNow: make(chan struct{}, 1), life: life, end: end}
	defer r.close()
	for _, tc := range []struct {
		err      error
		readonly bool
		want     verdict
	}{
		{nil, false, done},
		{reply("MOVED 2 127.0.0.1:7001"), false, resend},
		{reply("MOVED x 127.0.0.1:7001"), true, done},
		{reply("CLUSTERDOWN no leader available, the command was not applied; retry"), false, backoff},
		{reply("LOADING Redis is loading the dataset in memory"), false, backoff},
		{reply("UNKNOWN the outcome of this write is unknown (leadership was lost); read before retrying"), false, done},
		{reply("CROSSSLOT Keys in request don't hash to the same slot"), true, done},
		{reply("WRONGTYPE Operation against a key holding the wrong kind of value"), true, done},
		{notSent(errors.New("dial tcp: connection refused")), false, backoff},
		{notSent(reply("LOADING Redis is loading the dataset in memory")), false, backoff},
		{redis.ErrPoolTimeout, false, backoff},
		{io.EOF, true, backoff}, // a read whose connection was lost
		{io.EOF, false, done},   // a write: it may have been applied
		{context.DeadlineExceeded, true, done},
	} {
		if got := r.judge(tc.err, tc.readonly); got != tc.want {
			t.Errorf("judge(%v, readonly %v) = %d, want %d", tc.err, tc.readonly, got, tc.want)
		}
	}
	if r.leaders[2] != "127.0.0.1:7001" || r.nodes["127.0.0.1:7001"] == nil {
		t.Errorf("after MOVED 2: leaders %q, nodes %v", r.leaders, r.nodes)
	}
}

// TestCommandEntry: COMMAND's entries give the first key, the readonly
// and movablekeys flags, and the subcommands' own.
func TestCommandEntry(t *testing.T) {
	object := []any{"object", int64(-2), []any{}, int64(0), int64(0), int64(0), []any{}, []any{}, []any{},
		[]any{
			[]any{"object|encoding", int64(3), []any{"readonly"}, int64(2), int64(2), int64(1)},
			[]any{"object|help", int64(2), []any{"loading", "stale"}, int64(0), int64(0), int64(0)},
		}}
	var tab cmdTable = map[string]cmdInfo{}
	for _, e := range []any{
		[]any{"GET", int64(2), []any{"readonly", "fast"}, int64(1), int64(1), int64(1)},
		[]any{"zunion", int64(-3), []any{"readonly", "movablekeys"}, int64(0), int64(0), int64(0)},
		object,
		[]any{"bad"},
	} {
		if name, info, ok := parseCommandEntry(e); ok {
			tab[name] = info
		}
	}
	ctx := context.Background()
	for _, tc := range []struct {
		args []any
		want cmdInfo
	}{
		{[]any{"get", "k"}, cmdInfo{firstKey: 1, readonly: true}},
		{[]any{"ZUNION", 2, "a", "b"}, cmdInfo{readonly: true, movable: true}},
		{[]any{"object", "ENCODING", "k"}, cmdInfo{firstKey: 2, readonly: true}},
		{[]any{"object", "help"}, cmdInfo{}},
		{[]any{"nosuch", "k"}, cmdInfo{}},
	} {
		got := tab.lookup(redis.NewCmd(ctx, tc.args...))
		if got.firstKey != tc.want.firstKey || got.readonly != tc.want.readonly || got.movable != tc.want.movable {
			t.Errorf("%v: %+v, want %+v", tc.args, got, tc.want)
		}
	}
	if _, ok := tab["bad"]; ok {
		t.Error("an entry too short was kept")
	}
}
