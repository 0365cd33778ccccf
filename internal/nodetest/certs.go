package nodetest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// PKI is a throwaway certificate authority for tests, with the PEM files
// of its certificate and of those it issues in a temp dir. Keys are ECDSA
// P-256: quick to make, and OpenSSL (redis-server, redis-cli) reads them.
type PKI struct {
	t      testing.TB
	Dir    string
	CAFile string // the CA certificate, for tls-ca-cert-file and --cacert
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	pool   *x509.CertPool

	mu     sync.Mutex
	serial int64
}

// Cert is a certificate and key the PKI issued, on disk and loaded.
type Cert struct {
	CertFile, KeyFile string
	TLS               tls.Certificate
}

// NewPKI makes a CA named name in a new temp dir.
func NewPKI(t testing.TB, name string) *PKI {
	t.Helper()
	p := &PKI{t: t, Dir: t.TempDir(), serial: 1}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if p.ca, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	p.caKey = key
	p.pool = x509.NewCertPool()
	p.pool.AddCert(p.ca)
	p.CAFile = filepath.Join(p.Dir, "ca.crt")
	writePEM(t, p.CAFile, "CERTIFICATE", der)
	return p
}

// Pool is a pool holding the CA.
func (p *PKI) Pool() *x509.CertPool { return p.pool }

// Issue makes a certificate for name valid for 127.0.0.1, ::1 and
// localhost, usable by a server and by a client (as cluster nodes need),
// with its key in PKCS#8 PEM.
func (p *PKI) Issue(name string) Cert { return p.issue(name, "") }

// IssueEncrypted is Issue with the key encrypted under pass, in the
// PKCS#8 form OpenSSL 3 writes (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC).
func (p *PKI) IssueEncrypted(name, pass string) Cert { return p.issue(name, pass) }

func (p *PKI) issue(name, pass string) Cert {
	t := p.t
	t.Helper()
	p.mu.Lock()
	p.serial++
	serial := p.serial
	p.mu.Unlock()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c := Cert{
		CertFile: filepath.Join(p.Dir, fmt.Sprintf("%s-%d.crt", name, serial)),
		KeyFile:  filepath.Join(p.Dir, fmt.Sprintf("%s-%d.key", name, serial)),
	}
	writePEM(t, c.CertFile, "CERTIFICATE", der)
	if pass == "" {
		writePEM(t, c.KeyFile, "PRIVATE KEY", keyDER)
	} else {
		writePEM(t, c.KeyFile, "ENCRYPTED PRIVATE KEY", encryptPKCS8(t, keyDER, pass))
	}
	c.TLS = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return c
}

// ClientTLS is a client configuration trusting the CA and showing c, or
// no certificate when c is nil.
func (p *PKI) ClientTLS(c *Cert) *tls.Config {
	cfg := &tls.Config{RootCAs: p.pool}
	if c != nil {
		cfg.Certificates = []tls.Certificate{c.TLS}
	}
	return cfg
}

// Directives are the startup directives of a TLS port on port serving c
// and trusting the CA.
func (p *PKI) Directives(c Cert, port int) [][2]string {
	return [][2]string{
		{"tls-port", strconv.Itoa(port)},
		{"tls-cert-file", c.CertFile},
		{"tls-key-file", c.KeyFile},
		{"tls-ca-cert-file", p.CAFile},
	}
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// encryptPKCS8 wraps a PKCS#8 key in an EncryptedPrivateKeyInfo (RFC
// 8018 PBES2), as "openssl pkcs8 -topk8 -v2 aes-256-cbc" does.
func encryptPKCS8(t testing.TB, keyDER []byte, pass string) []byte {
	t.Helper()
	salt := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	rand.Read(salt)
	rand.Read(iv)
	const iter = 2048
	key, err := pbkdf2.Key(sha256.New, pass, salt, iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	n := aes.BlockSize - len(keyDER)%aes.BlockSize
	padded := append(append([]byte{}, keyDER...), make([]byte, n)...)
	for i := len(keyDER); i < len(padded); i++ {
		padded[i] = byte(n)
	}
	enc := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, padded)

	mustMarshal := func(v any) []byte {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	type pbkdf2Params struct {
		Salt []byte
		Iter int
		PRF  pkix.AlgorithmIdentifier
	}
	kdf := pkix.AlgorithmIdentifier{
		Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12},
		Parameters: asn1.RawValue{FullBytes: mustMarshal(pbkdf2Params{Salt: salt, Iter: iter,
			PRF: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, Parameters: asn1.NullRawValue}})},
	}
	encAlg := pkix.AlgorithmIdentifier{
		Algorithm:  asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42},
		Parameters: asn1.RawValue{FullBytes: mustMarshal(iv)},
	}
	params := struct{ KDF, Enc pkix.AlgorithmIdentifier }{kdf, encAlg}
	return mustMarshal(struct {
		Algo pkix.AlgorithmIdentifier
		Data []byte
	}{
		Algo: pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13},
			Parameters: asn1.RawValue{FullBytes: mustMarshal(params)}},
		Data: enc,
	})
}
