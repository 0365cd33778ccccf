package server

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/resp"
)

// Partitions (docs/cluster.md). With P > 1 each command runs on the group
// of its keys' partition: every key must be in the same one (Redis
// Cluster's CROSSSLOT otherwise; a {hashtag} puts keys together), and a
// keyless command runs on partition 0, whose group also holds the users
// and scripts. A transaction runs on the partition of all its keys. The
// commands over the whole keyspace (wholeKeyspace) run on every partition
// and their replies are combined as one Redis would answer. With P = 1
// nothing here runs.

// errCrossSlot is Redis Cluster's reply to keys in several slots.
const errCrossSlot = "CROSSSLOT Keys in request don't hash to the same slot"

// route points cn at the group of the command's partition, or returns
// the CROSSSLOT error. Inside MULTI it checks the queued command against
// the transaction's partition; EXEC runs on that partition.
func (s *Server) route(cn *conn, ctx *commands.Ctx, cmd *commands.Command) (denied string) {
	p := -1
	// Shard channels are not keys but hash as keys do (SPUBLISH goes
	// through its channel's partition's log).
	for _, i := range append(cmd.KeyPositions(ctx.Args), cmd.ShardChannelPositions(ctx.Args)...) {
		q := cn.hasher.Of(ctx.Args[i], len(s.groups))
		if p >= 0 && q != p {
			return errCrossSlot
		}
		p = q
	}
	cn.keyless = p < 0
	tx := func() string { // the command joins the transaction's partition
		if p < 0 {
			return ""
		}
		if cn.txGroup > 0 && cn.txGroup-1 != p {
			return errCrossSlot
		}
		cn.txGroup = p + 1
		return ""
	}
	switch {
	case ctx.S.InMulti() && !cmd.RunsInMulti():
		return tx() // queued: runs at EXEC
	case cmd.Name == "exec":
		cn.setGroup(max(cn.txGroup-1, 0))
		cn.txGroup = 0
	case cmd.Name == "discard" || cmd.Name == "unwatch" || cmd.Name == "reset":
		cn.txGroup = 0
		cn.setGroup(0)
	case cmd.Name == "watch":
		if e := tx(); e != "" {
			return e
		}
		cn.setGroup(max(p, 0))
	default:
		cn.setGroup(max(p, 0))
	}
	return ""
}

// setGroup makes partition g's group the one cn's commands run on. The
// commands queued for other groups' leaders stay queued: each group's
// go to its leader as one batch (flushForwards).
func (cn *conn) setGroup(g int) { cn.n = cn.srv.groups[g] }

// wholeKeyspace reports whether a command runs on every partition, and
// how its replies combine (nil: runEverywhere's own way).
func wholeKeyspace(name string) (combine func(replies [][]byte, w *resp.Writer), ok bool) {
	switch name {
	case "dbsize":
		return sumReplies, true
	case "keys":
		return concatReplies, true
	case "flushall", "flushdb", "swapdb":
		return sameReplies, true
	case "randomkey", "scan":
		return nil, true
	}
	return nil, false
}

// countWhole counts a whole-keyspace command run on every partition, its
// reply written in ctx.W from at on, as one call.
func (s *Server) countWhole(ctx *commands.Ctx, cmd *commands.Command, at int, start time.Time) {
	ctx.Uncounted = false
	s.countReply(cmd, ctx.W.Bytes()[at:], time.Since(start))
}

// runEverywhere runs a whole-keyspace command on every partition when
// there are several, and reports whether it did.
func (s *Server) runEverywhere(cn *conn, ctx *commands.Ctx, cmd *commands.Command) bool {
	combine, ok := wholeKeyspace(cmd.Name)
	if !ok || len(s.groups) == 1 || cn.pinned || ctx.S.InMulti() {
		return false
	}
	cn.drain()
	// Shown once, not by each partition's run.
	s.table.FeedServed(ctx, cmd)
	ctx.S.Unmonitored = true
	defer func() { ctx.S.Unmonitored = false }()
	// Counted once in commandstats, not by each partition's run.
	ctx.Uncounted = true
	defer s.countWhole(ctx, cmd, ctx.W.Len(), time.Now())
	switch cmd.Name {
	case "scan":
		s.scanPartitions(cn, ctx, cmd)
	case "randomkey":
		s.randomKey(cn, ctx, cmd)
	default:
		replies := make([][]byte, len(s.groups))
		id := ctx.S.RequestID()
		for g := range s.groups {
			// Each partition's FSM applies a client's id once.
			ctx.S.SetRequestID(id)
			r, failed := s.runOn(cn, ctx, cmd, g, ctx.Args)
			if failed {
				ctx.W.Raw(r)
				return true
			}
			replies[g] = r
		}
		combine(replies, ctx.W)
	}
	return true
}

// runOn runs cmd with args on partition g's group: here when this node
// leads it (or the session reads its own state, READONLY), forwarded to
// its leader otherwise. It returns the reply's bytes, and failed when the
// command could not run (the bytes are then the error reply).
func (s *Server) runOn(cn *conn, ctx *commands.Ctx, cmd *commands.Command, g int, args [][]byte) (reply []byte, failed bool) {
	n := s.groups[g]
	write := !cmd.Has(commands.FlagReadonly)
	if n.IsLeader() || ctx.S.ReadOnly && !write {
		sub := &conn{nodeAdapter: nodeAdapter{n}, srv: s, w: &resp.Writer{Proto: ctx.W.Proto}, sess: ctx.S, pinned: true}
		sctx := *ctx
		sctx.W, sctx.Node, sctx.Args, sctx.Defer, sctx.Block = sub.w, sub, args, nil, nil
		s.runHere(sub, &sctx, cmd)
		sub.drain()
		return sub.w.Bytes(), false
	}
	s.table.TrackScriptKeys(ctx.S) // a script's reads are not known here
	req := op.Op{Type: op.Forward, DB: ctx.S.DB, Int: int64(ctx.S.Proto()), Args: args, Req: ctx.S.RequestID()}
	r, err := n.Forward(&req, write)
	if err == nil {
		return r, false
	}
	if !write && errors.Is(err, raftfsm.ErrUnknownOutcome) {
		err = raftfsm.ErrNoLeader
	}
	w := &resp.Writer{Proto: ctx.W.Proto}
	commands.WriteOutcome(w, nil, translate(err))
	return w.Bytes(), true
}

// sumReplies adds integer replies (DBSIZE); the first error wins.
func sumReplies(replies [][]byte, w *resp.Writer) {
	var sum int64
	for _, r := range replies {
		v, ok := replyInt(r)
		if !ok {
			w.Raw(r)
			return
		}
		sum += v
	}
	w.Int(sum)
}

// concatReplies joins array replies (KEYS); the first other reply wins.
func concatReplies(replies [][]byte, w *resp.Writer) {
	var elems [][]byte
	for _, r := range replies {
		es, ok := replyArray(r)
		if !ok {
			w.Raw(r)
			return
		}
		elems = append(elems, es...)
	}
	w.Array(len(elems))
	for _, e := range elems {
		w.Raw(e)
	}
}

// sameReplies answers the first error, or else the first reply (+OK from
// each partition of FLUSHALL).
func sameReplies(replies [][]byte, w *resp.Writer) {
	for _, r := range replies {
		if len(r) > 0 && r[0] == '-' {
			w.Raw(r)
			return
		}
	}
	w.Raw(replies[0])
}

// randomKey asks the partitions in a random order for a random key, and
// answers the first.
func (s *Server) randomKey(cn *conn, ctx *commands.Ctx, cmd *commands.Command) {
	var r []byte
	for _, g := range rand.Perm(len(s.groups)) {
		var failed bool
		if r, failed = s.runOn(cn, ctx, cmd, g, ctx.Args); failed || !replyNull(r) {
			break
		}
	}
	ctx.W.Raw(r)
}

// scanPartitions runs one SCAN step. The cursor holds the partition in
// its remainder modulo P and that partition's own cursor in its
// quotient: each call scans one partition, and the next cursor moves to
// the next partition when it is done, so the cursor is 0 again only once
// all have been scanned. A cursor that is not a number goes to partition
// 0 unchanged, for its error.
func (s *Server) scanPartitions(cn *conn, ctx *commands.Ctx, cmd *commands.Command) {
	P := uint64(len(s.groups))
	c, err := strconv.ParseUint(string(ctx.Args[1]), 10, 64)
	if err != nil {
		r, _ := s.runOn(cn, ctx, cmd, 0, ctx.Args)
		ctx.W.Raw(r)
		return
	}
	g, inner := c%P, c/P
	args := slices.Clone(ctx.Args)
	args[1] = strconv.AppendUint(nil, inner, 10)
	r, failed := s.runOn(cn, ctx, cmd, int(g), args)
	es, ok := replyArray(r)
	if failed || !ok || len(es) != 2 {
		ctx.W.Raw(r)
		return
	}
	next, ok := replyUint(es[0])
	if !ok || next > (1<<64-1-g)/P {
		ctx.W.Raw(r) // not a cursor this encoding can carry
		return
	}
	switch {
	case next != 0:
		next = next*P + g
	case g+1 < P:
		next = g + 1
	}
	ctx.W.Array(2)
	ctx.W.Bulk(strconv.AppendUint(nil, next, 10))
	ctx.W.Raw(es[1])
}

// redirect answers a RAFT.REDIRECT ON connection's command for a
// partition another node leads with Redis Cluster's -MOVED <partition>
// <host:port>, the leader's RESP address: the client sends it there
// itself. It reports whether it did; with no leader known, or its address
// not, the command is forwarded as any other.
func (s *Server) redirect(cn *conn, ctx *commands.Ctx) bool {
	id, raftAddr := cn.n.Leader()
	if id == "" {
		return false
	}
	addr := s.host.ClientAddr(id, raftAddr)
	if addr == "" {
		return false
	}
	cn.flushForwards()
	ctx.W.Error("MOVED " + strconv.Itoa(cn.n.Partition()) + " " + addr)
	return true
}

// KeyPartition returns the partition of key and the one cn runs on
// (commands.PartitionedNode; scripts check the keys they touch).
func (cn *conn) KeyPartition(key []byte) (of, own int) {
	if cn.n == nil || len(cn.srv.groups) < 2 {
		return 0, 0
	}
	return cn.hasher.Of(key, len(cn.srv.groups)), cn.n.Partition()
}

// Partitions is the number of partitions (commands.PartitionedNode).
func (cn *conn) Partitions() int { return len(cn.srv.groups) }
