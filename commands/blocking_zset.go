package commands

// The blocking sorted set pops' handlers (their table entries are in
// blocking_cmds.go): their tries propose ZPop.

import "github.com/loomcache/loomcache/op"

func cmdBZPopMin(c *Ctx) { blockingZPop(c, 0) }
func cmdBZPopMax(c *Ctx) { blockingZPop(c, op.FlagZMax) }

// blockingZPop is BZPOPMIN and BZPOPMAX; the reply is [key, member,
// score].
func blockingZPop(c *Ctx, max uint32) {
	blockingKeysPop(c, op.Op{Type: op.ZPop, DB: c.S.DB, Int: 1, Flags: max | op.FlagZEmitKey | op.FlagZNilEmpty}, false)
}

// cmdBZMPop is BZMPOP timeout numkeys key... MIN|MAX [COUNT n].
func cmdBZMPop(c *Ctx) { blockingMPop(c, parseZMPop, false) }
