package raftfsm

import (
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func TestQuorumSince(t *testing.T) {
	const now = 10 * time.Second
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	three := []raft.ServerID{"a", "b", "c"}
	five := []raft.ServerID{"a", "b", "c", "d", "e"}
	cases := []struct {
		name   string
		voters []raft.ServerID
		acks   map[raft.ServerID]ackTime
		since  time.Duration
		ok     bool
	}{
		{"no acks", three, nil, 0, false},
		{"one follower of two is a quorum with self", three,
			map[raft.ServerID]ackTime{"b": {term: 2, sent: ms(100)}}, ms(100), true},
		{"the newer follower counts", three,
			map[raft.ServerID]ackTime{"b": {term: 2, sent: ms(100)}, "c": {term: 2, sent: ms(300)}}, ms(300), true},
		{"acks of another term do not count", three,
			map[raft.ServerID]ackTime{"b": {term: 1, sent: ms(900)}, "c": {term: 2, sent: ms(50)}}, ms(50), true},
		{"only acks of other terms", three,
			map[raft.ServerID]ackTime{"b": {term: 1, sent: ms(900)}, "c": {term: 3, sent: ms(50)}}, 0, false},
		{"a non-voter's ack does not count", three,
			map[raft.ServerID]ackTime{"x": {term: 2, sent: ms(900)}}, 0, false},
		{"five voters: the second newest follower", five,
			map[raft.ServerID]ackTime{"b": {term: 2, sent: ms(10)}, "c": {term: 2, sent: ms(40)}, "d": {term: 2, sent: ms(30)}, "e": {term: 2, sent: ms(20)}}, ms(30), true},
		{"five voters, one ack short", five,
			map[raft.ServerID]ackTime{"b": {term: 2, sent: ms(10)}}, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var a ackTimes
			a.init(time.Now())
			for id, x := range tc.acks {
				a.by[id] = x
			}
			since, ok := a.quorumSince(2, "a", tc.voters, now)
			if since != tc.since || ok != tc.ok {
				t.Errorf("quorumSince = %v, %v; want %v, %v", since, ok, tc.since, tc.ok)
			}
		})
	}
}

// slowTransport answers AppendEntries after holding it (as a response
// read by a leader that was paused arrives late), noting when the call
// reached it.
type slowTransport struct {
	raftTransport
	hold    time.Duration
	reached time.Time
	answer  raft.AppendEntriesResponse
}

func (s *slowTransport) AppendEntries(_ raft.ServerID, _ raft.ServerAddress, _ *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	s.reached = time.Now()
	time.Sleep(s.hold)
	*resp = s.answer
	return nil
}

// An acknowledgement dates from when its request was sent, not from
// when the answer was read: a late answer proves nothing about now.
func TestAckDatesFromTheRequest(t *testing.T) {
	base := time.Now()
	for _, tc := range []struct {
		name   string
		answer raft.AppendEntriesResponse
		noted  bool
	}{
		{"accepted", raft.AppendEntriesResponse{Term: 4, Success: true}, true},
		{"refused", raft.AppendEntriesResponse{Term: 4, Success: false}, false},
		{"a newer term", raft.AppendEntriesResponse{Term: 5, Success: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a ackTimes
			a.init(base)
			slow := &slowTransport{hold: 50 * time.Millisecond, answer: tc.answer}
			tr := &ackTransport{raftTransport: slow, acks: &a}
			if err := tr.AppendEntries("b", "b:1", &raft.AppendEntriesRequest{Term: 4}, &raft.AppendEntriesResponse{}); err != nil {
				t.Fatal(err)
			}
			got, ok := a.by["b"]
			if ok != tc.noted {
				t.Fatalf("noted = %v, want %v", ok, tc.noted)
			}
			if ok && (got.term != 4 || got.sent > slow.reached.Sub(base)) {
				t.Errorf("noted %+v: want term 4, sent no later than the request reached the peer (%v)", got, slow.reached.Sub(base))
			}
		})
	}
}

// fakePipeline is an AppendPipeline whose answers the test hands out.
type fakePipeline struct {
	answers chan raft.AppendFuture
	closed  bool
}

func (p *fakePipeline) AppendEntries(*raft.AppendEntriesRequest, *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	return nil, nil
}
func (p *fakePipeline) Consumer() <-chan raft.AppendFuture { return p.answers }
func (p *fakePipeline) Close() error                       { p.closed = true; return nil }

type doneFuture struct {
	start time.Time
	req   *raft.AppendEntriesRequest
	resp  *raft.AppendEntriesResponse
}

func (f doneFuture) Error() error                          { return nil }
func (f doneFuture) Start() time.Time                      { return f.start }
func (f doneFuture) Request() *raft.AppendEntriesRequest   { return f.req }
func (f doneFuture) Response() *raft.AppendEntriesResponse { return f.resp }

// A pipeline's answers reach its consumer in order, the accepted ones
// noted with their requests' start times; Close ends the relay.
func TestAckPipelineRelays(t *testing.T) {
	base := time.Now()
	var a ackTimes
	a.init(base)
	inner := &fakePipeline{answers: make(chan raft.AppendFuture, 2)}
	p := &ackPipeline{AppendPipeline: inner, id: "c", acks: &a, out: make(chan raft.AppendFuture), done: make(chan struct{})}
	relayed := make(chan struct{})
	go func() {
		defer close(relayed)
		p.relay()
	}()
	first := doneFuture{base.Add(time.Second), &raft.AppendEntriesRequest{Term: 7}, &raft.AppendEntriesResponse{Term: 7, Success: true}}
	second := doneFuture{base.Add(2 * time.Second), &raft.AppendEntriesRequest{Term: 7}, &raft.AppendEntriesResponse{Term: 8}}
	inner.answers <- first
	inner.answers <- second
	for i, want := range []doneFuture{first, second} {
		if got := <-p.Consumer(); got != raft.AppendFuture(want) {
			t.Fatalf("answer %d: got %v, want %v", i, got, want)
		}
	}
	if got := a.by["c"]; got != (ackTime{term: 7, sent: time.Second}) {
		t.Errorf("noted %+v, want term 7 sent at 1s (the refused answer not noted)", got)
	}
	if err := p.Close(); err != nil || !inner.closed {
		t.Fatalf("Close: %v, inner closed %v", err, inner.closed)
	}
	<-relayed // the relay ends with Close
}

// A round proves leadership with answers to requests sent after it
// began, or with a lease still running from when they were sent; answers
// from before a pause prove nothing, and none hold a lease while a
// transfer is under way.
func TestLeaseJudge(t *testing.T) {
	var l leaseState
	l.init(500 * time.Millisecond) // a 400 ms lease
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name           string
		t0, since, now time.Duration
		transferring   bool
		until          time.Duration
		held, proven   bool
	}{
		{"fresh answers", ms(1000), ms(1001), ms(1003), false, ms(1401), true, true},
		{"a heartbeat sent just before the round", ms(1000), ms(990), ms(1003), false, ms(1390), true, true},
		{"answers from before a 5 s pause", ms(6000), ms(1000), ms(6001), false, ms(1400), false, false},
		{"fresh answers read too late for a lease", ms(1000), ms(1001), ms(1500), false, ms(1401), false, true},
		{"transferring: fresh answers prove, no lease", ms(1000), ms(1001), ms(1003), true, ms(1401), false, true},
		{"transferring: an older heartbeat proves nothing", ms(1000), ms(990), ms(1003), true, ms(1390), false, false},
	} {
		until, held, proven := l.judge(tc.t0, tc.since, tc.now, tc.transferring)
		if until != tc.until || held != tc.held || proven != tc.proven {
			t.Errorf("%s: judge = %v %v %v, want %v %v %v", tc.name, until, held, proven, tc.until, tc.held, tc.proven)
		}
	}
}
