package commands

// The blocking list pops' handlers (their table entries are in
// blocking_cmds.go): each parses as Redis does and runs a blockingPop
// whose tries propose ListPop or LMove.

import (
	"github.com/loomcache/loomcache/op"
)

func cmdBLPop(c *Ctx) { blockingListPop(c, false) }
func cmdBRPop(c *Ctx) { blockingListPop(c, true) }

// blockingListPop is BLPOP and BRPOP; the reply is [key, element].
func blockingListPop(c *Ctx, right bool) {
	o := op.Op{Type: op.ListPop, DB: c.S.DB, Int: 1, Flags: op.PopPair}
	if right {
		o.Flags |= op.FlagRight
	}
	blockingKeysPop(c, o, true)
}

// blockingKeysPop is the pops of the form KEY... TIMEOUT (BLPOP, BRPOP,
// BZPOPMIN, BZPOPMAX): the timeout first, then the keys, as Redis's
// blockingPopGenericCommand; each try proposes o.
func blockingKeysPop(c *Ctx, o op.Op, list bool) {
	deadline, err := parseTimeout(c.Args[len(c.Args)-1], c.Now())
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	popWithOp(c, o, cloneArgs(c.Args[1:len(c.Args)-1]), deadline, list, writeNullArray)
}

// cmdBLMPop is BLMPOP timeout numkeys key... LEFT|RIGHT [COUNT n].
func cmdBLMPop(c *Ctx) { blockingMPop(c, parseMPop, true) }

// blockingMPop is BLMPOP and BZMPOP: the syntax of LMPOP (ZMPOP) from
// numkeys on first, then the timeout, as Redis's lmpopGenericCommand and
// zmpopGenericCommand.
func blockingMPop(c *Ctx, parse func(args [][]byte, at int) (*op.Op, error), list bool) {
	o, err := parse(c.Args, 2)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	deadline, err := parseTimeout(c.Args[1], c.Now())
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	o.DB = c.S.DB
	popWithOp(c, *o, cloneArgs(o.Args), deadline, list, writeNullArray)
}

// cmdBLMove is BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
func cmdBLMove(c *Ctx) {
	from, ok1 := side(c.Args[3])
	to, ok2 := side(c.Args[4])
	if !ok1 || !ok2 {
		c.W.Error(errSyntax.Error())
		return
	}
	blockingMove(c, from, to, c.Args[5])
}

// cmdBRPopLPush is BRPOPLPUSH source destination timeout.
func cmdBRPopLPush(c *Ctx) { blockingMove(c, true, false, c.Args[3]) }

func blockingMove(c *Ctx, from, to bool, timeout []byte) {
	deadline, err := parseTimeout(timeout, c.Now())
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	o := *lmoveOp(c, from, to)
	args := cloneArgs(o.Args)
	src, dst := args[0], args[1]
	// A timeout is a null array (Redis's replyToBlockedClientTimedOut);
	// in a transaction, LMOVE's null.
	b := &blockingPop{kind: blockingKind(true), keys: [][]byte{src}, deadline: deadline,
		timedOut: writeNullArray, nothing: func(c *Ctx) { c.W.Null() }}
	b.try = func(_ [][]byte, _ bool) (any, error) {
		m := o
		m.Args, m.Now = [][]byte{src, dst}, c.Node.Now()
		return c.Node.Propose(&m)
	}
	b.run(c)
}

func writeNullArray(c *Ctx) { c.W.NullArray() }

// popWithOp runs a blockingPop whose tries propose o on the keys tried.
func popWithOp(c *Ctx, o op.Op, keys [][]byte, deadline int64, list bool, timedOut func(*Ctx)) {
	b := &blockingPop{kind: blockingKind(list), keys: keys, deadline: deadline, timedOut: timedOut}
	b.try = func(keys [][]byte, _ bool) (any, error) {
		m := o
		m.Args, m.Now = keys, c.Node.Now()
		return c.Node.Propose(&m)
	}
	b.run(c)
}
