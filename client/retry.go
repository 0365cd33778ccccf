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

// Sending a command again is safe when it certainly did not run, when it
// only reads, or when it is a write sent under a request id (reqid.go):
// the nodes apply an id at most once, and answer a repeated one with the
// first attempt's reply. A node's reply tells which: -MOVED (another
// node leads; nothing ran), -CLUSTERDOWN (no leader; not applied) and
// -LOADING (refused before running) never ran, and neither did a command
// whose connection could not be made (errNotSent). A -UNKNOWN reply (a
// write whose outcome is not known) and a connection lost or timed out
// after the command was written leave a write's outcome unknown: it is
// sent again under its id, and returned to the caller when it has none
// (a write the server gives no id, as a blocking pop, or a node that
// refused RAFT.REQID). -UNKNOWN ... (its request was retried) is the
// answer to a repeated id whose first reply the nodes no longer
// remember: sending it again would get the same, so it is returned,
// unless no attempt under the id can have been applied (afterSend).

// verdict is what to do after a send.
type verdict int

const (
	done    verdict = iota // the reply (or error) is the caller's
	resend                 // send again now (the map was updated)
	backoff                // refresh the map, pause, send again
)

// judge decides what follows a send that returned err; safe: the
// command may run twice harmlessly (it only reads, or it went under a
// request id). A -MOVED updates the partition's leader at once.
func (r *router) judge(err error, safe bool) verdict {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return done
	}
	var rerr redis.Error
	var ns *errNotSent
	switch {
	case errors.As(err, &rerr):
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
	case errors.As(err, &ns), errors.Is(err, redis.ErrPoolTimeout):
		return backoff
	}
	if safe && unknownOutcome(err) {
		return backoff
	}
	return done // the command's own reply, or a write's unknown outcome
}

// retriedReply is in the -UNKNOWN reply to a repeated request id whose
// first reply the nodes no longer remember.
const retriedReply = "(its request was retried)"

// unknownOutcome reports whether err leaves it unknown whether the
// command ran: an -UNKNOWN reply (but the one to a repeated id, which
// says it ran), or a connection lost or timed out after it was written.
func unknownOutcome(err error) bool {
	var rerr redis.Error
	var ns *errNotSent
	switch {
	case errors.As(err, &rerr):
		return strings.HasPrefix(err.Error(), "UNKNOWN ") && !refusedAsRetry(err)
	case err == nil, errors.As(err, &ns), errors.Is(err, redis.ErrPoolTimeout),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true
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
// client's ProcessHook); a write the server applies a request id to goes
// under one, the same for every attempt.
func (r *router) process(ctx context.Context, cmd redis.Cmder) error {
	info := r.cmds.lookup(cmd)
	pos := r.firstKey(ctx, cmd, info)
	var id reqID
	if info.reqID {
		id.seq = r.nextSeq()
	}
	for attempt := 1; ; attempt++ {
		rc, err := r.target(cmd, pos)
		underID := false
		if err == nil {
			cmd.SetErr(nil)
			if id.seq != 0 {
				underID, err = r.sendNamed(ctx, rc, cmd, id.seq)
			} else {
				err = rc.Process(ctx, cmd)
			}
		}
		if !r.again(ctx, r.afterSend(&id, err, info.readonly, underID), attempt) {
			if err = id.final(err); err == errOutcomeLost {
				cmd.SetErr(err)
			}
			return err
		}
		r.noteResend(err, underID && !info.readonly)
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
