package commands

// The blocking sorted set pops' handlers (their table entries are in
// blocking_cmds.go): their tries propose ZPop.

import "github.com/loomcache/loomcache/op"

func cmdBZPopMin(c *Ctx) { blockingZPop(c, 0) }
func cmdBZPopMax(c *Ctx) { blockingZPop(c, op.FlagZMax) }

// blockingZPop is BZPOPMIN and BZPOPMAX: the timeout, then the keys; the
// reply is [key, member, score].
func blockingZPop(c *Ctx, max uint32) {
	deadline, err := parseTimeout(c.Args[len(c.Args)-1], c.Now())
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	o := op.Op{Type: op.ZPop, DB: c.S.DB, Int: 1, Flags: max | op.FlagZEmitKey | op.FlagZNilEmpty}
	popWithOp(c, o, cloneArgs(c.Args[1:len(c.Args)-1]), deadline, false, writeNullArray)
}

// cmdBZMPop is BZMPOP timeout numkeys key... MIN|MAX [COUNT n]: its
// syntax first, then the timeout, as Redis's zmpopGenericCommand.
func cmdBZMPop(c *Ctx) {
	o, err := parseZMPop(c.Args, 2)
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
	popWithOp(c, *o, cloneArgs(o.Args), deadline, false, writeNullArray)
}
