package commands

// SORT's work, shared by the read and the STORE applier: load the
// elements, weigh them, sort them as Redis does (glibc's stable qsort, or
// Redis's partial pqsort for BY with LIMIT) and apply the GET patterns.

import (
	"bytes"
	"math"
	"math/big"
	"slices"
	"strings"

	"github.com/loomcache/loomcache/keyspace"
)

// sortItem is Redis's redisSortObject.
type sortItem struct {
	obj   []byte
	score float64
	cmp   []byte // the BY value under ALPHA; nil when it was missing
}

// sorter holds what sortCompare reads from Redis's globals.
type sorter struct {
	desc, alpha, byPattern, store bool
}

func (s *sorter) compare(a, b *sortItem) int {
	var cmp int
	switch {
	case !s.alpha:
		switch {
		case a.score > b.score:
			cmp = 1
		case a.score < b.score:
			cmp = -1
		default:
			cmp = bytes.Compare(a.obj, b.obj)
		}
	case s.byPattern:
		switch {
		case a.cmp == nil || b.cmp == nil:
			cmp = boolCmp(a.cmp != nil) - boolCmp(b.cmp != nil)
		case s.store:
			cmp = bytes.Compare(a.cmp, b.cmp)
		default:
			cmp = bytes.Compare(cstr(a.cmp), cstr(b.cmp)) // strcoll
		}
	case s.store:
		cmp = bytes.Compare(a.obj, b.obj)
	default:
		cmp = bytes.Compare(cstr(a.obj), cstr(b.obj))
	}
	if s.desc {
		return -cmp
	}
	return cmp
}

func boolCmp(b bool) int {
	if b {
		return 1
	}
	return 0
}

// lookupByPattern is Redis's lookupKeyByPattern: "#" is the element
// itself; otherwise the first '*' is replaced by it and the key read, as
// a string, or with "->field" as a hash's field. nil: nothing there.
func lookupByPattern(db *keyspace.DB, now int64, pattern, subst []byte) []byte {
	if len(pattern) > 0 && pattern[0] == '#' && len(cstr(pattern)) == 1 {
		return subst
	}
	star := bytes.IndexByte(cstr(pattern), '*')
	if star < 0 {
		return nil
	}
	keyEnd, field := len(pattern), []byte(nil)
	if f := bytes.Index(cstr(pattern[star+1:]), []byte("->")); f >= 0 {
		f += star + 1
		if f+2 < len(pattern) && pattern[f+2] != 0 {
			keyEnd, field = f, pattern[f+2:]
		}
	}
	key := make([]byte, 0, keyEnd+len(subst))
	key = append(append(append(key, pattern[:star]...), subst...), pattern[star+1:keyEnd]...)
	e := db.GetRead(key, now)
	if e == nil {
		return nil
	}
	db.Touch(e, now)
	switch {
	case field != nil && e.Kind() == keyspace.KindHash:
		if v, ok := e.Object().(*keyspace.Hash).Get(field, now); ok {
			return []byte(v)
		}
	case field == nil && e.Kind() == keyspace.KindString:
		return own(e.Bytes())
	}
	return nil
}

// runSort is sortCommandGeneric from the key's lookup on. It returns the
// reply's elements (nil for a GET that found nothing); they may be the
// keyspace's own bytes, valid while the caller holds the lock. script is
// Redis's CLIENT_SCRIPT: with it (or STORE) a set sorted BY a constant is
// sorted lexicographically, so the result does not depend on its order.
func runSort(db *keyspace.DB, now int64, key []byte, sp *sortSpec, script bool) ([][]byte, error) {
	e := db.GetRead(key, now)
	if e != nil {
		switch e.Kind() {
		case keyspace.KindList, keyspace.KindSet, keyspace.KindZSet:
			db.Touch(e, now)
		default:
			return nil, errWrongType
		}
	}
	kind := keyspace.KindList
	if e != nil {
		kind = e.Kind()
	}
	dontsort, alpha, by := sp.dontsort, sp.alpha, sp.by
	if dontsort && kind == keyspace.KindSet && (sp.store != nil || script) {
		dontsort, alpha, by = false, true, nil
	}
	n := 0
	if e != nil {
		n = e.Object().Len()
	}
	start := min(max(sp.start, 0), int64(n))
	count := min(max(sp.count, -1), int64(n))
	end := int64(n) - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= int64(n) {
		start, end = int64(n)-1, int64(n)-2
	}
	end = min(end, int64(n)-1)

	var vec []sortItem
	direct := dontsort && (kind == keyspace.KindList || kind == keyspace.KindZSet)
	if direct {
		// The list's or sorted set's own order, reversed by DESC, only
		// the range LIMIT asks for.
		vec, start, end = loadRange(e, int(start), int(end), n, sp.desc), 0, end-start
	} else if e != nil {
		vec = loadAll(e)
	}

	if !dontsort {
		bad := false
		for i := range vec {
			byval := vec[i].obj
			if by != nil {
				if byval = lookupByPattern(db, now, by, vec[i].obj); byval == nil {
					continue
				}
			}
			if alpha {
				if by != nil {
					vec[i].cmp = byval
				}
				continue
			}
			f, ok, _, erange := strtod(cstr(byval))
			vec[i].score = f
			if !ok || erange || math.IsNaN(f) || inexactSubnormal(cstr(byval), f) {
				bad = true
			}
		}
		s := &sorter{desc: sp.desc, alpha: alpha, byPattern: by != nil, store: sp.store != nil}
		if by != nil && (start != 0 || end != int64(len(vec))-1) {
			pqsort(vec, s.compare, int(start), int(end))
		} else {
			slices.SortStableFunc(vec, func(a, b sortItem) int { return s.compare(&a, &b) })
		}
		if bad {
			return nil, errSortScores
		}
	}

	var out [][]byte
	for j := start; j <= end; j++ {
		if len(sp.gets) == 0 {
			out = append(out, vec[j].obj)
			continue
		}
		for _, g := range sp.gets {
			out = append(out, lookupByPattern(db, now, g, vec[j].obj))
		}
	}
	return out, nil
}

// loadRange loads elements [start, end] of a list or sorted set in its
// order (from the other end with desc): Redis's direct load for dontsort.
func loadRange(e *keyspace.Entry, start, end, n int, desc bool) []sortItem {
	if end < start {
		return nil
	}
	from := start
	if desc {
		from = n - start - 1
	}
	vec := make([]sortItem, 0, end-start+1)
	switch o := e.Object().(type) {
	case *keyspace.List:
		it := o.Iter(from, desc)
		for len(vec) < cap(vec) {
			m, ok := it.Next()
			if !ok {
				break
			}
			vec = append(vec, sortItem{obj: own(m)})
		}
	case *keyspace.ZSet:
		o.Range(start, desc, func(m []byte, _ float64) bool {
			vec = append(vec, sortItem{obj: own(m)})
			return len(vec) < cap(vec)
		})
	}
	return vec
}

// loadAll loads every element: a list's in order, a set's in its
// iteration order, a sorted set's by rank (Redis walks its dict; only
// ties of ALPHA BY can tell).
func loadAll(e *keyspace.Entry) []sortItem {
	vec := make([]sortItem, 0, e.Object().Len())
	switch o := e.Object().(type) {
	case *keyspace.List:
		it := o.Iter(0, false)
		for m, ok := it.Next(); ok; m, ok = it.Next() {
			vec = append(vec, sortItem{obj: own(m)})
		}
	case *keyspace.Set:
		o.Each(func(m []byte) bool {
			vec = append(vec, sortItem{obj: own(m)})
			return true
		})
	case *keyspace.ZSet:
		o.Range(0, false, func(m []byte, _ float64) bool {
			vec = append(vec, sortItem{obj: own(m)})
			return true
		})
	}
	return vec
}

// inexactSubnormal reports the rest of glibc strtod's ERANGE, which
// sort.c checks: a subnormal result that is not the number written
// ("1e-310"; "0x1p-1074" is exact).
func inexactSubnormal(b []byte, f float64) bool {
	if f == 0 || math.Abs(f) >= 0x1p-1022 {
		return false
	}
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	if u := strings.ToLower(strings.TrimLeft(s, "+-")); strings.HasPrefix(u, "0x") {
		x, _, err := big.ParseFloat(s, 0, uint(4*len(s)+64), big.ToNearestEven)
		return err != nil || x.Cmp(big.NewFloat(f)) != 0
	}
	x, ok := new(big.Rat).SetString(s)
	return !ok || x.Cmp(new(big.Rat).SetFloat64(f)) != 0
}

// own copies an element: a set's or sorted set's bytes last only for
// the call that gives them, and an empty element must not read as the
// nil of a missing GET.
func own(m []byte) []byte { return append([]byte{}, m...) }

// pqsort is Redis's pqsort (Bentley and McIlroy's quicksort, skipping
// the partitions that hold nothing of [lo, hi]), ported so that the
// order of ties under BY with LIMIT (and of geo searches with COUNT) is
// Redis's.
func pqsort[T any](a []T, cmp func(a, b *T) int, lo, hi int) {
	pqsortRange(a, 0, len(a), cmp, lo, hi)
}

func pqsortRange[T any](v []T, a, n int, cmp func(a, b *T) int, lo, hi int) {
	c := func(i, j int) int { return cmp(&v[i], &v[j]) }
	swap := func(i, j int) { v[i], v[j] = v[j], v[i] }
	vecswap := func(i, j, k int) {
		for ; k > 0; i, j, k = i+1, j+1, k-1 {
			swap(i, j)
		}
	}
	med3 := func(x, y, z int) int {
		if c(x, y) < 0 {
			if c(y, z) < 0 {
				return y
			}
			if c(x, z) < 0 {
				return z
			}
			return x
		}
		if c(y, z) > 0 {
			return y
		}
		if c(x, z) < 0 {
			return x
		}
		return z
	}
	for {
		if n < 7 {
			for pm := a + 1; pm < a+n; pm++ {
				for pl := pm; pl > a && c(pl-1, pl) > 0; pl-- {
					swap(pl, pl-1)
				}
			}
			return
		}
		pm := a + n/2
		if n > 7 {
			pl, pn := a, a+n-1
			if n > 40 {
				d := n / 8
				pl = med3(pl, pl+d, pl+2*d)
				pm = med3(pm-d, pm, pm+d)
				pn = med3(pn-2*d, pn-d, pn)
			}
			pm = med3(pl, pm, pn)
		}
		swap(a, pm)
		pa, pb := a+1, a+1
		pc, pd := a+n-1, a+n-1
		for {
			for pb <= pc {
				r := c(pb, a)
				if r > 0 {
					break
				}
				if r == 0 {
					swap(pa, pb)
					pa++
				}
				pb++
			}
			for pb <= pc {
				r := c(pc, a)
				if r < 0 {
					break
				}
				if r == 0 {
					swap(pc, pd)
					pd--
				}
				pc--
			}
			if pb > pc {
				break
			}
			swap(pb, pc)
			pb++
			pc--
		}
		pn := a + n
		r := min(pa-a, pb-pa)
		vecswap(a, pb-r, r)
		r = min(pd-pc, pn-pd-1)
		vecswap(pb, pn-r, r)
		// outside reports whether [from, from+k) holds nothing of [lo, hi].
		outside := func(from, k int) bool {
			last := from + k - 1
			return lo < from && hi < from || lo > last && hi > last
		}
		if r = pb - pa; r > 1 && !outside(a, r) {
			pqsortRange(v, a, r, cmp, lo, hi)
		}
		if r = pd - pc; r > 1 {
			a, n = pn-r, r
			if !outside(a, n) {
				continue
			}
		}
		return
	}
}
