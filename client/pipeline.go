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
// lands in its own command, so the caller sees them in order; each write
// the server applies a request id to goes after its own RAFT.REQID. The
// commands that may be sent again (judge) go again, together, until
// none is left or MaxAttempts.
func (r *router) processPipeline(ctx context.Context, cmds []redis.Cmder) error {
	if isTx(cmds) {
		return r.processTx(ctx, cmds)
	}
	readonly := make([]bool, len(cmds))
	pos := make([]int, len(cmds))
	pending := make([]int, len(cmds))
	ids := make([]reqID, len(cmds))
	for i, cmd := range cmds {
		info := r.cmds.lookup(cmd)
		readonly[i], pos[i], pending[i] = info.readonly, r.firstKey(ctx, cmd, info), i
		if info.reqID {
			ids[i].seq = r.nextSeq()
		}
	}
	sent := make([]*redis.StatusCmd, len(cmds)) // each command's RAFT.REQID, if it had one
	for attempt := 1; len(pending) > 0; attempt++ {
		r.sendByNode(ctx, cmds, pos, pending, ids, sent)
		worst, next := done, pending[:0]
		for _, i := range pending {
			v := r.afterSend(&ids[i], cmds[i].Err(), readonly[i], underID(sent[i]))
			if v != done {
				next = append(next, i)
				worst = max(worst, v)
			}
		}
		if len(next) == 0 || !r.again(ctx, worst, attempt) {
			break
		}
		for _, i := range next {
			r.noteResend(cmds[i].Err(), underID(sent[i]) && !readonly[i])
		}
		pending = next
	}
	for i, cmd := range cmds {
		if err := ids[i].final(cmd.Err()); err == errOutcomeLost {
			cmd.SetErr(err)
		}
	}
	return firstErr(cmds)
}

// sendByNode sends the commands at idx, one pipeline per leader, the
// leaders concurrently, and waits for all; a command with a request id
// goes after its RAFT.REQID, which it finds in sent.
func (r *router) sendByNode(ctx context.Context, cmds []redis.Cmder, pos, idx []int, ids []reqID, sent []*redis.StatusCmd) {
	byNode := map[*redis.Client][]redis.Cmder{}
	for _, i := range idx {
		cmds[i].SetErr(nil)
		sent[i] = nil
		rc, err := r.target(cmds[i], pos[i])
		if err != nil {
			cmds[i].SetErr(err)
			continue
		}
		if ids[i].seq != 0 {
			sent[i] = r.reqIDCmd(ctx, ids[i].seq)
			byNode[rc] = append(byNode[rc], sent[i])
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
// partition, or the node refuses it (EXECABORT, CROSSSLOT). One that
// writes goes under a request id (RAFT.REQID before MULTI). It is sent
// again, whole, when it certainly did not run, when all it does is read,
// or when it went under its id.
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
	var id reqID
	if !readonly {
		id.seq = r.nextSeq()
	}
	for attempt := 1; ; attempt++ {
		for _, c := range cmds {
			c.SetErr(nil)
		}
		rc, err := r.target(keyed, pos)
		underID := false
		if err == nil {
			underID, err = r.sendTx(ctx, rc, inner, id.seq)
		} else {
			setErrs(inner, err)
		}
		if !r.again(ctx, r.afterSend(&id, err, readonly, underID), attempt) {
			if final := id.final(err); final == errOutcomeLost {
				for _, c := range cmds {
					c.SetErr(final)
				}
				return final
			}
			return err
		}
		r.noteResend(err, underID && !readonly)
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
