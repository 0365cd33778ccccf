package server_test

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/loomcache/loomcache/internal/nodetest"
	"github.com/loomcache/loomcache/server"
)

// rawReply sends args and returns the reply's bytes exactly as they came.
func rawReply(c *rawConn, args ...string) string {
	c.t.Helper()
	c.send(args...)
	out, err := readReply(c.br)
	if err != nil {
		c.t.Fatalf("%v: %v", args, err)
	}
	return string(out)
}

// configPairs returns CONFIG GET pattern as name -> value.
func configPairs(c *rawConn, pattern string) map[string]string {
	c.t.Helper()
	got, ok := c.do("CONFIG", "GET", pattern).([]any)
	if !ok {
		c.t.Fatalf("CONFIG GET %s: not an array", pattern)
	}
	out := map[string]string{}
	for i := 0; i+1 < len(got); i += 2 {
		out[got[i].(string)] = got[i+1].(string)
	}
	return out
}

// The same TLS settings given to redis-server and to LoomCache read back
// the same through CONFIG GET, name by name and byte for byte; CONFIG SET
// refuses the same values with the same errors, and accepts the same.
func TestTLSConfigMatchesRedis(t *testing.T) {
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	cert := pki.IssueEncrypted("node", "key pass") // OpenSSL reads our PKCS#8 too
	settings := [][2]string{
		{"tls-cert-file", cert.CertFile}, {"tls-key-file", cert.KeyFile}, {"tls-key-file-pass", "key pass"},
		{"tls-ca-cert-file", pki.CAFile}, {"tls-ca-cert-dir", pki.Dir},
		{"tls-auth-clients", "optional"}, {"tls-protocols", "TLSv1.2 TLSv1.3"},
		{"tls-ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"},
		{"tls-ciphersuites", "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"},
		{"tls-prefer-server-ciphers", "yes"}, {"tls-session-cache-size", "1000"},
		{"tls-session-cache-timeout", "60"}, {"tls-replication", "yes"}, {"tls-cluster", "yes"},
	}
	redisPort, loomPort := nodetest.FreePort(t), nodetest.FreePort(t)
	args := []string{"--tls-port", strconv.Itoa(redisPort)}
	for _, s := range settings {
		args = append(args, "--"+s[0], s[1])
	}
	r := nodetest.StartRedis(t, args...)
	loom := nodetest.Start(t, server.Config{Directives: append([][2]string{{"tls-port", strconv.Itoa(loomPort)}}, settings...)})
	servers := []struct {
		name    string
		c       *rawConn
		tlsPort int
	}{{"redis", dialRaw(t, r.Addr), redisPort}, {"loomcache", dialRaw(t, loom.Addr().String()), loomPort}}
	redis, ours := servers[0].c, servers[1].c

	compareGets := func(when string) {
		t.Helper()
		want, got := configPairs(redis, "tls-*"), configPairs(ours, "tls-*")
		names := make([]string, 0, len(want))
		for n := range want {
			names = append(names, n)
		}
		slices.Sort(names)
		for n := range got {
			if _, ok := want[n]; !ok {
				t.Errorf("%s: LoomCache has %s, redis-server does not", when, n)
			}
		}
		for _, n := range names {
			if n == "tls-port" {
				continue // each its own port, checked below
			}
			if w, g := rawReply(redis, "CONFIG", "GET", n), rawReply(ours, "CONFIG", "GET", n); w != g {
				t.Errorf("%s: CONFIG GET %s:\n\tredis:     %q\n\tloomcache: %q", when, n, w, g)
			}
		}
		for _, s := range servers {
			if got := configPairs(s.c, "tls-port")["tls-port"]; got != strconv.Itoa(s.tlsPort) {
				t.Errorf("%s: %s tls-port %s, want %d", when, s.name, got, s.tlsPort)
			}
		}
	}
	compareGets("at startup")

	// Each line runs on both; $PLAIN is the server's own plain port (so
	// tls-port cannot listen there), $FREE a free port.
	for _, set := range [][]string{
		{"tls-cert-file", "/nonexistent/cert.pem"},
		{"tls-key-file", "/nonexistent/key.pem"},
		{"tls-ca-cert-file", "/nonexistent/ca.pem"},
		{"tls-key-file-pass", "wrong"},
		{"tls-key-file-pass", "key pass", "tls-cert-file", "/nonexistent"}, // the pass is unchanged: no apply of its own
		{"tls-protocols", "TLSv1.4"},
		{"tls-protocols", " TLSv1.2"},
		{"tls-protocols", "TLSv1.2  TLSv1.3"},
		{"tls-protocols", "TLSv1.2,TLSv1.3"},
		{"tls-protocols", "tlsv1.3 TLSV1.2"},
		{"tls-ciphers", "BOGUS"},
		{"tls-ciphers", "!ALL"},
		{"tls-ciphers", "HIGH:!aNULL"},
		{"tls-ciphers", "BOGUS:ECDHE-ECDSA-AES128-GCM-SHA256"},
		{"tls-ciphers", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
		{"tls-ciphersuites", "BOGUS"},
		{"tls-ciphersuites", "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384"},
		{"tls-ciphersuites", "BOGUS:TLS_AES_256_GCM_SHA384"},
		{"tls-ciphersuites", ""},
		{"tls-auth-clients", "maybe"},
		{"tls-auth-clients", "YES"},
		{"tls-auth-clients", "no", "tls-ciphers", "BOGUS"},
		{"tls-protocols", "TLSv1.2", "tls-ciphers", "BOGUS"},
		{"tls-prefer-server-ciphers", "maybe"},
		{"tls-prefer-server-ciphers", "NO"},
		{"tls-session-caching", "no"},
		{"tls-session-cache-size", "-1"},
		{"tls-session-cache-size", "2147483648"},
		{"tls-session-cache-size", "abc"},
		{"tls-session-cache-size", "0"},
		{"tls-session-cache-timeout", "-1"},
		{"tls-session-cache-timeout", "10"},
		{"tls-port", "70000"},
		{"tls-port", "-1"},
		{"tls-port", "x"},
		{"tls-port", "$PLAIN"},
		{"tls-dh-params-file", "/nonexistent"},
		{"tls-replication", "maybe"},
		{"tls-replication", "no"},
		{"tls-ca-cert-dir", "/nonexistent/dir"},
		{"tls-ca-cert-dir", pki.Dir},
		{"tls-cert-file", cert.CertFile},
		{"tls-client-cert-file", "/nonexistent"}, // without tls-client-key-file: not loaded
		{"tls-client-cert-file", ""},
		{"tls-cluster", "yes"},
		{"tls-nosuch", "x"},
		{"tls-port", "$FREE"},
	} {
		var replies [2]string
		for i, s := range servers {
			args := append([]string{"CONFIG", "SET"}, set...)
			for j, a := range args {
				switch a {
				case "$PLAIN":
					_, port, _ := net.SplitHostPort(s.c.nc.RemoteAddr().String())
					args[j] = port
				case "$FREE":
					servers[i].tlsPort = nodetest.FreePort(t)
					args[j] = strconv.Itoa(servers[i].tlsPort)
				}
			}
			replies[i] = rawReply(s.c, args...)
		}
		if replies[0] != replies[1] {
			t.Errorf("CONFIG SET %q:\n\tredis:     %q\n\tloomcache: %q", set, replies[0], replies[1])
		}
	}
	compareGets("after CONFIG SET")
}

// tls-port moves the TLS listener at run time: new clients go to the new
// port, those on the old one stay; 0 closes it.
func TestTLSPortMovesAtRunTime(t *testing.T) {
	n := startTLS(t)
	good := n.pki.ClientTLS(n.clientCert())
	old := n.tlsAddr()
	stay, err := dialTLS(t, old, good)
	if err != nil {
		t.Fatal(err)
	}
	admin := dialRaw(t, n.Addr().String())
	port := nodetest.FreePort(t)
	if got := admin.str("CONFIG", "SET", "tls-port", strconv.Itoa(port)); got != "OK" {
		t.Fatal(got)
	}
	if want := fmt.Sprintf("127.0.0.1:%d", port); n.tlsAddr() != want {
		t.Fatalf("TLS listener at %s, want %s", n.tlsAddr(), want)
	}
	if err := tlsPing(t, n.tlsAddr(), good); err != nil {
		t.Fatalf("new port: %v", err)
	}
	if nc, err := net.DialTimeout("tcp", old, 5*time.Second); err == nil {
		nc.Close()
		t.Fatal("old TLS port still accepts")
	}
	if err := ping(stay); err != nil {
		t.Fatalf("client of the old port: %v", err)
	}
	if got := admin.str("CONFIG", "SET", "tls-port", "0"); got != "OK" {
		t.Fatal(got)
	}
	if n.TLSAddr() != nil {
		t.Fatal("TLS listener after tls-port 0")
	}
	if got := admin.str("CONFIG", "SET", "tls-port", strconv.Itoa(port)); got != "OK" {
		t.Fatal(got)
	}
	if err := tlsPing(t, n.tlsAddr(), good); err != nil {
		t.Fatalf("port set again: %v", err)
	}
	// tls-cluster is fixed when the node starts.
	for _, tc := range []struct{ val, want string }{
		{"no", "OK"},
		{"yes", "-ERR CONFIG SET failed (possibly related to argument 'tls-cluster') - can't set immutable config"},
	} {
		if got := admin.str("CONFIG", "SET", "tls-cluster", tc.val); got != tc.want {
			t.Errorf("CONFIG SET tls-cluster %s = %q, want %q", tc.val, got, tc.want)
		}
	}
}

// A node started with TLS off turns it on with CONFIG SET, certificate
// files first, as with Redis.
func TestTLSTurnedOnAtRunTime(t *testing.T) {
	pki := nodetest.NewPKI(t, "LoomCache test CA")
	cert := pki.Issue("node")
	n := nodetest.Start(t, server.Config{})
	admin := dialRaw(t, n.Addr().String())
	port := strconv.Itoa(nodetest.FreePort(t))
	want := "-ERR CONFIG SET failed (possibly related to argument 'tls-port') - Unable to update TLS configuration. Check server logs."
	if got := admin.str("CONFIG", "SET", "tls-port", port); got != want {
		t.Fatalf("tls-port without certificates: %q", got)
	}
	for _, d := range pki.Directives(cert, 0)[1:] {
		if got := admin.str("CONFIG", "SET", d[0], d[1]); got != "OK" {
			t.Fatalf("CONFIG SET %s: %s", d[0], got)
		}
	}
	if got := admin.str("CONFIG", "SET", "tls-port", port); got != "OK" {
		t.Fatal(got)
	}
	client := pki.Issue("client")
	if err := tlsPing(t, n.TLSAddr().String(), pki.ClientTLS(&client)); err != nil {
		t.Fatal(err)
	}
}

// CONFIG SET tls-cert-file (and -key-file, -ca-cert-file) re-reads the
// files, even under the same names: new connections get the renewed
// certificate, open ones keep theirs; a bad file leaves the old one.
func TestTLSReloadCertificates(t *testing.T) {
	n := startTLS(t)
	good := n.pki.ClientTLS(n.clientCert())
	admin := dialRaw(t, n.Addr().String())
	served := func() string {
		t.Helper()
		c, err := dialTLS(t, n.tlsAddr(), good)
		if err != nil {
			t.Fatal(err)
		}
		if err := ping(c); err != nil {
			t.Fatal(err)
		}
		defer c.nc.Close()
		return c.nc.(*tls.Conn).ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	first := served()
	renewed := n.pki.Issue("node")
	copyFile(t, renewed.CertFile, n.cert.CertFile)
	copyFile(t, renewed.KeyFile, n.cert.KeyFile)
	if got := admin.str("CONFIG", "SET", "tls-cert-file", n.cert.CertFile, "tls-key-file", n.cert.KeyFile); got != "OK" {
		t.Fatal(got)
	}
	second := served()
	if second == first {
		t.Fatalf("still serving certificate %s after the reload", first)
	}
	if err := os.WriteFile(n.cert.CertFile, []byte("truncated"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := "-ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs."
	if got := admin.str("CONFIG", "SET", "tls-cert-file", n.cert.CertFile); got != want {
		t.Fatalf("reload of a bad file: %q", got)
	}
	if got := served(); got != second {
		t.Fatalf("serving %s after a failed reload, want %s", got, second)
	}
	// A new CA: clients of the old one are refused from now on. (Every
	// load reads every file, so the certificate must be whole again.)
	copyFile(t, renewed.CertFile, n.cert.CertFile)
	other := nodetest.NewPKI(t, "new CA")
	if got := admin.str("CONFIG", "SET", "tls-ca-cert-file", other.CAFile); got != "OK" {
		t.Fatal(got)
	}
	if err := tlsPing(t, n.tlsAddr(), good); err == nil {
		t.Fatal("client of the old CA served")
	}
	newClient := other.Issue("client")
	cfg := other.ClientTLS(&newClient)
	cfg.RootCAs = n.pki.Pool() // the server's certificate is still from the first CA
	if err := tlsPing(t, n.tlsAddr(), cfg); err != nil {
		t.Fatalf("client of the new CA: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
