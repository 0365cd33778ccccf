package raftfsm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/loomcache/loomcache/op"
)

func TestHelloRoundTrip(t *testing.T) {
	cases := []struct {
		ch   byte
		id   string
		want string // the exact bytes on the wire
	}{
		{ChannelRaft, "n1", "LOOM\x01R\x02n1\x00"},
		{ChannelForward, "node-two", "LOOM\x01F\x08node-two\x00"},
		{ChannelRaft, "", "LOOM\x01R\x00\x00"},
		{ChannelForward, strings.Repeat("x", maxHelloID), "LOOM\x01F\xff\x01" + strings.Repeat("x", maxHelloID) + "\x00"},
		{ChannelProbe, "n3", "LOOM\x01P\x02n3\x00"},
	}
	for _, c := range cases {
		b := AppendHello(nil, c.ch, c.id)
		if string(b) != c.want {
			t.Errorf("AppendHello(%q, %q) = %q, want %q", c.ch, c.id, b, c.want)
		}
		// What follows the hello is left unread for the channel.
		r := bytes.NewReader(append(b, "rest"...))
		h, err := ReadHello(r)
		if err != nil || h != (Hello{Version: helloPlain, Channel: c.ch, ID: c.id}) {
			t.Errorf("ReadHello(%q) = %+v, %v", b, h, err)
		}
		if rest, _ := io.ReadAll(r); string(rest) != "rest" {
			t.Errorf("ReadHello(%q) left %q, want \"rest\"", b, rest)
		}
	}
	// Version 2, the hello of a cluster with a secret: the same layout;
	// here for group 300.
	b := appendHelloVersion(nil, helloAuth, ChannelRaft, "n2", 300)
	if string(b) != "LOOM\x02R\x02n2\xac\x02" {
		t.Errorf("version 2 hello %q", b)
	}
	if h, err := ReadHello(bytes.NewReader(b)); err != nil || h != (Hello{Version: helloAuth, Channel: ChannelRaft, ID: "n2", Group: 300}) {
		t.Errorf("ReadHello(%q) = %+v, %v", b, h, err)
	}
}

func TestHelloRejected(t *testing.T) {
	cases := []string{
		"",
		"LOO",
		"LOAM\x01R\x00",
		"LOOM\x00R\x00",
		"LOOM\x03R\x00",
		"LOOM\x01X\x00",
		"LOOM\x02p\x00",
		"LOOM\x01R",
		"LOOM\x01R\x05abc",
		"LOOM\x01R\x80\x02" + strings.Repeat("x", 256), // id too long
		"LOOM\x01R\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
		"LOOM\x01R\x02n1",             // no group
		"LOOM\x01R\x02n1\x80\x80\x04", // group 65536
		"*1\r\n$4\r\nPING\r\n",        // a Redis client on the wrong port
	}
	for _, in := range cases {
		if h, err := ReadHello(strings.NewReader(in)); !errors.Is(err, ErrBadHello) {
			t.Errorf("ReadHello(%q) = %+v, %v; want ErrBadHello", in, h, err)
		}
	}
}

// TestMuxRoutesChannels: Raft connections come out of Accept with the
// stream after the hello intact, forwarding connections go to the handler,
// and a connection with a bad hello is closed.
func TestMuxRoutesChannels(t *testing.T) {
	m, err := listenMux("127.0.0.1:0", "", 2, Dialer{ID: "n1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	fwd := make(chan Hello, 1)
	m.setForward(func(nc net.Conn, h Hello) {
		defer nc.Close()
		buf := make([]byte, 4)
		io.ReadFull(nc, buf)
		nc.Write(buf) // echo what follows the hello
		fwd <- h
	})
	addr := m.advertise.String()

	// Raft connections, dialled as raft does: each group's come out of
	// its own stream.
	got := make([]byte, 4)
	for _, g := range []int{1, 0} {
		s := m.stream(g)
		rc, err := s.Dial(raft.ServerAddress(addr), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		rc.Write([]byte(fmt.Sprintf("png%d", g)))
		ac, err := s.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer ac.Close()
		if _, err := io.ReadFull(ac, got); err != nil || string(got) != fmt.Sprintf("png%d", g) {
			t.Errorf("group %d raft stream after hello: %q, %v", g, got, err)
		}
	}
	// A group the node does not have is refused.
	d := m.dialer
	d.Group = 2
	if bad, err := d.Dial(addr, ChannelRaft, ""); err == nil {
		bad.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := bad.Read(got); !closedByPeer(err) {
			t.Errorf("raft connection for group 2 of 2: read %d bytes, %v; want it closed", n, err)
		}
		bad.Close()
	}

	// A forwarding connection.
	fc, err := DialCluster(addr, ChannelForward, "n2", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	fc.Write([]byte("fwd!"))
	if _, err := io.ReadFull(fc, got); err != nil || string(got) != "fwd!" {
		t.Errorf("forward echo: %q, %v", got, err)
	}
	if h := <-fwd; h != (Hello{helloPlain, ChannelForward, "n2", 0}) {
		t.Errorf("forward handler got %+v", h)
	}

	// Garbage: closed without a reply.
	gc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	gc.Write([]byte("*1\r\n$4\r\nPING\r\n"))
	gc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := gc.Read(got); !closedByPeer(err) {
		t.Errorf("garbage hello: read %d bytes, %v; want the connection closed", n, err)
	}
}

// TestMuxCloseEndsPending: Close ends connections still in their hello
// and refuses further accepts.
func TestMuxCloseEndsPending(t *testing.T) {
	m, err := listenMux("127.0.0.1:0", "127.0.0.9:1234", 2, Dialer{ID: "n1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.advertise.String(); got != "127.0.0.9:1234" {
		t.Errorf("advertised %s", got)
	}
	c, err := net.Dial("tcp", m.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("LOO")) // an unfinished hello
	waitFor(t, "the connection to be accepted", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.conns) == 1
	})
	m.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !closedByPeer(err) {
		t.Errorf("pending connection after Close: %v, want it closed", err)
	}
	if _, err := m.stream(0).Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
}

// closedByPeer reports whether a read error means the peer closed the
// connection: EOF, or a reset when it closed with our bytes unread.
func closedByPeer(err error) bool {
	return err == io.EOF || errors.Is(err, syscall.ECONNRESET)
}

func TestMuxNeedsDialableAddress(t *testing.T) {
	if m, err := listenMux("0.0.0.0:0", "", 2, Dialer{ID: "n1"}, nil); err == nil {
		m.Close()
		t.Fatal("listening on 0.0.0.0 without an advertised address succeeded")
	}
	m, err := listenMux("0.0.0.0:0", "127.0.0.1:1", 2, Dialer{ID: "n1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
}

// openCluster starts n nodes on free ports with the same member list, as
// --cluster does, and closes them at cleanup.
func openCluster(t testing.TB, n int, tweak func(i int, cfg *Config)) []*Node {
	t.Helper()
	var members []Member
	cfgs := make([]Config, n)
	for i := range cfgs {
		cfgs[i] = testConfig(t, t.TempDir())
		cfgs[i].ID = fmt.Sprintf("n%d", i+1)
		members = append(members, Member{ID: cfgs[i].ID, RaftAddr: cfgs[i].RaftAddr})
	}
	nodes := make([]*Node, n)
	for i := range cfgs {
		cfgs[i].Members = members
		if tweak != nil {
			tweak(i, &cfgs[i])
		}
		nd, err := Open(cfgs[i])
		if err != nil {
			t.Fatalf("open %s: %v", cfgs[i].ID, err)
		}
		nodes[i] = nd
		t.Cleanup(func() { nd.Close() })
	}
	return nodes
}

// leaderOf waits until one of nodes leads with reads ready and returns it.
func leaderOf(t testing.TB, nodes []*Node) *Node {
	t.Helper()
	var leader *Node
	waitFor(t, "a leader", func() bool {
		for _, n := range nodes {
			if n != nil && n.ready() {
				leader = n
				return true
			}
		}
		return false
	})
	return leader
}

// TestThreeNodeCluster: three nodes on the multiplexed cluster port elect
// a leader, replicate its writes to both followers, and refuse writes on
// followers.
func TestThreeNodeCluster(t *testing.T) {
	nodes := openCluster(t, 3, nil)
	leader := leaderOf(t, nodes)
	for i := 0; i < 20; i++ {
		set(t, leader, fmt.Sprint("k", i), fmt.Sprint("v", i), 0)
	}
	for _, n := range nodes {
		waitFor(t, n.cfg.ID+" to apply", func() bool {
			v, ok := lookup(n, 0, "k19")
			return ok && v == "v19"
		})
		if n == leader {
			continue
		}
		if _, err := n.Propose(&op.Op{Type: op.Noop}); !errors.Is(err, ErrNoLeader) {
			t.Errorf("Propose on follower %s: %v", n.cfg.ID, err)
		}
		if id, addr := n.Leader(); id != leader.cfg.ID || addr != leader.cfg.RaftAddr {
			t.Errorf("%s sees leader %s at %s, want %s at %s", n.cfg.ID, id, addr, leader.cfg.ID, leader.cfg.RaftAddr)
		}
	}
	if v := leader.Stats().Voters; v != 3 {
		t.Errorf("voters = %d", v)
	}
	if !leader.multiVoter.Load() {
		t.Error("a leader of three voters does not verify leadership for reads")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := leader.WaitLeader(ctx); err != nil {
		t.Fatal(err)
	}
	if err := leader.ReadBarrier(); err != nil {
		t.Errorf("ReadBarrier on the leader: %v", err)
	}
}
