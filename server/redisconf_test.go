package server_test

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// TestBindSyntax: Redis's bind listens on each address at the port; a
// "-" address this machine lacks is skipped, one without "-" stops the
// start; "*" is every IPv4 address. CONFIG GET bind shows it as given.
func TestBindSyntax(t *testing.T) {
	port := nodetest.FreePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	// 192.0.2.1 (TEST-NET-1) is on no machine.
	bind := []string{"127.0.0.1", "-192.0.2.1", "-::1"}
	n := nodetest.Start(t, server.Config{Addr: addr, Redis: server.RedisStartup{Bind: bind}})
	c := dialRaw(t, addr)
	if got := fmt.Sprint(c.do("CONFIG", "GET", "bind")); got != "[bind 127.0.0.1 -192.0.2.1 -::1]" {
		t.Errorf("CONFIG GET bind = %s", got)
	}
	// ::1 too, where this machine has IPv6 loopback.
	if probe, err := net.Listen("tcp6", "[::1]:0"); err == nil {
		probe.Close()
		c6 := dialRaw(t, net.JoinHostPort("::1", strconv.Itoa(port)))
		if got := c6.str("PING"); got != "PONG" {
			t.Errorf("PING on ::1 = %q", got)
		}
	}
	n.Stop()

	_, err := server.New(server.Config{ID: "n1", Addr: addr, RaftAddr: nodetest.FreeAddr(t), DataDir: t.TempDir(),
		Redis: server.RedisStartup{Bind: []string{"127.0.0.1", "192.0.2.1"}}})
	if err == nil || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Errorf("a missing address without '-': %v", err)
	}

	all := nodetest.FreePort(t)
	nodetest.Start(t, server.Config{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(all)),
		Redis: server.RedisStartup{Bind: []string{"*"}}})
	if got := dialRaw(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(all))).str("PING"); got != "PONG" {
		t.Errorf("bind *: PING = %q", got)
	}
}

// TestSavePointsSnapshot: a save point met (1 change in 1 second) takes
// a snapshot, as Redis's save does an RDB; CONFIG SET save "" stops them.
func TestSavePointsSnapshot(t *testing.T) {
	n := nodetest.Start(t, server.Config{SnapshotThreshold: 1 << 30, Directives: [][2]string{{"save", "1 1"}}})
	c := dialRaw(t, n.Addr().String())
	if got := c.str("SET", "k", "v"); got != "OK" {
		t.Fatal(got)
	}
	eventually(t, "a snapshot by the save point", func() bool {
		saves, _ := strconv.Atoi(infoField(c.str("INFO", "persistence"), "rdb_saves"))
		return saves >= 1
	})
	if got := c.str("CONFIG", "SET", "save", ""); got != "OK" {
		t.Fatal(got)
	}
	if got := fmt.Sprint(c.do("CONFIG", "GET", "save")); got != "[save ]" {
		t.Errorf("CONFIG GET save = %s", got)
	}
}

// TestAppendfsyncEverySec: appendfsync maps onto the log's policy, at
// startup and by CONFIG SET, and INFO persistence says which.
func TestAppendfsyncEverySec(t *testing.T) {
	n := nodetest.Start(t, server.Config{Fsync: true, Directives: [][2]string{{"appendfsync", "everysec"}}})
	c := dialRaw(t, n.Addr().String())
	for i, want := range []string{"everysec", "always", "no", "everysec"} {
		if i > 0 { // the first is the startup's
			if got := c.str("CONFIG", "SET", "appendfsync", want); got != "OK" {
				t.Fatal(got)
			}
		}
		if got := fmt.Sprint(c.do("CONFIG", "GET", "appendfsync")); got != "[appendfsync "+want+"]" {
			t.Errorf("CONFIG GET appendfsync = %s, want %s", got, want)
		}
		if got := infoField(c.str("INFO", "persistence"), "wal_fsync"); got != want {
			t.Errorf("wal_fsync = %q, want %q", got, want)
		}
		if got := n.Server.Host().SyncMode().String(); got != want {
			t.Errorf("the log's policy is %s, want %s", got, want)
		}
	}
}

// TestTCPKeepalive: tcp-keepalive is on client sockets: the server's end
// of a connection has SO_KEEPALIVE set, and tcp-keepalive 0 leaves it off.
func TestTCPKeepalive(t *testing.T) {
	rec := &recordListener{}
	n := nodetest.Start(t, server.Config{Directives: [][2]string{{"tcp-keepalive", "60"}},
		WrapListener: func(ln net.Listener) net.Listener { rec.Listener = ln; return rec }})
	c := dialRaw(t, n.Addr().String())
	if got := c.str("PING"); got != "PONG" {
		t.Fatal(got)
	}
	if !keepAliveOn(t, rec.conn(0)) {
		t.Error("tcp-keepalive 60: SO_KEEPALIVE off")
	}
	if got := c.str("CONFIG", "SET", "tcp-keepalive", "0"); got != "OK" {
		t.Fatal(got)
	}
	c2 := dialRaw(t, n.Addr().String())
	if got := c2.str("PING"); got != "PONG" {
		t.Fatal(got)
	}
	if keepAliveOn(t, rec.conn(1)) {
		t.Error("tcp-keepalive 0: SO_KEEPALIVE on")
	}
}

// recordListener keeps the connections it accepts.
type recordListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *recordListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *recordListener) conn(i int) net.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns[i]
}

func keepAliveOn(t *testing.T, c net.Conn) bool {
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var on int
	raw.Control(func(fd uintptr) { on, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE) })
	if err != nil {
		t.Fatal(err)
	}
	return on != 0
}
