// Package nodetest starts LoomCache nodes (in-process or as real
// processes) and real redis-server instances for tests, on free loopback
// ports, and stops them when the test ends. It also plays a stranger on
// a cluster port (stranger.go), for the tests of its authentication.
package nodetest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/loomcache/loomcache/server"
)

// FreePort returns a loopback port that was free a moment ago. It is
// below the kernel's ephemeral range, where a port found free could be
// taken, before the test listens on it, by the local end of one of the
// test's own connections; and it is handed out once per test binary.
func FreePort(t testing.TB) int {
	t.Helper()
	freePorts.Lock()
	defer freePorts.Unlock()
	if freePorts.next == 0 {
		// Test binaries of several packages run at once: each starts
		// somewhere else in the range.
		freePorts.next = freePortsLo + os.Getpid()*7919%(freePortsHi-freePortsLo)
	}
	for range freePortsHi - freePortsLo {
		p := freePorts.next
		if freePorts.next++; freePorts.next >= freePortsHi {
			freePorts.next = freePortsLo
		}
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			ln.Close()
			return p
		}
	}
	t.Fatal("free port: none left below the ephemeral range")
	return 0
}

// The ports FreePort hands out: below Linux's default ephemeral range
// (32768 and up), above the well-known and common service ports.
const freePortsLo, freePortsHi = 10000, 32768

// freePorts is where FreePort looks next. Test-helper state, shared by
// the tests of one binary.
var freePorts struct {
	sync.Mutex
	next int
}

// FreeAddr returns "127.0.0.1:port" for a free port.
func FreeAddr(t testing.TB) string { return fmt.Sprintf("127.0.0.1:%d", FreePort(t)) }

// InProcess is a node running inside the test process.
type InProcess struct {
	*server.Server
	Cfg    server.Config
	cancel context.CancelFunc
	// exited is closed when Run has returned (Stop, or the node's own
	// SHUTDOWN), with its error in runErr.
	exited chan struct{}
	runErr error
}

// Start runs a single node in-process with its data in a temp dir (or
// cfg.DataDir if set), waits until it leads and has loaded, and stops it
// at cleanup.
// Fields of cfg left zero get test defaults.
func Start(t testing.TB, cfg server.Config) *InProcess {
	t.Helper()
	if cfg.ID == "" {
		cfg.ID = "n1"
	}
	if cfg.Addr == "" {
		cfg.Addr = FreeAddr(t)
	}
	if cfg.RaftAddr == "" {
		cfg.RaftAddr = FreeAddr(t)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if cfg.LogOutput == nil {
		cfg.LogOutput = io.Discard
	}
	if cfg.MaxBulk == 0 {
		cfg.MaxBulk = 512 << 20
	}
	s, err := server.New(cfg)
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	n := runInProcess(s, cfg)
	wctx, wcancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer wcancel()
	if err := s.Node().WaitLeader(wctx); err != nil {
		n.Stop()
		t.Fatalf("node never led: %v", err)
	}
	if err := s.WaitLoaded(wctx); err != nil {
		n.Stop()
		t.Fatalf("node never loaded: %v", err)
	}
	t.Cleanup(func() { n.Stop() })
	return n
}

// runInProcess runs s until Stop (or its own SHUTDOWN).
func runInProcess(s *server.Server, cfg server.Config) *InProcess {
	ctx, cancel := context.WithCancel(context.Background())
	n := &InProcess{Server: s, Cfg: cfg, cancel: cancel, exited: make(chan struct{})}
	go func() {
		n.runErr = s.Run(ctx)
		close(n.exited)
	}()
	return n
}

// Running reports whether the node has been neither stopped nor shut
// itself down (SHUTDOWN).
func (n *InProcess) Running() bool {
	select {
	case <-n.exited:
		return false
	default:
		return n.cancel != nil
	}
}

// Exited is closed once the node's Run has returned.
func (n *InProcess) Exited() <-chan struct{} { return n.exited }

// Stop shuts the node down and waits for it; it is safe to call twice,
// and after the node shut itself down.
func (n *InProcess) Stop() error {
	if n.cancel == nil {
		return nil
	}
	n.cancel()
	n.cancel = nil
	<-n.exited
	return n.runErr
}

var (
	buildOnce sync.Once
	buildPath string
	buildErr  error
)

// Binary builds cmd/loomcache once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "loomcache-bin-")
		if err != nil {
			buildErr = err
			return
		}
		buildPath = filepath.Join(dir, "loomcache")
		cmd := exec.Command("go", "build", "-o", buildPath, "./cmd/loomcache")
		cmd.Dir = moduleRoot()
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build loomcache: %v", buildErr)
	}
	return buildPath
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Process is a loomcache node running as a child process.
type Process struct {
	t       testing.TB
	Bin     string
	Addr    string
	RaftAdr string
	DataDir string
	Args    []string // extra arguments
	Env     []string // extra environment variables, NAME=value
	// ConfigFile, when set, is given as the config file (the first
	// argument).
	ConfigFile string
	cmd        *exec.Cmd
	Log        *strings.Builder
	logMu      sync.Mutex
	waited     chan struct{}
}

// StartProcess starts a single-node loomcache process on free ports with
// its data in dataDir (a temp dir if empty) and waits until it answers
// PING with a leader elected. It is killed at cleanup.
func StartProcess(t testing.TB, dataDir string, args ...string) *Process {
	t.Helper()
	p := NewProcess(t, dataDir, args...)
	p.Start()
	return p
}

// NewProcess returns a loomcache process on free ports with its data in
// dataDir (a temp dir if empty), not started yet: set Env if need be, then
// Start or Launch it. It is killed at cleanup.
func NewProcess(t testing.TB, dataDir string, args ...string) *Process {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	p := &Process{t: t, Bin: Binary(t), Addr: FreeAddr(t), RaftAdr: FreeAddr(t), DataDir: dataDir, Args: args}
	t.Cleanup(func() { p.Kill() })
	return p
}

// Launch starts the process without waiting for it to serve, for a node
// that may never serve (one refused by its cluster).
func (p *Process) Launch() {
	p.t.Helper()
	p.launch()
}

// Start (re)starts the process on its address and data dir and waits
// until it serves writes.
func (p *Process) Start() {
	p.t.Helper()
	p.launch()
	if err := WaitReady(p.Addr, 30*time.Second); err != nil {
		p.Kill()
		p.t.Fatalf("loomcache at %s not ready: %v\nlog:\n%s", p.Addr, err, p.Output())
	}
}

// launch starts the process without waiting for it to serve.
func (p *Process) launch() {
	p.t.Helper()
	args := append([]string{"--addr", p.Addr, "--raft-addr", p.RaftAdr, "--data-dir", p.DataDir}, p.Args...)
	if p.ConfigFile != "" {
		args = append([]string{p.ConfigFile}, args...)
	}
	p.cmd = exec.Command(p.Bin, args...)
	if len(p.Env) > 0 {
		p.cmd.Env = append(os.Environ(), p.Env...)
	}
	p.logMu.Lock() // the previous run's log reader may still be writing
	p.Log = &strings.Builder{}
	p.logMu.Unlock()
	pr, pw := io.Pipe()
	p.cmd.Stdout = pw
	p.cmd.Stderr = pw
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.logMu.Lock()
			p.Log.WriteString(sc.Text() + "\n")
			p.logMu.Unlock()
		}
	}()
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start loomcache: %v", err)
	}
	p.waited = make(chan struct{})
	go func() { p.cmd.Wait(); pw.Close(); close(p.waited) }()
}

// Exited is closed once the process has exited (by itself too: SHUTDOWN).
func (p *Process) Exited() <-chan struct{} { return p.waited }

// Output returns what the process printed so far.
func (p *Process) Output() string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.Log.String()
}

// Kill sends SIGKILL and waits for the process to exit.
func (p *Process) Kill() { p.signal(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for a clean exit.
func (p *Process) Stop() { p.signal(syscall.SIGTERM) }

// Interrupt sends SIGINT (Ctrl-C) and waits for the process to exit.
func (p *Process) Interrupt() { p.signal(syscall.SIGINT) }

// ExitCode returns the exit code after Stop/Kill (-1 if killed by signal).
func (p *Process) ExitCode() int {
	if p.cmd == nil || p.cmd.ProcessState == nil {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *Process) signal(sig syscall.Signal) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.waited:
		return
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.waited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.waited
	}
}

// WaitReady waits until a server at addr answers a write (a SET on a
// scratch key is not used: PING plus a leader are checked with ECHO over
// a raw connection, then a harmless write, DEL of a key that never exists).
func WaitReady(addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		last = tryDel(addr)
		if last == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return last
}

func tryDel(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*2\r\n$3\r\nDEL\r\n$24\r\n__nodetest_never_a_key__\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, ":") {
		return fmt.Errorf("not ready: %s", strings.TrimSpace(line))
	}
	return nil
}

// Redis is a real redis-server started for comparison.
type Redis struct {
	Addr string
	cmd  *exec.Cmd
}

// StartRedis starts redis-server on a free port with no persistence (plus
// any extra "--name value" arguments), or skips nothing: a missing
// redis-server fails the test, since CI installs it.
func StartRedis(t testing.TB, args ...string) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not installed (apt-get install redis-server): %v", err)
	}
	port := FreePort(t)
	dir := t.TempDir()
	all := append([]string{"--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--daemonize", "no", "--logfile", ""}, args...)
	cmd := exec.Command(bin, all...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := tryDel(r.Addr); err == nil {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server at %s not ready", r.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
