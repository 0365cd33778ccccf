package client

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// processPipeline runs a pipeline (the embedded client's
// ProcessPipelineHook; a TxPipeline's too, wrapped in MULTI and EXEC).
// A pipeline's commands are split by their partition's leader, each
// node's share goes as one pipeline, all nodes at once, and every reply
// lands in its own command, so the caller sees them in order. The
// commands that may be sent again (judge) go again, together, until
// none is left or MaxAttempts.
func (r *router) processPipeline(ctx context.Context, cmds []redis.Cmder) error {
	if isTx(cmds) {
		return r.processTx(ctx, cmds)
	}
	readonly := make([]bool, len(cmds))
	pos := make([]int, len(cmds))
	pending := make([]int, len(cmds))
	for i, cmd := range cmds {
		info := r.cmds.lookup(cmd)
		readonly[i], pos[i], pending[i] = info.readonly, r.firstKey(ctx, cmd, info), i
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		r.sendByNode(ctx, cmds, pos, pending)
		worst, next := done, pending[:0]
		for _, i := range pending {
			v := r.judge(cmds[i].Err(), readonly[i])
			if v != done {
				next = append(next, i)
				worst = max(worst, v)
			}
		}
		if len(next) == 0 || !r.again(ctx, worst, attempt) {
			break
		}
		pending = next
	}
	return firstErr(cmds)
}

// sendByNode sends the commands at idx, one pipeline per leader, the
// leaders concurrently, and waits for all.
func (r *router) sendByNode(ctx context.Context, cmds []redis.Cmder, pos, idx []int) {
	byNode := map[*redis.Client][]redis.Cmder{}
	for _, i := range idx {
		cmds[i].SetErr(nil)
		rc, err := r.target(cmds[i], pos[i])
		if err != nil {
			cmds[i].SetErr(err)
			continue
		}
		byNode[rc] = append(byNode[rc], cmds[i])
	}
	send := func(rc *redis.Client, share []redis.Cmder) {
		pipe := rc.Pipeline()
		for _, c := range share {
			_ = pipe.Process(ctx, c) // queues it
		}
		_, _ = pipe.Exec(ctx) // each command holds its reply or error
	}
	var wg sync.WaitGroup
	var last *redis.Client
	for rc, share := range byNode {
		if last != nil {
			wg.Go(func() { send(rc, share) })
			continue
		}
		last = rc // the first share is sent on this goroutine
	}
	if last != nil {
		send(last, byNode[last])
	}
	wg.Wait()
}

// isTx reports whether a pipeline is a TxPipeline's: go-redis wraps its
// commands in a MULTI StatusCmd and an EXEC SliceCmd.
func isTx(cmds []redis.Cmder) bool {
	if len(cmds) < 2 {
		return false
	}
	_, multi := cmds[0].(*redis.StatusCmd)
	_, exec := cmds[len(cmds)-1].(*redis.SliceCmd)
	return multi && exec && cmds[0].Name() == "multi" && cmds[len(cmds)-1].Name() == "exec"
}

// processTx runs a transaction at the leader of its first key's
// partition (partition 0 when it has none): its keys must all be in one
// partition, or the node refuses it (EXECABORT, CROSSSLOT). It is sent
// again only when it certainly did not run, or when all it does is read.
func (r *router) processTx(ctx context.Context, cmds []redis.Cmder) error {
	inner := cmds[1 : len(cmds)-1]
	readonly, pos, at := true, 0, -1
	for i, cmd := range inner {
		info := r.cmds.lookup(cmd)
		readonly = readonly && info.readonly
		if at < 0 {
			if p := r.firstKey(ctx, cmd, info); p > 0 {
				pos, at = p, i
			}
		}
	}
	keyed := inner[0]
	if at >= 0 {
		keyed = inner[at]
	}
	for attempt := 1; ; attempt++ {
		for _, c := range cmds {
			c.SetErr(nil)
		}
		rc, err := r.target(keyed, pos)
		if err == nil {
			_, err = rc.TxPipelined(ctx, func(p redis.Pipeliner) error {
				for _, c := range inner {
					_ = p.Process(ctx, c)
				}
				return nil
			})
		} else {
			setErrs(inner, err)
		}
		if !r.again(ctx, r.judge(err, readonly), attempt) {
			return err
		}
	}
}

// setErrs gives err to the commands that have no error of their own.
func setErrs(cmds []redis.Cmder, err error) {
	for _, c := range cmds {
		if c.Err() == nil {
			c.SetErr(err)
		}
	}
}

// firstErr is the first command's error, as go-redis's Exec returns.
func firstErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil {
			return err
		}
	}
	return nil
}
