package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/resp"
	"github.com/loomcache/loomcache/server"
)

// Benchmarks of the hot path, for pprof (see bench/README.md):
//
//	go test -run '^$' -bench Dispatch -benchmem -cpuprofile cpu.out ./server
//	go test -run '^$' -bench Conn -cpuprofile cpu.out ./server
//	go test -run '^$' -bench ClusterConn -cpuprofile cpu.out ./server
//	go test -run '^$' -bench IdleConnMemory -benchtime 1x ./server

// idleAddrEnv makes the test binary a client that holds idle connections
// (see idleClients) instead of running tests: one process cannot hold
// both ends of 10,000 connections under a 20,000 file limit.
const idleAddrEnv = "LOOMCACHE_IDLE_CLIENTS_ADDR"

func TestMain(m *testing.M) {
	if addr := os.Getenv(idleAddrEnv); addr != "" {
		os.Exit(idleClients(addr))
	}
	os.Exit(m.Run())
}

// benchNode is the commands.Node the server gives handlers, minus the
// error translation, for driving Dispatch directly.
type benchNode struct{ n *raftfsm.Node }

func (b benchNode) Propose(o *op.Op) (any, error) { return b.n.Propose(o) }
func (b benchNode) ReadBarrier() error            { return b.n.ReadBarrier() }
func (b benchNode) Store() *keyspace.Store        { return b.n.Store() }
func (b benchNode) Now() int64                    { return time.Now().UnixMilli() }

// BenchmarkDispatch runs single commands through the table against a real
// single node, without the network: what one command costs the server.
func BenchmarkDispatch(b *testing.B) {
	node := nodetest.Start(b, server.Config{Fsync: true})
	table := commands.NewTable()
	w := resp.NewWriter()
	ctx := &commands.Ctx{W: w, S: commands.NewSession(1, "bench", "bench", time.Now()),
		Node: benchNode{node.Node()}, Server: node.Server, Table: table}
	run := func(args ...string) {
		ctx.Args = ctx.Args[:0]
		for _, a := range args {
			ctx.Args = append(ctx.Args, []byte(a))
		}
		table.Dispatch(ctx)
		w.Reset()
	}
	run("SET", "bench:k", "12")
	for _, tc := range [][]string{
		{"PING"},
		{"GET", "bench:k"},
		{"GET", "bench:missing"},
		{"SET", "bench:k", "12"},
		{"INCR", "bench:n"},
	} {
		b.Run(tc[0]+"/"+strconv.Itoa(len(tc)), func(b *testing.B) {
			args := make([][]byte, len(tc))
			for i, a := range tc {
				args[i] = []byte(a)
			}
			b.ReportAllocs()
			for b.Loop() {
				ctx.Args = args
				table.Dispatch(ctx)
				w.Reset()
			}
		})
	}
}

// BenchmarkConn drives a node over TCP as redis-benchmark does: 50
// connections, each sending depth requests at a time.
func BenchmarkConn(b *testing.B) {
	node := nodetest.Start(b, server.Config{Fsync: true})
	for _, cmd := range []string{"GET", "SET", "INCR"} {
		for _, depth := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/P%d", cmd, depth), func(b *testing.B) {
				driveConns(b, node.Addr().String(), node.Node(), cmd, depth)
			})
		}
	}
}

// BenchmarkClusterConn is BenchmarkConn against a three-node in-process
// cluster with fsync on, through the leader and through a follower: the
// profile holds all three nodes.
func BenchmarkClusterConn(b *testing.B) {
	c := nodetest.StartCluster(b, 3, func(i int, cfg *server.Config) { cfg.Fsync = true })
	leader, follower := c.Leader(), c.Followers()[0]
	for _, cmd := range []string{"SET", "GET"} {
		for _, depth := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/P%d/leader", cmd, depth), func(b *testing.B) {
				driveConns(b, leader.Addr().String(), leader.Node(), cmd, depth)
			})
			b.Run(fmt.Sprintf("%s/P%d/follower", cmd, depth), func(b *testing.B) {
				driveConns(b, follower.Addr().String(), leader.Node(), cmd, depth)
			})
		}
	}
}

// driveConns runs b.N requests of cmd over 50 connections to addr, depth
// at a time per connection, and reports ops/s and, from node's WAL, the
// entries per commit.
func driveConns(b *testing.B, addr string, node *raftfsm.Node, cmd string, depth int) {
	var req bytes.Buffer
	for i := 0; i < depth; i++ {
		switch cmd {
		case "SET":
			encode(&req, "SET", "key:"+strconv.Itoa(i), "xxx")
		default:
			encode(&req, cmd, "key:"+strconv.Itoa(i))
		}
	}
	conns := make([]net.Conn, 50)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	wal0 := node.Stats().WAL
	b.ResetTimer()
	var wg sync.WaitGroup
	per := b.N/(len(conns)*depth) + 1
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReader(c)
			for i := 0; i < per; i++ {
				if _, err := c.Write(req.Bytes()); err != nil {
					b.Error(err)
					return
				}
				for j := 0; j < depth; j++ {
					if _, err := readReply(br); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(per*len(conns)*depth)/b.Elapsed().Seconds(), "ops/s")
	if wal := node.Stats().WAL; wal.Batches > wal0.Batches {
		b.ReportMetric(float64(wal.Entries-wal0.Entries)/float64(wal.Batches-wal0.Batches), "entries/commit")
	}
}

// idleConns is how many idle connections BenchmarkIdleConnMemory holds.
const idleConns = 10000

// BenchmarkIdleConnMemory reports the server's memory per idle connection:
// a child process opens idleConns connections (each sends one PING, as a
// client checking its connection does) and holds them.
func BenchmarkIdleConnMemory(b *testing.B) {
	node := nodetest.Start(b, server.Config{Fsync: true})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), idleAddrEnv+"="+node.Addr().String())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("idle clients: %q %v", line, err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := len(node.Clients())
	if n < idleConns {
		b.Fatalf("%d clients connected, want %d", n, idleConns)
	}
	heap := float64(after.HeapInuse) - float64(before.HeapInuse)
	stack := float64(after.StackInuse) - float64(before.StackInuse)
	b.ReportMetric(heap/float64(n), "heap-B/conn")
	b.ReportMetric(stack/float64(n), "stack-B/conn")
	b.ReportMetric((heap+stack)/float64(n), "B/conn")
}

// idleClients opens idleConns connections to addr, sends PING on each and
// reads the reply, prints "ready" and holds them until stdin closes. It
// returns the process's exit code.
func idleClients(addr string) int {
	conns := make([]net.Conn, 0, idleConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	buf := make([]byte, 64)
	for len(conns) < idleConns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			return 1
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			return 1
		}
		if _, err := io.ReadAtLeast(c, buf, len("+PONG\r\n")); err != nil {
			fmt.Fprintln(os.Stderr, "read:", err)
			return 1
		}
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return 0
}
