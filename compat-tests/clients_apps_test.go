package compattests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// The clients operators' apps use, redis-py and ioredis, each driven by a
// script that prints one line per result; the same script runs against
// redis-server and LoomCache and the outputs must be the same.

// TestRedisPyApp runs testdata/redis_py_full.py: connection, pipelines,
// transactions, pub/sub, scripts and functions, and every data type.
func TestRedisPyApp(t *testing.T) {
	needRedisPy(t)
	script, err := filepath.Abs(filepath.Join("testdata", "redis_py_full.py"))
	if err != nil {
		t.Fatal(err)
	}
	diffClientScript(t, func(host, port string) *exec.Cmd {
		cmd := exec.Command(python3, script, host, port)
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
		return cmd
	})
}

// TestIoredisApp runs node/ioredis_full.js in RESP2 and RESP3 (ioredis's
// default), the latter with RESP3's own reply shapes.
func TestIoredisApp(t *testing.T) {
	dir := needIoredis(t)
	for _, proto := range []string{"2", "3"} {
		t.Run("RESP"+proto, func(t *testing.T) {
			diffClientScript(t, func(host, port string) *exec.Cmd {
				cmd := exec.Command("node", "ioredis_full.js", host, port, proto)
				cmd.Dir = dir
				return cmd
			})
		})
	}
}

// needRedisPy fails the test when Debian's python3-redis is missing: CI
// installs it (.ci/run).
func needRedisPy(t *testing.T) {
	t.Helper()
	if err := exec.Command(python3, "-c", "import redis").Run(); err != nil {
		t.Fatalf("python3 with redis-py is needed (apt-get install python3-redis): %v", err)
	}
}

// needIoredis returns the directory of the node scripts, installing
// ioredis there from its package-lock.json when it is missing (.ci/run
// does so first). No node or npm, or no registry, fails the test.
func needIoredis(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed for the ioredis tests (apt-get install nodejs npm): %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ioredis", "package.json")); err == nil {
		return dir
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s (installs ioredis): %v\n%s", dir, err, out)
	}
	return dir
}

// diffClientScript runs the command made by run against a fresh
// redis-server, a fresh LoomCache node and a follower of a fresh 3-node
// cluster, and fails with the lines whose output differs. The command
// must succeed and end with a "done" line, so a script that stopped early
// fails too.
func diffClientScript(t *testing.T, run func(host, port string) *exec.Cmd) {
	t.Helper()
	// A follower too: it forwards to the leader and serves the rest
	// itself, and the client must not see the difference.
	c := nodetest.StartCluster(t, 3, nil)
	targets := append(startTargets(t), target{"loomcache-follower", c.Followers()[0].Addr().String()})
	// Both run at once: the scripts mostly wait (blocking commands).
	type result struct {
		out, stderr string
		err         error
	}
	results := make([]result, len(targets))
	var wg sync.WaitGroup
	for i, tg := range targets {
		host, port, _ := strings.Cut(tg.addr, ":")
		cmd := run(host, port)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stderr strings.Builder
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			results[i] = result{string(out), stderr.String(), err}
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.err != nil || !strings.HasSuffix(res.out, "done\n") {
			t.Fatalf("against %s: %v\nstdout:\n%s\nstderr:\n%s", targets[i].name, res.err, res.out, res.stderr)
		}
	}
	for i := 1; i < len(targets); i++ {
		if d := diffLines(results[0].out, results[i].out); d != "" {
			t.Errorf("the client saw different results (- %s, + %s):\n%s", targets[0].name, targets[i].name, d)
		}
	}
}

// diffLines lists the lines of want and got that differ, position by
// position: the scripts print one labelled line per result, so a
// difference shows in place without a general diff.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "- %s\n+ %s\n", wl, gl)
		}
	}
	return b.String()
}
