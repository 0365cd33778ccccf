package commands

// The sets family's commands that choose at random (SPOP, SRANDMEMBER),
// the set algebra (SINTER, SINTERCARD, SUNION, SDIFF, *STORE) and SSCAN.

import (
	"errors"
	"math"
	"math/rand/v2"

	"github.com/loomcache/loomcache/glob"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

var (
	errNotPositive = errors.New("ERR value is out of range, must be positive")
	errRandRange   = errors.New("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
	errNumKeys     = errors.New("ERR numkeys should be greater than 0")
	errTooManyKeys = errors.New("ERR Number of keys can't be greater than number of args")
	errLimit       = errors.New("ERR LIMIT can't be negative")
	// errRandTooMany guards the node: Redis would try to send that many.
	errRandTooMany = errors.New("ERR count is too large")
)

// parseRandCount reads the count of SRANDMEMBER, HRANDFIELD or
// ZRANDMEMBER: Redis takes -LONG_MAX..LONG_MAX.
func parseRandCount(b []byte) (int64, error) {
	n, ok := parseInt(b)
	switch {
	case !ok:
		return 0, errNotInt
	case n == math.MinInt64:
		return 0, errRandRange
	}
	return n, nil
}

// parseRandWith reads HRANDFIELD's and ZRANDMEMBER's count and their
// WITHVALUES/WITHSCORES word (with): Redis's checks, in its order, and its
// refusal of a count whose reply with pairs would overflow. It replies
// and reports false on an error.
func parseRandWith(c *Ctx, word string) (count int64, with, ok bool) {
	l, err := parseRandCount(c.Args[2])
	switch {
	case err != nil:
		c.W.Error(err.Error())
		return 0, false, false
	case len(c.Args) > 4 || len(c.Args) == 4 && !eq(c.Args[3], word):
		c.W.Error(errSyntax.Error())
		return 0, false, false
	}
	with = len(c.Args) == 4
	if with && (l < -math.MaxInt64/2 || l > math.MaxInt64/2) {
		c.W.Error(errZOutOfRange.Error())
		return 0, false, false
	}
	return l, with, true
}

// maxRandReply bounds SRANDMEMBER's reply with a negative count.
const maxRandReply = 1 << 27

// pickDistinct returns n distinct members of s chosen at random, n less
// than its size.
func pickDistinct(s *keyspace.Set, n int) [][]byte {
	if n*3 > s.Len() { // many: shuffle the members and take a prefix
		all := s.Members()
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		return all[:n]
	}
	seen := make(map[string]bool, n)
	out := make([][]byte, 0, n)
	for len(out) < n {
		m := s.Random()
		if !seen[string(m)] {
			seen[string(m)] = true
			out = append(out, m)
		}
	}
	return out
}

// cmdSPop picks the members here and proposes their removal.
func cmdSPop(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(errSyntax.Error())
		return
	}
	withCount := len(c.Args) == 3
	var count int64
	if withCount {
		n, ok := parseInt(c.Args[2])
		if !ok || n < 0 {
			c.W.Error(errNotPositive.Error())
			return
		}
		count = n
	}
	var o *op.Op
	c.readSet(c.Args[1], func(_ *keyspace.DB, s *keyspace.Set) {
		switch {
		case !withCount && s == nil:
			c.W.Null()
		case !withCount:
			o = &op.Op{Type: op.SPop, DB: c.S.DB, Args: [][]byte{c.Args[1], s.Random()}}
		case s == nil || count == 0:
			c.W.Set(0)
		case count >= int64(s.Len()):
			o = &op.Op{Type: op.SPop, DB: c.S.DB, Flags: op.FlagCount | op.FlagAll, Args: c.Args[1:2]}
		default:
			args := append([][]byte{c.Args[1]}, pickDistinct(s, int(count))...)
			o = &op.Op{Type: op.SPop, DB: c.S.DB, Flags: op.FlagCount, Args: args}
		}
	})
	if o != nil {
		c.propose(o)
	}
}

func cmdSRandMember(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error(errSyntax.Error())
		return
	}
	withCount := len(c.Args) == 3
	var count int64
	if withCount {
		n, err := parseRandCount(c.Args[2])
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		count = n
	}
	c.readSet(c.Args[1], func(_ *keyspace.DB, s *keyspace.Set) {
		switch {
		case !withCount && s == nil:
			c.W.Null()
		case !withCount:
			c.W.Bulk(s.Random())
		case s == nil || count == 0:
			c.W.Array(0)
		case count < 0: // repeats allowed
			if -count > maxRandReply {
				c.W.Error(errRandTooMany.Error())
				return
			}
			c.W.Array(int(-count))
			for range -count {
				c.W.Bulk(s.Random())
			}
		case count >= int64(s.Len()):
			c.W.Array(s.Len())
			s.Each(func(m []byte) bool { c.W.Bulk(m); return true })
		default:
			ms := pickDistinct(s, int(count))
			c.W.Array(len(ms))
			for _, m := range ms {
				c.W.Bulk(m)
			}
		}
	})
}

// cmdSetRead serves SINTER, SUNION and SDIFF.
func cmdSetRead(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		sets, err := loadSets(db, c.Now(), c.Args[1:], func(e *keyspace.Entry) { db.Touch(e, c.Now()) })
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		var ms [][]byte
		switch c.Cmd.Name {
		case "sinter":
			ms = setInter(sets, 0)
		default:
			lim := c.Node.Store().EncodingLimits().SetMaxIntsetEntries
			ms = setUnionDiff(sets, c.Cmd.Name == "sdiff", lim).Members()
		}
		writeResult(c.W, setReply(ms))
	})
}

// cmdSetStore serves SINTERSTORE, SUNIONSTORE and SDIFFSTORE: the applier
// computes the result.
func cmdSetStore(c *Ctx) {
	kind := op.SetInter
	switch c.Cmd.Name {
	case "sunionstore":
		kind = op.SetUnion
	case "sdiffstore":
		kind = op.SetDiff
	}
	c.propose(&op.Op{Type: op.SStore, DB: c.S.DB, Int: kind, Args: c.Args[1:]})
}

func cmdSInterCard(c *Ctx) {
	n, ok := parseInt(c.Args[1])
	if !ok || n < 1 {
		c.W.Error(errNumKeys.Error())
		return
	}
	if n > int64(len(c.Args)-2) {
		c.W.Error(errTooManyKeys.Error())
		return
	}
	keys := c.Args[2 : 2+n]
	var limit int64
	for i := 2 + int(n); i < len(c.Args); i += 2 {
		if !eq(c.Args[i], "LIMIT") || i+1 >= len(c.Args) {
			c.W.Error(errSyntax.Error())
			return
		}
		l, ok := parseInt(c.Args[i+1])
		if !ok || l < 0 {
			c.W.Error(errLimit.Error())
			return
		}
		limit = l
	}
	c.read(func(db *keyspace.DB) {
		sets, err := loadSets(db, c.Now(), keys, func(e *keyspace.Entry) { db.Touch(e, c.Now()) })
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		c.W.Int(int64(len(setInter(sets, int(min(limit, math.MaxInt32))))))
	})
}

// cmdSScan parses its options only once the key is found, as Redis does
// (a missing key answers an empty scan whatever follows).
func cmdSScan(c *Ctx) {
	cursor, valid := parseCursor(c.Args[2])
	if !valid {
		c.W.Error("ERR invalid cursor")
		return
	}
	c.readSet(c.Args[1], func(_ *keyspace.DB, s *keyspace.Set) {
		if s == nil {
			writeScan(c, 0, nil)
			return
		}
		o, msg := parseScanOptions(c.Args[3:], false)
		if msg != "" {
			c.W.Error(msg)
			return
		}
		count, pattern, usePattern := o.count, o.pattern, o.usePattern
		var ms [][]byte
		next := s.Scan(cursor, int(min(count, math.MaxInt32)), func(m []byte) {
			if !usePattern || glob.MatchString(pattern, string(m), false) {
				ms = append(ms, append([]byte(nil), m...))
			}
		})
		writeScan(c, next, ms)
	})
}
