package commands

import (
	"bytes"
	"errors"
	"strconv"
	"strings"

	"github.com/loomcache/loomcache/op"
)

// MULTI/EXEC/WATCH. A connection in MULTI queues its commands (the server
// calls Queue once a command has passed the checks Redis makes before
// queueing); EXEC runs the queue as one block on the leader (block.go):
// one Exec op, applied as one step on every node, with the versions of
// the WATCHed keys checked inside the apply.

func registerMulti(t *Table) {
	const flags = FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy
	t.add(
		&Command{Name: "multi", Arity: 1, Flags: flags, Categories: CatTransaction,
			Group: "transactions", Since: "1.2.0", Complexity: "O(1)",
			Summary: "Mark the start of a transaction block", Handler: cmdMulti},
		&Command{Name: "exec", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagSkipSlowlog,
			Categories: CatTransaction, Group: "transactions", Since: "1.2.0",
			Complexity: "Depends on commands in the transaction",
			Summary:    "Execute all commands issued after MULTI", Handler: cmdExec},
		&Command{Name: "discard", Arity: 1, Flags: flags, Categories: CatTransaction,
			Group: "transactions", Since: "2.0.0", Complexity: "O(N), when N is the number of queued commands",
			Summary: "Discard all commands issued after MULTI", Handler: cmdDiscard},
		&Command{Name: "watch", Arity: -2, Flags: flags, Categories: CatTransaction,
			Keys:  []KeySpec{{Flags: KeyRO, Index: 1, LastKey: -1, KeyStep: 1}},
			Group: "transactions", Since: "2.2.0", Complexity: "O(1) for every key.",
			Summary: "Watch the given keys to determine execution of the MULTI/EXEC block", Handler: cmdWatch,
			Args: []Arg{argKey("key", 0).multiple()}},
		&Command{Name: "unwatch", Arity: 1, Flags: flags, Categories: CatTransaction,
			Group: "transactions", Since: "2.2.0", Complexity: "O(1)",
			Summary: "Forget about all watched keys", Handler: cmdUnwatch},
	)
	t.applier(op.Exec, t.applyExec)
}

// txState is a connection's MULTI queue and WATCHed keys.
type txState struct {
	on      bool
	aborted bool // a command failed to queue: EXEC answers EXECABORT
	queue   [][][]byte
	watched []op.Check
	req     op.ReqID // MULTI's request id, EXEC's (reqid.go)
}

// InMulti reports whether the connection is queueing commands.
func (s *Session) InMulti() bool { return s.tx.on }

// RunsInMulti reports whether the command runs at once inside MULTI
// rather than being queued, as Redis's processCommand decides.
func (c *Command) RunsInMulti() bool {
	switch c.Name {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return true
	}
	return false
}

// FailQueue notes a command refused while queueing (its error already
// replied): EXEC will answer EXECABORT.
func (s *Session) FailQueue() {
	if s.tx.on {
		s.tx.aborted = true
	}
}

// Queue queues the command of c for EXEC, answering +QUEUED, or refuses
// one flagged no-multi.
func (t *Table) Queue(c *Ctx, cmd *Command) {
	if cmd.Has(FlagNoMulti) {
		cmd.Rejected()
		c.S.FailQueue()
		c.W.Error("ERR Command not allowed inside a transaction")
		return
	}
	c.S.noteCommand(cmd, c.Now()) // CLIENT LIST cmd= shows the last one queued
	args := make([][]byte, len(c.Args))
	for i, a := range c.Args {
		args[i] = append([]byte(nil), a...)
	}
	c.S.tx.queue = append(c.S.tx.queue, args)
	// Redis's argv_len_sums: the arguments and a pointer to each.
	c.S.multiMem.Add(int64(argvLen(args) + 8*len(args)))
	c.S.SetMulti(len(c.S.tx.queue))
	c.W.Status("QUEUED")
}

// Queued returns the commands queued so far.
func (s *Session) Queued() [][][]byte { return s.tx.queue }

// DiscardMulti leaves MULTI and forgets the WATCHed keys, as Redis's
// discardTransaction does.
func (s *Session) DiscardMulti() {
	s.tx = txState{}
	s.SetMulti(-1)
	s.multiMem.Store(0)
}

// ExecAbort answers an EXEC refused before it ran (OOM, NOPERM, BUSY...)
// and discards the transaction, as Redis's execCommandAbort does.
func (c *Ctx) ExecAbort(msg string) {
	c.S.DiscardMulti()
	c.W.Error("EXECABORT Transaction discarded because of: " + msg)
	// Monitors saw MULTI: they see the EXEC that ends it.
	c.Table.FeedServed(c, nil)
}

func cmdMulti(c *Ctx) {
	if c.S.tx.on {
		c.W.Error("ERR MULTI calls can not be nested")
		return
	}
	c.S.tx.on = true
	c.S.tx.req = c.S.req.cur
	c.S.SetMulti(0)
	c.W.Status("OK")
}

func cmdDiscard(c *Ctx) {
	if !c.S.tx.on {
		c.W.Error("ERR DISCARD without MULTI")
		return
	}
	c.S.DiscardMulti()
	c.W.Status("OK")
}

func cmdUnwatch(c *Ctx) {
	c.S.tx.watched = nil
	c.W.Status("OK")
}

// cmdWatch records each key's version. A follower asks the leader for
// them: its own may be behind writes already acknowledged, which would
// abort the transaction for a change made before the WATCH.
func cmdWatch(c *Ctx) {
	if c.S.tx.on {
		c.W.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	keys := c.Args[1:]
	var versions []uint64
	if f, ok := c.Node.(BlockForwarder); ok {
		reply, err, forwarded := f.ForwardWatch(c, keys)
		if forwarded {
			if err == nil {
				versions, err = parseVersions(reply, len(keys))
			}
			if err != nil {
				c.W.Error(nodeError(err))
				return
			}
		}
	}
	if versions == nil {
		versions = c.Table.versions(c, keys)
	}
outer:
	for i, key := range keys {
		for _, w := range c.S.tx.watched {
			if w.DB == c.S.DB && string(w.Key) == string(key) {
				continue outer
			}
		}
		c.S.tx.watched = append(c.S.tx.watched, op.Check{
			DB: c.S.DB, Key: append([]byte(nil), key...), Version: versions[i], Watch: true,
		})
	}
	c.W.Status("OK")
}

// versions reads the keys' versions in the connection's database.
func (t *Table) versions(c *Ctx, keys [][]byte) []uint64 {
	ks := c.Node.Store()
	now := c.Now()
	out := make([]uint64, len(keys))
	ks.RLock()
	db := ks.DB(c.S.DB)
	for i, k := range keys {
		out[i] = db.Version(k, now)
	}
	ks.RUnlock()
	return out
}

// WriteVersions answers a follower's ForwardWatch on the leader: the
// keys' versions as an array of integers.
func (t *Table) WriteVersions(c *Ctx, keys [][]byte) {
	vs := t.versions(c, keys)
	c.W.Array(len(vs))
	for _, v := range vs {
		c.W.Int(int64(v))
	}
}

// parseVersions reads WriteVersions' reply: n integers, or an error.
func parseVersions(b []byte, n int) ([]uint64, error) {
	if len(b) > 0 && b[0] == '-' {
		return nil, errors.New(strings.TrimPrefix(strings.TrimRight(string(b[1:]), "\r\n"), "ERR "))
	}
	line := func() (string, bool) {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			return "", false
		}
		l := string(b[:i])
		b = b[i+2:]
		return l, true
	}
	if l, ok := line(); !ok || l != "*"+strconv.Itoa(n) {
		return nil, errBadVersions
	}
	out := make([]uint64, n)
	for i := range out {
		l, ok := line()
		if !ok || len(l) < 2 || l[0] != ':' {
			return nil, errBadVersions
		}
		v, err := strconv.ParseUint(l[1:], 10, 64)
		if err != nil {
			return nil, errBadVersions
		}
		out[i] = v
	}
	return out, nil
}

var errBadVersions = errors.New("malformed versions from the leader")

func cmdExec(c *Ctx) {
	tx := c.S.tx
	if !tx.on {
		c.W.Error("ERR EXEC without MULTI")
		return
	}
	c.S.DiscardMulti()
	if tx.aborted {
		c.W.Error("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	c.S.req.cur = tx.req
	c.Table.runTransaction(c, tx.queue, tx.watched)
}
