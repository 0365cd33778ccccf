package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// This file is TLS for client connections: Redis 7.0's tls-* directives
// in the CONFIG registry, the apply steps that load certificates and move
// the TLS listener, and the handshake. Loading the files is tlsload.go,
// protocols and cipher names tlsciphers.go, the cluster port's
// configuration tlscluster.go. docs/tls.md is the user's view.

// tlsValues are the tls-* settings, as CONFIG GET shows them.
type tlsValues struct {
	TLSOptions
	port                int64
	dhParamsFile        string
	authClients         string // no, yes or optional
	preferServerCiphers bool
	sessionCaching      bool
	sessionCacheSize    int64
	sessionCacheTimeout int64
	cluster             bool
	replication         bool
}

func defaultTLSValues() tlsValues {
	return tlsValues{authClients: "yes", sessionCaching: true, sessionCacheSize: 20 * 1024, sessionCacheTimeout: 300}
}

// wanted says whether TLS is configured at all: as Redis, only once a
// TLS port, cluster or replication uses it, so that certificate files
// may be set in any order before tls-port turns it on.
func (v *tlsValues) wanted() bool { return v.port != 0 || v.cluster || v.replication }

// needCA: client certificates are verified, or the node dials out.
func (v *tlsValues) needCA() bool { return v.authClients != "no" || v.cluster || v.replication }

// tlsState is what connections read of the TLS settings, without a lock.
type tlsState struct {
	material atomic.Pointer[tlsMaterial] // nil until TLS is first configured
	auth     atomic.Int32                // tls-auth-clients as an authYes... index
}

// Indexes of tlsMaterial.clients by tls-auth-clients; the zero value is
// Redis's default.
const (
	authYes = iota
	authOptional
	authNo
)

func authIndex(v string) int32 {
	switch v {
	case "no":
		return authNo
	case "optional":
		return authOptional
	}
	return authYes
}

func (st *tlsState) publish(v *tlsValues) { st.auth.Store(authIndex(v.authClients)) }

// serverConfig is the configuration a new client connection on the TLS
// port handshakes with: the certificates loaded last, and tls-auth-clients
// as it is now (Redis reads it per connection, so it has no apply step).
func (st *tlsState) serverConfig() *tls.Config {
	return st.material.Load().clients[st.auth.Load()]
}

// tlsSettings are the tls-* CONFIG parameters. Every one Redis 7.0 has is
// here, so a redis.conf with TLS loads; docs/tls.md says which ones Go's
// TLS cannot honour and how they are taken.
func tlsSettings() []setting {
	str := func(name string, volatile bool, f func(v *tlsValues) *string) setting {
		return setting{name: name, apply: applyTLS, volatile: volatile,
			get: func(_ *Server, v *confValues) string { return *f(&v.tls) },
			set: func(_ *Server, v *confValues, val string) error { *f(&v.tls) = val; return nil }}
	}
	flag := func(name string, f func(v *tlsValues) *bool) setting {
		return setting{name: name, apply: applyTLS,
			get: func(_ *Server, v *confValues) string { return yesNo(*f(&v.tls)) },
			set: func(_ *Server, v *confValues, val string) error {
				b, err := parseYesNo(val)
				*f(&v.tls) = b
				return err
			}}
	}
	num := func(name string, kind applyKind, hi int64, f func(v *tlsValues) *int64) setting {
		return setting{name: name, apply: kind,
			get: func(_ *Server, v *confValues) string { return strconv.FormatInt(*f(&v.tls), 10) },
			set: func(_ *Server, v *confValues, val string) error {
				n, err := parseBounded(val, 0, hi, false)
				*f(&v.tls) = n
				return err
			}}
	}
	startupOnly := func(st setting) setting {
		st.startupOnly = true
		return st
	}
	// Redis re-reads the files (its VOLATILE_CONFIG) when one of them is
	// named again, so CONFIG SET tls-cert-file with the same path reloads
	// a renewed certificate.
	const volatile = true
	return []setting{
		num("tls-port", applyTLSPort, math.MaxUint16, func(v *tlsValues) *int64 { return &v.port }),
		str("tls-cert-file", volatile, func(v *tlsValues) *string { return &v.CertFile }),
		str("tls-key-file", volatile, func(v *tlsValues) *string { return &v.KeyFile }),
		str("tls-key-file-pass", false, func(v *tlsValues) *string { return &v.KeyFilePass }),
		str("tls-client-cert-file", volatile, func(v *tlsValues) *string { return &v.ClientCertFile }),
		str("tls-client-key-file", volatile, func(v *tlsValues) *string { return &v.ClientKeyFile }),
		str("tls-client-key-file-pass", false, func(v *tlsValues) *string { return &v.ClientKeyFilePass }),
		str("tls-ca-cert-file", volatile, func(v *tlsValues) *string { return &v.CACertFile }),
		str("tls-ca-cert-dir", volatile, func(v *tlsValues) *string { return &v.CACertDir }),
		str("tls-dh-params-file", volatile, func(v *tlsValues) *string { return &v.dhParamsFile }),
		str("tls-protocols", false, func(v *tlsValues) *string { return &v.Protocols }),
		str("tls-ciphers", false, func(v *tlsValues) *string { return &v.Ciphers }),
		str("tls-ciphersuites", false, func(v *tlsValues) *string { return &v.Ciphersuites }),
		{name: "tls-auth-clients", get: func(_ *Server, v *confValues) string { return v.tls.authClients },
			set: func(_ *Server, v *confValues, val string) error {
				a, err := parseEnum(val, []string{"no", "yes", "optional"})
				v.tls.authClients = a
				return err
			}},
		flag("tls-prefer-server-ciphers", func(v *tlsValues) *bool { return &v.preferServerCiphers }),
		flag("tls-session-caching", func(v *tlsValues) *bool { return &v.sessionCaching }),
		num("tls-session-cache-size", applyTLS, math.MaxInt32, func(v *tlsValues) *int64 { return &v.sessionCacheSize }),
		num("tls-session-cache-timeout", applyTLS, math.MaxInt32, func(v *tlsValues) *int64 { return &v.sessionCacheTimeout }),
		// The cluster port's transport is built when the node starts.
		startupOnly(flag("tls-cluster", func(v *tlsValues) *bool { return &v.cluster })),
		// There is no Redis replication: accepted, and it turns TLS on
		// (and needs a CA) as in Redis, but nothing uses it.
		flag("tls-replication", func(v *tlsValues) *bool { return &v.replication }),
	}
}

// errTLSUpdate words a failed TLS load as Redis replies to CONFIG SET;
// the cause goes to the log.
func errTLSUpdate(err error) error {
	return &applyError{reply: "Unable to update TLS configuration. Check server logs.", err: fmt.Errorf("configure TLS: %w", err)}
}

// applyTLS loads the certificates and builds the TLS configurations from
// the new values; connections accepted after the commit use them, those
// already open keep theirs.
func (s *Server) applyTLS(tx *applyTx) error {
	v := &tx.next.tls
	if !v.wanted() {
		return nil
	}
	m, err := loadTLSMaterial(v)
	if err != nil {
		return errTLSUpdate(err)
	}
	tx.tls = m
	tx.onCommit(func() { s.tls.material.Store(m) })
	return nil
}

// applyTLSPort moves the TLS listener to the new tls-port (0: none),
// loading TLS first if it never was, as Redis's applyTLSPort does.
// Connections accepted on the old port stay open.
func (s *Server) applyTLSPort(tx *applyTx) error {
	v := &tx.next.tls
	if v.port != 0 && tx.tls == nil && s.tls.material.Load() == nil {
		m, err := loadTLSMaterial(v)
		if err != nil {
			return errTLSUpdate(err)
		}
		tx.tls = m
		tx.onCommit(func() { s.tls.material.Store(m) })
	}
	if tx.startup {
		return nil // New listens once the node is open
	}
	if v.port == 0 {
		tx.onCommit(func() { s.setTLSListener(nil) })
		return nil
	}
	addr := s.tlsListenAddr(v.port)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &applyError{reply: "Unable to listen on this port. Check server logs.", err: fmt.Errorf("listen %s: %w", addr, err)}
	}
	tx.onAbort(func() { ln.Close() })
	tx.onCommit(func() { s.setTLSListener(ln) })
	return nil
}

// tlsListenAddr is tls-port on the host of --addr, as Redis binds both
// ports to the same addresses.
func (s *Server) tlsListenAddr(port int64) string {
	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		host = ""
	}
	return net.JoinHostPort(host, strconv.FormatInt(port, 10))
}

// setTLSListener makes ln the TLS listener (nil: none), as
// setPlainListener does the plain one.
func (s *Server) setTLSListener(ln net.Listener) { s.setListener(&s.tlsLn, ln, true) }

// TLSAddr returns the TLS listen address, nil when tls-port is 0.
func (s *Server) TLSAddr() net.Addr {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.tlsLn == nil {
		return nil
	}
	return s.tlsLn.Addr()
}

func listenerPort(ln net.Listener) string {
	if ln == nil {
		return "0"
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return strconv.Itoa(a.Port)
	}
	return "0"
}

// tlsHandshakeTimeout bounds a client's TLS handshake. Redis sets none,
// but a connection that never finishes one would hold a client slot (and
// here a goroutine) for ever; no real client takes this long.
const tlsHandshakeTimeout = 10 * time.Second

// handshake runs the TLS handshake of a new client connection and reports
// whether it succeeded; a client that sends plain text or garbage fails
// here and is closed by the caller.
func (s *Server) handshake(tc *tls.Conn) bool {
	d := tlsHandshakeTimeout
	if t := s.limits().timeout; t > 0 && t < d {
		d = t
	}
	tc.SetDeadline(time.Now().Add(d))
	err := tc.Handshake()
	tc.SetDeadline(time.Time{})
	if err != nil {
		if !errors.Is(err, net.ErrClosed) { // not the server closing
			s.log.Printf("Error accepting a client connection: %v (addr=%s laddr=%s)", err, tc.RemoteAddr(), tc.LocalAddr())
		}
		return false
	}
	return true
}
