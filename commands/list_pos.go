package commands

import (
	"bytes"
	"errors"

	"github.com/loomcache/loomcache/keyspace"
)

var (
	errRankZero  = errors.New("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
	errPosCount  = errors.New("ERR COUNT can't be negative")
	errPosMaxLen = errors.New("ERR MAXLEN can't be negative")
)

// cmdLPos is LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN
// len], as Redis's lposCommand: the options are checked before the key.
func cmdLPos(c *Ctx) {
	rank, count, maxlen := int64(1), int64(-1), int64(0) // count -1: not given
	for j := 3; j < len(c.Args); j++ {
		opt, more := c.Args[j], j+1 < len(c.Args)
		var (
			n  int64
			ok bool
		)
		if more {
			n, ok = parseInt(c.Args[j+1])
		}
		switch {
		case eq(opt, "RANK") && more:
			switch {
			case !ok:
				c.W.Error(errNotInt.Error())
				return
			case n == 0:
				c.W.Error(errRankZero.Error())
				return
			}
			rank = n
		case eq(opt, "COUNT") && more:
			if !ok || n < 0 {
				c.W.Error(errPosCount.Error())
				return
			}
			count = n
		case eq(opt, "MAXLEN") && more:
			if !ok || n < 0 {
				c.W.Error(errPosMaxLen.Error())
				return
			}
			maxlen = n
		default:
			c.W.Error(errSyntax.Error())
			return
		}
		j++
	}
	// A negative rank searches from the tail (math.MinInt64 stays
	// negative, as in Redis: every match then counts).
	reverse := rank < 0
	if reverse {
		rank = -rank
	}
	c.readList(c.Args[1], func(l *keyspace.List) {
		if l == nil {
			if count != -1 {
				c.W.Array(0)
			} else {
				c.W.Null()
			}
			return
		}
		found := lpos(l, c.Args[2], rank, count, maxlen, reverse)
		if count != -1 {
			c.W.Array(len(found))
			for _, i := range found {
				c.W.Int(i)
			}
			return
		}
		if len(found) == 0 {
			c.W.Null()
			return
		}
		c.W.Int(found[0])
	})
}

// lpos returns the indexes of the matches LPOS replies: from the rank-th
// on, at most count of them (0: all; -1: the first only), looking at no
// more than maxlen elements (0: all).
func lpos(l *keyspace.List, elem []byte, rank, count, maxlen int64, reverse bool) []int64 {
	n := int64(l.Len())
	start := 0
	if reverse {
		start = l.Len() - 1
	}
	var found []int64
	matches := int64(0)
	it := l.Iter(start, reverse)
	for index := int64(0); maxlen == 0 || index < maxlen; index++ {
		e, ok := it.Next()
		if !ok {
			break
		}
		if !bytes.Equal(e, elem) {
			continue
		}
		if matches++; matches < rank {
			continue
		}
		at := index
		if reverse {
			at = n - index - 1
		}
		found = append(found, at)
		if count == -1 || count != 0 && matches-rank+1 >= count {
			break
		}
	}
	return found
}
