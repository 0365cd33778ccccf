package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseProtocols(t *testing.T) {
	for _, tc := range []struct {
		in     string
		lo, hi uint16
		ok     bool
	}{
		{"", tls.VersionTLS12, tls.VersionTLS13, true},
		{"TLSv1.2", tls.VersionTLS12, tls.VersionTLS12, true},
		{"tlsv1.3 TLSV1.2", tls.VersionTLS12, tls.VersionTLS13, true},
		{"TLSv1 TLSv1.3", tls.VersionTLS10, tls.VersionTLS13, true}, // Go cannot leave out 1.1 and 1.2
		{"TLSv1.1", tls.VersionTLS11, tls.VersionTLS11, true},
		{"TLSv1.4", 0, 0, false},
		{" TLSv1.2", 0, 0, false},
		{"TLSv1.2  TLSv1.3", 0, 0, false},
		{"TLSv1.2,TLSv1.3", 0, 0, false},
	} {
		lo, hi, err := parseProtocols(tc.in)
		if (err == nil) != tc.ok || lo != tc.lo || hi != tc.hi {
			t.Errorf("parseProtocols(%q) = %x %x %v", tc.in, lo, hi, err)
		}
	}
}

func TestParseCiphers(t *testing.T) {
	var ecdhe []uint16
	for _, cs := range tls.CipherSuites() {
		if strings.HasPrefix(cs.Name, "TLS_ECDHE_") {
			ecdhe = append(ecdhe, cs.ID)
		}
	}
	without := func(ids []uint16, drop uint16) []uint16 {
		return slices.DeleteFunc(slices.Clone(ids), func(id uint16) bool { return id == drop })
	}
	for _, tc := range []struct {
		in   string
		want []uint16
		ok   bool
	}{
		{"", nil, true},
		{"HIGH:!aNULL:!MD5", nil, true},
		{"DEFAULT", nil, true},
		{"ECDHE+AESGCM:@STRENGTH", nil, true},
		{"ECDHE-RSA-AES128-GCM-SHA256", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, true},
		{"ECDHE-RSA-AES128-GCM-SHA256,ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES128-GCM-SHA256",
			[]uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}, true},
		{"BOGUS:AES128-SHA", []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}, true},
		{"DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}, true},
		{"HIGH:!ECDHE-RSA-AES128-SHA", without(ecdhe, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA), true},
		{"AES128-SHA256:HIGH", append([]uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA256}, ecdhe...), true},
		{"BOGUS", nil, false},
		{"!ALL", nil, false},
		{"DHE-RSA-AES256-GCM-SHA384", nil, false}, // OpenSSL has it, Go does not
		{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", nil, false},
		{"AES128-SHA:-AES128-SHA", nil, false},
	} {
		got, err := parseCiphers(tc.in)
		if (err == nil) != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("parseCiphers(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestCheckCiphersuites(t *testing.T) {
	for in, ok := range map[string]bool{
		"": true, "TLS_AES_128_GCM_SHA256": true, "BOGUS:TLS_AES_128_CCM_8_SHA256": true,
		"TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256": true,
		"BOGUS": false, "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384": false, "ECDHE-RSA-AES128-GCM-SHA256": false,
	} {
		if err := checkCiphersuites(in); (err == nil) != ok {
			t.Errorf("checkCiphersuites(%q): %v", in, err)
		}
	}
}

// Keys encrypted by the openssl command, in each form it writes, decrypt
// to the key they hold; the forms not supported say so.
func TestEncryptedKeysFromOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("no openssl command")
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.pem")
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", plain)
	want := parseKeyPEM(t, mustRead(t, plain))
	for _, tc := range []struct {
		name string
		args []string
		ok   string // "" ok, else a word of the error
	}{
		{"pbes2-aes256-sha256", []string{"pkcs8", "-topk8", "-v2", "aes-256-cbc"}, ""},
		{"pbes2-aes128-sha512", []string{"pkcs8", "-topk8", "-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512"}, ""},
		{"pbes2-3des-sha1", []string{"pkcs8", "-topk8", "-v2", "des3", "-v2prf", "hmacWithSHA1"}, ""},
		{"legacy-pem", []string{"ec", "-aes128"}, ""},
		{"pkcs12-pbe", []string{"pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES"}, "not supported"},
		{"scrypt", []string{"pkcs8", "-topk8", "-scrypt"}, "not supported"},
	} {
		out := filepath.Join(dir, tc.name+".pem")
		run(append(tc.args, "-in", plain, "-passout", "pass:pa ss", "-out", out)...)
		data := mustRead(t, out)
		got, err := plainKeyPEM(data, "pa ss")
		if tc.ok != "" {
			if err == nil || !strings.Contains(err.Error(), tc.ok) {
				t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.ok)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !parseKeyPEM(t, got).Equal(want) {
			t.Errorf("%s: decrypted to another key", tc.name)
		}
		if _, err := plainKeyPEM(data, "wrong"); err == nil {
			t.Errorf("%s: wrong password accepted", tc.name)
		}
		if _, err := plainKeyPEM(data, ""); err == nil || !strings.Contains(err.Error(), "tls-key-file-pass") {
			t.Errorf("%s without a password: %v", tc.name, err)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseKeyPEM(t *testing.T, data []byte) *ecdsa.PrivateKey {
	t.Helper()
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			t.Fatal("no key in PEM")
		}
		switch b.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return k.(*ecdsa.PrivateKey)
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
}

// A session resumes while its ticket is younger than
// tls-session-cache-timeout, on a clock the test moves.
func TestTicketAgeLimit(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	var now time.Time // set before each handshake, read during it
	clock := func() time.Time { return now }
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		srv := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
			MaxVersion: version, Time: clock}
		limitTicketAge(srv, time.Minute)
		for _, step := range []struct {
			age    time.Duration
			resume bool
		}{{0, true}, {30 * time.Second, true}, {59 * time.Second, true}, {61 * time.Second, false}, {time.Hour, false}} {
			// A ServerName, or the cache is keyed by the address, new each time.
			cli := &tls.Config{ServerName: "x", InsecureSkipVerify: true, ClientSessionCache: tls.NewLRUClientSessionCache(1), Time: clock}
			now = base
			if handshakeResumed(t, srv, cli) {
				t.Fatal("first handshake resumed")
			}
			now = base.Add(step.age)
			if got := handshakeResumed(t, srv, cli); got != step.resume {
				t.Errorf("%s, ticket %v old: resumed %v, want %v", tls.VersionName(version), step.age, got, step.resume)
			}
		}
	}
}

// handshakeResumed connects cli to srv over loopback (a net.Pipe has no
// buffer, and both sides write at once in TLS 1.3), waits for the data
// that follows the ticket, and reports whether the session resumed.
func handshakeResumed(t *testing.T, srv, cli *tls.Config) bool {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		s := tls.Server(nc, srv)
		if err := s.Handshake(); err != nil {
			done <- err
			return
		}
		_, err = s.Write([]byte{1})
		done <- err
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(nc, cli)
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return c.ConnectionState().DidResume
}
