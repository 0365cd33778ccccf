package cluster

import (
	"context"
	"errors"
	"time"

	native "github.com/loomcache/loomcache/client"
	"github.com/redis/go-redis/v9"
)

// The native Go client (package client) in the workload: with
// workload.native, every third client goes through it instead of a
// plain connection to one node, so its calls go straight to their
// partition's leader, follow leader changes (-MOVED, a refreshed map),
// and a write whose outcome was lost is sent again under its request id
// (RAFT.REQID), which the nodes apply at most once. Its calls are
// recorded and checked as any other: a resend that applied a write
// twice, or a redirect that lost one, fails porcupine or the no-loss
// check.

// nativeLoop is a native client's loop: one call at a time, CAS loops
// left to the plain clients (they need one connection for WATCH).
func (cl *client) nativeLoop(ctx context.Context) {
	var seeds []string
	for _, n := range cl.c.nodes {
		seeds = append(seeds, n.addr)
	}
	var nc *native.Client
	for nc == nil && ctx.Err() == nil {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		c, err := native.New(sctx, native.Options{Seeds: seeds, MaxAttempts: 40, Node: redis.Options{
			Protocol: 2, DialTimeout: 500 * time.Millisecond, PoolSize: 2,
			ReadTimeout: cl.w.timeout, WriteTimeout: cl.w.timeout,
		}})
		cancel()
		if err != nil {
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		nc = c
	}
	if nc == nil {
		return
	}
	defer func() {
		cl.h.nativeResent.Add(nc.Stats().Resent)
		nc.Close()
	}()
	via := &node{id: "native"} // names its calls in the history
	for cl.seq < cl.w.maxOps && ctx.Err() == nil {
		in := nextInput(cl.rng, cl.id, cl.seq, int(time.Since(cl.h.start)/cl.w.epoch))
		cl.seq++
		if in.op == opCAS {
			continue
		}
		began := time.Now()
		call := cl.h.now()
		r, err := nativeCall(ctx, nc, in, cl.w.timeout)
		out := cl.note(via, in, call, []reply{r}, err)
		if out.res == resRefused {
			sleep(ctx, 50*time.Millisecond)
		} else {
			sleep(ctx, cl.w.pace-time.Since(began))
		}
	}
}

// nativeCall runs one call through the native client and returns its
// reply as the plain clients read them, or the error that leaves its
// outcome unknown.
func nativeCall(ctx context.Context, nc *native.Client, in input, timeout time.Duration) (reply, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if in.op == opTx {
		a, b := pairKeys(in.key)
		var x, y *redis.IntCmd
		_, err := nc.TxPipelined(ctx, func(p redis.Pipeliner) error {
			x, y = p.Incr(ctx, a), p.Incr(ctx, b)
			return nil
		})
		if err != nil {
			return fromGoRedis(nil, err)
		}
		return []any{x.Val(), y.Val()}, nil
	}
	args := make([]any, 0, 4)
	for _, a := range in.cmds()[0] {
		args = append(args, a)
	}
	return fromGoRedis(nc.Do(ctx, args...).Result())
}

// fromGoRedis turns go-redis's result into the plain clients' reply: an
// error reply is a definite answer, a null is nil, and any other error
// (a lost connection, a timeout) leaves the outcome unknown.
func fromGoRedis(v any, err error) (reply, error) {
	var re redis.Error
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, redis.Nil):
		return nil, nil
	case errors.As(err, &re):
		return errorReply(re.Error()), nil
	}
	return nil, err
}
