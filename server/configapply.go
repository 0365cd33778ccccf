package server

import "errors"

// This file is the apply half of CONFIG SET (config.go checks and sets
// the values): Redis runs a setting's apply function once every value of
// the command is in place, and undoes the whole command when one fails.

// applyKind names one of the server's apply steps (configApply).
type applyKind uint8

const (
	applyNone      applyKind = iota
	applyTLS                 // rebuild the TLS configuration (tls.go)
	applyTLSPort             // move the TLS listener (tls.go)
	applyMaxmemory           // warn, and evict down to the new limit (maxmemory.go)
	applyPort                // move the plain listener (redisconf.go)
)

// applyTx collects what the apply steps of one CONFIG SET prepared: they
// change nothing the server uses until commit, so a failing step leaves
// the server as it was.
type applyTx struct {
	startup bool
	next    *confValues
	commits []func()
	aborts  []func()
	tls     *tlsMaterial // built by this CONFIG SET, if one was
}

func (tx *applyTx) onCommit(f func()) { tx.commits = append(tx.commits, f) }
func (tx *applyTx) onAbort(f func())  { tx.aborts = append(tx.aborts, f) }

func (tx *applyTx) commit() {
	for _, f := range tx.commits {
		f()
	}
}

func (tx *applyTx) abort() {
	for _, f := range tx.aborts {
		f()
	}
}

func (s *Server) configApply(k applyKind, tx *applyTx) error {
	switch k {
	case applyTLS:
		return s.applyTLS(tx)
	case applyTLSPort:
		return s.applyTLSPort(tx)
	case applyMaxmemory:
		return s.applyMaxmemory(tx)
	case applyPort:
		return s.applyPort(tx)
	}
	return nil
}

// applyError is an apply step's failure: what went wrong, for the log
// (or a startup error), and the reply Redis gives the client.
type applyError struct {
	reply string
	err   error
}

func (e *applyError) Error() string { return e.err.Error() }
func (e *applyError) Unwrap() error { return e.err }

func replyOf(err error) error {
	var ae *applyError
	if errors.As(err, &ae) {
		return errors.New(ae.reply)
	}
	return err
}
