package server

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TLSOptions are the files and choices a TLS configuration is built from,
// each named after the Redis directive that sets it.
type TLSOptions struct {
	CertFile    string // tls-cert-file: PEM certificate, then any intermediates
	KeyFile     string // tls-key-file: PEM private key, perhaps encrypted
	KeyFilePass string // tls-key-file-pass: the key's password
	// tls-client-cert-file and tls-client-key-file (both or neither): the
	// certificate this node shows when it dials out; CertFile's otherwise.
	ClientCertFile    string
	ClientKeyFile     string
	ClientKeyFilePass string
	CACertFile        string // tls-ca-cert-file: PEM bundle of trusted CAs
	CACertDir         string // tls-ca-cert-dir: a directory of PEM CAs
	Protocols         string // tls-protocols: "TLSv1.2 TLSv1.3" and the like
	Ciphers           string // tls-ciphers: OpenSSL cipher list (TLS 1.2 and below)
	Ciphersuites      string // tls-ciphersuites: OpenSSL TLS 1.3 list (checked, not applied)
}

// tlsMaterial is one successful load of the TLS settings: what every
// connection accepted (or dialled) until the next load uses.
type tlsMaterial struct {
	cert       tls.Certificate
	clientCert tls.Certificate // for outgoing connections
	// cas is never nil: empty when no CA is set, so that a client
	// certificate never verifies against the system's roots instead.
	cas                    *x509.CertPool
	minVersion, maxVersion uint16
	suites                 []uint16 // nil: Go's defaults
	clients                [3]*tls.Config
	cluster                *tls.Config // the cluster port's server side
}

// loadTLSMaterial checks and loads v in the order Redis's tlsConfigure
// does, so the first problem reported is the one Redis reports.
func loadTLSMaterial(v *tlsValues) (*tlsMaterial, error) {
	m, err := loadMaterial(&v.TLSOptions, v.needCA())
	if err != nil {
		return nil, err
	}
	if v.dhParamsFile != "" {
		// Go's TLS has no finite-field Diffie-Hellman suites, so the
		// parameters are unused; a file Redis would refuse is refused.
		if err := checkDHParams(v.dhParamsFile); err != nil {
			return nil, err
		}
	}
	base := &tls.Config{
		Certificates: []tls.Certificate{m.cert},
		ClientCAs:    m.cas,
		MinVersion:   m.minVersion,
		MaxVersion:   m.maxVersion,
		CipherSuites: m.suites,
		// tls-prefer-server-ciphers has nothing to set: Go always picks
		// the suite itself (PreferServerCipherSuites is a no-op).
		SessionTicketsDisabled: !v.sessionCaching,
	}
	for i, auth := range [3]tls.ClientAuthType{authYes: tls.RequireAndVerifyClientCert,
		authOptional: tls.VerifyClientCertIfGiven, authNo: tls.NoClientCert} {
		c := base.Clone()
		c.ClientAuth = auth
		if v.sessionCaching {
			limitTicketAge(c, time.Duration(v.sessionCacheTimeout)*time.Second)
		}
		m.clients[i] = c
	}
	m.cluster = m.clusterServerConfig()
	return m, nil
}

// loadMaterial loads the certificates, key and CAs and parses the
// protocol and cipher lists.
func loadMaterial(o *TLSOptions, needCA bool) (*tlsMaterial, error) {
	if o.CertFile == "" {
		return nil, errors.New("no tls-cert-file configured")
	}
	if o.KeyFile == "" {
		return nil, errors.New("no tls-key-file configured")
	}
	if needCA && o.CACertFile == "" && o.CACertDir == "" {
		return nil, errors.New("either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled")
	}
	m := &tlsMaterial{}
	var err error
	if m.minVersion, m.maxVersion, err = parseProtocols(o.Protocols); err != nil {
		return nil, err
	}
	if m.cert, err = loadKeyPair("tls-cert-file", o.CertFile, "tls-key-file", o.KeyFile, o.KeyFilePass); err != nil {
		return nil, err
	}
	if m.cas, err = loadCAs(o.CACertFile, o.CACertDir); err != nil {
		return nil, err
	}
	if m.suites, err = parseCiphers(o.Ciphers); err != nil {
		return nil, err
	}
	if err := checkCiphersuites(o.Ciphersuites); err != nil {
		return nil, err
	}
	m.clientCert = m.cert
	// As Redis: a client certificate of its own only when both files are
	// set.
	if o.ClientCertFile != "" && o.ClientKeyFile != "" {
		if m.clientCert, err = loadKeyPair("tls-client-cert-file", o.ClientCertFile, "tls-client-key-file", o.ClientKeyFile, o.ClientKeyFilePass); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// loadKeyPair reads a certificate chain and its private key, decrypting
// the key with pass if it is encrypted (as OpenSSL asks for the password
// only then). Errors name the directive and the file.
func loadKeyPair(certName, certFile, keyName, keyFile, pass string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: failed to load certificate: %w", certName, err)
	}
	if !hasPEM(certPEM, "CERTIFICATE") {
		return tls.Certificate{}, fmt.Errorf("%s: failed to load certificate: %s: no PEM CERTIFICATE in it", certName, certFile)
	}
	keyData, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: failed to load private key: %w", keyName, err)
	}
	keyPEM, err := plainKeyPEM(keyData, pass)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s: failed to load private key: %s: %w", keyName, keyFile, err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("%s %s with %s %s: %w", certName, certFile, keyName, keyFile, err)
	}
	return cert, nil
}

func hasPEM(data []byte, typ string) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if b.Type == typ {
			return true
		}
	}
}

// plainKeyPEM returns the first private key in data as unencrypted PEM.
// Encrypted keys are PKCS#8 (what OpenSSL 3 writes, tlskey.go) or the
// legacy PEM encryption of "openssl genrsa -aes256" and -traditional.
func plainKeyPEM(data []byte, pass string) ([]byte, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM private key in it")
		}
		switch {
		case b.Type == "ENCRYPTED PRIVATE KEY":
			if pass == "" {
				return nil, errors.New("the key is encrypted and tls-key-file-pass is not set")
			}
			der, err := decryptPKCS8(b.Bytes, pass)
			if err != nil {
				return nil, err
			}
			return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
		case b.Type == "PRIVATE KEY" || strings.HasSuffix(b.Type, " PRIVATE KEY"):
			// Legacy PEM encryption is deprecated for being weak, but key
			// files made that way exist and Redis reads them.
			if x509.IsEncryptedPEMBlock(b) {
				if pass == "" {
					return nil, errors.New("the key is encrypted and tls-key-file-pass is not set")
				}
				der, err := x509.DecryptPEMBlock(b, []byte(pass))
				if err != nil {
					return nil, fmt.Errorf("decrypt: %w", err)
				}
				return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: der}), nil
			}
			return pem.EncodeToMemory(&pem.Block{Type: b.Type, Bytes: b.Bytes}), nil
		}
	}
}

// loadCAs builds the pool of trusted CAs from a bundle file and a
// directory. OpenSSL reads only the files of a directory named by their
// subject hash (c_rehash); here every PEM certificate in it is trusted,
// which trusts the same CAs in a directory prepared for OpenSSL. A missing
// directory is no error, as OpenSSL does not look at it until it needs it.
func loadCAs(file, dir string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("tls-ca-cert-file: failed to configure CA certificate(s) file: %w", err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("tls-ca-cert-file: failed to configure CA certificate(s) file: %s: no PEM certificate in it", file)
		}
	}
	if dir != "" {
		ents, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("tls-ca-cert-dir: failed to configure CA certificate(s) directory: %w", err)
		}
		for _, e := range ents {
			if !e.Type().IsRegular() && e.Type()&os.ModeSymlink == 0 {
				continue
			}
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				continue // as OpenSSL, a file it cannot read is not a CA
			}
			pool.AppendCertsFromPEM(data)
		}
	}
	return pool, nil
}

// checkDHParams refuses what Redis refuses: a file it cannot open or with
// no DH parameters in it.
func checkDHParams(file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("tls-dh-params-file: failed to load %w", err)
	}
	if !hasPEM(data, "DH PARAMETERS") && !hasPEM(data, "X9.42 DH PARAMETERS") {
		return fmt.Errorf("tls-dh-params-file: %s: failed to read DH params", file)
	}
	return nil
}

// ticketAgeID starts the entry of a session ticket's Extra that holds
// when the session began (crypto/tls asks that entries say whose they are).
const ticketAgeID = "loomcache/created/v1:"

// limitTicketAge makes c refuse to resume a session older than timeout,
// as tls-session-cache-timeout expires OpenSSL's cached sessions. Go
// resumes from stateless tickets with a lifetime of its own (7 days);
// tls-session-cache-size has no cache to size. A timeout of 0 resumes no
// session.
func limitTicketAge(c *tls.Config, timeout time.Duration) {
	now := func() time.Time {
		if c.Time != nil {
			return c.Time()
		}
		return time.Now()
	}
	c.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		if _, ok := ticketCreated(ss); !ok {
			ss.Extra = append(ss.Extra, fmt.Appendf([]byte(ticketAgeID), "%d", now().Unix()))
		}
		return c.EncryptTicket(cs, ss)
	}
	c.UnwrapSession = func(identity []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := c.DecryptTicket(identity, cs)
		if err != nil || ss == nil {
			return nil, err
		}
		created, ok := ticketCreated(ss)
		if !ok || now().Sub(created) >= timeout {
			return nil, nil // a full handshake instead
		}
		return ss, nil
	}
}

func ticketCreated(ss *tls.SessionState) (time.Time, bool) {
	for _, e := range ss.Extra {
		if len(e) > len(ticketAgeID) && string(e[:len(ticketAgeID)]) == ticketAgeID {
			var sec int64
			if _, err := fmt.Sscanf(string(e[len(ticketAgeID):]), "%d", &sec); err == nil {
				return time.Unix(sec, 0), true
			}
		}
	}
	return time.Time{}, false
}
