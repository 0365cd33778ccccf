package commands

import (
	"github.com/loomcache/loomcache/keyspace"
)

// lcsMatch is one IDX range: a[a0..a1] equals b[b0..b1].
type lcsMatch struct{ a0, a1, b0, b1 int }

// cmdLCS serves LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
// with Redis's replies, its error order and its choice among equally long
// subsequences. The strings are copied under the read lock and the
// O(N*M) work runs after it is released.
func cmdLCS(c *Ctx) {
	var a, b []byte
	typeErr := false
	if !c.read(func(db *keyspace.DB) {
		va, erra := stringValue(c, db, c.Args[1])
		vb, errb := stringValue(c, db, c.Args[2])
		if erra != nil || errb != nil {
			typeErr = true
			return
		}
		// Copies: appliers may change a value in place once the lock is free.
		if va != nil {
			a = clone(va.Bytes())
		}
		if vb != nil {
			b = clone(vb.Bytes())
		}
	}) {
		return
	}
	if typeErr {
		c.W.Error("ERR The specified keys must contain string values")
		return
	}
	var getLen, getIdx, withLen bool
	var minLen int64
	for j := 3; j < len(c.Args); j++ {
		opt := c.Args[j]
		switch {
		case eq(opt, "IDX"):
			getIdx = true
		case eq(opt, "LEN"):
			getLen = true
		case eq(opt, "WITHMATCHLEN"):
			withLen = true
		case eq(opt, "MINMATCHLEN") && j+1 < len(c.Args):
			n, ok := parseInt(c.Args[j+1])
			if !ok {
				c.W.Error(errNotInt.Error())
				return
			}
			minLen = max(n, 0)
			j++
		default:
			c.W.Error(errSyntax.Error())
			return
		}
	}
	if getIdx && getLen {
		c.W.Error("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	// Redis refuses a DP table (uint32 per cell) above proto-max-bulk-len;
	// the same limit applies here though the table below is smaller.
	if uint64(len(a)+1)*uint64(len(b)+1)*4 > maxBulkLen {
		c.W.Error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	computeLCS := getIdx || !getLen
	total, up := lcsTable(a, b, computeLCS)
	if !computeLCS {
		c.W.Int(int64(total))
		return
	}
	result, matches := lcsWalk(a, b, total, up, minLen)
	if !getIdx {
		c.W.Bulk(result)
		return
	}
	c.W.Map(2)
	c.W.BulkString("matches")
	c.W.Array(len(matches))
	for _, m := range matches {
		if withLen {
			c.W.Array(3)
		} else {
			c.W.Array(2)
		}
		c.W.Array(2)
		c.W.Int(int64(m.a0))
		c.W.Int(int64(m.a1))
		c.W.Array(2)
		c.W.Int(int64(m.b0))
		c.W.Int(int64(m.b1))
		if withLen {
			c.W.Int(int64(m.a1 - m.a0 + 1))
		}
	}
	c.W.BulkString("len")
	c.W.Int(int64(total))
}

// lcsTable runs the DP over rows of LCS lengths. The backtrack needs only,
// for each cell (i,j) where a[i-1] != b[j-1], whether LCS(i-1,j) >
// LCS(i,j-1); with keep set those decisions are returned as one bit per
// cell (index (i-1)*len(b)+j-1) instead of Redis's table of uint32s.
func lcsTable(a, b []byte, keep bool) (total int, up []uint64) {
	if keep {
		up = make([]uint64, (len(a)*len(b)+63)/64)
	}
	prev := make([]uint32, len(b)+1)
	cur := make([]uint32, len(b)+1)
	for i := 1; i <= len(a); i++ {
		ai := a[i-1]
		row := (i - 1) * len(b)
		for j := 1; j <= len(b); j++ {
			if ai == b[j-1] {
				cur[j] = prev[j-1] + 1
				continue
			}
			l1, l2 := prev[j], cur[j-1]
			if l1 > l2 {
				cur[j] = l1
				if keep {
					bit := row + j - 1
					up[bit>>6] |= 1 << (bit & 63)
				}
			} else {
				cur[j] = l2
			}
		}
		prev, cur = cur, prev
	}
	return int(prev[len(b)]), up
}

// lcsWalk walks back from the end as Redis's lcsCommand does, building the
// subsequence and the ranges (at least minLen long) of contiguous matches.
func lcsWalk(a, b []byte, total int, up []uint64, minLen int64) ([]byte, []lcsMatch) {
	result := make([]byte, total)
	var matches []lcsMatch
	idx := total
	none := len(a) // range start sentinel: no range open
	cur := lcsMatch{a0: none}
	for i, j := len(a), len(b); i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			result[idx-1] = a[i-1]
			switch {
			case cur.a0 == none:
				cur = lcsMatch{a0: i - 1, a1: i - 1, b0: j - 1, b1: j - 1}
			case cur.a0 == i && cur.b0 == j: // extends the range backwards
				cur.a0--
				cur.b0--
			default:
				emit = true
			}
			if cur.a0 == 0 || cur.b0 == 0 {
				emit = true
			}
			idx, i, j = idx-1, i-1, j-1
		} else {
			bit := (i-1)*len(b) + j - 1
			if up[bit>>6]&(1<<(bit&63)) != 0 {
				i--
			} else {
				j--
			}
			emit = cur.a0 != none
		}
		if emit {
			if minLen == 0 || int64(cur.a1-cur.a0+1) >= minLen {
				matches = append(matches, cur)
			}
			cur.a0 = none
		}
	}
	return result, matches
}
