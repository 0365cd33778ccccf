package client

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// reply is an error reply as go-redis returns them (a redis.Error).
type reply string

func (e reply) Error() string { return string(e) }
func (reply) RedisError()     {}

// TestJudge: what is sent again, and how, for each outcome of a send
// (safe: a read, or a write under a request id); a -MOVED records the
// partition's new leader.
func TestJudge(t *testing.T) {
	life, end := context.WithCancel(context.Background())
	defer end()
	r := &router{nodes: map[string]*redis.Client{}, leaders: []string{"", "", ""},
		refreshNow: make(chan struct{}, 1), life: life, end: end}
	defer r.close()
	const (
		lost    = "UNKNOWN the outcome of this write is unknown (leadership was lost); read before retrying"
		retried = "UNKNOWN the outcome of this write is unknown (its request was retried); read before retrying"
	)
	for _, tc := range []struct {
		err  error
		safe bool
		want verdict
	}{
		{nil, false, done},
		{reply("MOVED 2 127.0.0.1:7001"), false, resend},
		{reply("MOVED x 127.0.0.1:7001"), true, done},
		{reply("CLUSTERDOWN no leader available, the command was not applied; retry"), false, backoff},
		{reply("LOADING Redis is loading the dataset in memory"), false, backoff},
		{reply(lost), false, done},   // a write without an id: returned
		{reply(lost), true, backoff}, // under its id: sent again
		{reply(retried), true, done}, // the nodes forgot its reply: the same again
		{reply(retried), false, done},
		{reply("CROSSSLOT Keys in request don't hash to the same slot"), true, done},
		{reply("WRONGTYPE Operation against a key holding the wrong kind of value"), true, done},
		{notSent(errors.New("dial tcp: connection refused")), false, backoff},
		{notSent(reply("LOADING Redis is loading the dataset in memory")), false, backoff},
		{redis.ErrPoolTimeout, false, backoff},
		{io.EOF, true, backoff}, // a read, or a write under its id, whose connection was lost
		{io.EOF, false, done},   // a write without an id: it may have been applied
		{os.ErrDeadlineExceeded, true, backoff},
		{context.DeadlineExceeded, true, done},
		{context.Canceled, true, done},
		{notSent(context.Canceled), true, done},
	} {
		if got := r.judge(tc.err, tc.safe); got != tc.want {
			t.Errorf("judge(%v, safe %v) = %d, want %d", tc.err, tc.safe, got, tc.want)
		}
	}
	if r.leaders[2] != "127.0.0.1:7001" || r.nodes["127.0.0.1:7001"] == nil {
		t.Errorf("after MOVED 2: leaders %q, nodes %v", r.leaders, r.nodes)
	}
}

// TestCommandEntry: COMMAND's entries give the first key, the readonly
// and movablekeys flags, whether the server gives the command a request
// id, and the subcommands' own.
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
		[]any{"incr", int64(2), []any{"write", "denyoom", "fast"}, int64(1), int64(1), int64(1)},
		[]any{"blpop", int64(-3), []any{"write", "blocking"}, int64(1), int64(-2), int64(1)},
		[]any{"eval", int64(-3), []any{"noscript", "stale", "skip_monitor", "may_replicate", "no_mandatory_keys", "movablekeys"}, int64(0), int64(0), int64(0)},
		[]any{"eval_ro", int64(-3), []any{"readonly", "noscript", "movablekeys"}, int64(0), int64(0), int64(0)},
		[]any{"ping", int64(-1), []any{"fast"}, int64(0), int64(0), int64(0)},
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
		{[]any{"incr", "k"}, cmdInfo{firstKey: 1, reqID: true}},
		{[]any{"blpop", "k", 0}, cmdInfo{firstKey: 1}},
		{[]any{"EVAL", "s", 0}, cmdInfo{movable: true, reqID: true}},
		{[]any{"eval_ro", "s", 0}, cmdInfo{readonly: true, movable: true}},
		{[]any{"ping"}, cmdInfo{}},
	} {
		got := tab.lookup(redis.NewCmd(ctx, tc.args...))
		if got.firstKey != tc.want.firstKey || got.readonly != tc.want.readonly || got.movable != tc.want.movable ||
			got.reqID != tc.want.reqID {
			t.Errorf("%v: %+v, want %+v", tc.args, got, tc.want)
		}
	}
	if _, ok := tab["bad"]; ok {
		t.Error("an entry too short was kept")
	}
}

// TestAfterSend: a write refused as a forgotten retry goes again under a
// new id when no attempt under its id can have been applied, and is
// returned when one may have been.
func TestAfterSend(t *testing.T) {
	life, end := context.WithCancel(context.Background())
	defer end()
	r := &router{nodes: map[string]*redis.Client{}, refreshNow: make(chan struct{}, 1), life: life, end: end}
	defer r.close()
	retried := reply("UNKNOWN the outcome of this write is unknown (its request was retried); read before retrying")
	lost := reply("UNKNOWN the outcome of this write is unknown (leadership was lost); read before retrying")

	id := reqID{seq: r.nextSeq()}
	if v := r.afterSend(&id, retried, false, true); v != resend || id.seq != 2 || id.lost {
		t.Errorf("refused, never lost: verdict %d, id %+v", v, id)
	}
	if v := r.afterSend(&id, io.EOF, false, true); v != backoff || !id.lost {
		t.Errorf("connection lost: verdict %d, id %+v", v, id)
	}
	if v := r.afterSend(&id, retried, false, true); v != done || id.seq != 2 {
		t.Errorf("refused after a lost attempt: verdict %d, id %+v", v, id)
	}
	// Without its id (RAFT.REQID refused), nothing is sent again.
	other := reqID{seq: r.nextSeq()}
	for _, err := range []error{retried, lost, io.EOF} {
		if v := r.afterSend(&other, err, false, false); v != done || other.lost {
			t.Errorf("%v without the id: verdict %d, id %+v", err, v, other)
		}
	}
	if v := r.afterSend(&other, lost, false, true); v != backoff || !other.lost {
		t.Errorf("lost leadership under the id: verdict %d, id %+v", v, other)
	}
}

// TestFinalAfterLostOutcome: once an attempt's outcome was lost, the
// caller never hears that its write was not applied from a later attempt
// that ran nothing (redirected, refused for want of a leader, not sent):
// it gets UNKNOWN; a real reply (the first attempt's, remembered) stands.
func TestFinalAfterLostOutcome(t *testing.T) {
	down := reply("CLUSTERDOWN no leader available, the command was not applied; retry")
	for _, tc := range []struct {
		lost bool
		err  error
		want error
	}{
		{false, down, down},
		{true, down, errOutcomeLost},
		{true, reply("MOVED 1 127.0.0.1:7001"), errOutcomeLost},
		{true, reply("LOADING Redis is loading the dataset in memory"), errOutcomeLost},
		// The retry of a transaction whose first attempt's reply was lost,
		// refused as it was queued (the fault suite's restart-all-p3 saw
		// one applied twice in effect: reported refused, yet applied).
		{true, reply("EXECABORT Transaction discarded because of previous errors."), errOutcomeLost},
		{true, reply("OOM command not allowed when used memory > 'maxmemory'."), errOutcomeLost},
		{true, notSent(errors.New("dial tcp: connection refused")), errOutcomeLost},
		{true, redis.ErrPoolTimeout, errOutcomeLost},
		{true, nil, nil},
		{true, io.EOF, io.EOF},
		{true, context.Canceled, context.Canceled},
		{true, reply("WRONGTYPE Operation against a key holding the wrong kind of value"), reply("WRONGTYPE Operation against a key holding the wrong kind of value")},
	} {
		id := reqID{seq: 1, lost: tc.lost}
		if got := id.final(tc.err); !errors.Is(got, tc.want) && got != tc.want {
			t.Errorf("lost %v, %v: %v, want %v", tc.lost, tc.err, got, tc.want)
		}
	}
	if !unknownOutcome(errOutcomeLost) {
		t.Error("final's error is not an unknown outcome to the client itself")
	}
}
