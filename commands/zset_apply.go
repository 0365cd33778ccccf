package commands

// The sorted sets family's appliers and the results they return.

import (
	"encoding/binary"
	"math"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

// zscoreReply is a score replied as a double (a bulk string in RESP2).
type zscoreReply float64

func (s zscoreReply) writeReply(w *resp.Writer) { w.Double(float64(s)) }

// zsetPop is the ZPop op's result: the key popped from (nil if no key
// held a sorted set), and the members popped with their scores, in pop
// order. flags (the op's) choose the reply's shape; blocking pops read
// the fields and may write their own.
type zsetPop struct {
	Key     []byte
	Members [][]byte
	Scores  []float64
	flags   uint32
}

// writeReply follows Redis's genericZpopCommand.
func (p *zsetPop) writeReply(w *resp.Writer) {
	nested := p.flags&op.FlagZNested != 0
	emitKey := p.flags&op.FlagZEmitKey != 0
	switch {
	case p.Key == nil && p.flags&op.FlagZNilEmpty != 0:
		w.NullArray()
		return
	case p.Key == nil || len(p.Members) == 0:
		w.Array(0)
		return
	}
	n := len(p.Members)
	switch {
	case !nested && !emitKey:
		w.Array(2 * n)
	case nested && !emitKey:
		w.Array(n)
	case !nested && emitKey:
		w.Array(2*n + 1)
		w.Bulk(p.Key)
	default:
		w.Array(2)
		w.Bulk(p.Key)
		w.Array(n)
	}
	for i, m := range p.Members {
		if nested {
			w.Array(2)
		}
		w.Bulk(m)
		w.Double(p.Scores[i])
	}
}

// zaddScore reads a score an op carries (8 bytes); ok false for anything
// else, or NaN.
func zaddScore(b []byte) (float64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(b))
	return f, !math.IsNaN(f)
}

// applyZAdd follows Redis's zaddGenericCommand and zsetAdd. It first
// works out, on the set as it is, whether any member would change: if
// none would, the key is left alone (its version stays); if one would,
// the first to change does so from that same state, so the check and the
// run agree.
func applyZAdd(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	key, pairs := o.Args[0], o.Args[1:]
	for i := 0; i < len(pairs); i += 2 {
		if _, ok := zaddScore(pairs[i]); !ok {
			return errBadOp
		}
	}
	incr, ch := o.Flags&op.FlagZIncr != 0, o.Flags&op.FlagZCh != 0
	nx, xx := o.Flags&op.FlagNX != 0, o.Flags&op.FlagXX != 0
	gt, lt := o.Flags&op.FlagGT != 0, o.Flags&op.FlagLT != 0
	z, err := existingZSet(db, key, o.Now)
	if err != nil {
		return err
	}
	// step decides one member's fate: its new score and whether it is
	// added, updated or left (nop).
	step := func(z *keyspace.ZSet, score float64, m []byte) (newScore float64, added, updated, nop bool, err error) {
		cur, exists := 0.0, false
		if z != nil {
			cur, exists = z.Score(m)
		}
		switch {
		case exists && nx:
			return 0, false, false, true, nil
		case exists:
			if incr {
				if score += cur; math.IsNaN(score) {
					return 0, false, false, false, errZNaN
				}
			}
			if lt && score >= cur || gt && score <= cur {
				return 0, false, false, true, nil
			}
			return score, false, score != cur, false, nil
		case xx:
			return 0, false, false, true, nil
		}
		return score, true, false, false, nil
	}
	changes := false
	var last float64
	processed := false
	for i := 0; i < len(pairs); i += 2 {
		s, _ := zaddScore(pairs[i])
		ns, added, updated, nop, err := step(z, s, pairs[i+1])
		if err != nil {
			return err
		}
		changes = changes || added || updated
		if !nop {
			last, processed = ns, true
		}
	}
	if !changes {
		switch {
		case incr && processed:
			return zscoreReply(last)
		case incr:
			return nil
		}
		return int64(0)
	}
	lim := ks.EncodingLimits()
	var added, updated int64
	create := func() keyspace.Object { return keyspace.NewZSetFor(1, len(pairs[1]), lim) }
	_, err = db.Update(key, o.Now, keyspace.KindZSet, create, func(obj keyspace.Object) {
		z := obj.(*keyspace.ZSet)
		for i := 0; i < len(pairs); i += 2 {
			s, _ := zaddScore(pairs[i])
			ns, a, u, nop, _ := step(z, s, pairs[i+1])
			if nop || !a && !u {
				continue
			}
			z.Set(pairs[i+1], ns, lim)
			if a {
				added++
			} else {
				updated++
			}
		}
	})
	if err != nil {
		return err
	}
	if incr {
		db.Notify(keyspace.EventZSet, "zincr", key)
	} else {
		db.Notify(keyspace.EventZSet, "zadd", key)
	}
	switch {
	case incr:
		return zscoreReply(last)
	case ch:
		return added + updated
	}
	return added
}

func applyZRem(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	z, err := existingZSet(db, o.Args[0], o.Now)
	if err != nil || z == nil {
		return zeroOr(err)
	}
	any := false
	for _, m := range o.Args[1:] {
		if _, ok := z.Score(m); ok {
			any = true
			break
		}
	}
	if !any {
		return int64(0)
	}
	var removed int64
	db.Update(o.Args[0], o.Now, keyspace.KindZSet, nil, func(obj keyspace.Object) {
		z := obj.(*keyspace.ZSet)
		for _, m := range o.Args[1:] {
			if z.Remove(m) {
				removed++
			}
		}
	})
	db.Notify(keyspace.EventZSet, "zrem", o.Args[0])
	db.NotifyGone(o.Args[0], o.Now)
	return removed
}

// zeroOr is err, or the integer 0 an applier replies when there is
// nothing to do.
func zeroOr(err error) any {
	if err != nil {
		return err
	}
	return int64(0)
}

// applyZRemRange removes a rank, score or lex range (ZREMRANGEBY*).
func applyZRemRange(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	z, err := existingZSet(db, o.Args[0], o.Now)
	if err != nil || z == nil {
		return zeroOr(err)
	}
	from, to, err := zremRangeBounds(z, o.Int, o.Args[1], o.Args[2])
	if err != nil || from >= to {
		return zeroOr(err)
	}
	db.Update(o.Args[0], o.Now, keyspace.KindZSet, nil, func(obj keyspace.Object) {
		obj.(*keyspace.ZSet).RemoveRange(from, to)
	})
	db.Notify(keyspace.EventZSet, zremRangeEvents[o.Int], o.Args[0])
	db.NotifyGone(o.Args[0], o.Now)
	return int64(to - from)
}

// zremRangeBounds returns the ranks [from, to) a ZREMRANGEBY* range
// covers in z.
func zremRangeBounds(z *keyspace.ZSet, kind int64, lo, hi []byte) (from, to int, err error) {
	n := int64(z.Len())
	switch kind {
	case zrangeRank:
		start, ok1 := parseInt(lo)
		end, ok2 := parseInt(hi)
		if !ok1 || !ok2 {
			return 0, 0, errNotInt
		}
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		start = max(start, 0)
		if start > end || start >= n {
			return 0, 0, nil
		}
		return int(start), int(min(end, n-1) + 1), nil
	case zrangeScore:
		r, err := parseScoreRange(lo, hi)
		if err != nil {
			return 0, 0, err
		}
		from, to = scoreBounds(z, &r)
		return from, to, nil
	case zrangeLex:
		r, err := parseLexRange(lo, hi)
		if err != nil {
			return 0, 0, err
		}
		from, to = lexBounds(z, &r)
		return from, to, nil
	}
	return 0, 0, errBadOp
}

// scoreBounds returns the ranks [from, to) of the members in r.
func scoreBounds(z *keyspace.ZSet, r *scoreRange) (from, to int) {
	from = z.Search(func(_ []byte, s float64) bool { return r.gteMin(s) })
	to = z.Search(func(_ []byte, s float64) bool { return !r.lteMax(s) })
	return from, max(from, to)
}

// lexBounds returns the ranks [from, to) of the members in r (the
// members are taken to share one score, as Redis's lex commands do).
func lexBounds(z *keyspace.ZSet, r *lexRange) (from, to int) {
	from = z.Search(func(m []byte, _ float64) bool { return r.gteMin(m) })
	to = z.Search(func(m []byte, _ float64) bool { return !r.lteMax(m) })
	return from, max(from, to)
}

// applyZPop pops from the first key that holds a sorted set, as Redis's
// genericZpopCommand.
func applyZPop(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	res := &zsetPop{flags: o.Flags}
	var z *keyspace.ZSet
	for _, k := range o.Args {
		var err error
		if z, err = existingZSet(db, k, o.Now); err != nil {
			return err
		}
		if z != nil {
			res.Key = append([]byte(nil), k...)
			break
		}
	}
	if z == nil || o.Int <= 0 {
		return res
	}
	n := int(min(o.Int, int64(z.Len())))
	rev := o.Flags&op.FlagZMax != 0
	db.Update(res.Key, o.Now, keyspace.KindZSet, nil, func(obj keyspace.Object) {
		z := obj.(*keyspace.ZSet)
		z.Range(0, rev, func(m []byte, s float64) bool {
			res.Members = append(res.Members, append([]byte(nil), m...))
			res.Scores = append(res.Scores, s)
			return len(res.Members) < n
		})
		if rev {
			z.RemoveRange(z.Len()-n, z.Len())
		} else {
			z.RemoveRange(0, n)
		}
	})
	if rev {
		db.Notify(keyspace.EventZSet, "zpopmax", res.Key)
	} else {
		db.Notify(keyspace.EventZSet, "zpopmin", res.Key)
	}
	db.NotifyGone(res.Key, o.Now)
	return res
}

// applyZRangeStore stores a range of the source as a new sorted set, as
// Redis's zrangestoreCommand: created for the range's size, then grown as
// ZADD grows one.
func applyZRangeStore(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	sp, err := parseZRange(o.Args[1:], -1, -1, true)
	if err != nil {
		return err
	}
	src, err := db.Lookup(o.Args[1], o.Now, keyspace.KindZSet)
	if err != nil {
		return err
	}
	var pairs []zpair
	if src != nil {
		pairs = zrangeCollect(src.Object().(*keyspace.ZSet), &sp)
	}
	return storeZPairs(ks, db, o.Args[0], o.Now, pairs, sp.kind == zrangeRank, "zrangestore")
}

// storeZPairs stores pairs at dst (deleting dst when there are none) and
// replies the count. sized: the set is created for its size, as
// ZRANGESTORE by rank does (by score or lex it starts as a listpack).
func storeZPairs(ks *keyspace.Store, db *keyspace.DB, dst []byte, now int64, pairs []zpair, sized bool, event string) any {
	if len(pairs) == 0 {
		storeEmpty(db, dst, now)
		return int64(0)
	}
	lim := ks.EncodingLimits()
	size := 0
	if sized {
		size = len(pairs)
	}
	z := keyspace.NewZSetFor(size, 0, lim)
	for _, p := range pairs {
		z.Set(p.m, p.s, lim)
	}
	db.Set(dst, keyspace.ObjectValue(z), 0)
	db.Notify(keyspace.EventZSet, event, dst)
	return int64(len(pairs))
}

// applyZStore computes ZUNIONSTORE, ZINTERSTORE or ZDIFFSTORE from the
// sources as they are at apply time.
func applyZStore(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	names := [...]string{zopInter: "zinterstore", zopUnion: "zunionstore", zopDiff: "zdiffstore"}
	if o.Int < 0 || o.Int >= int64(len(names)) {
		return errBadOp
	}
	sp, early, late := parseZAlgebra(names[o.Int], o.Args[1:], o.Int, true, false)
	if early != nil {
		return early
	}
	srcs, err := loadZSources(db, o.Now, sp.keys, sp.weights, nil)
	if err != nil {
		return err
	}
	if late != nil {
		return late
	}
	pairs, _ := zalgebra(srcs, o.Int, sp.aggregate, 0, false)
	if len(pairs) == 0 {
		storeEmpty(db, o.Args[0], o.Now)
		return int64(0)
	}
	lim := ks.EncodingLimits()
	maxLen := 0
	for _, p := range pairs {
		maxLen = max(maxLen, len(p.m))
	}
	z := keyspace.NewZSetFor(len(pairs), maxLen, lim)
	for _, p := range pairs {
		z.Set(p.m, p.s, lim)
	}
	db.Set(o.Args[0], keyspace.ObjectValue(z), 0)
	db.Notify(keyspace.EventZSet, names[o.Int], o.Args[0])
	return int64(len(pairs))
}

// zremRangeEvents name ZREMRANGEBY*'s events by the range's kind.
var zremRangeEvents = map[int64]string{zrangeRank: "zremrangebyrank", zrangeScore: "zremrangebyscore", zrangeLex: "zremrangebylex"}
