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

// existingList returns key's list for an applier (nil if absent), or
// WRONGTYPE.
func existingList(db *keyspace.DB, key []byte, now int64) (*keyspace.List, error) {
	e := db.GetForWrite(key, now)
	switch {
	case e == nil:
		return nil, nil
	case e.Kind() != keyspace.KindList:
		return nil, errWrongType
	}
	return e.Object().(*keyspace.List), nil
}

// applyListPush is LPUSH, RPUSH, LPUSHX and RPUSHX.
func applyListPush(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	create := newList
	if o.Flags&op.FlagXX != 0 {
		create = nil
	}
	tail, fill := o.Flags&op.FlagRight != 0, listFill(ks)
	var n int
	if _, err := db.Update(o.Args[0], o.Now, keyspace.KindList, create, func(obj keyspace.Object) {
		l := obj.(*keyspace.List)
		for _, e := range o.Args[1:] {
			l.Push(e, tail, fill)
		}
		n = l.Len()
	}); err != nil {
		return err
	}
	return int64(n)
}

// applyLSet checks as Redis's lsetCommand, in its order: the key, its
// kind, the index.
func applyLSet(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	l, err := existingList(db, o.Args[0], o.Now)
	switch {
	case err != nil:
		return err
	case l == nil:
		return errNoSuchKey
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
	db.Update(o.Args[0], o.Now, keyspace.KindList, nil, func(obj keyspace.Object) {
		obj.(*keyspace.List).Set(idx, o.Args[2], fill)
	})
	return ok
}

func applyLInsert(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	l, err := existingList(db, o.Args[0], o.Now)
	switch {
	case err != nil:
		return err
	case l == nil:
		return int64(0)
	}
	p, found := l.Find(o.Args[1], false)
	if !found {
		return int64(-1)
	}
	after, fill := o.Flags&op.FlagRight != 0, listFill(ks)
	var n int
	db.Update(o.Args[0], o.Now, keyspace.KindList, nil, func(obj keyspace.Object) {
		l := obj.(*keyspace.List)
		l.Insert(p, o.Args[2], after, fill)
		n = l.Len()
	})
	return int64(n)
}

func applyLRem(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	l, err := existingList(db, o.Args[0], o.Now)
	switch {
	case err != nil:
		return err
	case l == nil:
		return int64(0)
	}
	if _, found := l.Find(o.Args[1], o.Int < 0); !found {
		return int64(0)
	}
	fill := listFill(ks)
	var n int
	db.Update(o.Args[0], o.Now, keyspace.KindList, nil, func(obj keyspace.Object) {
		n = obj.(*keyspace.List).Remove(o.Args[1], o.Int, fill)
	})
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
	_, err := ks.DB(o.DB).Update(o.Args[0], o.Now, keyspace.KindList, nil, func(obj keyspace.Object) {
		l := obj.(*keyspace.List)
		n := l.Len()
		from, count := listRange(start, stop, n)
		l.DelRange(from+count, n-from-count, fill)
		l.DelRange(0, from, fill)
	})
	if err != nil {
		return err
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
	if l, err := existingList(db, src, o.Now); l == nil {
		return err
	}
	if _, err := existingList(db, dst, o.Now); err != nil {
		return err
	}
	from, to, fill := o.Flags&op.FlagRight != 0, o.Flags&op.FlagToRight != 0, listFill(ks)
	var moved []byte
	if string(src) == string(dst) {
		db.Update(src, o.Now, keyspace.KindList, nil, func(obj keyspace.Object) {
			l := obj.(*keyspace.List)
			moved = l.Pop(from)
			l.Push(moved, to, fill)
		})
		return moved
	}
	db.Update(src, o.Now, keyspace.KindList, nil, func(obj keyspace.Object) {
		moved = obj.(*keyspace.List).Pop(from)
	})
	db.Update(dst, o.Now, keyspace.KindList, newList, func(obj keyspace.Object) {
		obj.(*keyspace.List).Push(moved, to, fill)
	})
	return moved
}
