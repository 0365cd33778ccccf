package commands

import (
	"errors"
	"math/rand/v2"
	"strings"

	"github.com/loomcache/loomcache/internal/hll"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// PFDEBUG and PFSELFTEST, Redis's commands for testing its HLLs. PFDEBUG
// is a write in Redis (GETREG and TODENSE make a sparse value dense), so
// every subcommand is a PFDEBUG op, decided at apply time.

func cmdPFDebug(c *Ctx) {
	c.propose(&op.Op{Type: op.PFDebug, DB: c.S.DB, Args: c.Args[1:3]})
}

func applyPFDebug(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	sub, key := o.Args[0], o.Args[1]
	e := db.GetForWrite(key, o.Now)
	if e == nil {
		return errNoHLLKey
	}
	b, err := hllValue(e)
	if err != nil {
		return err
	}
	// toDense makes the value dense in place of the sparse one.
	toDense := func() (bool, error) {
		if !hll.IsSparse(b) {
			return false, nil
		}
		d, err := hll.ToDense(b)
		if err != nil {
			return false, err
		}
		db.EditString(key, func([]byte) []byte { return d })
		b = d
		return true, nil
	}
	switch strings.ToLower(string(sub)) {
	case "getreg":
		if _, err := toDense(); err != nil {
			return err
		}
		regs := hll.GetRegisters(b)
		reply := make([]any, len(regs))
		for i, v := range regs {
			reply[i] = int64(v)
		}
		return reply
	case "decode":
		if !hll.IsSparse(b) {
			return errors.New("ERR HLL encoding is not sparse")
		}
		return []byte(hll.Decode(b))
	case "encoding":
		if hll.IsSparse(b) {
			return status("sparse")
		}
		return status("dense")
	case "todense":
		conv, err := toDense()
		if err != nil {
			return err
		}
		if conv {
			return int64(1)
		}
		return int64(0)
	}
	return errors.New("ERR Unknown PFDEBUG subcommand '" + string(cstr(sub)) + "'")
}

func cmdPFSelfTest(c *Ctx) {
	ks := c.Node.Store()
	ks.RLock()
	limit := sparseMax(ks)
	ks.RUnlock()
	if err := hll.SelfTest(rand.Uint64, limit); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.Status("OK")
}
