package raftfsm

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/loomcache/loomcache/internal/sockio"
)

// Authentication on the cluster port. Every node of a cluster holds the
// same secret; a connection, accepted or dialled, serves its channel only
// once both ends have proved that they hold it. The secret never crosses
// the wire: each side sends a fresh random nonce, and each proves itself
// with an HMAC-SHA256 under the secret of both nonces, the channel, both
// node ids, a label naming its direction and, under TLS, a value exported
// from the TLS session:
//
//	dialer:   hello (version 2) | dialer nonce (32 bytes)
//	listener: listener nonce (32 bytes) | uvarint n | n bytes: the listener's node id
//	dialer:   dialer proof (32 bytes)
//	listener: listener proof (32 bytes)
//
// then the channel's protocol. The nonces make every transcript new, so
// a recorded proof is worth nothing on another connection; the direction
// label keeps a listener's proof from passing for a dialer's (reflection);
// the node ids keep a proof for one pair of nodes from being relayed to
// another; the TLS binding keeps it from being relayed across TLS
// sessions. The dialer proves itself first, so a stranger dialling in
// learns a nonce and the node's id and nothing computed from the secret;
// a dialer that expects a node id checks the listener's before it proves
// anything. Either side that finds a proof wrong closes the connection,
// and nothing of the channel has been served. The whole exchange is
// bounded by helloTimeout.
//
// Without a secret the hello is version 1 and nothing follows it (the
// cluster port as it was before authentication); a node with a secret
// refuses version 1, and one without refuses version 2, which it cannot
// check.
//
// The proofs authenticate the ends of a connection when it opens; they
// do not protect the bytes that follow. On a network where someone could
// take over an open TCP connection, run the cluster port under TLS too.
const (
	// helloPlain is the hello of a cluster without a secret.
	helloPlain = 1
	// helloAuth is the hello of a cluster with a secret: the handshake
	// above follows it.
	helloAuth = 2
	nonceSize = 32
	proofSize = sha256.Size
	// MinClusterSecret is the shortest cluster secret accepted: a
	// recorded handshake lets anyone test guesses of the secret offline,
	// so it must not be guessable.
	MinClusterSecret = 16
	// authContext starts every proof's input, so it means nothing to any
	// other protocol keyed with the same secret.
	authContext = "loomcache cluster auth v2"
	// Direction labels: a proof is the dialer's or the listener's.
	labelDialer   = "dialer"
	labelListener = "listener"
	// tlsExporterLabel names the keying material exported from a TLS
	// session to bind the proofs to it (RFC 5705).
	tlsExporterLabel = "EXPORTER-loomcache-cluster-auth"
)

// ErrAuth is a connection on the cluster port that failed authentication:
// a wrong or missing secret, a wrong proof, or an unexpected node.
var ErrAuth = errors.New("cluster authentication failed")

// errWrongProof is a dialer's proof that does not match the secret: a
// peer without it, or bytes changed on the way (not a connection cut
// mid-handshake, which fails reading).
var errWrongProof = errors.New("wrong proof")

// Dialer connects to other nodes' cluster ports as one node, with the
// credentials of its cluster.
type Dialer struct {
	// ID is the dialing node's id, sent in the hello; empty: not a node.
	ID string
	// Secret is the cluster secret; empty: no authentication (hello
	// version 1), for a cluster that has none.
	Secret []byte
	// TLS, when set, makes every connection a TLS client of the peer's
	// cluster port: it holds this node's certificate (Certificates, or
	// GetClientCertificate) and the CAs that sign nodes' certificates
	// (RootCAs, or ClientCAs when RootCAs is nil). The peer's certificate
	// must be valid for ServerName, or, when that is empty, for the host
	// of the address dialled.
	TLS *tls.Config
	// Timeout bounds connecting and everything before the channel's
	// protocol starts (TLS, hello, handshake); 0: helloTimeout.
	Timeout time.Duration
	// Group is the Raft group the connection is for (its hello's).
	Group int
}

// Dial connects to the cluster port at address for channel ch and
// authenticates: on success the connection speaks ch's protocol. When
// peerID is not empty, the node answering must be peerID (checked in the
// handshake, so only with a secret).
func (d *Dialer) Dial(address string, ch byte, peerID string) (net.Conn, error) {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = helloTimeout
	}
	raw, err := net.DialTimeout("tcp", address, timeout)
	if err != nil {
		return nil, err
	}
	raw.SetDeadline(time.Now().Add(min(timeout, helloTimeout)))
	nc := raw
	if d.TLS != nil {
		tc := tls.Client(raw, clientTLS(d.TLS, address))
		if err := tc.Handshake(); err != nil {
			raw.Close()
			return nil, fmt.Errorf("cluster port %s: tls: %w", address, err)
		}
		nc = tc
	}
	if len(d.Secret) == 0 {
		_, err = nc.Write(appendHelloVersion(nil, helloPlain, ch, d.ID, d.Group))
	} else {
		err = d.authenticate(nc, ch, peerID)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster port %s: %w", address, err)
	}
	nc.SetDeadline(time.Time{})
	return sockio.Wrap(nc), nil
}

// authenticate runs the dialer's side of the handshake on nc.
func (d *Dialer) authenticate(nc net.Conn, ch byte, peerID string) error {
	binding, err := tlsBinding(nc)
	if err != nil {
		return err
	}
	nd := make([]byte, nonceSize)
	rand.Read(nd)
	if _, err := nc.Write(append(appendHelloVersion(nil, helloAuth, ch, d.ID, d.Group), nd...)); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	nl := make([]byte, nonceSize)
	if _, err := io.ReadFull(nc, nl); err != nil {
		return refusedErr(err)
	}
	lid, err := readID(nc)
	if err != nil {
		return refusedErr(err)
	}
	if peerID != "" && lid != peerID {
		return fmt.Errorf("%w: node %q answered, not %q", ErrAuth, lid, peerID)
	}
	t := transcript{ch: ch, group: d.Group, dialer: d.ID, listener: lid, nd: nd, nl: nl, binding: binding}
	if _, err := nc.Write(t.proof(d.Secret, labelDialer)); err != nil {
		return fmt.Errorf("send proof: %w", err)
	}
	pl := make([]byte, proofSize)
	if _, err := io.ReadFull(nc, pl); err != nil {
		return refusedErr(err)
	}
	if !hmac.Equal(pl, t.proof(d.Secret, labelListener)) {
		return fmt.Errorf("%w: node %q does not hold the cluster secret", ErrAuth, lid)
	}
	return nil
}

// refusedErr is the error of a dialer whose handshake the listener ended:
// most often, the two nodes do not hold the same secret.
func refusedErr(err error) error {
	return fmt.Errorf("%w: the node ended the handshake (does it hold the same cluster secret?): %v", ErrAuth, err)
}

// acceptAuth runs the listener's side of the handshake on nc, whose
// version 2 hello h was just read: it returns nil once both sides are
// proven.
func acceptAuth(nc net.Conn, h Hello, secret []byte, self string) error {
	binding, err := tlsBinding(nc)
	if err != nil {
		return err
	}
	nd := make([]byte, nonceSize)
	if _, err := io.ReadFull(nc, nd); err != nil {
		return fmt.Errorf("%w: read nonce: %v", ErrAuth, err)
	}
	nl := make([]byte, nonceSize, nonceSize+binary.MaxVarintLen64+len(self))
	rand.Read(nl)
	msg := binary.AppendUvarint(nl, uint64(len(self)))
	if _, err := nc.Write(append(msg, self...)); err != nil {
		return fmt.Errorf("%w: send nonce: %v", ErrAuth, err)
	}
	t := transcript{ch: h.Channel, group: h.Group, dialer: h.ID, listener: self, nd: nd, nl: nl[:nonceSize], binding: binding}
	pd := make([]byte, proofSize)
	if _, err := io.ReadFull(nc, pd); err != nil {
		return fmt.Errorf("%w: read proof: %v", ErrAuth, err)
	}
	if !hmac.Equal(pd, t.proof(secret, labelDialer)) {
		return fmt.Errorf("%w: %w from %q", ErrAuth, errWrongProof, h.ID)
	}
	if _, err := nc.Write(t.proof(secret, labelListener)); err != nil {
		return fmt.Errorf("%w: send proof: %v", ErrAuth, err)
	}
	return nil
}

// transcript is what both proofs of a handshake cover.
type transcript struct {
	ch               byte
	group            int
	dialer, listener string // node ids
	nd, nl           []byte // the dialer's and the listener's nonces
	binding          []byte // exported from the TLS session; empty without TLS
}

// proof is one side's proof: the HMAC-SHA256, keyed by the secret, of
// the transcript under that side's label. Every variable-length field is
// length-prefixed, so no two transcripts have the same encoding.
func (t *transcript) proof(secret []byte, label string) []byte {
	b := make([]byte, 0, 128)
	b = append(b, authContext...)
	b = append(b, 0)
	b = append(b, label...)
	b = append(b, 0, t.ch)
	b = binary.AppendUvarint(b, uint64(t.group))
	for _, f := range [][]byte{[]byte(t.dialer), []byte(t.listener), t.nd, t.nl, t.binding} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	m := hmac.New(sha256.New, secret)
	m.Write(b)
	return m.Sum(nil)
}

// tlsBinding returns keying material exported from nc's TLS session, or
// nothing for a plain connection. Both ends of one session export the
// same bytes, which no other session has.
func tlsBinding(nc net.Conn) ([]byte, error) {
	tc, ok := nc.(*tls.Conn)
	if !ok {
		return nil, nil
	}
	cs := tc.ConnectionState()
	b, err := cs.ExportKeyingMaterial(tlsExporterLabel, nil, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: tls binding: %v", ErrAuth, err)
	}
	return b, nil
}

// readID reads a node id: uvarint n | n bytes, n at most maxHelloID.
func readID(r io.Reader) (string, error) {
	n, err := binary.ReadUvarint(byteReader{r})
	if err != nil {
		return "", err
	}
	if n > maxHelloID {
		return "", fmt.Errorf("node id of %d bytes", n)
	}
	id := make([]byte, n)
	if _, err := io.ReadFull(r, id); err != nil {
		return "", err
	}
	return string(id), nil
}

// serverTLS is the configuration of accepted cluster connections: every
// dialer must present a certificate signed by one of the cluster's CAs
// (ClientCAs, or RootCAs when that is nil).
func serverTLS(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	c.ClientAuth = tls.RequireAndVerifyClientCert
	if c.ClientCAs == nil {
		c.ClientCAs = c.RootCAs
	}
	return c
}

// clientTLS is the configuration of a dial to address: the peer is
// verified against the cluster's CAs (RootCAs, or ClientCAs when that is
// nil), for ServerName or, when that is empty, address's host.
func clientTLS(cfg *tls.Config, address string) *tls.Config {
	c := cfg.Clone()
	if c.RootCAs == nil {
		c.RootCAs = c.ClientCAs
	}
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(address); err == nil {
			c.ServerName = host
		}
	}
	return c
}

// Probe checks that the node id answers with the cluster's credentials at
// the cluster address address: it dials the probe channel, which serves
// nothing but the handshake and the node's id.
func (d *Dialer) Probe(address, id string) error {
	_, err := d.probe(address, id)
	return err
}

// probe is Probe, returning the RESP address the node answered with.
func (d *Dialer) probe(address, id string) (clientAddr string, err error) {
	nc, err := d.Dial(address, ChannelProbe, id)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetReadDeadline(time.Now().Add(min(d.timeout(), helloTimeout)))
	got, err := readID(nc)
	if err != nil {
		return "", fmt.Errorf("cluster port %s: probe: %w", address, err)
	}
	if got != id {
		return "", fmt.Errorf("%w: node %q answered at %s, not %q", ErrAuth, got, address, id)
	}
	clientAddr, err = readID(nc)
	if err != nil {
		return "", fmt.Errorf("cluster port %s: probe: %w", address, err)
	}
	return clientAddr, nil
}

// timeout is Timeout, or helloTimeout when it is not set.
func (d *Dialer) timeout() time.Duration {
	if d.Timeout <= 0 {
		return helloTimeout
	}
	return d.Timeout
}

// refusalLogEvery bounds how often refused connections are logged, so a
// stranger hammering the port cannot flood the log.
const refusalLogEvery = 10 * time.Second

// refusals counts the connections the cluster port refused and logs
// them, at most one line per refusalLogEvery.
type refusals struct {
	log   hclog.Logger
	count atomic.Uint64
	// wrongProof counts the refusals for a proof that did not match.
	wrongProof atomic.Uint64

	mu       sync.Mutex
	last     time.Time
	unlogged uint64
}

func (r *refusals) add(remote net.Addr, why error) {
	r.count.Add(1)
	if errors.Is(why, errWrongProof) {
		r.wrongProof.Add(1)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < refusalLogEvery {
		r.unlogged++
		return
	}
	r.log.Warn("refused a connection", "remote", remote, "reason", why, "refused_unlogged", r.unlogged)
	r.last, r.unlogged = now, 0
}
