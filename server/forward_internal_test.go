package server

import (
	"fmt"
	"testing"

	"github.com/loomcache/loomcache/raftfsm"
)

// A forwarded batch reports "not the leader" (nothing applied) only if no
// write of it was applied or in flight: otherwise the follower must treat
// it as lost, send it again with the same ids, and, failing that, answer
// its writes UNKNOWN rather than CLUSTERDOWN.
func TestForwardedBatchResult(t *testing.T) {
	errNoLeader := fmt.Errorf("refused: %w", raftfsm.ErrNoLeader)
	errLost := fmt.Errorf("lost: %w", raftfsm.ErrUnknownOutcome)
	for _, c := range []struct {
		name   string
		events func(f *forwardedRun)
		want   raftfsm.ForwardResult
	}{
		{"all applied", func(f *forwardedRun) { f.wrote(nil); f.note(nil) }, raftfsm.ForwardReplied},
		{"refused before any write", func(f *forwardedRun) { f.note(errNoLeader); f.wrote(errNoLeader) }, raftfsm.ForwardNotLeader},
		{"applied, then refused", func(f *forwardedRun) { f.wrote(nil); f.wrote(errNoLeader) }, raftfsm.ForwardLost},
		{"applied, then a read refused", func(f *forwardedRun) { f.wrote(nil); f.note(errNoLeader) }, raftfsm.ForwardLost},
		{"in flight when leadership was lost", func(f *forwardedRun) { f.wrote(errLost); f.wrote(errNoLeader) }, raftfsm.ForwardLost},
		{"reads only, refused", func(f *forwardedRun) { f.note(nil); f.note(errNoLeader) }, raftfsm.ForwardNotLeader},
	} {
		f := &forwardedRun{}
		c.events(f)
		if got := f.result(); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	var none *forwardedRun // a client's own conn: nothing to note
	none.wrote(nil)
	none.note(errNoLeader)
}
