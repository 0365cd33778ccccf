package client

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sending a command again is safe only when it certainly did not run, or
// when it only reads. A node's reply tells which: -MOVED (another node
// leads; nothing ran), -CLUSTERDOWN (no leader; not applied) and -LOADING
// (refused before running) never ran, and neither did a command whose
// connection could not be made (errNotSent). A -UNKNOWN reply (a write
// whose outcome is not known) and a connection lost after the command
// was written are returned to the caller for a write: it may have been
// applied, and the server has no request ids for clients yet to make a
// second send harmless.

// verdict is what to do after a send.
type verdict int

const (
	done    verdict = iota // the reply (or error) is the caller's
	resend                 // send again now (the map was updated)
	backoff                // refresh the map, pause, send again
)

// judge decides what follows a send that returned err. A -MOVED updates
// the partition's leader at once.
func (r *router) judge(err error, readonly bool) verdict {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return done
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		msg := err.Error()
		switch {
		case strings.HasPrefix(msg, "MOVED "):
			if p, addr, ok := parseMoved(msg); ok {
				r.moved(p, addr)
				return resend
			}
			return done
		case strings.HasPrefix(msg, "CLUSTERDOWN "), strings.HasPrefix(msg, "LOADING "):
			return backoff
		}
		return done // the command's own reply, or UNKNOWN
	}
	var ns *errNotSent
	if errors.As(err, &ns) || errors.Is(err, redis.ErrPoolTimeout) || readonly {
		return backoff
	}
	return done // a write's connection failed after it was sent
}

// parseMoved reads "MOVED <partition> <host:port>".
func parseMoved(msg string) (int, string, bool) {
	f := strings.Fields(msg)
	if len(f) != 3 {
		return 0, "", false
	}
	p, err := strconv.Atoi(f[1])
	return p, f[2], err == nil && p >= 0
}

// pause waits before attempt (1-based) is sent again: MinBackoff doubling
// up to MaxBackoff, with jitter so that many callers do not come back at
// once. It reports false when ctx ended or the client was closed.
func (r *router) pause(ctx context.Context, attempt int) bool {
	r.pauses.Add(1)
	d := r.opt.MinBackoff << min(attempt-1, 16)
	if d <= 0 || d > r.opt.MaxBackoff {
		d = r.opt.MaxBackoff
	}
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-r.life.Done():
		return false
	}
}

// again reports whether to send a command once more after verdict v on
// the given attempt, doing what v asks first (refresh, pause).
func (r *router) again(ctx context.Context, v verdict, attempt int) bool {
	if v == done || attempt >= r.opt.MaxAttempts || ctx.Err() != nil || r.life.Err() != nil {
		return false
	}
	switch {
	case v == backoff:
		r.requestRefresh()
		return r.pause(ctx, attempt)
	case attempt > 2: // redirected again and again: leadership is moving
		return r.pause(ctx, attempt-2)
	}
	return true
}

// process runs one command at its partition's leader (the embedded
// client's ProcessHook).
func (r *router) process(ctx context.Context, cmd redis.Cmder) error {
	info := r.cmds.lookup(cmd)
	pos := r.firstKey(ctx, cmd, info)
	for attempt := 1; ; attempt++ {
		rc, err := r.target(cmd, pos)
		if err == nil {
			cmd.SetErr(nil)
			err = rc.Process(ctx, cmd)
		}
		if !r.again(ctx, r.judge(err, info.readonly), attempt) {
			return err
		}
	}
}

// target is the client of the leader of the partition of the command's
// key at pos (partition 0 for a keyless command).
func (r *router) target(cmd redis.Cmder, pos int) (*redis.Client, error) {
	p := 0
	if pos > 0 {
		p = r.partitionOf(cmd.Args()[pos], r.partitions())
	}
	return r.leader(p)
}
