package server_test

import (
	"crypto/tls"
	"net"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

func clusterOptions(pki *nodetest.PKI, c nodetest.Cert) server.TLSOptions {
	return server.TLSOptions{CertFile: c.CertFile, KeyFile: c.KeyFile, CACertFile: pki.CAFile}
}

// link runs one handshake between an accepting side (serverCfg) and a
// dialling one (clientCfg) over loopback, then a byte each way, and
// returns each side's error and the certificate serial each saw.
func link(t *testing.T, serverCfg, clientCfg *tls.Config) (serverErr, clientErr error, serverSaw, clientSaw string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		err error
		saw string
	}
	done := make(chan result, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer nc.Close()
		tc := tls.Server(nc, serverCfg)
		tc.SetDeadline(time.Now().Add(10 * time.Second))
		if err := tc.Handshake(); err != nil {
			done <- result{err: err}
			return
		}
		b := make([]byte, 1)
		if _, err := tc.Read(b); err != nil {
			done <- result{err: err}
			return
		}
		_, err = tc.Write(b)
		done <- result{err: err, saw: tc.ConnectionState().PeerCertificates[0].Subject.CommonName}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tc := tls.Client(nc, clientCfg)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	clientErr = tc.Handshake()
	if clientErr == nil {
		clientSaw = tc.ConnectionState().PeerCertificates[0].Subject.CommonName
		if _, clientErr = tc.Write([]byte{1}); clientErr == nil {
			_, clientErr = tc.Read(make([]byte, 1))
		}
	}
	nc.Close() // a refused client must not leave the server waiting
	r := <-done
	return r.err, clientErr, r.saw, clientSaw
}

// The cluster configuration authenticates both ends: two nodes of one CA
// link, each seeing the other's certificate; a peer without a certificate
// or with one from another CA is refused, dialling or accepting.
func TestClusterTLSConfig(t *testing.T) {
	pki := nodetest.NewPKI(t, "cluster CA")
	a, err := server.ClusterTLSConfig(clusterOptions(pki, pki.Issue("node-a")))
	if err != nil {
		t.Fatal(err)
	}
	b, err := server.ClusterTLSConfig(clusterOptions(pki, pki.Issue("node-b")))
	if err != nil {
		t.Fatal(err)
	}
	if a.RootCAs == nil || a.ClientCAs == nil || a.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("cluster config: RootCAs %v ClientCAs %v ClientAuth %v", a.RootCAs, a.ClientCAs, a.ClientAuth)
	}
	sErr, cErr, sSaw, cSaw := link(t, a, b)
	if sErr != nil || cErr != nil || sSaw != "node-b" || cSaw != "node-a" {
		t.Fatalf("a accepts b: server %v saw %q, client %v saw %q", sErr, sSaw, cErr, cSaw)
	}
	if sErr, cErr, _, _ := link(t, b, a); sErr != nil || cErr != nil {
		t.Fatalf("b accepts a: %v, %v", sErr, cErr)
	}

	noCert := &tls.Config{RootCAs: pki.Pool()}
	if sErr, _, _, _ := link(t, a, noCert); sErr == nil {
		t.Error("accepted a peer without a certificate")
	}
	other := nodetest.NewPKI(t, "another CA")
	strangerCert := other.Issue("stranger")
	stranger, err := server.ClusterTLSConfig(clusterOptions(other, strangerCert))
	if err != nil {
		t.Fatal(err)
	}
	if _, cErr, _, _ := link(t, stranger, a); cErr == nil {
		t.Error("dialled into a node of another CA")
	}
	// A dialler that shows its certificate whatever the server asks for.
	pushy := &tls.Config{InsecureSkipVerify: true, GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		return &strangerCert.TLS, nil
	}}
	if sErr, _, _, _ := link(t, a, pushy); sErr == nil {
		t.Error("accepted a peer of another CA")
	}
	if _, err := server.ClusterTLSConfig(server.TLSOptions{CertFile: pki.CAFile, KeyFile: pki.CAFile}); err == nil {
		t.Error("built without a CA")
	}
}

// tls-client-cert-file and tls-client-key-file, set together, are the
// certificate a node shows when it dials.
func TestClusterTLSClientCertificate(t *testing.T) {
	pki := nodetest.NewPKI(t, "cluster CA")
	peer, err := server.ClusterTLSConfig(clusterOptions(pki, pki.Issue("peer")))
	if err != nil {
		t.Fatal(err)
	}
	o := clusterOptions(pki, pki.Issue("node"))
	dialer := pki.Issue("node-dialler")
	o.ClientCertFile, o.ClientKeyFile = dialer.CertFile, dialer.KeyFile
	c, err := server.ClusterTLSConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	if sErr, cErr, sSaw, _ := link(t, peer, c); sErr != nil || cErr != nil || sSaw != "node-dialler" {
		t.Fatalf("dialling: %v %v, the peer saw %q", sErr, cErr, sSaw)
	}
	if sErr, cErr, _, cSaw := link(t, c, peer); sErr != nil || cErr != nil || cSaw != "node" {
		t.Fatalf("accepting: %v %v, the peer saw %q", sErr, cErr, cSaw)
	}
}

// A node with tls-cluster yes hands out its cluster configuration (nil
// with no), which follows certificate reloads.
func TestServerClusterTLS(t *testing.T) {
	pki := nodetest.NewPKI(t, "cluster CA")
	plain := nodetest.Start(t, server.Config{})
	if cfg, err := plain.ClusterTLS(); cfg != nil || err != nil {
		t.Fatalf("tls-cluster no: %v, %v", cfg, err)
	}
	cert := pki.Issue("node")
	d := append(pki.Directives(cert, 0)[1:], [2]string{"tls-cluster", "yes"})
	n := nodetest.Start(t, server.Config{Directives: d})
	if n.TLSAddr() != nil {
		t.Fatal("tls-cluster alone opened a client TLS port")
	}
	cfg, err := n.ClusterTLS()
	if err != nil || cfg == nil {
		t.Fatalf("tls-cluster yes: %v, %v", cfg, err)
	}
	peer, err := server.ClusterTLSConfig(clusterOptions(pki, pki.Issue("peer")))
	if err != nil {
		t.Fatal(err)
	}
	if sErr, cErr, sSaw, cSaw := link(t, cfg, peer); sErr != nil || cErr != nil || sSaw != "peer" || cSaw != "node" {
		t.Fatalf("node accepts peer: %v %v %q %q", sErr, cErr, sSaw, cSaw)
	}
	renewed := pki.Issue("node-renewed")
	admin := dialRaw(t, n.Addr().String())
	if got := admin.str("CONFIG", "SET", "tls-cert-file", renewed.CertFile, "tls-key-file", renewed.KeyFile); got != "OK" {
		t.Fatal(got)
	}
	if _, _, sSaw, cSaw := link(t, peer, cfg); sSaw != "node-renewed" || cSaw != "peer" {
		t.Fatalf("after the reload the peer saw %q (want node-renewed), the node saw %q", sSaw, cSaw)
	}
	if _, _, _, cSaw := link(t, cfg, peer); cSaw != "node-renewed" {
		t.Fatalf("after the reload the dialler saw %q", cSaw)
	}
}
