package raftfsm

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/op"
)

// The follower's side of forwarding: a few connections to the leader,
// shared by every client connection, with requests matched to replies by
// frame id (the request's sequence number).

const (
	// forwardConns is how many connections a follower keeps to the leader.
	forwardConns = 4
	// forwardDial bounds connecting to the leader.
	forwardDial = time.Second
	// forwardReplyWait bounds the wait for one reply while the leader
	// stays the same (a slow command, or a leader stuck without losing
	// its followers' votes).
	forwardReplyWait = 10 * time.Second
	// forwardReplyPerMB extends that wait by the request's size: a 200 MB
	// SET takes the leader longer than 10 s to replicate on a busy
	// machine, and giving up on it sent it again, whole.
	forwardReplyPerMB = 250 * time.Millisecond
	// forwardPoll is how often a waiting request checks whether the
	// leader it was sent to is still the one this node knows.
	forwardPoll = 20 * time.Millisecond
	// forwardRetries bounds how often a request whose leader was lost
	// mid-flight gets a new wait for the next leader.
	forwardRetries = 2
)

// forwarder is a follower's pool of forwarding connections to the leader.
type forwarder struct {
	dialer Dialer // this node and its credentials
	seq    atomic.Uint64
	// requests and commands count what ForwardAll was asked to send.
	requests, commands atomic.Uint64

	mu      sync.Mutex
	addr    string // the leader address conns lead to
	conns   []*fconn
	next    int
	dialing int
	// bulk is the connection of large requests, kept apart so that the
	// others never wait behind one (a frame is written, and read by the
	// leader, whole before the next on its connection).
	bulk   *fconn
	closed bool
}

func newForwarder(d Dialer) *forwarder {
	d.Timeout = forwardDial
	f := &forwarder{dialer: d}
	// Sequences start at the boot time, so a restarted node does not
	// reuse the ids of its previous run (which the FSM still remembers).
	f.seq.Store(uint64(time.Now().UnixNano()))
	return f
}

// fconn is one forwarding connection and the requests waiting on it.
type fconn struct {
	f   *forwarder
	nc  net.Conn
	wmu sync.Mutex
	bw  *bufio.Writer

	mu      sync.Mutex
	waiting map[uint64]chan fresult
	dead    chan struct{} // closed when the connection fails
	err     error
}

type fresult struct {
	res   ForwardResult
	reply []byte
}

// conn returns a connection to the leader leaderID at addr, dialling one
// while the pool has fewer than forwardConns; with bulk, the bulk
// connection. Connections to a former leader are closed: their requests
// retry at the new one.
func (f *forwarder) conn(leaderID, addr string, bulk bool) (*fconn, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil, net.ErrClosed
	}
	if addr != f.addr {
		for _, c := range f.conns {
			c.fail(fmt.Errorf("leader moved to %s", addr))
		}
		if f.bulk != nil {
			f.bulk.fail(fmt.Errorf("leader moved to %s", addr))
		}
		f.addr, f.conns, f.next, f.dialing, f.bulk = addr, nil, 0, 0, nil
	}
	if bulk {
		c := f.bulk
		f.mu.Unlock()
		if c != nil {
			return c, nil
		}
		return f.dialBulk(leaderID, addr)
	}
	if len(f.conns)+f.dialing >= forwardConns || (len(f.conns) > 0 && f.dialing > 0) {
		if len(f.conns) > 0 {
			c := f.conns[f.next%len(f.conns)]
			f.next++
			f.mu.Unlock()
			return c, nil
		}
	}
	f.dialing++
	f.mu.Unlock()

	// The leader is checked to be leaderID, so the client's commands go
	// to no other node that holds the secret.
	nc, err := f.dialer.Dial(addr, ChannelForward, leaderID)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.addr == addr {
		f.dialing--
	}
	if err != nil {
		return nil, err
	}
	if f.closed || f.addr != addr {
		nc.Close()
		return nil, net.ErrClosed
	}
	if len(f.conns) >= forwardConns {
		// Others dialled meanwhile and filled the pool.
		nc.Close()
		c := f.conns[f.next%len(f.conns)]
		f.next++
		return c, nil
	}
	c := newFconn(f, nc)
	f.conns = append(f.conns, c)
	return c, nil
}

// dialBulk dials the bulk connection to leaderID at addr, unless another
// request did meanwhile.
func (f *forwarder) dialBulk(leaderID, addr string) (*fconn, error) {
	nc, err := f.dialer.Dial(addr, ChannelForward, leaderID)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.addr != addr {
		nc.Close()
		return nil, net.ErrClosed
	}
	if f.bulk != nil {
		nc.Close()
		return f.bulk, nil
	}
	f.bulk = newFconn(f, nc)
	return f.bulk, nil
}

// newFconn starts serving a forwarding connection.
func newFconn(f *forwarder, nc net.Conn) *fconn {
	c := &fconn{f: f, nc: nc, bw: bufio.NewWriterSize(nc, 16*1024), waiting: map[uint64]chan fresult{}, dead: make(chan struct{})}
	go c.readLoop()
	return c
}

// close fails every connection; conn refuses new ones.
func (f *forwarder) close() {
	f.mu.Lock()
	f.closed = true
	conns := f.conns
	if f.bulk != nil {
		conns = append(conns, f.bulk)
	}
	f.conns, f.bulk = nil, nil
	f.mu.Unlock()
	for _, c := range conns {
		c.fail(net.ErrClosed)
	}
}

func (f *forwarder) remove(c *fconn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.bulk == c {
		f.bulk = nil
	}
	for i, x := range f.conns {
		if x == c {
			f.conns = append(f.conns[:i], f.conns[i+1:]...)
			return
		}
	}
}

func (c *fconn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 16*1024)
	for {
		id, status, reply, err := readResponse(br)
		if err != nil {
			c.fail(err)
			c.f.remove(c)
			return
		}
		c.mu.Lock()
		ch := c.waiting[id]
		delete(c.waiting, id)
		c.mu.Unlock()
		if ch != nil {
			ch <- fresult{status, reply}
		}
	}
}

// fail closes the connection and wakes every request waiting on it.
func (c *fconn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.dead)
	c.mu.Unlock()
	c.nc.Close() // its readLoop ends and removes it from the pool
}

// roundTrip sends one request and waits for its reply. ok reports a
// reply; otherwise sent reports whether the request may have reached the
// leader (and so may have been applied). The wait ends early when the
// leader this node knows is no longer leaderID.
func (n *Node) roundTrip(c *fconn, id uint64, data [][]byte, size int, leaderID string) (r fresult, ok, sent bool) {
	ch := make(chan fresult, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return r, false, false
	}
	c.waiting[id] = ch
	c.mu.Unlock()
	c.wmu.Lock()
	err := writeRequest(c.bw, id, data, size)
	if err == nil {
		err = c.bw.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		// Part of the frame may have gone out; the leader runs only
		// whole frames, but which it got cannot be known.
		c.fail(err)
		return r, false, true
	}
	tick := time.NewTicker(forwardPoll)
	defer tick.Stop()
	limit := time.NewTimer(forwardReplyWait + time.Duration(size>>20)*forwardReplyPerMB)
	defer limit.Stop()
	for {
		select {
		case r := <-ch:
			return r, true, true
		case <-c.dead:
			select {
			case r := <-ch:
				return r, true, true
			default:
			}
			return r, false, true
		case <-tick.C:
			if id, _ := n.Leader(); id == leaderID {
				continue
			}
		case <-limit.C:
		case <-n.stop:
		}
		// Give up on this connection: a late reply must not be taken
		// for another attempt's, and its other requests face the same
		// lost leader.
		c.fail(fmt.Errorf("leader %s lost", leaderID))
		return r, false, true
	}
}

// ForwardBatch is commands a follower sends to the leader together, to
// run there in order: a client's pipeline. The zero value is empty.
type ForwardBatch struct {
	// ops are the encoded op.Forward ops, request ids assigned, each in
	// parts (op.EncodeParts): one, unless it borrows large arguments.
	ops    [][][]byte
	whole  [][]byte // the parts of the one-part ops
	first  uint64   // the first op's sequence: unique to this node, it names the frame
	size   int
	writes int
	// borrows: an op's parts are arguments of the caller's (Borrows).
	borrows bool
}

// forwardLarge is the size from which an argument is sent from the
// caller's memory rather than copied (a 200 MB SET's value is not copied
// whole only to be written out), and a request goes on a connection of
// its own (forwarder.bulk).
const forwardLarge = 1 << 20

// AddForward appends an op.Forward op to b, giving it a request id (kept
// across retries, so that the command takes effect at most once) unless
// it has one, a client's (RAFT.REQID). The op is encoded at once, except
// its arguments of forwardLarge bytes or more: when Borrows reports them,
// the caller keeps its arguments unchanged until b has been sent
// (ForwardAll) or reset; the others may be reused when AddForward
// returns.
func (n *Node) AddForward(b *ForwardBatch, req *op.Op, write bool) {
	// The frame's id is this node's sequence whatever the ids: a
	// client's need not be unique among this node's frames.
	seq := n.fwd.seq.Add(1)
	if req.Req.Origin == "" {
		req.Req = op.ReqID{Origin: n.cfg.ID, Seq: seq}
	}
	if len(b.ops) == 0 {
		b.first = seq
	}
	if write {
		b.writes++
	}
	if req.Size() < forwardLarge {
		enc := req.Encode(make([]byte, 0, req.Size()))
		b.whole = append(b.whole, enc)
		k := len(b.whole)
		b.ops = append(b.ops, b.whole[k-1:k:k])
		b.size += len(enc)
		return
	}
	parts, size := req.EncodeParts(forwardLarge)
	b.ops = append(b.ops, parts)
	b.size += size
	b.borrows = b.borrows || len(parts) > 1
}

// Len is the number of commands in b.
func (b *ForwardBatch) Len() int { return len(b.ops) }

// Size is the encoded size of b's commands.
func (b *ForwardBatch) Size() int { return b.size }

// Borrows reports whether b holds arguments of the caller's, which must
// stay unchanged until b is sent.
func (b *ForwardBatch) Borrows() bool { return b.borrows }

// Reset empties b, keeping its buffers.
func (b *ForwardBatch) Reset() {
	clear(b.ops)
	clear(b.whole)
	b.ops, b.whole, b.size, b.writes, b.borrows = b.ops[:0], b.whole[:0], 0, 0, false
}

// encode returns the request's payload, in parts, and its size.
func (b *ForwardBatch) encode() ([][]byte, int) {
	if len(b.ops) == 1 {
		return b.ops[0], b.size
	}
	return op.BatchParts(b.ops)
}

// Forward runs one client command on the leader and returns the reply's
// bytes; see ForwardAll.
func (n *Node) Forward(req *op.Op, write bool) ([]byte, error) {
	var b ForwardBatch
	n.AddForward(&b, req, write)
	return n.ForwardAll(&b)
}

// ForwardAll runs b's commands on the leader, in order, and returns their
// replies' bytes, one after another. When this node leads, they run here
// through the forward handler. b is left as it was.
//
// ErrNoLeader: no leader could be reached within a bounded time and no
// command of b was applied. ErrUnknownOutcome (only when b writes): a
// leader was lost after b was sent, and no later leader answered for it;
// any of b's writes may have been applied.
func (n *Node) ForwardAll(b *ForwardBatch) ([]byte, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	data, size := b.encode()
	frame, write := b.first, b.writes > 0
	n.fwd.requests.Add(1)
	n.fwd.commands.Add(uint64(b.Len()))
	deadline := time.Now().Add(leaderWait)
	sent, retries := false, 0
	for {
		select {
		case <-n.stop:
			return nil, lostErr(sent, write)
		default:
		}
		lost := false
		switch id, addr := n.Leader(); {
		case id == n.cfg.ID:
			if h := n.fwdHandler.Load(); h != nil {
				// The leadership moved here since b was made: rare
				// enough that a large request may be copied whole.
				reqs, err := decodeForwards(joinParts(data, size))
				if err != nil {
					return nil, err
				}
				reply, res := (*h)(reqs)
				if res == ForwardReplied {
					return reply, nil
				}
				lost = res == ForwardLost
			}
		case id != "":
			c, err := n.fwd.conn(id, addr, size >= forwardLarge)
			if err != nil {
				break
			}
			r, ok, maybeSent := n.roundTrip(c, frame, data, size, id)
			if ok && r.res == ForwardReplied {
				return r.reply, nil
			}
			lost = ok && r.res == ForwardLost || !ok && maybeSent
		}
		if lost {
			sent = true
			if retries < forwardRetries {
				// The next leader gets a full wait: the same id is
				// safe to send again.
				deadline = time.Now().Add(leaderWait)
				retries++
			}
		}
		if time.Now().After(deadline) {
			return nil, lostErr(sent, write)
		}
		select {
		case <-n.stop:
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func lostErr(sent, write bool) error {
	if sent && write {
		return fmt.Errorf("%w: the leader was lost after the command was forwarded", ErrUnknownOutcome)
	}
	return ErrNoLeader
}
