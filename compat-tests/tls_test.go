package compattests

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// tlsTarget is a server with a TLS port, and the plain port beside it.
type tlsTarget struct{ name, addr, tlsAddr string }

// startTLSTargets starts redis-server and LoomCache with the same
// certificate, key and CA, each on a TLS port of its own.
func startTLSTargets(t *testing.T) (*nodetest.PKI, []tlsTarget) {
	t.Helper()
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	cert := pki.Issue("server")
	redisPort, loomPort := nodetest.FreePort(t), nodetest.FreePort(t)
	var args []string
	for _, d := range pki.Directives(cert, redisPort) {
		args = append(args, "--"+d[0], d[1])
	}
	r := nodetest.StartRedis(t, args...)
	loom := nodetest.Start(t, server.Config{Fsync: true, Directives: pki.Directives(cert, loomPort)})
	return pki, []tlsTarget{
		{"redis", r.Addr, fmt.Sprintf("127.0.0.1:%d", redisPort)},
		{"loomcache", loom.Addr().String(), loom.TLSAddr().String()},
	}
}

// go-redis over TLS, RESP2 and RESP3, passes the same checks as over
// plain TCP, against redis-server and LoomCache alike.
func TestTLSGoRedis(t *testing.T) {
	pki, targets := startTLSTargets(t)
	client := pki.Issue("client")
	for _, proto := range []int{3, 2} {
		for _, tg := range targets {
			t.Run(fmt.Sprintf("resp%d/%s", proto, tg.name), func(t *testing.T) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				c := redis.NewClient(&redis.Options{Addr: tg.tlsAddr, Protocol: proto, TLSConfig: pki.ClientTLS(&client)})
				defer c.Close()
				if err := c.FlushAll(ctx).Err(); err != nil {
					t.Fatalf("FLUSHALL: %v", err)
				}
				for _, ch := range goRedisChecks() {
					if err := ch.run(ctx, c, proto); err != nil {
						t.Errorf("%s: %v", ch.name, err)
					}
				}
				// Without a client certificate the server refuses.
				bare := redis.NewClient(&redis.Options{Addr: tg.tlsAddr, Protocol: proto, TLSConfig: pki.ClientTLS(nil),
					MaxRetries: -1, DisableIdentity: true})
				defer bare.Close()
				if err := bare.Ping(ctx).Err(); err == nil {
					t.Error("client without a certificate served")
				}
			})
		}
	}
}

// redis-cli --tls sees the same replies from both servers, and the plain
// port beside the TLS one serves the same data.
func TestTLSRedisCLI(t *testing.T) {
	pki, targets := startTLSTargets(t)
	client := pki.Issue("client")
	withCert := []string{"--tls", "--cacert", pki.CAFile, "--cert", client.CertFile, "--key", client.KeyFile}
	for _, args := range [][]string{
		{"FLUSHALL"},
		{"SET", "foo", "bar"},
		{"GET", "foo"},
		{"--no-raw", "GET", "foo"},
		{"-3", "GET", "foo"},
		{"--no-raw", "MGET", "foo", "missing"},
		{"INCR", "n"},
		{"GET", "missing"},
		{"NOSUCHCOMMAND", "x"},
	} {
		var res [2]cliResult
		for i, tg := range targets {
			res[i] = redisCLI(t, tg.tlsAddr, nil, append(withCert, args...)...)
		}
		if res[0] != res[1] {
			t.Errorf("redis-cli --tls %q:\n\tredis:     %q exit %d\n\tloomcache: %q exit %d",
				args, res[0].stdout, res[0].exit, res[1].stdout, res[1].exit)
		}
	}
	for _, tg := range targets {
		if r := redisCLI(t, tg.addr, nil, "GET", "foo"); r.stdout != "bar\n" {
			t.Errorf("%s plain port: GET foo = %q", tg.name, r.stdout)
		}
		// Without --cert the handshake fails on both.
		if r := redisCLI(t, tg.tlsAddr, nil, "--tls", "--cacert", pki.CAFile, "GET", "foo"); r.stdout == "bar\n" {
			t.Errorf("%s: served redis-cli without a certificate", tg.name)
		}
	}
}

// The command line and loomcache.conf take the TLS directives under
// Redis's names: a node process started either way serves redis-cli
// --tls, and one with a bad certificate does not start, saying why.
func TestTLSNodeProcess(t *testing.T) {
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	cert := pki.Issue("server")
	client := pki.Issue("client")
	cli := []string{"--tls", "--cacert", pki.CAFile, "--cert", client.CertFile, "--key", client.KeyFile}

	tlsPort := nodetest.FreePort(t)
	var flags []string
	for _, d := range pki.Directives(cert, tlsPort) {
		flags = append(flags, "--"+d[0], d[1])
	}
	p := nodetest.StartProcess(t, "", flags...)
	tlsAddr := fmt.Sprintf("127.0.0.1:%d", tlsPort)
	if r := redisCLI(t, tlsAddr, nil, append(cli, "SET", "k", "from the command line")...); r.stdout != "OK\n" {
		t.Fatalf("SET over TLS: %q exit %d\n%s", r.stdout, r.exit, p.Output())
	}
	if r := redisCLI(t, p.Addr, nil, "GET", "k"); r.stdout != "from the command line\n" {
		t.Fatalf("GET on the plain port: %q", r.stdout)
	}
	p.Stop()

	// A config file, and --port 0: TLS only.
	conf := filepath.Join(t.TempDir(), "loomcache.conf")
	tlsPort = nodetest.FreePort(t)
	var lines []string
	for _, d := range pki.Directives(cert, tlsPort) {
		lines = append(lines, d[0]+" "+strconv.Quote(d[1]))
	}
	lines = append(lines, "tls-protocols \"TLSv1.2 TLSv1.3\"", "port 0")
	if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stop := runNode(t, conf, "--raft-addr", nodetest.FreeAddr(t), "--data-dir", t.TempDir())
	defer stop()
	tlsAddr = fmt.Sprintf("127.0.0.1:%d", tlsPort)
	deadline := time.Now().Add(30 * time.Second)
	for {
		r := redisCLI(t, tlsAddr, nil, append(cli, "SET", "k", "from the file")...)
		if r.stdout == "OK\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node from %s never served TLS: %q\n%s", conf, r.stdout, out())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := redisCLI(t, tlsAddr, nil, append(cli, "CONFIG", "GET", "port")...); r.stdout != "port\n0\n" {
		t.Errorf("CONFIG GET port with port 0: %q", r.stdout)
	}

	bad := filepath.Join(t.TempDir(), "missing.crt")
	cmd := exec.Command(nodetest.Binary(t), "--addr", nodetest.FreeAddr(t), "--raft-addr", nodetest.FreeAddr(t),
		"--data-dir", t.TempDir(), "--tls-port", strconv.Itoa(nodetest.FreePort(t)), "--tls-cert-file", bad,
		"--tls-key-file", cert.KeyFile, "--tls-ca-cert-file", pki.CAFile)
	msg, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(msg), "tls-cert-file") ||
		!strings.Contains(string(msg), bad) {
		t.Fatalf("start with a missing certificate: %v, exit %v:\n%s", err, cmd.ProcessState, msg)
	}
}

// runNode starts the loomcache binary with a config file and flags; stop
// ends it (SIGTERM) and waits.
func runNode(t *testing.T, conf string, flags ...string) (output func() string, stop func()) {
	t.Helper()
	cmd := exec.Command(nodetest.Binary(t), append([]string{conf}, flags...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	return func() string {
		select {
		case <-done:
			return out.String()
		default:
			return "(still running)"
		}
	}, stop
}
