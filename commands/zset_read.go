package commands

// The sorted sets family's ranges and set algebra, shared by the reads
// and the *STORE appliers, and the read commands.

import (
	"math"
	"slices"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/resp"
)

// zpair is a member and its score, the member copied out of the set.
type zpair struct {
	m []byte
	s float64
}

// writeZPairs writes pairs as Redis replies a range: members alone, or
// with scores flat in RESP2 and as [member, score] pairs in RESP3.
func writeZPairs(w *resp.Writer, pairs []zpair, withScores bool) {
	writeZHeader(w, len(pairs), withScores)
	for _, p := range pairs {
		writeZPair(w, p.m, p.s, withScores)
	}
}

// writeZHeader starts a reply of n members as writeZPairs does.
func writeZHeader(w *resp.Writer, n int, withScores bool) {
	if withScores && w.Proto == 2 {
		n *= 2
	}
	w.Array(n)
}

// writeZPair writes one member of a reply writeZHeader began.
func writeZPair(w *resp.Writer, m []byte, s float64, withScores bool) {
	if withScores && w.Proto > 2 {
		w.Array(2)
	}
	w.Bulk(m)
	if withScores {
		w.Double(s)
	}
}

func appendZPair(pairs []zpair, m []byte, s float64) []zpair {
	return append(pairs, zpair{m: append([]byte(nil), m...), s: s})
}

// zrangeCollect returns the members sp selects, in its order.
func zrangeCollect(z *keyspace.ZSet, sp *zrangeSpec) []zpair {
	n := int64(z.Len())
	var out []zpair
	switch sp.kind {
	case zrangeRank:
		start, end := sp.start, sp.end
		if start < 0 {
			start += n
		}
		if end < 0 {
			end += n
		}
		start = max(start, 0)
		if start > end || start >= n {
			return nil
		}
		end = min(end, n-1)
		want := int(end - start + 1)
		z.Range(int(start), sp.rev, func(m []byte, s float64) bool {
			out = appendZPair(out, m, s)
			return len(out) < want
		})
		return out
	}
	if sp.offset > 0 && sp.offset >= n || sp.offset < 0 || sp.limit == 0 {
		return nil
	}
	var from, to int
	if sp.kind == zrangeScore {
		from, to = scoreBounds(z, &sp.score)
	} else {
		from, to = lexBounds(z, &sp.lex)
	}
	count := int64(to-from) - sp.offset
	if count <= 0 {
		return nil
	}
	if sp.limit > 0 {
		count = min(count, sp.limit)
	}
	start := int64(from) + sp.offset
	if sp.rev {
		start = n - int64(to) + sp.offset
	}
	z.Range(int(start), sp.rev, func(m []byte, s float64) bool {
		out = appendZPair(out, m, s)
		return int64(len(out)) < count
	})
	return out
}

// zsource is one input of the set algebra: a sorted set, or a set whose
// members score 1, or nothing (an absent key).
type zsource struct {
	z      *keyspace.ZSet
	s      *keyspace.Set
	weight float64
}

func (src *zsource) len() int {
	switch {
	case src.z != nil:
		return src.z.Len()
	case src.s != nil:
		return src.s.Len()
	}
	return 0
}

func (src *zsource) each(fn func(m []byte, s float64)) {
	switch {
	case src.z != nil:
		src.z.Range(0, false, func(m []byte, s float64) bool { fn(m, s); return true })
	case src.s != nil:
		src.s.Each(func(m []byte) bool { fn(m, 1); return true })
	}
}

func (src *zsource) find(m []byte) (float64, bool) {
	switch {
	case src.z != nil:
		return src.z.Score(m)
	case src.s != nil:
		return 1, src.s.Has(m)
	}
	return 0, false
}

// loadZSources looks the keys up as Redis's set algebra does: a key of a
// kind other than sorted set or set is WRONGTYPE.
func loadZSources(db *keyspace.DB, now int64, keys [][]byte, weights []float64, touch func(*keyspace.Entry)) ([]zsource, error) {
	srcs := make([]zsource, len(keys))
	for i, k := range keys {
		srcs[i].weight = weights[i]
		e := db.GetRead(k, now)
		if e == nil {
			continue
		}
		switch e.Kind() {
		case keyspace.KindZSet:
			srcs[i].z = e.Object().(*keyspace.ZSet)
		case keyspace.KindSet:
			srcs[i].s = e.Object().(*keyspace.Set)
		default:
			return nil, errWrongType
		}
		if touch != nil {
			touch(e)
		}
	}
	return srcs, nil
}

func zaggregate(target *float64, v float64, agg int) {
	switch agg {
	case aggSum:
		if *target += v; math.IsNaN(*target) {
			*target = 0
		}
	case aggMin:
		if v < *target {
			*target = v
		}
	case aggMax:
		if v > *target {
			*target = v
		}
	}
}

// zalgebra computes the union, intersection or difference of srcs as
// Redis's zunionInterDiffGenericCommand, sorted by (score, member); with
// card it only counts the intersection, up to limit (0: no limit).
func zalgebra(srcs []zsource, opKind int64, agg int, limit int64, card bool) ([]zpair, int64) {
	if opKind != zopDiff {
		slices.SortStableFunc(srcs, func(a, b zsource) int { return a.len() - b.len() })
	}
	var out []zpair
	var count int64
	switch opKind {
	case zopInter:
		if srcs[0].len() == 0 {
			return nil, 0
		}
		done := false
		srcs[0].each(func(m []byte, s float64) {
			if done {
				return
			}
			score := srcs[0].weight * s
			if math.IsNaN(score) {
				score = 0
			}
			for j := 1; j < len(srcs); j++ {
				v, ok := srcs[j].find(m)
				if !ok {
					return
				}
				zaggregate(&score, v*srcs[j].weight, agg)
			}
			if card {
				count++
				done = limit > 0 && count >= limit
				return
			}
			out = appendZPair(out, m, score)
		})
	case zopUnion:
		acc := map[string]int{}
		for i := range srcs {
			srcs[i].each(func(m []byte, s float64) {
				score := srcs[i].weight * s
				if math.IsNaN(score) {
					score = 0
				}
				if at, ok := acc[string(m)]; ok {
					zaggregate(&out[at].s, score, agg)
					return
				}
				acc[string(m)] = len(out)
				out = appendZPair(out, m, score)
			})
		}
	case zopDiff:
		srcs[0].each(func(m []byte, s float64) {
			for j := 1; j < len(srcs); j++ {
				if _, ok := srcs[j].find(m); ok {
					return
				}
			}
			out = appendZPair(out, m, s)
		})
	}
	slices.SortFunc(out, func(a, b zpair) int {
		switch {
		case a.s < b.s:
			return -1
		case a.s > b.s:
			return 1
		}
		return slices.Compare(a.m, b.m)
	})
	return out, count
}
