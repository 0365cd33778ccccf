package server_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/raftfsm"
)

// TestTLSClusterDirective (real processes): tls-cluster yes with Redis's
// tls-* files puts the cluster port under mutual TLS: the cluster forms
// and serves through a follower, a stranger speaking plain text or
// showing a certificate of another CA gets no reply, and the cluster
// carries on.
func TestTLSClusterDirective(t *testing.T) {
	pki := nodetest.NewPKI(t, "cluster CA")
	certs := make([]nodetest.Cert, 3)
	for i := range certs {
		certs[i] = pki.Issue(fmt.Sprint("n", i+1))
	}
	ps := nodetest.StartProcessCluster(t, nodetest.ProcessCluster{N: 3, NodeArgs: func(i int) []string {
		return []string{"--tls-cluster", "yes", "--tls-cert-file", certs[i].CertFile,
			"--tls-key-file", certs[i].KeyFile, "--tls-ca-cert-file", pki.CAFile}
	}})
	for i := 0; i < 20; i++ {
		if got := text(t, ps[i%3].Addr, "SET", fmt.Sprint("k", i), "v"); got != "+OK\r\n" {
			t.Fatalf("SET through node %d: %q", i%3, got)
		}
	}
	raftAddr := ps[0].RaftAdr
	// Plain text: a cluster hello in the clear gets no channel, at most a
	// TLS alert record (0x15) before the connection closes.
	nc, err := net.DialTimeout("tcp", raftAddr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	nc.Write(raftfsm.AppendHello(nil, raftfsm.ChannelForward, ""))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(nc); len(b) > 0 && b[0] != 0x15 {
		t.Errorf("a plain-text dialer read %q", b)
	}
	nc.Close()
	// The port speaks TLS to a member's certificate (the control)...
	member, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", raftAddr, pki.ClientTLS(&certs[1]))
	if err != nil {
		t.Fatalf("TLS with a member's certificate: %v", err)
	}
	member.Close()
	// ...and to no other: a certificate of another CA is refused (under
	// TLS 1.3 the refusal arrives on the first read).
	other := nodetest.NewPKI(t, "other CA")
	cert := other.Issue("stranger")
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", raftAddr,
		&tls.Config{Certificates: []tls.Certificate{cert.TLS}, RootCAs: pki.Pool()})
	if err == nil {
		conn.Write(raftfsm.AppendHello(nil, raftfsm.ChannelForward, ""))
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err = conn.Read(make([]byte, 1)); err == nil {
			t.Error("a certificate of another CA was let in")
		}
		conn.Close()
	}
	if got := text(t, ps[1].Addr, "GET", "k19"); got != "v" {
		t.Errorf("GET after the strangers: %q", got)
	}
}
