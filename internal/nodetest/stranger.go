package nodetest

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
)

// A stranger is whoever reaches a node's cluster port without being a
// node of its cluster. These helpers speak the port's protocols as one
// would, to show what a node lets through; the same calls against a
// cluster without credentials show that the attack itself works.

// StrangerID is the node id a stranger claims in its hello.
const StrangerID = "stranger"

// Approach is how a stranger opens a connection on the cluster port for
// channel ch before it speaks the channel's protocol.
type Approach func(nc net.Conn, ch byte) error

// NoCredentials sends the hello of a cluster without a secret (version
// 1), as every node did before the cluster port was authenticated.
func NoCredentials(nc net.Conn, ch byte) error {
	_, err := nc.Write(raftfsm.AppendHello(nil, ch, StrangerID))
	return err
}

// MadeUpProof runs the dialer's side of the secret's handshake without
// the secret: a version 2 hello and a nonce, then, once the node has sent
// its nonce and id, a proof of random bytes. It does not wait for the
// node's proof: whatever follows is sent whatever the node made of it.
func MadeUpProof(nc net.Conn, ch byte) error {
	b := append([]byte("LOOM\x02"), ch)
	b = binary.AppendUvarint(b, uint64(len(StrangerID)))
	b = append(b, StrangerID...)
	b = append(b, random(32)...)
	if _, err := nc.Write(b); err != nil {
		return err
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(io.LimitReader(nc, 32+1+255)) // at most the node's nonce and id
	if _, err := io.ReadFull(br, make([]byte, 32)); err != nil {
		return fmt.Errorf("read the node's nonce: %w", err)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n > 255 {
		return fmt.Errorf("read the node's id: %v", err)
	}
	if _, err := io.ReadFull(br, make([]byte, n)); err != nil {
		return fmt.Errorf("read the node's id: %w", err)
	}
	nc.SetReadDeadline(time.Time{})
	_, err = nc.Write(random(32))
	return err
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// StrangerAppendEntries sends the node at the cluster address addr a
// hashicorp/raft AppendEntries RPC of a leader StrangerID at term term,
// with hashicorp/raft's own NetworkTransport, over a connection opened
// by approach. A nil error means the node answered (resp).
func StrangerAppendEntries(addr string, approach Approach, term uint64) (*raft.AppendEntriesResponse, error) {
	stream := &strangerStream{approach: approach, closed: make(chan struct{})}
	trans := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: stream, MaxPool: 1, Timeout: 10 * time.Second, Logger: hclog.NewNullLogger(),
	})
	defer trans.Close()
	// A heartbeat: consistent with any log (no previous entry to match),
	// it makes a node that accepts it adopt the term and take the
	// stranger for its leader, and a leader step down.
	req := &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(StrangerID), Addr: []byte("127.0.0.1:1")},
		Term:      term,
	}
	var resp raft.AppendEntriesResponse
	if err := trans.AppendEntries(raft.ServerID("target"), raft.ServerAddress(addr), req, &resp); err != nil {
		return nil, err
	}
	return &resp, nil
}

// strangerStream is a raft.StreamLayer that dials with an Approach and
// accepts nothing.
type strangerStream struct {
	approach Approach
	closed   chan struct{}
}

func (s *strangerStream) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	nc, err := net.DialTimeout("tcp", string(address), timeout)
	if err != nil {
		return nil, err
	}
	if err := s.approach(nc, raftfsm.ChannelRaft); err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

func (s *strangerStream) Accept() (net.Conn, error) {
	<-s.closed
	return nil, net.ErrClosed
}

func (s *strangerStream) Close() error {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	return nil
}

func (s *strangerStream) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// StrangerForward opens the forwarding channel of the node at the cluster
// address addr with approach and sends it the command args as a
// follower would (an op.Forward op, RESP2, database 0). It returns every
// byte the node sent after the approach, until it closed the connection
// or, if it does not, until it has sent a whole reply frame. err reports
// a connection that neither closed nor answered within a generous bound.
func StrangerForward(addr string, approach Approach, args ...string) ([]byte, error) {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	if err := approach(nc, raftfsm.ChannelForward); err != nil {
		return nil, nil // refused during the approach: nothing of the channel came
	}
	o := op.Op{Type: op.Forward, Int: 2, Req: op.ReqID{Origin: StrangerID, Seq: 1}}
	for _, a := range args {
		o.Args = append(o.Args, []byte(a))
	}
	enc := o.Encode(nil)
	frame := binary.AppendUvarint(nil, 1)
	frame = binary.AppendUvarint(frame, uint64(len(enc)))
	nc.Write(append(frame, enc...))
	nc.SetReadDeadline(time.Now().Add(15 * time.Second))
	var got bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, rerr := nc.Read(buf)
		got.Write(buf[:n])
		if rerr != nil {
			if ne, ok := rerr.(net.Error); ok && ne.Timeout() {
				return got.Bytes(), fmt.Errorf("the node kept the connection open: %w", rerr)
			}
			return got.Bytes(), nil // closed (EOF or reset)
		}
		if wholeResponse(got.Bytes()) {
			return got.Bytes(), nil
		}
	}
}

// wholeResponse reports whether b starts with a whole forwarding
// response frame: uvarint id | status | uvarint n | n bytes.
func wholeResponse(b []byte) bool {
	_, k := binary.Uvarint(b)
	if k <= 0 || len(b) < k+1 {
		return false
	}
	n, j := binary.Uvarint(b[k+1:])
	return j > 0 && uint64(len(b)-k-1-j) >= n
}
