package commands

import (
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
		c.S.FailQueue()
		c.W.Error("ERR Command not allowed inside a transaction")
		return
	}
	args := make([][]byte, len(c.Args))
	for i, a := range c.Args {
		args[i] = append([]byte(nil), a...)
	}
	c.S.tx.queue = append(c.S.tx.queue, args)
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
}

// ExecAbort answers an EXEC refused before it ran (OOM, NOPERM, BUSY...)
// and discards the transaction, as Redis's execCommandAbort does.
func (c *Ctx) ExecAbort(msg string) {
	c.S.DiscardMulti()
	c.W.Error("EXECABORT Transaction discarded because of: " + msg)
}

func cmdMulti(c *Ctx) {
	if c.S.tx.on {
		c.W.Error("ERR MULTI calls can not be nested")
		return
	}
	c.S.tx.on = true
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

// cmdWatch records each key's version as this node has it. A node that
// is behind (a follower) can only make EXEC abort when it need not,
// never run when it should not: the versions are checked again where the
// transaction applies.
func cmdWatch(c *Ctx) {
	if c.S.tx.on {
		c.W.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	ks := c.Node.Store()
	now := c.Now()
	ks.RLock()
	db := ks.DB(c.S.DB)
outer:
	for _, key := range c.Args[1:] {
		for _, w := range c.S.tx.watched {
			if w.DB == c.S.DB && string(w.Key) == string(key) {
				continue outer
			}
		}
		c.S.tx.watched = append(c.S.tx.watched, op.Check{
			DB: c.S.DB, Key: append([]byte(nil), key...), Version: db.Version(key, now), Watch: true,
		})
	}
	ks.RUnlock()
	c.W.Status("OK")
}

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
	c.Table.runTransaction(c, tx.queue, tx.watched)
}
