package server

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/commands"
)

// CLIENT PAUSE holds this node's clients' commands, as Redis holds an
// instance's: with WRITE, those that may write (commands.MayWrite); with
// ALL, every one. A held command has passed every check that could
// refuse it (Redis answers a syntax error at once) and waits, its client
// counted among INFO's blocked_clients, until the pause ends: CLIENT
// UNPAUSE, its timeout, the client leaving or the node closing. The
// pause is this node's only: other nodes' clients write on, and the
// commands a leader runs for followers are never held. While paused,
// the partitions this node leads propose no expiry deletions (the keys
// read as absent all the same), as Redis keeps its dataset still.
type pauseState struct {
	mu   sync.Mutex
	kind int   // commands.PauseNone, PauseWrite or PauseAll
	end  int64 // unix ms
	// changed is closed, and replaced, whenever the pause changes.
	changed chan struct{}
	// on mirrors kind != PauseNone, for the check every command makes.
	on atomic.Bool
	// held counts the clients waiting (INFO blocked_clients).
	held atomic.Int64
}

// PauseClients is commands.Server's.
func (s *Server) PauseClients(kind int, end int64) {
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current(time.Now().UnixMilli()) != commands.PauseNone {
		kind, end = max(kind, p.kind), max(end, p.end)
	}
	p.kind, p.end = kind, end
	p.on.Store(true)
	p.notify()
}

// UnpauseClients is commands.Server's.
func (s *Server) UnpauseClients() {
	p := &s.pause
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kind = commands.PauseNone
	p.on.Store(false)
	p.notify()
}

// notify wakes the clients waiting; the caller holds mu.
func (p *pauseState) notify() {
	if p.changed != nil {
		close(p.changed)
	}
	p.changed = make(chan struct{})
}

// current is the pause in force at now (unix ms), ending it if its time
// is up; the caller holds mu.
func (p *pauseState) current(now int64) int {
	if p.kind != commands.PauseNone && p.end <= now {
		p.kind = commands.PauseNone
		p.on.Store(false)
	}
	return p.kind
}

// writesPaused reports whether a pause holds writes now (the expiry the
// leader proposes waits too).
func (s *Server) writesPaused() bool {
	p := &s.pause
	if !p.on.Load() {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current(time.Now().UnixMilli()) != commands.PauseNone
}

// holds reports whether the pause holds a command that may write (or
// not), and if so, until when and the channel that signals a change.
func (p *pauseState) holds(mayWrite bool) (bool, time.Time, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.current(time.Now().UnixMilli()) {
	case commands.PauseAll:
	case commands.PauseWrite:
		if !mayWrite {
			return false, time.Time{}, nil
		}
	default:
		return false, time.Time{}, nil
	}
	return true, time.UnixMilli(p.end), p.changed
}

// waitPause holds the command about to run on a client's connection while
// a pause holds it; it reports whether the client left meanwhile (or the
// node closed), when the command is not run.
func (s *Server) waitPause(cn *conn, ctx *commands.Ctx, cmd *commands.Command) (gone bool) {
	if !s.pause.on.Load() || cn.forwarded != nil || ctx.Block == nil {
		return false
	}
	mayWrite := s.table.MayWrite(cmd, ctx.Args, ctx.S)
	held, until, changed := s.pause.holds(mayWrite)
	if !held {
		return false
	}
	// The replies before this command go out; the client then waits as
	// one blocked does.
	ctx.Block.Flush()
	left, stop := ctx.Block.WatchGone()
	defer stop()
	s.pause.held.Add(1)
	defer s.pause.held.Add(-1)
	for held {
		t := time.NewTimer(time.Until(until))
		select {
		case <-changed:
		case <-t.C:
		case <-left:
			gone = true
		case <-s.done:
			gone = true
		}
		t.Stop()
		if gone {
			return true
		}
		held, until, changed = s.pause.holds(mayWrite)
	}
	return false
}
