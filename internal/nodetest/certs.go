package nodetest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/loomcache/loomcache/internal/testcert"
)

// PKI is a throwaway certificate authority for tests (testcert's), with
// the PEM files of its certificate and of those it issues in a temp dir,
// as the tls-* directives, redis-server and redis-cli take them. Keys are
// ECDSA P-256: quick to make, and OpenSSL reads them.
type PKI struct {
	t      testing.TB
	Dir    string
	CAFile string // the CA certificate, for tls-ca-cert-file and --cacert
	ca     *testcert.CA

	mu     sync.Mutex
	issued int // names the files
}

// Cert is a certificate and key the PKI issued, on disk and loaded.
type Cert struct {
	CertFile, KeyFile string
	TLS               tls.Certificate
}

// NewPKI makes a CA named name in a new temp dir.
func NewPKI(t testing.TB, name string) *PKI {
	t.Helper()
	p := &PKI{t: t, Dir: t.TempDir(), ca: testcert.NewCA(t, name)}
	p.CAFile = filepath.Join(p.Dir, "ca.crt")
	writePEM(t, p.CAFile, "CERTIFICATE", p.ca.Cert.Raw)
	return p
}

// Pool is a pool holding the CA.
func (p *PKI) Pool() *x509.CertPool { return p.ca.Pool }

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
	p.issued++
	n := p.issued
	p.mu.Unlock()
	cert := p.ca.Issue(t, name, "localhost", "127.0.0.1", "::1")
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	c := Cert{
		CertFile: filepath.Join(p.Dir, fmt.Sprintf("%s-%d.crt", name, n)),
		KeyFile:  filepath.Join(p.Dir, fmt.Sprintf("%s-%d.key", name, n)),
		TLS:      cert,
	}
	writePEM(t, c.CertFile, "CERTIFICATE", cert.Certificate[0])
	if pass == "" {
		writePEM(t, c.KeyFile, "PRIVATE KEY", keyDER)
	} else {
		writePEM(t, c.KeyFile, "ENCRYPTED PRIVATE KEY", encryptPKCS8(t, keyDER, pass))
	}
	return c
}

// ClientTLS is a client configuration trusting the CA and showing c, or
// no certificate when c is nil.
func (p *PKI) ClientTLS(c *Cert) *tls.Config {
	cfg := &tls.Config{RootCAs: p.ca.Pool}
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
