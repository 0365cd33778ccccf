package raftfsm

import (
	"io"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Why the lease counts from when a request was sent (lease.go).
//
// hashicorp/raft's VerifyLeader counts, as a follower's vote, the next
// successful response from that follower, whatever request it answers:
// one sent before the verify began counts too. Normally that request is
// a heartbeat a few milliseconds old. But a leader that was paused
// (SIGSTOP, a stalled VM) with a response in its socket buffer reads it
// when it resumes, seconds later: the verify succeeds on a follower's
// word from before the pause, while the others have long elected a new
// leader, and a lease granted from the verify's start would serve stale
// reads (the likely cause of an Illegal history the fault suite's
// pause-across-elections scenario found once). So the transport notes, per peer, when the newest request
// that peer acknowledged in a term was sent, and the lease runs from the
// time a quorum is known to have heard from this leader: the send time
// of the quorum's oldest such request. A follower that acknowledged a
// request sent at s votes for no one before s + HeartbeatTimeout.

// ackTimes is, per peer, the newest send time of a request it accepted
// (a successful AppendEntries or InstallSnapshot of the leader's term).
// Replication goroutines write it; lease rounds read it.
type ackTimes struct {
	base time.Time // the lease clock's origin (leaseState.base)
	mu   sync.Mutex
	by   map[raft.ServerID]ackTime
}

type ackTime struct {
	term  uint64
	sent  time.Duration // since base
	match uint64        // the peer's last log index known to match (INFO replication)
}

func (a *ackTimes) init(base time.Time) {
	a.base = base
	a.by = map[raft.ServerID]ackTime{}
}

// note records that id accepted, in term, a request sent at sent.
func (a *ackTimes) note(id raft.ServerID, term uint64, sent time.Time, match uint64) {
	at := sent.Sub(a.base)
	a.mu.Lock()
	if cur, ok := a.by[id]; !ok || term > cur.term || term == cur.term && at > cur.sent {
		if ok && cur.term == term {
			match = max(match, cur.match)
		}
		a.by[id] = ackTime{term: term, sent: at, match: match}
	}
	a.mu.Unlock()
}

// quorumSince returns the time since which a quorum of voters is known
// to have accepted this node (self) as the leader of term: the q-th
// newest send time of their acknowledgements in that term, self counting
// as now. It reports false when fewer than a quorum acknowledged any.
func (a *ackTimes) quorumSince(term uint64, self raft.ServerID, voters []raft.ServerID, now time.Duration) (time.Duration, bool) {
	times := make([]time.Duration, 0, len(voters))
	a.mu.Lock()
	for _, v := range voters {
		if v == self {
			times = append(times, now)
		} else if x, ok := a.by[v]; ok && x.term == term {
			times = append(times, x.sent)
		}
	}
	a.mu.Unlock()
	q := len(voters)/2 + 1
	if len(voters) == 0 || len(times) < q {
		return 0, false
	}
	slices.Sort(times)
	return times[len(times)-q], true
}

// ackTransport is the group's transport, noting acknowledgements in
// acks on the way (the calls hashicorp/raft's verify votes come from).
type ackTransport struct {
	raftTransport
	acks *ackTimes
}

// raftTransport is what hashicorp/raft uses of a transport: its optional
// interfaces too, or it would turn pre-vote off.
type raftTransport interface {
	raft.Transport
	raft.WithClose
	raft.WithPreVote
}

func (t *ackTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	sent := time.Now()
	err := t.raftTransport.AppendEntries(id, target, args, resp)
	if err == nil && resp.Success && resp.Term == args.Term {
		t.acks.note(id, args.Term, sent, args.PrevLogEntry+uint64(len(args.Entries)))
	}
	return err
}

func (t *ackTransport) InstallSnapshot(id raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	sent := time.Now()
	err := t.raftTransport.InstallSnapshot(id, target, args, resp, data)
	if err == nil && resp.Success && resp.Term == args.Term {
		t.acks.note(id, args.Term, sent, args.LastLogIndex)
	}
	return err
}

func (t *ackTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p, err := t.raftTransport.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	ap := &ackPipeline{AppendPipeline: p, id: id, acks: t.acks, out: make(chan raft.AppendFuture), done: make(chan struct{})}
	go ap.relay()
	return ap, nil
}

// ackPipeline relays a pipeline's answered requests to its consumer,
// noting those accepted. Its relay goroutine ends with Close (which
// hashicorp/raft's replication defers).
type ackPipeline struct {
	raft.AppendPipeline
	id        raft.ServerID
	acks      *ackTimes
	out       chan raft.AppendFuture
	done      chan struct{}
	closeOnce sync.Once
}

func (p *ackPipeline) relay() {
	in := p.AppendPipeline.Consumer()
	for {
		select {
		case f := <-in:
			if f.Error() == nil {
				if req, resp := f.Request(), f.Response(); resp.Success && resp.Term == req.Term {
					p.acks.note(p.id, req.Term, f.Start(), req.PrevLogEntry+uint64(len(req.Entries)))
				}
			}
			select {
			case p.out <- f:
			case <-p.done:
				return
			}
		case <-p.done:
			return
		}
	}
}

func (p *ackPipeline) Consumer() <-chan raft.AppendFuture { return p.out }

func (p *ackPipeline) Close() error {
	p.closeOnce.Do(func() { close(p.done) })
	return p.AppendPipeline.Close()
}
