package commands

// The sorted sets family's handlers: writes build one op, reads reply
// under the read lock.

import (
	"encoding/binary"
	"math"
	"math/rand/v2"

	"github.com/loomcache/loomcache/glob"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

func appendScore(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// cmdZAdd parses as Redis's zaddGenericCommand: options, then pairs, then
// every score, before anything is proposed.
func cmdZAdd(c *Ctx) {
	var flags uint32
	i := 2
	for ; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case eq(a, "NX"):
			flags |= op.FlagNX
		case eq(a, "XX"):
			flags |= op.FlagXX
		case eq(a, "CH"):
			flags |= op.FlagZCh
		case eq(a, "INCR"):
			flags |= op.FlagZIncr
		case eq(a, "GT"):
			flags |= op.FlagGT
		case eq(a, "LT"):
			flags |= op.FlagLT
		default:
			goto pairs
		}
	}
pairs:
	rest := c.Args[i:]
	has := func(f uint32) bool { return flags&f != 0 }
	switch {
	case len(rest) == 0 || len(rest)%2 != 0:
		c.W.Error(errSyntax.Error())
		return
	case has(op.FlagNX) && has(op.FlagXX):
		c.W.Error(errZNxXx.Error())
		return
	case has(op.FlagNX) && (has(op.FlagGT) || has(op.FlagLT)) || has(op.FlagGT) && has(op.FlagLT):
		c.W.Error(errZGtLtNx.Error())
		return
	case has(op.FlagZIncr) && len(rest) > 2:
		c.W.Error(errZIncrPair.Error())
		return
	}
	args := make([][]byte, 1, 1+len(rest))
	args[0] = c.Args[1]
	for j := 0; j < len(rest); j += 2 {
		s, ok := parseScore(rest[j])
		if !ok {
			c.W.Error(errNotFloat.Error())
			return
		}
		args = append(args, appendScore(nil, s), rest[j+1])
	}
	c.propose(&op.Op{Type: op.ZAdd, DB: c.S.DB, Flags: flags, Args: args})
}

func cmdZIncrBy(c *Ctx) {
	s, ok := parseScore(c.Args[2])
	if !ok {
		c.W.Error(errNotFloat.Error())
		return
	}
	c.propose(&op.Op{Type: op.ZAdd, DB: c.S.DB, Flags: op.FlagZIncr,
		Args: [][]byte{c.Args[1], appendScore(nil, s), c.Args[3]}})
}

func cmdZRem(c *Ctx) { c.propose(&op.Op{Type: op.ZRem, DB: c.S.DB, Args: c.Args[1:]}) }

func cmdZCard(c *Ctx) {
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		if z == nil {
			c.W.Int(0)
			return
		}
		c.W.Int(int64(z.Len()))
	})
}

func cmdZScore(c *Ctx) {
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		if z == nil {
			c.W.Null()
			return
		}
		if s, ok := z.Score(c.Args[2]); ok {
			c.W.Double(s)
			return
		}
		c.W.Null()
	})
}

func cmdZMScore(c *Ctx) {
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		c.W.Array(len(c.Args) - 2)
		for _, m := range c.Args[2:] {
			if z != nil {
				if s, ok := z.Score(m); ok {
					c.W.Double(s)
					continue
				}
			}
			c.W.Null()
		}
	})
}

// cmdZRank serves ZRANK and ZREVRANK.
func cmdZRank(c *Ctx) {
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		if z == nil {
			c.W.Null()
			return
		}
		r, ok := z.Rank(c.Args[2])
		switch {
		case !ok:
			c.W.Null()
		case c.Cmd.Name == "zrevrank":
			c.W.Int(int64(z.Len() - 1 - r))
		default:
			c.W.Int(int64(r))
		}
	})
}

// cmdZCount serves ZCOUNT and ZLEXCOUNT: the range is parsed first.
func cmdZCount(c *Ctx) {
	var bounds func(z *keyspace.ZSet) (int, int)
	if c.Cmd.Name == "zlexcount" {
		r, err := parseLexRange(c.Args[2], c.Args[3])
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		bounds = func(z *keyspace.ZSet) (int, int) { return lexBounds(z, &r) }
	} else {
		r, err := parseScoreRange(c.Args[2], c.Args[3])
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		bounds = func(z *keyspace.ZSet) (int, int) { return scoreBounds(z, &r) }
	}
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		if z == nil {
			c.W.Int(0)
			return
		}
		from, to := bounds(z)
		c.W.Int(int64(to - from))
	})
}

// zrangeForm returns the kind and direction of one of ZRANGE's forms
// (-1: chosen by the options).
func zrangeForm(name string) (kind, dir int) {
	switch name {
	case "zrevrange":
		return zrangeRank, 1
	case "zrangebyscore":
		return zrangeScore, 0
	case "zrevrangebyscore":
		return zrangeScore, 1
	case "zrangebylex":
		return zrangeLex, 0
	case "zrevrangebylex":
		return zrangeLex, 1
	}
	return -1, -1
}

func cmdZRange(c *Ctx) {
	kind, dir := zrangeForm(c.Cmd.Name)
	sp, err := parseZRange(c.Args[1:], kind, dir, false)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		if z == nil {
			c.W.Array(0)
			return
		}
		writeZPairs(c.W, zrangeCollect(z, &sp), sp.withScores)
	})
}

func cmdZRangeStore(c *Ctx) {
	if _, err := parseZRange(c.Args[2:], -1, -1, true); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.propose(&op.Op{Type: op.ZRangeStore, DB: c.S.DB, Args: c.Args[1:]})
}

// cmdZRemRange checks the range here, as Redis does before the key is
// looked up; the applier parses it again.
func cmdZRemRange(c *Ctx) {
	kind := int64(zrangeLex)
	switch c.Cmd.Name {
	case "zremrangebyrank":
		kind = zrangeRank
	case "zremrangebyscore":
		kind = zrangeScore
	}
	var err error
	switch kind {
	case zrangeRank:
		_, ok1 := parseInt(c.Args[2])
		_, ok2 := parseInt(c.Args[3])
		if !ok1 || !ok2 {
			err = errNotInt
		}
	case zrangeScore:
		_, err = parseScoreRange(c.Args[2], c.Args[3])
	default:
		_, err = parseLexRange(c.Args[2], c.Args[3])
	}
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.propose(&op.Op{Type: op.ZRemRange, DB: c.S.DB, Int: kind, Args: c.Args[1:4]})
}

// cmdZPopMinMax serves ZPOPMIN and ZPOPMAX.
func cmdZPopMinMax(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(errSyntax.Error())
		return
	}
	flags := uint32(0)
	if c.Cmd.Name == "zpopmax" {
		flags |= op.FlagZMax
	}
	count := int64(1)
	if len(c.Args) == 3 {
		n, ok := parseInt(c.Args[2])
		if !ok || n < 0 {
			c.W.Error(errNotPositive.Error())
			return
		}
		count = n
		// RESP3 pairs the members with their scores when a count is
		// given; the op carries the choice.
		if c.W.Proto > 2 {
			flags |= op.FlagZNested
		}
	}
	c.propose(&op.Op{Type: op.ZPop, DB: c.S.DB, Int: count, Flags: flags, Args: c.Args[1:2]})
}

// cmdZMPop is ZMPOP numkeys key... MIN|MAX [COUNT n].
func cmdZMPop(c *Ctx) {
	o, err := parseZMPop(c.Args, 1)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	o.DB = c.S.DB
	c.propose(o)
}

// parseZMPop parses as Redis's zmpopGenericCommand, numkeys at args[at]
// (BZMPOP's is one further on), into its ZPop op.
func parseZMPop(args [][]byte, at int) (*op.Op, error) {
	keys, flags, count, err := parseMPopArgs(args, at, func(a []byte) (uint32, bool) {
		switch {
		case eq(a, "MIN"):
			return 0, true
		case eq(a, "MAX"):
			return op.FlagZMax, true
		}
		return 0, false
	})
	if err != nil {
		return nil, err
	}
	return &op.Op{Type: op.ZPop, Int: count, Flags: flags | op.FlagZEmitKey | op.FlagZNested | op.FlagZNilEmpty, Args: keys}, nil
}

func cmdZRandMember(c *Ctx) {
	if len(c.Args) == 2 {
		c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
			if z == nil {
				c.W.Null()
				return
			}
			z.Range(rand.IntN(z.Len()), false, func(m []byte, _ float64) bool { c.W.Bulk(m); return false })
		})
		return
	}
	l, withScores, ok := parseRandWith(c, "WITHSCORES")
	if !ok {
		return
	}
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		if z == nil || l == 0 {
			c.W.Array(0)
			return
		}
		size := int64(z.Len())
		n := l
		if n < 0 {
			n = -n
		}
		if n > maxRandReply {
			c.W.Error(errRandTooMany.Error())
			return
		}
		// rank i of the reply is the member at rank(i) of the set.
		var rank func(i int) int
		switch {
		case l < 0 || l == 1: // repeats allowed
			rank = func(int) int { return rand.IntN(int(size)) }
		case l >= size: // the whole set, from the highest as Redis iterates
			n = size
			rank = func(i int) int { return int(size) - 1 - i }
		case l*3 > size:
			perm := rand.Perm(int(size))
			rank = func(i int) int { return perm[i] }
		default:
			picked := make([]int, 0, l)
			seen := make(map[int]bool, l)
			for len(picked) < int(l) {
				if r := rand.IntN(int(size)); !seen[r] {
					seen[r] = true
					picked = append(picked, r)
				}
			}
			rank = func(i int) int { return picked[i] }
		}
		writeZHeader(c.W, int(n), withScores)
		for i := range int(n) {
			z.Range(rank(i), false, func(m []byte, s float64) bool { writeZPair(c.W, m, s, withScores); return false })
		}
	})
}

// zalgebraOp returns an algebra command's operation.
func zalgebraOp(name string) int64 {
	switch name {
	case "zunion", "zunionstore":
		return zopUnion
	case "zdiff", "zdiffstore":
		return zopDiff
	}
	return zopInter
}

// cmdZSetAlgebra serves ZUNION, ZINTER, ZINTERCARD and ZDIFF.
func cmdZSetAlgebra(c *Ctx) {
	opKind, card := zalgebraOp(c.Cmd.Name), c.Cmd.Name == "zintercard"
	sp, early, late := parseZAlgebra(c.Cmd.Name, c.Args[1:], opKind, false, card)
	if early != nil {
		c.W.Error(early.Error())
		return
	}
	c.read(func(db *keyspace.DB) {
		srcs, err := loadZSources(db, c.Now(), sp.keys, sp.weights, func(e *keyspace.Entry) { db.Touch(e, c.Now()) })
		if err == nil {
			err = late
		}
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		pairs, count := zalgebra(srcs, opKind, sp.aggregate, sp.limit, card)
		if card {
			c.W.Int(count)
			return
		}
		writeZPairs(c.W, pairs, sp.withScores)
	})
}

// cmdZSetStore serves ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE. An option
// error is replied here, after the keys' types are checked as Redis
// checks them first.
func cmdZSetStore(c *Ctx) {
	opKind := zalgebraOp(c.Cmd.Name)
	sp, early, late := parseZAlgebra(c.Cmd.Name, c.Args[2:], opKind, true, false)
	if early != nil {
		c.W.Error(early.Error())
		return
	}
	if late != nil {
		c.read(func(db *keyspace.DB) {
			if _, err := loadZSources(db, c.Now(), sp.keys, sp.weights, nil); err != nil {
				c.W.Error(err.Error())
				return
			}
			c.W.Error(late.Error())
		})
		return
	}
	c.propose(&op.Op{Type: op.ZStore, DB: c.S.DB, Int: opKind, Args: c.Args[1:]})
}

// cmdZScan parses its options only once the key is found, as Redis does.
func cmdZScan(c *Ctx) {
	cursor, valid := parseCursor(c.Args[2])
	if !valid {
		c.W.Error("ERR invalid cursor")
		return
	}
	c.readZSet(c.Args[1], func(z *keyspace.ZSet) {
		if z == nil {
			writeScan(c, 0, nil)
			return
		}
		o, msg := parseScanOptions(c.Args[3:], false)
		if msg != "" {
			c.W.Error(msg)
			return
		}
		var out [][]byte
		next := z.Scan(cursor, int(min(o.count, math.MaxInt32)), func(m []byte, s float64) {
			if !o.usePattern || glob.MatchString(o.pattern, string(m), false) {
				out = append(out, append([]byte(nil), m...), resp.AppendDouble(nil, s))
			}
		})
		writeScan(c, next, out)
	})
}
