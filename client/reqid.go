package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Request ids. Each Client draws a random origin and numbers its writes:
// a write the server applies an id to (cmdInfo.reqID) is sent after
// RAFT.REQID <origin> <seq> on the same connection, in one pipeline, and
// every attempt of it under the same id, so the nodes apply it at most
// once and answer a repeat with the first attempt's reply
// (docs/consistency.md, "Client request ids"). The RAFT.REQID reply is
// checked and dropped; the command's is the caller's.

// newOrigin is 16 hex characters from crypto/rand: two clients meet with
// odds far below anything else that can go wrong.
func newOrigin() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// nextSeq numbers a new write (from 1).
func (r *router) nextSeq() uint64 { return r.seq.Add(1) }

// reqID is a write's request id across its attempts.
type reqID struct {
	seq  uint64 // 0: none
	lost bool   // an attempt under seq had an unknown outcome: it may be applied
}

// afterSend is judge for an attempt of a command (readonly: it only
// reads; underID: it went under id) that returned err, keeping id's
// account. A node refuses an id it takes for a retry it no longer
// remembers (-UNKNOWN ... (its request was retried)): one drawn before
// thousands of this client's later ids that reached the partition first
// falls below what the partition keeps (docs/consistency.md). When no
// attempt under it can have been applied, the write goes again at once
// under a new id.
func (r *router) afterSend(id *reqID, err error, readonly, underID bool) verdict {
	v := r.judge(err, readonly || underID)
	switch {
	case !underID:
	case !id.lost && refusedAsRetry(err):
		id.seq = r.nextSeq()
		v = resend
	case unknownOutcome(err):
		id.lost = true
	}
	return v
}

// final is the error a write's caller gets when no attempt is left: once
// an attempt's outcome was lost (it may have applied the write), a later
// attempt that certainly did not run (redirected, refused for want of a
// leader, not sent) says nothing of the write, whose outcome is unknown.
func (id *reqID) final(err error) error {
	if id.lost && err != nil && certainlyNotRun(err) {
		return errOutcomeLost
	}
	return err
}

// certainlyNotRun reports whether err says the attempt that got it ran
// nothing: a -MOVED, -CLUSTERDOWN or -LOADING reply, a transaction's
// -EXECABORT (a command refused as it was queued, say for LOADING), an
// -OOM or -BUSY refusal, or no connection.
func certainlyNotRun(err error) bool {
	var rerr redis.Error
	var ns *errNotSent
	switch {
	case errors.As(err, &rerr):
		msg := err.Error()
		for _, prefix := range []string{"MOVED ", "CLUSTERDOWN ", "LOADING ", "EXECABORT ", "OOM ", "BUSY "} {
			if strings.HasPrefix(msg, prefix) {
				return true
			}
		}
		return false
	case errors.As(err, &ns), errors.Is(err, redis.ErrPoolTimeout):
		return true
	}
	return false
}

// outcomeLost is a Redis-style error (redis.Error) the client gives.
type outcomeLost string

func (e outcomeLost) Error() string { return string(e) }
func (outcomeLost) RedisError()     {}

// errOutcomeLost is final's error: the nodes' own -UNKNOWN, in substance.
const errOutcomeLost = outcomeLost("UNKNOWN the outcome of this write is unknown (a reply was lost, and no attempt since could tell); read before retrying")

// refusedAsRetry reports whether err is a node's answer to a request id
// it takes for a retry whose reply it does not remember.
func refusedAsRetry(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.HasPrefix(err.Error(), "UNKNOWN ") && strings.Contains(err.Error(), retriedReply)
}

func (r *router) reqIDCmd(ctx context.Context, seq uint64) *redis.StatusCmd {
	return redis.NewStatusCmd(ctx, "raft.reqid", r.origin, seq)
}

// underID reports whether the command sent after RAFT.REQID (id; nil:
// none was sent) went under its id: RAFT.REQID was not refused. A
// connection lost before its reply does not say otherwise: the node
// runs RAFT.REQID before the command sent after it, and cannot refuse
// it but by a reply.
func underID(id *redis.StatusCmd) bool {
	var rerr redis.Error
	return id != nil && !errors.As(id.Err(), &rerr)
}

// sendNamed sends cmd after RAFT.REQID origin seq, as one pipeline on one
// connection of rc, and returns whether it went under the id, and cmd's
// error.
func (r *router) sendNamed(ctx context.Context, rc *redis.Client, cmd redis.Cmder, seq uint64) (bool, error) {
	id := r.reqIDCmd(ctx, seq)
	pipe := rc.Pipeline()
	_ = pipe.Process(ctx, id)
	_ = pipe.Process(ctx, cmd)
	_, _ = pipe.Exec(ctx) // each command holds its reply or error
	return underID(id), cmd.Err()
}

// sendTx runs a transaction (go-redis's TxPipelined) on rc; with a seq,
// RAFT.REQID goes first on the same connection, so the transaction's
// EXEC carries the id (it returns whether it did, as sendNamed). It
// costs a round trip more: go-redis writes MULTI itself, with nothing
// before it.
func (r *router) sendTx(ctx context.Context, rc *redis.Client, inner []redis.Cmder, seq uint64) (bool, error) {
	queue := func(p redis.Pipeliner) error {
		for _, c := range inner {
			_ = p.Process(ctx, c)
		}
		return nil
	}
	if seq == 0 {
		_, err := rc.TxPipelined(ctx, queue)
		return false, err
	}
	cn := rc.Conn()
	defer cn.Close()
	id := r.reqIDCmd(ctx, seq)
	if err := cn.Process(ctx, id); err != nil && underID(id) {
		// The transaction was not sent: as safe to send again as
		// anything not sent.
		setErrs(inner, err)
		return true, notSent(err)
	}
	_, err := cn.TxPipelined(ctx, queue)
	return underID(id), err
}

// noteResend counts a write sent again under its id after its outcome was
// lost (Stats.Resent); idWrite: it is a write that went under an id.
func (r *router) noteResend(err error, idWrite bool) {
	if idWrite && unknownOutcome(err) {
		r.resent.Add(1)
	}
}
