package server_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
)

// Loading with real node processes and no test hooks: what a client sees
// from its first connection to a restarting node.

// TestLoadingProcessRestart restarts a node process holding 300k keys in
// a snapshot and the WAL after it: a client that connects as soon as the
// port listens gets -LOADING for GET and SET while INFO says loading:1
// with Redis's loading fields, and then every key back.
func TestLoadingProcessRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 300k keys into a node process")
	}
	const keys = 300000
	p := nodetest.StartProcess(t, "", "--snapshot-threshold", "50000")
	fill(t, p.Addr, 0, keys)
	p.Stop()

	p.Launch()
	c := dialWhenListening(t, p.Addr)
	loading, infos := 0, 0
	for {
		got := c.do("GET", "key:1")
		if got == "$7\r\nvalue:1\r\n" {
			break
		}
		if got != loadingErr {
			t.Fatalf("GET while loading: %q\n%s", got, p.Output())
		}
		loading++
		if got := c.do("SET", "other", "x"); got != loadingErr && got != "+OK\r\n" {
			t.Fatalf("SET while loading: %q", got)
		}
		// Loading may end between two commands: only a loading:1 counts.
		if info := c.do("INFO", "persistence"); strings.Contains(info, "\r\nloading:1\r\n") {
			if !loadingFields.MatchString(info) {
				t.Fatalf("INFO persistence while loading:\n%s", info)
			}
			infos++
		}
		time.Sleep(5 * time.Millisecond)
	}
	if loading == 0 || infos == 0 {
		t.Fatalf("never saw the node loading (%d LOADING replies, %d INFO loading:1): it listened only once loaded?\n%s",
			loading, infos, p.Output())
	}
	checkKeys(t, p.Addr, keys)
	out := p.Output()
	for _, want := range []string{"Snapshot at index ", "DB loaded from disk: ", "Ready to accept connections"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	t.Logf("%d LOADING replies, %d INFO loading:1", loading, infos)
}

// TestLoadingProcessRequirepass starts and restarts a node process with
// requirepass in a config file, on the command line, and in both (the
// command line wins): from the first connection on, AUTH with the right
// password gets -LOADING or OK, never another error, and the wrong
// password never OK. (Before loading existed, AUTH answered "called
// without any password configured" for about a second after a start.)
func TestLoadingProcessRequirepass(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		args       []string
	}{
		{"config file", "requirepass s3cret\n", nil},
		{"command line", "", []string{"--requirepass", "s3cret"}},
		{"both", "requirepass other\n", []string{"--requirepass", "s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := nodetest.NewProcess(t, "", tc.args...)
			if tc.file != "" {
				p.ConfigFile = filepath.Join(t.TempDir(), "loomcache.conf")
				if err := os.WriteFile(p.ConfigFile, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			for round, how := range []string{"first start", "restart", "restart after a kill"} {
				switch round {
				case 1:
					p.Stop()
				case 2:
					p.Kill()
				}
				p.Launch()
				spamAuth(t, p, how)
				c := connect(t, p.Addr)
				c.do("AUTH", "s3cret")
				if got := c.do("SET", "k", how); got != "+OK\r\n" {
					t.Fatalf("%s: SET: %q", how, got)
				}
			}
		})
	}
}

// spamAuth connects to p again and again from the moment it listens,
// sending AUTH with the right and then the wrong password, until the
// right one has been OK a few times.
func spamAuth(t *testing.T, p *nodetest.Process, how string) {
	t.Helper()
	const (
		wrongPass = "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
		oks       = 5
	)
	deadline := time.Now().Add(60 * time.Second)
	seen := map[string]int{}
	for seen["+OK\r\n"] < oks {
		if time.Now().After(deadline) {
			t.Fatalf("%s: AUTH never OK: %d -LOADING\n%s", how, seen[loadingErr], p.Output())
		}
		nc, err := net.Dial("tcp", p.Addr)
		if err != nil {
			time.Sleep(time.Millisecond)
			continue
		}
		c := connectConn(t, nc)
		right := c.do("AUTH", "s3cret")
		seen[right]++
		if right != "+OK\r\n" && right != loadingErr {
			t.Fatalf("%s: AUTH with the right password: %q (after %d -LOADING)", how, right, seen[loadingErr])
		}
		if wrong := c.do("AUTH", "nope"); wrong != wrongPass && wrong != loadingErr {
			t.Fatalf("%s: AUTH with a wrong password: %q", how, wrong)
		}
		nc.Close()
		time.Sleep(2 * time.Millisecond)
	}
	t.Logf("%s: AUTH answered -LOADING %d times, then OK", how, seen[loadingErr])
}
