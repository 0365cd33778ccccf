package raftfsm

import (
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestPeerLogOncePerChange: a peer's failure lines pass once each until
// it is back, then once again; a single node's startup election is
// filtered only while it is single.
func TestPeerLogOncePerChange(t *testing.T) {
	var p peerLog
	hb := func() bool {
		return p.exclude(hclog.Error, "failed to heartbeat to", "peer", "127.0.0.1:7380", "backoff time", 10, "error", "EOF")
	}
	ae := func() bool {
		return p.exclude(hclog.Error, "failed to appendEntries to", "peer", "{Voter n2 127.0.0.1:7380}", "error", "refused")
	}
	if hb() || ae() {
		t.Fatal("a peer's first failure was filtered")
	}
	for range 10 {
		if !hb() || !ae() {
			t.Fatal("a repeated failure was logged")
		}
	}
	if p.exclude(hclog.Error, "failed to heartbeat to", "peer", "127.0.0.1:7381") {
		t.Error("another peer's failure was filtered")
	}
	if !p.resumed("n2", "127.0.0.1:7380") {
		t.Fatal("resumed found nothing logged")
	}
	if hb() || ae() {
		t.Error("a failure after the peer came back was filtered")
	}
	if p.exclude(hclog.Info, "entering leader state") {
		t.Error("an unrelated line was filtered")
	}
	const election = "heartbeat timeout reached, starting election"
	p.single.Store(true)
	if !p.exclude(hclog.Warn, election) {
		t.Error("a single node's startup election was logged")
	}
	p.single.Store(false)
	if p.exclude(hclog.Warn, election) {
		t.Error("a cluster member's election was filtered")
	}
}
