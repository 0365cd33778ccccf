package commands

// The hash family's reads: HGET HMGET HLEN HSTRLEN HEXISTS HKEYS HVALS
// HGETALL HRANDFIELD HSCAN (their table entries are in hash.go).

import (
	"math/rand/v2"
	"strconv"

	"github.com/loomcache/loomcache/glob"
	"github.com/loomcache/loomcache/keyspace"
)

// readHash runs fn with key's hash (nil if absent) under the read lock,
// having recorded the access as Redis's lookupKeyRead does; a key of
// another kind is answered WRONGTYPE and fn is not run.
func readHash(c *Ctx, key []byte, fn func(h *keyspace.Hash)) {
	readObject(c, key, keyspace.KindHash, fn)
}

func cmdHGet(c *Ctx) {
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		if h != nil {
			if v, found := h.Get(c.Args[2], c.Now()); found {
				c.W.BulkString(v)
				return
			}
		}
		c.W.Null()
	})
}

func cmdHMGet(c *Ctx) {
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		c.W.Array(len(c.Args) - 2)
		for _, f := range c.Args[2:] {
			if h != nil {
				if v, found := h.Get(f, c.Now()); found {
					c.W.BulkString(v)
					continue
				}
			}
			c.W.Null()
		}
	})
}

func cmdHLen(c *Ctx) {
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		if h == nil {
			c.W.Int(0)
			return
		}
		c.W.Int(int64(h.Len()))
	})
}

func cmdHStrlen(c *Ctx) {
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		var n int
		if h != nil {
			v, _ := h.Get(c.Args[2], c.Now())
			n = len(v)
		}
		c.W.Int(int64(n))
	})
}

func cmdHExists(c *Ctx) {
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		found := false
		if h != nil {
			_, found = h.Get(c.Args[2], c.Now())
		}
		if found {
			c.W.Int(1)
			return
		}
		c.W.Int(0)
	})
}

// cmdHGetAll serves HKEYS, HVALS and HGETALL (a map in RESP3).
func cmdHGetAll(c *Ctx) {
	keys, vals := c.Cmd.Name != "hvals", c.Cmd.Name != "hkeys"
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		n := 0
		if h != nil {
			n = h.Visible(c.Now())
		}
		if keys && vals {
			c.W.Map(n)
		} else {
			c.W.Array(n)
		}
		if h == nil {
			return
		}
		h.Each(c.Now(), func(f, v string) bool {
			if keys {
				c.W.BulkString(f)
			}
			if vals {
				c.W.BulkString(v)
			}
			return true
		})
	})
}

// maxRandomRepeats bounds HRANDFIELD's negative count (its reply is built
// in memory before it is sent).
const maxRandomRepeats = 1 << 24

// cmdHRandField chooses here, on the node that serves the read: a read
// changes nothing, so no other node needs to know the choice.
func cmdHRandField(c *Ctx) {
	if len(c.Args) == 2 {
		readHash(c, c.Args[1], func(h *keyspace.Hash) {
			if h == nil {
				c.W.Null()
				return
			}
			f, _ := h.Random(c.Now(), rand.IntN)
			c.W.BulkString(f)
		})
		return
	}
	l, withValues, ok := parseRandWith(c, "WITHVALUES")
	if !ok {
		return
	}
	// LoomCache also refuses a negative count of more than maxRandomRepeats
	// (where Redis would build a reply of that many elements until it runs
	// out of memory).
	if l < -maxRandomRepeats {
		c.W.Error(errZOutOfRange.Error())
		return
	}
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		if h == nil || l == 0 || h.Visible(c.Now()) == 0 {
			c.W.Array(0)
			return
		}
		writePair := func(f, v string) {
			if withValues && c.W.Proto == 3 {
				c.W.Array(2)
			}
			c.W.BulkString(f)
			if withValues {
				c.W.BulkString(v)
			}
		}
		header := func(n int) {
			if withValues && c.W.Proto != 3 {
				n *= 2
			}
			c.W.Array(n)
		}
		size := h.Visible(c.Now())
		switch {
		case l < 0 || l == 1: // repeats allowed: each pick on its own
			count := int(-l)
			if l == 1 {
				count = 1
			}
			header(count)
			h.RandomN(c.Now(), count, rand.IntN, writePair)
		case l >= int64(size): // the whole hash, in its order
			header(size)
			h.Each(c.Now(), func(f, v string) bool { writePair(f, v); return true })
		default: // distinct fields: a partial shuffle of the positions
			type pair struct{ f, v string }
			all := make([]pair, 0, size)
			h.Each(c.Now(), func(f, v string) bool { all = append(all, pair{f, v}); return true })
			count := int(l)
			for i := range count {
				j := i + rand.IntN(len(all)-i)
				all[i], all[j] = all[j], all[i]
			}
			header(count)
			for _, p := range all[:count] {
				writePair(p.f, p.v)
			}
		}
	})
}

// cmdHScan: Redis checks the cursor, then the key, then the options.
func cmdHScan(c *Ctx) {
	cursor, valid := parseCursor(c.Args[2])
	if !valid {
		c.W.Error("ERR invalid cursor")
		return
	}
	readHash(c, c.Args[1], func(h *keyspace.Hash) {
		if h == nil {
			writeScan(c, 0, nil)
			return
		}
		o, msg := parseScanOptions(c.Args[3:], false)
		if msg != "" {
			c.W.Error(msg)
			return
		}
		count, pattern, usePattern := o.count, o.pattern, o.usePattern
		var out []string
		next := h.Scan(c.Now(), cursor, int(min(count, int64(h.Len())+1)), func(f, v string) {
			if !usePattern || glob.MatchString(pattern, f, false) {
				out = append(out, f, v)
			}
		})
		c.W.Array(2)
		c.W.Bulk(strconv.AppendUint(nil, next, 10))
		c.W.Array(len(out))
		for _, s := range out {
			c.W.BulkString(s)
		}
	})
}
