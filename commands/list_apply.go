package commands

// The lists family's appliers but ListPop's (list_pop.go). Each looks
// the key up first, so a write that changes nothing (an error, a pivot
// not found, nothing to remove) leaves its version alone, as Redis
// signals no change then.

import (
	"errors"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

var (
	errIndexRange = errors.New("ERR index out of range")
	errMPopCount  = errors.New("ERR count should be greater than 0")
)

func newList() keyspace.Object { return keyspace.NewList() }

func listFill(ks *keyspace.Store) int64 { return ks.EncodingLimits().ListMaxListpackSize }

// listToChange returns key's list for an applier, or the result to give
// at once: WRONGTYPE, or missing when the key is absent.
func listToChange(db *keyspace.DB, key []byte, now int64, missing any) (*keyspace.List, any) {
	e := db.GetForWrite(key, now)
	switch {
	case e == nil:
		return nil, missing
	case e.Kind() != keyspace.KindList:
		return nil, errWrongType
	}
	return e.Object().(*keyspace.List), nil
}

// changeList runs fn on key's list inside DB.Update (an absent key gets
// create's list; create nil: fn is not run) and returns the list's length
// after it, or WRONGTYPE.
func changeList(db *keyspace.DB, key []byte, now int64, create func() keyspace.Object, fn func(l *keyspace.List)) any {
	var n int
	if _, err := db.Update(key, now, keyspace.KindList, create, func(obj keyspace.Object) {
		l := obj.(*keyspace.List)
		fn(l)
		n = l.Len()
	}); err != nil {
		return err
	}
	return int64(n)
}

// applyListPush is LPUSH, RPUSH, LPUSHX and RPUSHX.
func applyListPush(ks *keyspace.Store, o *op.Op) any {
	create := newList
	if o.Flags&op.FlagXX != 0 {
		create = nil // an absent key: fn does not run, the length is 0
	}
	tail, fill := o.Flags&op.FlagRight != 0, listFill(ks)
	db := ks.DB(o.DB)
	res := changeList(db, o.Args[0], o.Now, create, func(l *keyspace.List) {
		for _, e := range o.Args[1:] {
			l.Push(e, tail, fill)
		}
	})
	if n, pushed := res.(int64); pushed && n > 0 {
		db.Notify(keyspace.EventList, pushEvent(tail), o.Args[0])
	}
	return res
}

// applyLSet checks as Redis's lsetCommand, in its order: the key, its
// kind, the index.
func applyLSet(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	l, res := listToChange(db, o.Args[0], o.Now, errNoSuchKey)
	if l == nil {
		return res
	}
	i, isInt := parseInt(o.Args[1])
	if !isInt {
		return errNotInt
	}
	idx := clampIndex(i)
	if idx < 0 {
		idx += l.Len()
	}
	if idx < 0 || idx >= l.Len() {
		return errIndexRange
	}
	fill := listFill(ks)
	changeList(db, o.Args[0], o.Now, nil, func(l *keyspace.List) { l.Set(idx, o.Args[2], fill) })
	db.Notify(keyspace.EventList, "lset", o.Args[0])
	return ok
}

func applyLInsert(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	l, res := listToChange(db, o.Args[0], o.Now, int64(0))
	if l == nil {
		return res
	}
	p, found := l.Find(o.Args[1], false)
	if !found {
		return int64(-1)
	}
	after, fill := o.Flags&op.FlagRight != 0, listFill(ks)
	res = changeList(db, o.Args[0], o.Now, nil, func(l *keyspace.List) { l.Insert(p, o.Args[2], after, fill) })
	db.Notify(keyspace.EventList, "linsert", o.Args[0])
	return res
}

func applyLRem(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	l, res := listToChange(db, o.Args[0], o.Now, int64(0))
	if l == nil {
		return res
	}
	if _, found := l.Find(o.Args[1], o.Int < 0); !found {
		return int64(0)
	}
	fill := listFill(ks)
	var n int
	changeList(db, o.Args[0], o.Now, nil, func(l *keyspace.List) { n = l.Remove(o.Args[1], o.Int, fill) })
	db.Notify(keyspace.EventList, "lrem", o.Args[0])
	db.NotifyGone(o.Args[0], o.Now)
	return int64(n)
}

// applyLTrim changes the key even when nothing is trimmed, as Redis
// signals the key modified whatever LTRIM removed.
func applyLTrim(ks *keyspace.Store, o *op.Op) any {
	start, ok1 := parseInt(o.Args[1])
	stop, ok2 := parseInt(o.Args[2])
	if !ok1 || !ok2 {
		return errBadOp
	}
	fill := listFill(ks)
	db := ks.DB(o.DB)
	trimmed := false
	res := changeList(db, o.Args[0], o.Now, nil, func(l *keyspace.List) {
		trimmed = true
		n := l.Len()
		from, count := listRange(start, stop, n)
		l.DelRange(from+count, n-from-count, fill)
		l.DelRange(0, from, fill)
	})
	if err, isErr := res.(error); isErr {
		return err
	}
	if trimmed {
		db.Notify(keyspace.EventList, "ltrim", o.Args[0])
		db.NotifyGone(o.Args[0], o.Now)
	}
	return ok
}

// applyLMove moves one element as Redis's lmoveGenericCommand: a missing
// source is a null before the destination's kind is checked. A list
// moved onto itself is changed in one step, so it is never emptied (and
// deleted, losing its deadline) on the way.
func applyLMove(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	src, dst := o.Args[0], o.Args[1]
	if l, res := listToChange(db, src, o.Now, nil); l == nil {
		return res
	}
	if _, res := listToChange(db, dst, o.Now, nil); res != nil {
		return res
	}
	from, to, fill := o.Flags&op.FlagRight != 0, o.Flags&op.FlagToRight != 0, listFill(ks)
	var moved []byte
	if string(src) == string(dst) {
		changeList(db, src, o.Now, nil, func(l *keyspace.List) {
			moved = l.Pop(from)
			l.Push(moved, to, fill)
		})
		db.Notify(keyspace.EventList, pushEvent(to), dst)
		db.Notify(keyspace.EventList, popEvent(from), src)
		return moved
	}
	changeList(db, src, o.Now, nil, func(l *keyspace.List) { moved = l.Pop(from) })
	changeList(db, dst, o.Now, newList, func(l *keyspace.List) { l.Push(moved, to, fill) })
	// Redis's order: the push, then the pop and the source's deletion.
	db.Notify(keyspace.EventList, pushEvent(to), dst)
	db.Notify(keyspace.EventList, popEvent(from), src)
	db.NotifyGone(src, o.Now)
	return moved
}
