package compattests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedisPyPubSub runs testdata/redis_py_pubsub.py (Debian's
// python3-redis) against redis-server and LoomCache: redis-py's PubSub
// object with channels, patterns and handlers.
func TestRedisPyPubSub(t *testing.T) {
	if err := exec.Command(python3, "-c", "import redis").Run(); err != nil {
		t.Fatalf("python3 with redis-py is needed (apt-get install python3-redis): %v", err)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "redis_py_pubsub.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range startTargets(t) {
		t.Run(tg.name, func(t *testing.T) {
			host, port, _ := strings.Cut(tg.addr, ":")
			cmd := exec.Command(python3, script, host, port)
			cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !strings.Contains(string(out), "all passed") {
				t.Fatalf("unexpected output:\n%s", out)
			}
		})
	}
}
