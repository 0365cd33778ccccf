package nodetest

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/server"
)

func roundTrip(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(line)
}

func TestStartInProcessAndProcessAndRedis(t *testing.T) {
	n := Start(t, server.Config{Fsync: true})
	if got := roundTrip(t, n.Addr().String(), "PING\r\n"); got != "+PONG" {
		t.Fatalf("in-process PING = %q", got)
	}
	if err := n.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	p := StartProcess(t, "")
	if got := roundTrip(t, p.Addr, "SET k v\r\n"); got != "+OK" {
		t.Fatalf("process SET = %q", got)
	}
	p.Stop()
	if p.ExitCode() != 0 {
		t.Fatalf("SIGTERM exit code %d\n%s", p.ExitCode(), p.Output())
	}
	p.Start()
	if got := roundTrip(t, p.Addr, "GET k\r\n"); got != "$1" {
		t.Fatalf("after restart GET = %q", got)
	}
	p.Interrupt()
	if p.ExitCode() != 0 {
		t.Fatalf("SIGINT exit code %d\n%s", p.ExitCode(), p.Output())
	}
	r := StartRedis(t)
	if got := roundTrip(t, r.Addr, "PING\r\n"); got != "+PONG" {
		t.Fatalf("redis PING = %q", got)
	}
}

// A PKI's certificates verify against its CA for both ends of a link,
// and not against another PKI's.
func TestPKI(t *testing.T) {
	p := NewPKI(t, "test CA")
	c := p.Issue("node")
	leaf, err := x509.ParseCertificate(c.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: p.Pool(), DNSName: "localhost", KeyUsages: []x509.ExtKeyUsage{usage}}); err != nil {
			t.Errorf("usage %v: %v", usage, err)
		}
	}
	if err := leaf.VerifyHostname("127.0.0.1"); err != nil {
		t.Error(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: NewPKI(t, "other").Pool()}); err == nil {
		t.Error("verified against another CA")
	}
	if _, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile); err != nil {
		t.Fatalf("key pair from the files: %v", err)
	}
}
