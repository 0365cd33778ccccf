package commands

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

// Node is what handlers need of the replicated state machine.
type Node interface {
	// Propose replicates o and returns the applier's result.
	Propose(o *op.Op) (any, error)
	// ReadBarrier returns nil when a linearizable read may be served now.
	ReadBarrier() error
	// Store is the keyspace; readers hold its read lock while they look.
	Store() *keyspace.Store
	// Now is the node's clock in unix milliseconds.
	Now() int64
}

// PartitionedNode is a Node that is one partition of several (the
// server's connections, with --partitions > 1): a script may only touch
// keys of the partition it runs on.
type PartitionedNode interface {
	// Partitions is the number of partitions.
	Partitions() int
	// KeyPartition returns the partition of key and the node's own.
	KeyPartition(key []byte) (of, own int)
	// CatchUpScripts brings this node's copy of the scripts and
	// libraries (partition 0's state) up to what partition 0's leader
	// had applied after the call, when another node leads it: a script
	// or library a client loaded, replaced or deleted, then called by
	// name with keys of another partition, is then as the client left
	// it. Bounded; it reports whether it caught up.
	CatchUpScripts() bool
}

// Errors a Node returns that handlers translate for the client.
var (
	ErrNoLeader       = errors.New("no leader")
	ErrUnknownOutcome = errors.New("outcome unknown")
	// ErrLoading: the node is loading its data and cannot serve it yet.
	ErrLoading = errors.New("loading")
)

// Ctx is one command being served.
type Ctx struct {
	Args   [][]byte // Args[0] is the command name as sent
	Cmd    *Command
	W      *resp.Writer
	S      *Session
	Node   Node
	Server Server
	Table  *Table
	// Defer, when set, may take a write instead of propose waiting for its
	// outcome (the connection has more requests buffered): it reports
	// whether it did, and then owes the reply, written where the writer
	// stands now, once the outcome is known.
	Defer func(o *op.Op) bool
	// Block is the client's connection while it may block (BLPOP and its
	// kin); nil where a command never blocks (blocking.go).
	Block BlockHost
	// InScript: the command is a script's call (Redis's CLIENT_SCRIPT).
	InScript bool
	// redacted are the arguments monitors see as (redacted) (Redact).
	redacted []int
	// Uncounted: the command is counted in commandstats where its client
	// is (a follower's, forwarded to the leader), not where it runs.
	Uncounted bool
	// waited is how long the command waited blocked (blocking.go).
	waited time.Duration
	// tally, in a block, takes the commandstats of its commands until
	// the block is done (stats.go).
	tally *callTally

	now int64
	// op is the op propose hands to the node: a handler's op, copied
	// here, stays on the handler's stack (whatever goes to an interface
	// escapes), so a write costs no allocation for it.
	op op.Op
}

// Now returns the time of this command (read once per command).
func (c *Ctx) Now() int64 {
	if c.now == 0 {
		c.now = c.Node.Now()
	}
	return c.now
}

// Dispatch resolves the command and its subcommand, checks arity and runs
// the handler, writing exactly one reply. It checks no permission: the
// server runs Permit first on its clients' commands (a follower's
// forwarded commands were checked where they arrived).
func (t *Table) Dispatch(c *Ctx) {
	cmd, msg := t.Resolve(c.Args)
	if cmd == nil {
		c.W.Error(msg)
		return
	}
	t.Run(c, cmd)
}

// Resolve finds the command (or subcommand) args name and checks its
// arity; when that fails, the command is nil and msg is the error reply.
func (t *Table) Resolve(args [][]byte) (cmd *Command, msg string) {
	cmd = t.Lookup(args[0])
	if cmd == nil {
		return nil, unknownCommand(args)
	}
	if cmd.HasSubs() && len(args) >= 2 {
		sub := cmd.Sub(args[1])
		if sub == nil {
			return nil, "ERR unknown subcommand '" + cstrMax(args[1], 128) + "'. Try " + strings.ToUpper(cstrMax(args[0], -1)) + " HELP."
		}
		cmd = sub
	}
	if !cmd.CheckArity(len(args)) {
		return nil, fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.Name)
	}
	return cmd, ""
}

// Run runs a command Resolve returned for c.Args.
func (t *Table) Run(c *Ctx, cmd *Command) {
	c.now = 0
	c.Cmd = cmd
	c.S.noteCommand(cmd, c.Now())
	c.redacted = c.redacted[:0]
	if !t.monitors.Watching() || c.S.Unmonitored {
		t.call(c, cmd)
		return
	}
	if cmd.Has(FlagSkipMonitor) || cmd.Has(FlagBlocking) {
		// A script runner, shown before what its script calls; a
		// blocking command, when it blocks, as Redis shows it.
		t.FeedMonitors(c, c.S.DB)
		t.call(c, cmd)
		return
	}
	t.call(c, cmd)
	if !cmd.Has(FlagAdmin) {
		t.FeedMonitors(c, c.S.DB)
	}
}

// call runs cmd's handler and counts the call in its commandstats: failed
// when it replied with an error (a write whose reply Defer took is
// counted when its outcome is written: conn's drain).
func (t *Table) call(c *Ctx, cmd *Command) {
	if c.Uncounted {
		cmd.Handler(c)
		return
	}
	start := time.Since(t.epoch) // the monotonic clock alone: half time.Now's cost
	errs := c.W.Errors
	c.waited = 0
	cmd.Handler(c)
	d := time.Since(t.epoch) - start - c.waited
	t.Observed(cmd, d)
	t.SlowLogged(c, cmd, d)
	if c.tally != nil {
		c.tally.ran(cmd, d, c.W.Errors != errs)
		return
	}
	cmd.stats.ran(d, c.W.Errors != errs)
}

// unknownCommand formats Redis's reply byte for byte: arguments are
// printed as C strings (cut at a NUL) into a list of at most about 128
// bytes, each cut to what is left of those 128.
func unknownCommand(args [][]byte) string {
	var list strings.Builder
	for _, a := range args[1:] {
		if list.Len() >= 128 {
			break
		}
		list.WriteString("'" + cstrMax(a, 128-list.Len()) + "' ")
	}
	return "ERR unknown command '" + cstrMax(args[0], 128) + "', with args beginning with: " + list.String()
}

// cstrMax renders b as C's "%.*s" does: up to the first NUL, at most max
// bytes (max < 0: no limit).
func cstrMax(b []byte, max int) string {
	b = cstr(b)
	if max >= 0 && len(b) > max {
		b = b[:max]
	}
	return string(b)
}

// propose replicates o and writes its result, or the error that stands for
// a failure to replicate.
func (c *Ctx) propose(o *op.Op) {
	c.op = *o
	p := &c.op
	// Nothing keeps p once it is proposed (Defer and Propose encode it);
	// its arguments are not kept alive meanwhile.
	defer func() { c.op = op.Op{} }()
	if p.Now == 0 {
		p.Now = c.Now()
	}
	c.S.wrote.Store(true) // WAIT waits for it
	if c.Defer != nil && c.Defer(p) {
		return
	}
	res, err := c.Node.Propose(p)
	if p.Type != op.Exec { // a transaction's stay after EXEC's reply
		c.takeEarly()
	}
	WriteOutcome(c.W, res, err)
}

// takeEarly puts what the apply of the connection's own write delivered
// to it (a message, a keyspace event) before the write's reply, as Redis
// writes them.
func (c *Ctx) takeEarly() {
	if sub := c.S.Sub; sub != nil {
		c.W.Raw(sub.TakeEarly())
	}
}

// WriteOutcome writes the reply for a proposal's outcome, as propose does.
func WriteOutcome(w *resp.Writer, res any, err error) {
	if err != nil {
		w.Error(nodeError(err))
		return
	}
	writeResult(w, res)
}

// nodeError is the reply for a replication or read failure.
func nodeError(err error) string {
	switch {
	case errors.Is(err, ErrNoLeader):
		return "CLUSTERDOWN no leader available, the command was not applied; retry"
	case errors.Is(err, ErrUnknownOutcome):
		return "UNKNOWN the outcome of this write is unknown (leadership was lost); read before retrying"
	case errors.Is(err, ErrLoading):
		return "LOADING Redis is loading the dataset in memory"
	}
	var disk interface{ NoSpace() }
	if errors.As(err, &disk) {
		return Misconf(err)
	}
	return "ERR " + err.Error()
}

// readable checks that a linearizable read may be served, replying with
// the error if not.
func (c *Ctx) readable() bool {
	if err := c.Node.ReadBarrier(); err != nil {
		c.W.Error(nodeError(err))
		return false
	}
	return true
}

// read runs fn with the current database under the store's read lock,
// after the read barrier. It reports false (having replied) if the read
// cannot be served.
func (c *Ctx) read(fn func(db *keyspace.DB)) bool {
	if !c.readable() {
		return false
	}
	ks := c.Node.Store()
	ks.RLock()
	fn(ks.DB(c.S.DB))
	ks.RUnlock()
	if ks.LazyExpiredPending() {
		if le, ok := c.Node.(LazyExpirer); ok {
			le.ExpireLazily(ks.TakeLazyExpired())
		}
	}
	return true
}

// LazyExpirer is a Node that deletes the keys reads found past their
// deadline, as Redis's reads do (keyspace.TrackLazyExpiry): on the
// leader, unless writes are paused, it proposes their ExpireKeys before
// the read's reply goes out, so the "expired" event and expired_keys
// follow the read as in Redis. A transaction's or script's node is not
// one: the keys wait for the next plain read, or active expiry.
type LazyExpirer interface {
	ExpireLazily(keys []keyspace.ExpiredKey)
}

// readObject runs fn, under c.read, with key's value of kind k (nil if
// absent), or replies WRONGTYPE; a value found counts as accessed, as
// Redis's lookupKeyRead records it.
func readObject[T keyspace.Object](c *Ctx, key []byte, k keyspace.Kind, fn func(v T)) {
	c.read(func(db *keyspace.DB) {
		e, err := db.Lookup(key, c.Now(), k)
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		var v T
		if e != nil {
			var ok bool
			if v, ok = e.Object().(T); !ok {
				c.W.Error(errWrongType.Error())
				return
			}
			db.Touch(e, c.Now())
		}
		fn(v)
	})
}

// db returns the connection's current database; callers hold the lock.
func (c *Ctx) db() *keyspace.DB { return c.Node.Store().DB(c.S.DB) }

// Misconf is the reply to a write refused because the node cannot write
// to its disk, in the words of Redis's AOF error ("MISCONF Errors writing
// to the AOF file: %s", with strerror's text): the cause and what
// happens next.
func Misconf(cause error) string {
	return "MISCONF Errors writing to the WAL: " + cause.Error() + "; writes are refused until there is room"
}
