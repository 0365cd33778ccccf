package server_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// tlsNode is an in-process node with a TLS port, its CA and certificate.
type tlsNode struct {
	*nodetest.InProcess
	pki  *nodetest.PKI
	cert nodetest.Cert
}

// startTLS starts a node serving TLS with a fresh CA and certificate;
// extra directives follow (and may override) the TLS ones.
func startTLS(t *testing.T, extra ...[2]string) *tlsNode {
	t.Helper()
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	cert := pki.Issue("node")
	d := append(pki.Directives(cert, nodetest.FreePort(t)), extra...)
	n := nodetest.Start(t, server.Config{Directives: d})
	return &tlsNode{InProcess: n, pki: pki, cert: cert}
}

func (n *tlsNode) tlsAddr() string { return n.TLSAddr().String() }

// clientCert is a fresh client certificate from the node's CA.
func (n *tlsNode) clientCert() *nodetest.Cert {
	c := n.pki.Issue("client")
	return &c
}

// dialTLS connects to addr and completes the handshake (which, in TLS
// 1.3, the client finishes before the server has checked its
// certificate: a refusal shows on the first read).
func dialTLS(t *testing.T, addr string, cfg *tls.Config) (*rawConn, error) {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	tc, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { tc.Close() })
	return &rawConn{t: t, nc: tc, br: bufio.NewReader(tc)}, nil
}

// ping sends PING and returns the error that stopped it, if one did.
func ping(c *rawConn) error {
	c.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.nc.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := c.br.ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING: %q", line)
	}
	return nil
}

// tlsPing dials addr with cfg and pings; nil means the client was served.
func tlsPing(t *testing.T, addr string, cfg *tls.Config) error {
	t.Helper()
	c, err := dialTLS(t, addr, cfg)
	if err != nil {
		return err
	}
	return ping(c)
}

// The TLS port serves clients as the plain port does, and the plain port
// keeps working beside it: both see the same data.
func TestTLSServesBesidePlainPort(t *testing.T) {
	n := startTLS(t)
	c, err := dialTLS(t, n.tlsAddr(), n.pki.ClientTLS(n.clientCert()))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.str("SET", "k", "over tls"); got != "OK" {
		t.Fatal(got)
	}
	plain := dialRaw(t, n.Addr().String())
	if got := plain.str("GET", "k"); got != "over tls" {
		t.Fatalf("plain GET = %q", got)
	}
	if got := plain.str("SET", "k", "plain"); got != "OK" {
		t.Fatal(got)
	}
	if got := c.str("GET", "k"); got != "plain" {
		t.Fatalf("TLS GET = %q", got)
	}
	_, port, _ := net.SplitHostPort(n.tlsAddr())
	if got := c.do("CONFIG", "GET", "tls-port"); fmt.Sprint(got) != fmt.Sprint([]any{"tls-port", port}) {
		t.Fatalf("CONFIG GET tls-port = %v", got)
	}
}

// tls-auth-clients: yes (the default) refuses a client without a
// certificate or with one from another CA; optional accepts one without,
// still refusing a bad one; no asks for none. A change applies to the
// connections accepted after it.
func TestTLSAuthClients(t *testing.T) {
	n := startTLS(t)
	addr := n.tlsAddr()
	good := n.pki.ClientTLS(n.clientCert())
	none := n.pki.ClientTLS(nil)
	other := nodetest.NewPKI(t, "another CA")
	stranger := other.Issue("stranger")
	// Go's client shows a certificate only if the server names its CA
	// as acceptable; OpenSSL's (redis-cli) shows it anyway, as this does.
	bad := n.pki.ClientTLS(nil)
	bad.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &stranger.TLS, nil }
	admin := dialRaw(t, n.Addr().String())
	for _, tc := range []struct {
		mode            string
		good, none, bad bool // served?
	}{
		{"yes", true, false, false},
		{"optional", true, true, false},
		{"no", true, true, true},
		{"YES", true, false, false},
	} {
		if got := admin.str("CONFIG", "SET", "tls-auth-clients", tc.mode); got != "OK" {
			t.Fatal(got)
		}
		for _, c := range []struct {
			name string
			cfg  *tls.Config
			want bool
		}{{"signed by the CA", good, tc.good}, {"without a certificate", none, tc.none}, {"from another CA", bad, tc.bad}} {
			if err := tlsPing(t, addr, c.cfg); (err == nil) != c.want {
				t.Errorf("tls-auth-clients %s, client %s: served %v (%v), want %v", tc.mode, c.name, err == nil, err, c.want)
			}
		}
	}
	if got := admin.do("CONFIG", "GET", "tls-auth-clients"); fmt.Sprint(got) != "[tls-auth-clients yes]" {
		t.Errorf("CONFIG GET tls-auth-clients = %v", got)
	}
}

// Plain text, an HTTP request or random bytes on the TLS port end that
// connection; the node goes on serving everyone else.
func TestTLSPortRefusesNonTLS(t *testing.T) {
	n := startTLS(t)
	good := n.pki.ClientTLS(n.clientCert())
	keep, err := dialTLS(t, n.tlsAddr(), good)
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(keep); err != nil {
		t.Fatal(err)
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i*7 + i/13)
	}
	for _, in := range [][]byte{
		[]byte("*1\r\n$4\r\nPING\r\n"),
		[]byte("PING\r\n"),
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		garbage,
		{0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5}, // a handshake record holding nonsense
	} {
		nc, err := net.Dial("tcp", n.tlsAddr())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(20 * time.Second))
		nc.Write(in)
		out, err := io.ReadAll(nc) // until the node closes it
		nc.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%.20q: connection still open", in)
		}
		if strings.Contains(string(out), "PONG") {
			t.Fatalf("%.20q: answered %q", in, out)
		}
	}
	if err := ping(keep); err != nil {
		t.Fatalf("open TLS client after the garbage: %v", err)
	}
	if err := tlsPing(t, n.tlsAddr(), good); err != nil {
		t.Fatalf("new TLS client after the garbage: %v", err)
	}
	if err := ping(dialRaw(t, n.Addr().String())); err != nil {
		t.Fatalf("plain client after the garbage: %v", err)
	}
}

// Clients of both ports are one population: maxclients counts them
// together, CLIENT LIST and INFO show them all. Past the limit the plain
// port answers Redis's error; the TLS port closes, as Redis's does.
func TestTLSClientsCountWithPlain(t *testing.T) {
	n := startTLS(t, [2]string{"maxclients", "2"})
	plain := dialRaw(t, n.Addr().String())
	if err := ping(plain); err != nil {
		t.Fatal(err)
	}
	good := n.pki.ClientTLS(n.clientCert())
	secure, err := dialTLS(t, n.tlsAddr(), good)
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(secure); err != nil {
		t.Fatal(err)
	}
	list := plain.str("CLIENT", "LIST")
	if strings.Count(list, "\n") != 2 || !strings.Contains(list, "laddr="+n.tlsAddr()+" ") ||
		!strings.Contains(list, "laddr="+n.Addr().String()+" ") {
		t.Fatalf("CLIENT LIST:\n%s", list)
	}
	if got := infoField(secure.str("INFO", "clients"), "connected_clients"); got != "2" {
		t.Fatalf("connected_clients = %s", got)
	}
	extra := dialRaw(t, n.Addr().String())
	extra.nc.SetDeadline(time.Now().Add(10 * time.Second))
	if got, err := extra.read(); err != nil || got != "-ERR max number of clients reached" {
		t.Fatalf("third plain client: %v %v", got, err)
	}
	if err := tlsPing(t, n.tlsAddr(), good); err == nil {
		t.Fatal("third client served on the TLS port")
	}
	if got := infoField(plain.str("INFO", "stats"), "rejected_connections"); got != "2" {
		t.Fatalf("rejected_connections = %s", got)
	}
}

// Stopping the node closes both listeners and every connection: served
// TLS clients, one still in its handshake, plain clients.
func TestTLSShutdownClosesEverything(t *testing.T) {
	n := startTLS(t)
	plainAddr, tlsAddr := n.Addr().String(), n.tlsAddr()
	secure, err := dialTLS(t, tlsAddr, n.pki.ClientTLS(n.clientCert()))
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(secure); err != nil {
		t.Fatal(err)
	}
	handshaking, err := net.Dial("tcp", tlsAddr) // says nothing
	if err != nil {
		t.Fatal(err)
	}
	defer handshaking.Close()
	plain := dialRaw(t, plainAddr)
	if err := ping(plain); err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	for name, nc := range map[string]net.Conn{"TLS client": secure.nc, "handshaking client": handshaking, "plain client": plain.nc} {
		nc.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err := nc.Read(make([]byte, 1))
		var ne net.Error
		if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
			t.Errorf("%s still open after stop: %v", name, err)
		}
	}
	for _, addr := range []string{plainAddr, tlsAddr} {
		if nc, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			nc.Close()
			t.Errorf("%s still accepts connections", addr)
		}
	}
}

// A key encrypted with a password loads with tls-key-file-pass.
func TestTLSEncryptedKey(t *testing.T) {
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	cert := pki.IssueEncrypted("node", "s3cret pass")
	d := append(pki.Directives(cert, nodetest.FreePort(t)), [2]string{"tls-key-file-pass", "s3cret pass"})
	n := nodetest.Start(t, server.Config{Directives: d})
	client := pki.Issue("client")
	if err := tlsPing(t, n.TLSAddr().String(), pki.ClientTLS(&client)); err != nil {
		t.Fatal(err)
	}
}

// Bad TLS settings stop the node from starting, with an error saying
// what is wrong (Redis logs it and exits).
func TestTLSStartupErrors(t *testing.T) {
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	cert := pki.Issue("node")
	locked := pki.IssueEncrypted("locked", "right")
	notPEM := pki.Dir + "/garbage.pem"
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(nodetest.FreePort(t))
	base := pki.Directives(cert, 0)[1:] // all but tls-port
	with := func(d ...[2]string) [][2]string {
		return append(append([][2]string{{"tls-port", port}}, base...), d...)
	}
	for _, tc := range []struct {
		name string
		d    [][2]string
		want string
	}{
		{"missing cert", with([2]string{"tls-cert-file", pki.Dir + "/nope.crt"}), "nope.crt"},
		{"cert not PEM", with([2]string{"tls-cert-file", notPEM}), "garbage.pem"},
		{"missing key", with([2]string{"tls-key-file", pki.Dir + "/nope.key"}), "nope.key"},
		{"key of another cert", with([2]string{"tls-key-file", locked.KeyFile}, [2]string{"tls-key-file-pass", "right"}), "private key"},
		{"encrypted key, no pass", with([2]string{"tls-cert-file", locked.CertFile}, [2]string{"tls-key-file", locked.KeyFile}), "tls-key-file-pass"},
		{"encrypted key, wrong pass", with([2]string{"tls-cert-file", locked.CertFile}, [2]string{"tls-key-file", locked.KeyFile}, [2]string{"tls-key-file-pass", "wrong"}), "wrong tls-key-file-pass"},
		{"no cert file", with([2]string{"tls-cert-file", ""}), "no tls-cert-file"},
		{"no CA with client auth", with([2]string{"tls-ca-cert-file", ""}), "tls-ca-cert-file or tls-ca-cert-dir"},
		{"CA not PEM", with([2]string{"tls-ca-cert-file", notPEM}), "garbage.pem"},
		{"bad protocols", with([2]string{"tls-protocols", "TLSv1.4"}), "tls-protocols"},
		{"bad ciphers", with([2]string{"tls-ciphers", "BOGUS"}), "ciphers"},
		{"bad ciphersuites", with([2]string{"tls-ciphersuites", "BOGUS"}), "ciphersuites"},
		{"bad dh params", with([2]string{"tls-dh-params-file", notPEM}), "DH params"},
		{"cluster without CA", append(pki.Directives(cert, 0)[1:], [2]string{"tls-cluster", "yes"}, [2]string{"tls-ca-cert-file", ""}), "tls-ca-cert-file or tls-ca-cert-dir"},
	} {
		_, err := server.New(server.Config{ID: "n1", Addr: nodetest.FreeAddr(t), RaftAddr: nodetest.FreeAddr(t),
			DataDir: t.TempDir(), LogOutput: io.Discard, Directives: tc.d})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
	// Without tls-port (nor tls-cluster, tls-replication) the files are
	// not read, as Redis reads them only once TLS is in use.
	n := nodetest.Start(t, server.Config{Directives: [][2]string{{"tls-cert-file", "/nonexistent"}}})
	if n.TLSAddr() != nil {
		t.Fatal("TLS listener without tls-port")
	}
	_, err := server.New(server.Config{ID: "n1", Addr: nodetest.FreeAddr(t), RaftAddr: nodetest.FreeAddr(t),
		DataDir: t.TempDir(), LogOutput: io.Discard, NoPlainPort: true})
	if err == nil || !strings.Contains(err.Error(), "not listen anywhere") {
		t.Errorf("no listener at all: %v", err)
	}
}

// With the plain port off (Redis's port 0) the node serves TLS only, and
// CONFIG GET port says 0.
func TestTLSOnly(t *testing.T) {
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	cert := pki.Issue("node")
	n := nodetest.Start(t, server.Config{NoPlainPort: true, Directives: pki.Directives(cert, nodetest.FreePort(t))})
	if n.Addr() != nil {
		t.Fatalf("plain listener at %v", n.Addr())
	}
	client := pki.Issue("client")
	c, err := dialTLS(t, n.TLSAddr().String(), pki.ClientTLS(&client))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.do("CONFIG", "GET", "port"); fmt.Sprint(got) != "[port 0]" {
		t.Fatalf("CONFIG GET port = %v", got)
	}
	if got := infoField(c.str("INFO", "server"), "tcp_port"); got != "0" {
		t.Fatalf("tcp_port = %q", got)
	}
}

// tls-session-caching and tls-session-cache-timeout decide whether a
// client resumes its session.
func TestTLSSessionResumption(t *testing.T) {
	for _, tc := range []struct {
		d      [][2]string
		resume bool
	}{
		{nil, true},
		{[][2]string{{"tls-session-caching", "no"}}, false},
		{[][2]string{{"tls-session-cache-timeout", "0"}}, false},
		{[][2]string{{"tls-protocols", "TLSv1.2"}}, true},
		{[][2]string{{"tls-protocols", "TLSv1.2"}, {"tls-session-cache-timeout", "0"}}, false},
	} {
		n := startTLS(t, tc.d...)
		cfg := n.pki.ClientTLS(n.clientCert())
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(4)
		var resumed bool
		for i := 0; i < 2; i++ {
			c, err := dialTLS(t, n.tlsAddr(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			// The ticket comes after the handshake: a reply means it is in.
			if err := ping(c); err != nil {
				t.Fatal(err)
			}
			resumed = c.nc.(*tls.Conn).ConnectionState().DidResume
			c.nc.Close()
		}
		if resumed != tc.resume {
			t.Errorf("%v: second connection resumed %v, want %v", tc.d, resumed, tc.resume)
		}
	}
}

// tls-protocols bounds the versions; tls-ciphers picks TLS 1.2 suites.
func TestTLSProtocolsAndCiphers(t *testing.T) {
	n := startTLS(t, [2]string{"tls-protocols", "TLSv1.2"}, [2]string{"tls-ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384:DHE-RSA-AES256-GCM-SHA384"})
	cfg := n.pki.ClientTLS(n.clientCert())
	c, err := dialTLS(t, n.tlsAddr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := ping(c); err != nil {
		t.Fatal(err)
	}
	st := c.nc.(*tls.Conn).ConnectionState()
	if st.Version != tls.VersionTLS12 || st.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 {
		t.Fatalf("negotiated %s %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite))
	}
	only13 := cfg.Clone()
	only13.MinVersion = tls.VersionTLS13
	if err := tlsPing(t, n.tlsAddr(), only13); err == nil {
		t.Fatal("TLS 1.3 client served with tls-protocols TLSv1.2")
	}
	otherSuite := cfg.Clone()
	otherSuite.MaxVersion = tls.VersionTLS12
	otherSuite.CipherSuites = []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}
	if err := tlsPing(t, n.tlsAddr(), otherSuite); err == nil {
		t.Fatal("client served with a suite tls-ciphers leaves out")
	}
}
