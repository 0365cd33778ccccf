package commands

// The sets family's appliers and the set algebra they share with the
// reads (SINTER, SUNION, SDIFF and their *STORE forms).

import (
	"slices"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// setReply is an applier's result written as a set (an array in RESP2).
type setReply [][]byte

func newSet() keyspace.Object { return keyspace.NewSet() }

func maxIntset(ks *keyspace.Store) int64 { return ks.EncodingLimits().SetMaxIntsetEntries }

// existingSet returns key's set for an applier (nil if absent), or
// WRONGTYPE. Appliers look first so that a write that changes nothing
// leaves the key's version alone, as Redis signals no change then (a
// WATCH on it still holds).
func existingSet(db *keyspace.DB, key []byte, now int64) (*keyspace.Set, error) {
	e := db.GetForWrite(key, now)
	switch {
	case e == nil:
		return nil, nil
	case e.Kind() != keyspace.KindSet:
		return nil, errWrongType
	}
	return e.Object().(*keyspace.Set), nil
}

// hasAny reports whether s holds any of ms (all of them, if all).
func hasAny(s *keyspace.Set, ms [][]byte, all bool) bool {
	for _, m := range ms {
		if s.Has(m) != all {
			return !all
		}
	}
	return all
}

func applySAdd(ks *keyspace.Store, o *op.Op) any {
	s, err := existingSet(ks.DB(o.DB), o.Args[0], o.Now)
	switch {
	case err != nil:
		return err
	case s != nil && hasAny(s, o.Args[1:], true):
		return int64(0)
	}
	lim := maxIntset(ks)
	var added int64
	_, err = ks.DB(o.DB).Update(o.Args[0], o.Now, keyspace.KindSet, newSet, func(obj keyspace.Object) {
		s := obj.(*keyspace.Set)
		for _, m := range o.Args[1:] {
			if s.Add(m, lim) {
				added++
			}
		}
	})
	if err != nil {
		return err
	}
	if added > 0 {
		ks.DB(o.DB).Notify(keyspace.EventSet, "sadd", o.Args[0])
	}
	return added
}

func applySRem(ks *keyspace.Store, o *op.Op) any {
	s, err := existingSet(ks.DB(o.DB), o.Args[0], o.Now)
	switch {
	case err != nil:
		return err
	case s == nil || !hasAny(s, o.Args[1:], false):
		return int64(0)
	}
	var removed int64
	_, err = ks.DB(o.DB).Update(o.Args[0], o.Now, keyspace.KindSet, nil, func(obj keyspace.Object) {
		s := obj.(*keyspace.Set)
		for _, m := range o.Args[1:] {
			if s.Remove(m) {
				removed++
			}
		}
	})
	if err != nil {
		return err
	}
	if removed > 0 {
		db := ks.DB(o.DB)
		db.Notify(keyspace.EventSet, "srem", o.Args[0])
		db.NotifyGone(o.Args[0], o.Now)
	}
	return removed
}

// applySPop removes the members the handler chose that are still there
// (all of them under FlagAll) and replies those it removed, so the reply
// is right even if the set changed between the choice and the apply.
func applySPop(ks *keyspace.Store, o *op.Op) any {
	s, err := existingSet(ks.DB(o.DB), o.Args[0], o.Now)
	if err == nil && (s == nil || o.Flags&op.FlagAll == 0 && !hasAny(s, o.Args[1:], false)) {
		if o.Flags&op.FlagCount != 0 {
			return setReply{}
		}
		return nil
	}
	var popped [][]byte
	_, err = ks.DB(o.DB).Update(o.Args[0], o.Now, keyspace.KindSet, nil, func(obj keyspace.Object) {
		s := obj.(*keyspace.Set)
		want := o.Args[1:]
		if o.Flags&op.FlagAll != 0 {
			want = s.Members()
		}
		for _, m := range want {
			if s.Remove(m) {
				popped = append(popped, slices.Clone(m))
			}
		}
	})
	if len(popped) > 0 {
		db := ks.DB(o.DB)
		db.Notify(keyspace.EventSet, "spop", o.Args[0])
		db.NotifyGone(o.Args[0], o.Now)
	}
	switch {
	case err != nil:
		return err
	case o.Flags&op.FlagCount != 0:
		return setReply(popped)
	case len(popped) == 0:
		return nil
	}
	return popped[0]
}

// applySMove follows Redis's smoveCommand: a missing source is 0 before
// any type check, a member moved to its own set is only looked up.
func applySMove(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	src, dst, m := o.Args[0], o.Args[1], o.Args[2]
	se, de := db.GetForWrite(src, o.Now), db.GetForWrite(dst, o.Now)
	switch {
	case se == nil:
		return int64(0)
	case se.Kind() != keyspace.KindSet || de != nil && de.Kind() != keyspace.KindSet:
		return errWrongType
	case string(src) == string(dst):
		return boolInt(se.Object().(*keyspace.Set).Has(m))
	}
	dstHas := de != nil && de.Object().(*keyspace.Set).Has(m)
	removed := false
	db.Update(src, o.Now, keyspace.KindSet, nil, func(obj keyspace.Object) {
		removed = obj.(*keyspace.Set).Remove(m)
	})
	if !removed {
		return int64(0)
	}
	db.Notify(keyspace.EventSet, "srem", src)
	db.NotifyGone(src, o.Now)
	if dstHas {
		return int64(1) // dst unchanged: its version stays
	}
	lim := maxIntset(ks)
	db.Update(dst, o.Now, keyspace.KindSet, newSet, func(obj keyspace.Object) {
		obj.(*keyspace.Set).Add(m, lim)
	})
	db.Notify(keyspace.EventSet, "sadd", dst)
	return int64(1)
}

// applySStore computes SINTERSTORE, SUNIONSTORE or SDIFFSTORE from the
// sources as they are at apply time: deterministic, and the op small.
func applySStore(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	sets, err := loadSets(db, o.Now, o.Args[1:], nil)
	if err != nil {
		return err
	}
	var res *keyspace.Set
	switch o.Int {
	case op.SetInter:
		res = keyspace.NewSet()
		lim := maxIntset(ks)
		for _, m := range setInter(sets, 0) {
			res.Add(m, lim)
		}
	case op.SetUnion, op.SetDiff:
		res = setUnionDiff(sets, o.Int == op.SetDiff, maxIntset(ks))
	default:
		return errBadOp
	}
	if res.Len() == 0 {
		storeEmpty(db, o.Args[0], o.Now)
		return int64(0)
	}
	db.Set(o.Args[0], keyspace.ObjectValue(res), 0)
	db.Notify(keyspace.EventSet, sstoreEvents[o.Int], o.Args[0])
	return int64(res.Len())
}

// loadSets looks every key up as Redis's set algebra does: any key of
// another kind is WRONGTYPE, whatever the others hold; an absent key is a
// nil set. touch, if not nil, records each access.
func loadSets(db *keyspace.DB, now int64, keys [][]byte, touch func(*keyspace.Entry)) ([]*keyspace.Set, error) {
	sets := make([]*keyspace.Set, len(keys))
	for i, k := range keys {
		e, err := db.Lookup(k, now, keyspace.KindSet)
		if err != nil {
			return nil, err
		}
		if e != nil {
			if touch != nil {
				touch(e)
			}
			sets[i] = e.Object().(*keyspace.Set)
		}
	}
	return sets, nil
}

// setInter returns the members of the intersection, in the order of the
// smallest set (as Redis replies SINTER), at most limit of them (0: no
// limit). The members are the sets' own bytes: use them under the lock.
func setInter(sets []*keyspace.Set, limit int) [][]byte {
	for _, s := range sets {
		if s == nil {
			return nil
		}
	}
	order := slices.Clone(sets)
	slices.SortStableFunc(order, func(a, b *keyspace.Set) int { return a.Len() - b.Len() })
	var out [][]byte
	order[0].Each(func(m []byte) bool {
		for _, s := range order[1:] {
			if !s.Has(m) {
				return true
			}
		}
		out = append(out, slices.Clone(m))
		return limit == 0 || len(out) < limit
	})
	return out
}

// setUnionDiff builds SUNION's or SDIFF's result as Redis does, adding to
// a new intset, so the result's encoding (and an intset's order) are
// Redis's.
func setUnionDiff(sets []*keyspace.Set, diff bool, lim int64) *keyspace.Set {
	res := keyspace.NewSet()
	if diff {
		if sets[0] != nil {
			sets[0].Each(func(m []byte) bool {
				for _, s := range sets[1:] {
					if s != nil && s.Has(m) {
						return true
					}
				}
				res.Add(m, lim)
				return true
			})
		}
		return res
	}
	for _, s := range sets {
		if s != nil {
			s.Each(func(m []byte) bool { res.Add(m, lim); return true })
		}
	}
	return res
}

// sstoreEvents name the events of SINTERSTORE, SUNIONSTORE, SDIFFSTORE.
var sstoreEvents = map[int64]string{op.SetInter: "sinterstore", op.SetUnion: "sunionstore", op.SetDiff: "sdiffstore"}
