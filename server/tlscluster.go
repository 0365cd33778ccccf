package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// The cluster port carries Raft and forwarded commands between nodes.
// With tls-cluster yes both ends of every link authenticate: each node
// shows its certificate (tls-cert-file; tls-client-cert-file when it
// dials, if set) and accepts the other only if the CA (tls-ca-cert-file
// or tls-ca-cert-dir) signed it. As Redis does on its cluster bus, the
// chain is verified and the name in the certificate is not: nodes are
// dialled by address, and any certificate from the cluster's CA is a
// member's. Node certificates therefore need both the serverAuth and
// clientAuth extended key usages (or none).

// For the integrator (raftfsm.Config.ClusterTLS / server.Config.ClusterTLS
// are being added separately): in New, after the startup directives are
// applied (configSet) and before raftfsm.Open, take
//
//	ctls := cfg.ClusterTLS // set by a caller, e.g. a test: it wins
//	if ctls == nil {
//		if ctls, err = s.ClusterTLS(); err != nil { return nil, err }
//	}
//
// and pass ctls as raftfsm.Config.ClusterTLS; the transport wraps its
// listener with tls.NewListener(ln, ctls) and its dials with
// tls.Client(conn, ctls), the same config on both sides. Nothing else is
// needed: ServerName may stay empty (InsecureSkipVerify with
// VerifyConnection below), and certificate reloads reach new links by
// themselves. tls-cluster is startup-only in CONFIG SET for this reason.
// The handshake goes before the cluster hello, so the hello is private
// too; cluster/faultproxy, which reads hellos, then cannot work on those
// links (the fault suite runs without tls-cluster).

// ClusterTLSConfig builds the cluster port's TLS configuration from o:
// the same *tls.Config serves tls.Server on the cluster listener and
// tls.Client on connections to other nodes, mutual verification required
// on both. It reads the files once.
func ClusterTLSConfig(o TLSOptions) (*tls.Config, error) {
	m, err := loadMaterial(&o, true)
	if err != nil {
		return nil, err
	}
	m.cluster = m.clusterServerConfig()
	return clusterConfig(m, func() *tlsMaterial { return m }), nil
}

// ClusterTLS returns the cluster port's TLS configuration when tls-cluster
// is yes, and nil when it is no. It follows the certificates and CAs as
// CONFIG SET reloads them, as Redis's cluster bus does: a connection made
// after a reload shows (and checks against) the new files. The versions
// and suites a node offers when it dials are those of the call.
func (s *Server) ClusterTLS() (*tls.Config, error) {
	s.conf.mu.Lock()
	on := s.conf.v.tls.cluster
	s.conf.mu.Unlock()
	if !on {
		return nil, nil
	}
	m := s.tls.material.Load()
	if m == nil { // New loads TLS whenever tls-cluster is yes
		return nil, errors.New("tls-cluster is yes but TLS is not configured")
	}
	return clusterConfig(m, s.tls.material.Load), nil
}

// clusterServerConfig is the accepting side: m's certificate, client
// certificates required and verified against m's CAs.
func (m *tlsMaterial) clusterServerConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{m.cert},
		ClientCAs:    m.cas,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   m.minVersion,
		MaxVersion:   m.maxVersion,
		CipherSuites: m.suites,
	}
}

// clusterConfig is the configuration for both sides: accepting, it hands
// over to the current material's server config; dialling, it shows the
// current client certificate and verifies the peer's chain against the
// current CAs (InsecureSkipVerify only turns off Go's own check, which
// would also want the peer's name).
func clusterConfig(m *tlsMaterial, current func() *tlsMaterial) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{m.cert},
		RootCAs:      m.cas,
		ClientCAs:    m.cas,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   m.minVersion,
		MaxVersion:   m.maxVersion,
		CipherSuites: m.suites,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return current().cluster, nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c := current().clientCert
			return &c, nil
		},
		InsecureSkipVerify: true,
		// Only the dialling side runs this: the accepting side's
		// handshake uses the config GetConfigForClient returns.
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPeerChain(cs, current().cas)
		},
	}
}

func verifyPeerChain(cs tls.ConnectionState, cas *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("cluster peer sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		Roots:         cas,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}
