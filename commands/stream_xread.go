package commands

// XREAD, and the parsing XREADGROUP shares with it. XREAD is a read: it is
// served from this node's keyspace (after the read barrier), and a
// blocked XREAD waits here, woken by the XADDs this node applies (every
// reader of the key is woken, as Redis serves every client blocked on a
// stream), and reads again; it never proposes.

import (
	"errors"
	"math"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/resp"
)

var (
	errXReadUnbalanced = errors.New("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
	errXReadGroupOpt   = errors.New("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
	errXReadNoAckOpt   = errors.New("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
	errXReadNoGroup    = errors.New("ERR Missing GROUP option for XREADGROUP")
	errXReadDollar     = errors.New("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
	errXReadGT         = errors.New("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
	errTimeoutNotInt   = errors.New("ERR timeout is not an integer or out of range")
)

// xreadBlockedCount is Redis's XREAD_BLOCKED_DEFAULT_COUNT: a blocked read
// without COUNT is served at most this many entries.
const xreadBlockedCount = 1000

// xreadArgs are XREAD's and XREADGROUP's options as parsed.
type xreadArgs struct {
	count    int64
	block    bool
	deadline int64 // unix ms; 0: none
	keys     [][]byte
	ids      [][]byte // as given
	group    []byte
	consumer []byte
	noAck    bool
}

// parseXRead parses the options up to STREAMS, as xreadCommand does.
func parseXRead(c *Ctx, group bool) (*xreadArgs, error) {
	a := &xreadArgs{}
	streamsAt := 0
	for i := 1; i < len(c.Args) && streamsAt == 0; i++ {
		more := len(c.Args) - i - 1
		o := c.Args[i]
		switch {
		case eq(o, "BLOCK") && more > 0:
			if c.InScript {
				return nil, errorf("ERR %s command is not allowed with BLOCK option from scripts", c.Args[0])
			}
			i++
			ms, ok := parseInt(c.Args[i])
			if !ok {
				return nil, errTimeoutNotInt
			}
			if ms < 0 {
				return nil, errTimeoutNegative
			}
			a.block, a.deadline = true, 0
			if ms > 0 {
				a.deadline = c.Now() + min(ms, math.MaxInt64-c.Now())
			}
		case eq(o, "COUNT") && more > 0:
			i++
			n, ok := parseInt(c.Args[i])
			if !ok {
				return nil, errNotInt
			}
			a.count = max(n, 0)
		case eq(o, "STREAMS") && more > 0:
			streamsAt = i + 1
			if (len(c.Args)-streamsAt)%2 != 0 {
				return nil, errXReadUnbalanced
			}
		case eq(o, "GROUP") && more >= 2:
			if !group {
				return nil, errXReadGroupOpt
			}
			a.group, a.consumer = c.Args[i+1], c.Args[i+2]
			i += 2
		case eq(o, "NOACK"):
			if !group {
				return nil, errXReadNoAckOpt
			}
			a.noAck = true
		default:
			return nil, errSyntax
		}
	}
	if streamsAt == 0 {
		return nil, errSyntax
	}
	if group && a.group == nil {
		return nil, errXReadNoGroup
	}
	n := (len(c.Args) - streamsAt) / 2
	a.keys = cloneArgs(c.Args[streamsAt : streamsAt+n])
	a.ids = cloneArgs(c.Args[streamsAt+n:])
	return a, nil
}

// xreadResult is what XREAD (or XREADGROUP) read: per stream, its key and
// entries; a null array when there is none.
type xreadResult struct {
	keys    [][]byte
	entries []streamEntries
}

func (r *xreadResult) writeReply(w *resp.Writer) {
	if len(r.keys) == 0 {
		w.NullArray()
		return
	}
	if w.Proto == 3 {
		w.Map(len(r.keys))
	} else {
		w.Array(len(r.keys))
	}
	for i, k := range r.keys {
		if w.Proto != 3 {
			w.Array(2)
		}
		w.Bulk(k)
		r.entries[i].writeReply(w)
	}
}

// cmdXRead is XREAD [COUNT n] [BLOCK ms] STREAMS key... id...
func cmdXRead(c *Ctx) {
	a, err := parseXRead(c, false)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	// The ids resolved when the command arrives ("$": the last id then).
	gts := make([]keyspace.StreamID, len(a.keys))
	var res *xreadResult
	if !c.streamRead(func(db *keyspace.DB) {
		for i, key := range a.keys {
			e, lerr := db.Lookup(key, c.Now(), keyspace.KindStream)
			if lerr != nil {
				err = lerr
				return
			}
			var s *keyspace.Stream
			if e != nil {
				s = e.Object().(*keyspace.Stream)
			}
			switch id := a.ids[i]; {
			case string(id) == "$":
				if s != nil {
					gts[i] = s.LastID()
				}
			case string(id) == ">":
				err = errXReadGT
				return
			default:
				var ok bool
				if gts[i], ok = parseStrictID(id); !ok {
					err = errStreamID
					return
				}
			}
		}
		for _, key := range a.keys {
			if e := db.Get(key, c.Now()); e != nil {
				db.Touch(e, c.Now())
			}
		}
		res = readAfter(db, a.keys, gts, a.count, c.Now())
	}) {
		return
	}
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	if len(res.keys) > 0 || !a.block {
		res.writeReply(c.W)
		return
	}
	count := a.count
	if count == 0 {
		count = xreadBlockedCount
	}
	b := &blockingPop{kind: keyspace.KindStream, keys: a.keys, deadline: a.deadline, all: true,
		timedOut: writeNullArray}
	b.try = func(keys [][]byte, woken bool) (any, error) {
		// The first try reads again: an XADD applied since the read
		// above, before the wait was registered, would wake nobody.
		ks := c.Node.Store()
		ks.RLock()
		defer ks.RUnlock()
		db := ks.DB(c.S.DB)
		var ids []keyspace.StreamID
		for _, k := range keys {
			for i, key := range a.keys {
				if string(key) == string(k) {
					ids = append(ids, gts[i])
					break
				}
			}
		}
		r := readAfter(db, keys, ids, count, c.Node.Now())
		if len(r.keys) == 0 {
			return nullArray{}, nil
		}
		return r, nil
	}
	b.run(c)
}

// readAfter reads, from each stream of keys, up to count (0: all) entries
// after its id in gts. The caller holds the read lock.
func readAfter(db *keyspace.DB, keys [][]byte, gts []keyspace.StreamID, count int64, now int64) *xreadResult {
	r := &xreadResult{}
	for i, key := range keys {
		e := db.Get(key, now)
		if e == nil {
			continue
		}
		s, ok := e.Object().(*keyspace.Stream)
		if !ok || s.Len() == 0 || !gts[i].Less(s.LastLive()) {
			continue
		}
		start, ok := gts[i].Incr()
		if !ok {
			continue
		}
		r.keys = append(r.keys, key)
		r.entries = append(r.entries, collectRange(s, start, keyspace.MaxStreamID, count, false))
	}
	return r
}
