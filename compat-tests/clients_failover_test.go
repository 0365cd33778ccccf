package compattests

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// failoverKeys is how many acknowledged writes each client makes before
// its node is killed.
const failoverKeys = 200

// TestClientsFailover: redis-py and ioredis talk to the leader of a
// 3-node LoomCache (processes, no cluster mode in the clients); the
// leader is killed. Each client's next command fails with a connection
// error, as does a BLPOP waiting on that node when it died; then a client
// for a live node (or ioredis's, moved there by its retryStrategy) reads
// every acknowledged write back and writes again.
// docs/client.md, "Redis clients and failover", is the pattern they run.
func TestClientsFailover(t *testing.T) {
	needRedisPy(t)
	nodeDir := needIoredis(t)
	ps := nodetest.StartProcessCluster(t, nodetest.ProcessCluster{N: 3})
	leader := failoverLeader(t, ps)
	list := []string{ps[leader].Addr}
	for i, p := range ps {
		if i != leader {
			list = append(list, p.Addr)
		}
	}
	addrs, n := strings.Join(list, ","), fmt.Sprint(failoverKeys)
	py, err := filepath.Abs(filepath.Join("testdata", "redis_py_failover.py"))
	if err != nil {
		t.Fatal(err)
	}
	node := exec.Command("node", "ioredis_failover.js", addrs, n)
	node.Dir = nodeDir
	runs := []*failoverRun{
		startFailoverRun(t, "redis-py", exec.Command(python3, py, addrs, n)),
		startFailoverRun(t, "ioredis", node),
	}
	for _, r := range runs {
		r.waitFor(t, "ready")
	}
	ps[leader].Kill()
	for _, r := range runs {
		io.WriteString(r.stdin, "killed\n")
	}
	for _, r := range runs {
		r.waitFor(t, "done")
	}

	wants := map[string][]string{
		"redis-py": {
			fmt.Sprintf("acknowledged %d", failoverKeys),
			`error: ConnectionError: (Error 111 connecting to [0-9.:]+\. Connection refused|Connection closed by server|Error 104 while reading from socket: \(104, 'Connection reset by peer'\))\.?`,
			`in flight: ConnectionError: (Connection closed by server\.|Error 104 while reading from socket: \(104, 'Connection reset by peer'\)\.)`,
			fmt.Sprintf(`read %d of %d, lost \[\], count %d`, failoverKeys, failoverKeys, failoverKeys),
			"write after failover: True",
		},
		"ioredis": {
			fmt.Sprintf("acknowledged %d", failoverKeys),
			`error: Error: Connection is closed\.`,
			`in flight: Error: Connection is closed\.`,
			fmt.Sprintf(`read %d of %d, lost \[\]`, failoverKeys, failoverKeys),
			fmt.Sprintf("rotating client: count %d", failoverKeys),
			"write after failover: OK",
		},
	}
	for _, r := range runs {
		for _, w := range wants[r.name] {
			if !r.has(w) {
				t.Errorf("%s: no line matching %q in:\n%s", r.name, w, strings.Join(r.lines, "\n"))
			}
		}
		t.Logf("%s:\n%s", r.name, strings.Join(r.lines, "\n"))
	}

	// The survivors hold every acknowledged write, whichever node is asked.
	ctx := context.Background()
	for i, p := range ps {
		if i == leader {
			continue
		}
		c := redis.NewClient(&redis.Options{Addr: p.Addr})
		got, err := c.MGet(ctx, "py:fo:count", "node:fo:count", "py:fo:after", "node:fo:after").Result()
		c.Close()
		want := fmt.Sprint([]any{fmt.Sprint(failoverKeys), fmt.Sprint(failoverKeys), "yes", "yes"})
		if err != nil || fmt.Sprint(got) != want {
			t.Errorf("node %s after the failover: %v %v, want %s", p.Addr, got, err, want)
		}
	}
}

// failoverLeader returns the index of the process that leads (ids n1..nN).
func failoverLeader(t *testing.T, ps []*nodetest.Process) int {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: ps[0].Addr})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		info, err := c.Do(context.Background(), "RAFT.INFO").Text()
		if err == nil {
			for _, line := range strings.Split(info, "\r\n") {
				var i int
				if _, err := fmt.Sscanf(line, "leader_id:n%d", &i); err == nil && i >= 1 && i <= len(ps) {
					return i - 1
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no leader named by RAFT.INFO")
	return 0
}

// failoverRun is a client script running, its stdout read line by line.
type failoverRun struct {
	name  string
	stdin io.WriteCloser
	lines []string
	next  chan string // stdout's lines, closed at its end
	// stderr goes to a file, read when the test fails.
	errPath string
}

func (r *failoverRun) stderr() string {
	b, _ := os.ReadFile(r.errPath)
	return string(b)
}

func startFailoverRun(t *testing.T, name string, cmd *exec.Cmd) *failoverRun {
	t.Helper()
	r := &failoverRun{name: name, next: make(chan string, 1024), errPath: filepath.Join(t.TempDir(), "stderr")}
	errFile, err := os.Create(r.errPath)
	if err != nil {
		t.Fatal(err)
	}
	defer errFile.Close() // the child has its own descriptor
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = errFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	r.stdin = stdin
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(r.next)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			r.next <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		<-done
		cmd.Wait()
	})
	return r
}

// waitFor reads lines until one equals want, failing the test at the
// end of the output or after a minute.
func (r *failoverRun) waitFor(t *testing.T, want string) {
	t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-r.next:
			if !ok {
				t.Fatalf("%s ended before %q:\n%s\nstderr:\n%s", r.name, want, strings.Join(r.lines, "\n"), r.stderr())
			}
			r.lines = append(r.lines, line)
			if line == want {
				return
			}
		case <-timeout:
			t.Fatalf("%s: no %q within a minute:\n%s", r.name, want, strings.Join(r.lines, "\n"))
		}
	}
}

// has reports whether a line read so far matches the pattern whole.
func (r *failoverRun) has(pattern string) bool {
	re := regexp.MustCompile("^(?:" + pattern + ")$")
	for _, l := range r.lines {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}
