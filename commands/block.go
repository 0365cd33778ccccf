package commands

import (
	"errors"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

// A block is commands run as one atomic step: a MULTI/EXEC transaction
// or a script's calls. It runs on the leader against a private store that
// holds copies of the keys it touches, each copied from the keyspace the
// first time the block touches it, with the version it had; the block's
// writes change the copies and are kept as ops. One Exec op then carries
// the versions, the writes and the block's reply through Raft, and every
// node applies the writes only if every version still holds: the block
// saw exactly the state the writes apply to, so the reply it computed on
// the copies is the reply they give there. A changed WATCHed key aborts
// the transaction; any other changed version is a conflict, and the
// leader runs the block again. Nothing waits on the FSM: the keyspace is
// read under its read lock one key at a time.
//
// Blocks that name the same keys take the same stripe locks, so they run
// one after another instead of conflicting; the versions, not the locks,
// are what makes a block atomic.

// blockStripes is the number of stripe locks blocks take by their keys:
// enough that unrelated keys rarely share one.
const blockStripes = 1024

// maxBlockAttempts bounds how often a block meeting conflicts runs again.
const maxBlockAttempts = 100

var errBlockContention = errors.New("ERR the transaction's keys kept changing while it ran; nothing was applied, retry")

// blockLocks are a node's stripe locks, and its private stores for
// blocks to reuse: a fresh store's first key costs a page of slots.
type blockLocks struct {
	seed    maphash.Seed
	stripes [blockStripes]sync.Mutex
	scratch sync.Pool // *keyspace.Store
}

// lock takes the stripes of keys (of database db) in order and returns
// the function that releases them.
func (l *blockLocks) lock(db int, keys [][]byte) func() {
	var idx []int
	for _, k := range keys {
		var h maphash.Hash
		h.SetSeed(l.seed)
		h.WriteByte(byte(db))
		h.Write(k)
		idx = append(idx, int(h.Sum64()%blockStripes))
	}
	slices.Sort(idx)
	idx = slices.Compact(idx)
	for _, i := range idx {
		l.stripes[i].Lock()
	}
	return func() {
		for _, i := range idx {
			l.stripes[i].Unlock()
		}
	}
}

// block is one run of a block.
type block struct {
	t       *Table
	base    *keyspace.Store
	scratch *keyspace.Store
	now     int64
	checks  []op.Check
	seen    map[dbKey]bool
	whole   bool     // every key of every database is in scratch
	ops     [][]byte // the writes, encoded
	cur     *keyspace.Store
	// stale: the store changed between two looks at the whole of it; the
	// block will conflict, so it may as well stop early.
	stale bool
	// monitorLines are the MONITOR lines of the block's commands, fed
	// when it is done.
	monitorLines []byte
	// tally is the commandstats and errorstats of its commands, counted
	// when the block is done (runBlock).
	tally callTally
}

type dbKey struct {
	db  int
	key string
}

func newBlock(t *Table, base *keyspace.Store, now int64) *block {
	scratch, _ := t.blockLocks.scratch.Get().(*keyspace.Store)
	base.RLock()
	if scratch == nil || scratch.NumDBs() != base.NumDBs() {
		scratch = keyspace.New(base.NumDBs())
	}
	scratch.SetEncodingLimits(base.EncodingLimits())
	base.RUnlock()
	return &block{t: t, base: base, scratch: scratch, now: now, seen: map[dbKey]bool{}, cur: scratch}
}

// release returns the private store for another block, emptied of the
// keys this one copied (one that holds whole databases is dropped).
func (b *block) release() {
	if b.whole {
		return
	}
	for k := range b.seen {
		b.scratch.DB(k.db).Delete([]byte(k.key), 0)
	}
	// A key written that no key spec named would outlive the block: a
	// store that is not empty now is not reused.
	for i := 0; i < b.scratch.NumDBs(); i++ {
		if b.scratch.DB(i).Len() != 0 {
			return
		}
	}
	b.t.blockLocks.scratch.Put(b.scratch)
	b.scratch, b.cur = nil, nil
}

// wholeKeyspace reports whether a command works on databases rather than
// on the keys its spec names (KEYS, SCAN, FLUSHALL, MOVE, ..., and SORT
// whose BY and GET patterns name keys from the data).
func wholeKeyspace(cmd *Command, args [][]byte) bool {
	return len(cmd.Keys) == 0 || cmd.Name == "move" || cmd.Name == "copy" || sortReadsPatterns(cmd, args)
}

// prepare makes what cmd will look at ready in the block's store.
func (b *block) prepare(cmd *Command, args [][]byte, db int) {
	b.cur = b.scratch
	if !cmd.Has(FlagWrite) && !cmd.Has(FlagReadonly) || b.whole {
		return
	}
	if wholeKeyspace(cmd, args) {
		if !cmd.Has(FlagWrite) && len(b.ops) == 0 {
			// Nothing written yet: the keyspace itself is what it sees.
			b.base.RLock()
			b.storeCheck()
			b.base.RUnlock()
			b.cur = b.base
			return
		}
		b.materialize()
		return
	}
	b.base.RLock()
	for _, p := range cmd.KeyPositions(args) {
		b.copyKey(db, args[p])
	}
	b.base.RUnlock()
}

// copyKey copies a key into scratch the first time the block touches it;
// the caller holds base's read lock.
func (b *block) copyKey(db int, key []byte) {
	k := dbKey{db, string(key)}
	if b.seen[k] {
		return
	}
	b.seen[k] = true
	v := b.base.DB(db).CopyKey(b.scratch.DB(db), key, b.now)
	b.checks = append(b.checks, op.Check{DB: db, Key: []byte(k.key), Version: v})
}

// storeCheck requires the store's change count as it is now; the caller
// holds base's read lock.
func (b *block) storeCheck() {
	v := b.base.Version()
	for _, c := range b.checks {
		if c.Store {
			b.stale = b.stale || c.Version != v
			return
		}
	}
	b.checks = append(b.checks, op.Check{Store: true, Version: v})
}

// materialize copies every key the block has not copied yet.
func (b *block) materialize() {
	b.base.RLock()
	b.storeCheck()
	for i := 0; i < b.base.NumDBs(); i++ {
		b.base.DB(i).CopyMissing(b.scratch.DB(i), b.now, func(key string) bool { return b.seen[dbKey{i, key}] })
	}
	b.base.RUnlock()
	b.whole = true
}

// watch adds the WATCHed keys' checks and reports whether one has changed
// already (then the transaction is aborted without proposing anything).
func (b *block) watch(watched []op.Check) (changed bool) {
	b.base.RLock()
	defer b.base.RUnlock()
	for _, w := range watched {
		if w.DB >= b.base.NumDBs() || b.base.DB(w.DB).Version(w.Key, b.now) != w.Version {
			return true
		}
		b.checks = append(b.checks, w)
	}
	return false
}

// validate checks the versions against the keyspace as it is now: for a
// block that wrote nothing, whose reply then needs no proposal.
func (b *block) validate() (watchFailed, conflict bool) {
	b.base.RLock()
	defer b.base.RUnlock()
	return checkVersions(b.base, b.checks, b.now)
}

func checkVersions(ks *keyspace.Store, checks []op.Check, now int64) (watchFailed, conflict bool) {
	for _, c := range checks {
		var v uint64
		if c.Store {
			v = ks.Version()
		} else {
			v = ks.DB(c.DB).Version(c.Key, now)
		}
		if v != c.Version {
			if c.Watch {
				watchFailed = true
			} else {
				conflict = true
			}
		}
	}
	return watchFailed, conflict
}

// blockNode is the Node commands see inside a block: the block's store,
// no barrier (the block passed one), writes applied to the copies.
type blockNode block

// errNotInBlock: a command whose op changes state outside the keyspace
// (ACL SETUSER, SCRIPT LOAD, ...) cannot be part of a block, whose writes
// are keyspace ops only. nodeError adds the ERR.
var errNotInBlock = errors.New("this command cannot run inside a transaction or a script on LoomCache")

func (n *blockNode) Propose(o *op.Op) (any, error) {
	if !blockable(o.Type) {
		return nil, errNotInBlock
	}
	if o.Now == 0 {
		o.Now = n.now
	}
	n.ops = append(n.ops, o.Encode(nil))
	return n.t.Apply(n.scratch, o), nil
}

func (n *blockNode) ReadBarrier() error     { return nil }
func (n *blockNode) Store() *keyspace.Store { return n.cur }
func (n *blockNode) Now() int64             { return n.now }

// blockable reports whether ops of a type may be a block's writes: those
// that change keys only. The op families that do not are internal (1-9),
// scripting (70-89), access control (100-119) and blocks (120-129);
// every other family, today's and the collections' to come, is keys.
func blockable(t op.Type) bool {
	switch {
	case t < 10, t >= 70 && t < 90, t >= 100 && t < 130:
		return false
	}
	return true
}

// conflict is an Exec op's result when a version it required changed: it
// applied nothing, and the leader runs the block again under the same
// request id (raftfsm does not remember it as the id's reply).
type conflict struct{}

func (conflict) Error() string   { return "ERR transaction conflict" }
func (conflict) Unapplied() bool { return true }

// runBlock runs a block on this node, which leads: run executes the
// block's commands writing its reply to bc.W. The reply goes to c.W once
// the block's writes are applied (or at once when it wrote nothing).
func (t *Table) runBlock(c *Ctx, db int, keys [][]byte, watched []op.Check, run func(bc *Ctx, b *block)) {
	unlock := t.blockLocks.lock(db, keys)
	defer unlock()
	w := &resp.Writer{Proto: c.W.Proto}
	// The last attempt's commands are counted, whatever its outcome.
	var last *block
	defer func() {
		if last != nil && !c.Uncounted {
			t.commit(&last.tally)
		}
	}()
	for attempt := 1; ; attempt++ {
		if !c.readable() {
			return
		}
		b := newBlock(t, c.Node.Store(), c.Node.Now())
		if b.watch(watched) {
			if mayBeRetry(c) {
				t.proposeAbort(c, db, b.now, watched)
				return
			}
			c.W.NullArray()
			return
		}
		w.Reset()
		last = b
		w.OnError = b.tally.countError
		bc := &Ctx{W: w, S: c.S, Node: (*blockNode)(b), Server: c.Server, Table: t, tally: &b.tally}
		c.S.SelectDB(db)
		run(bc, b)
		b.release()
		var res any
		if b.stale {
			res = conflict{}
		} else if len(b.ops) == 0 && !mayBeRetry(c) {
			// Nothing to apply: answered here, its versions checked once
			// more under the read lock. A follower's request may be a
			// retry whose first attempt wrote (a script that writes on a
			// condition), so it goes to the log, which knows its id.
			switch watchFailed, conflicted := b.validate(); {
			case watchFailed:
				res = nullArray{}
			case conflicted:
				res = conflict{}
			default:
				res = RawReply(w.Bytes())
			}
		} else {
			args := make([][]byte, 0, 2+len(b.ops))
			args = append(args, op.AppendChecks(nil, b.checks), w.Bytes())
			args = append(args, b.ops...)
			var err error
			res, err = c.Node.Propose(&op.Op{Type: op.Exec, DB: db, Now: b.now, Args: args})
			if err != nil {
				t.feedBlock(b)
				c.W.Error(nodeError(err))
				return
			}
		}
		if _, again := res.(conflict); !again {
			t.feedBlock(b)
			writeResult(c.W, res)
			return
		}
		if attempt == maxBlockAttempts {
			c.W.Error(errBlockContention.Error())
			return
		}
		// The writes in flight that it met are being applied: give them
		// the time.
		time.Sleep(time.Duration(min(attempt, 10)) * time.Millisecond)
	}
}

// RetryNode is a Node that may be running a request for the second
// time: a follower that lost its leader sends its forwarded requests
// again under the same request ids, and the first attempt may have been
// applied. MayBeRetry reports whether the running request carries such
// an id.
type RetryNode interface{ MayBeRetry() bool }

func mayBeRetry(c *Ctx) bool {
	r, ok := c.Node.(RetryNode)
	return ok && r.MayBeRetry()
}

// proposeAbort answers a block whose WATCHed keys changed, when it may be
// a retry: the change may be its own first attempt's writes, and only the
// log knows (its request id's entry). It proposes an Exec op with the
// WATCH checks and no writes, which the FSM answers with the first
// attempt's reply if that was applied, and otherwise with the null array
// (the checks fail; should they hold again, the op's reply is the null
// array too), applying nothing.
func (t *Table) proposeAbort(c *Ctx, db int, now int64, watched []op.Check) {
	null := &resp.Writer{Proto: c.W.Proto}
	null.NullArray()
	res, err := c.Node.Propose(&op.Op{Type: op.Exec, DB: db, Now: now,
		Args: [][]byte{op.AppendChecks(nil, watched), null.Bytes()}})
	if err != nil {
		c.W.Error(nodeError(err))
		return
	}
	writeResult(c.W, res)
}

// applyExec applies a block's writes if the versions it requires hold.
func (t *Table) applyExec(ks *keyspace.Store, o *op.Op) any {
	checks, err := op.DecodeChecks(o.Args[0])
	if err != nil {
		return errBadOp
	}
	subs := make([]op.Op, len(o.Args)-2)
	for i, enc := range o.Args[2:] {
		if op.Decode(enc, &subs[i]) != nil || !blockable(subs[i].Type) {
			return errBadOp
		}
	}
	for _, c := range checks {
		if !c.Store && c.DB >= ks.NumDBs() {
			return errBadOp
		}
	}
	switch watchFailed, conflicted := checkVersions(ks, checks, o.Now); {
	case watchFailed:
		return nullArray{}
	case conflicted:
		return conflict{}
	}
	for i := range subs {
		t.Apply(ks, &subs[i])
	}
	return RawReply(slices.Clone(o.Args[1]))
}
