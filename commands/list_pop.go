package commands

// Popping from lists: LPOP, RPOP and LMPOP propose one ListPop op, whose
// result is a listPop. The blocking pops (BLPOP, BRPOP, BLMPOP) propose
// the same op once a list has elements and write their own reply from
// the listPop's Key and Elems.

import (
	"math"
	"slices"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

// listPop is a ListPop op's result: the key popped from and its
// elements in the order they were popped. Elems is nil when nothing was
// popped (no key held a list) and empty for a count of 0. Shape is the
// reply the op asked for (op.PopOne, op.PopCount, op.PopKeyed), which
// writeResult writes.
type listPop struct {
	Key   []byte
	Elems [][]byte
	Shape uint32
}

// Size is the memory the result holds, for the replies kept by request id.
func (p listPop) Size() int {
	n := 48 + len(p.Key)
	for _, e := range p.Elems {
		n += 24 + len(e)
	}
	return n
}

// writeListPop writes p in the shape its op asked for.
func writeListPop(w *resp.Writer, p listPop) {
	switch p.Shape {
	case op.PopOne:
		if len(p.Elems) == 0 {
			w.Null()
			return
		}
		w.Bulk(p.Elems[0])
	case op.PopCount:
		if p.Elems == nil {
			w.NullArray()
			return
		}
		writeElems(w, p.Elems)
	case op.PopKeyed:
		writeLMPop(w, p)
	case op.PopPair:
		if p.Elems == nil {
			w.NullArray()
			return
		}
		w.Array(2)
		w.Bulk(p.Key)
		w.Bulk(p.Elems[0])
	default:
		w.Error(errBadOp.Error())
	}
}

// writeLMPop writes LMPOP's (and BLMPOP's) reply: the key and the array
// of elements, or a null array when nothing was popped.
func writeLMPop(w *resp.Writer, p listPop) {
	if p.Elems == nil {
		w.NullArray()
		return
	}
	w.Array(2)
	w.Bulk(p.Key)
	writeElems(w, p.Elems)
}

func writeElems(w *resp.Writer, elems [][]byte) {
	w.Array(len(elems))
	for _, e := range elems {
		w.Bulk(e)
	}
}

// applyListPop pops from the first key of Args that holds a list, as
// Redis's mpopGenericCommand: a key of another kind met before one with
// elements is WRONGTYPE.
func applyListPop(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	res := listPop{Shape: o.Flags & op.PopShapeMask}
	tail := o.Flags&op.FlagRight != 0
	for _, key := range o.Args {
		e := db.GetForWrite(key, o.Now)
		switch {
		case e == nil:
			continue
		case e.Kind() != keyspace.KindList:
			return errWrongType
		}
		res.Key = slices.Clone(key)
		if o.Int <= 0 {
			res.Elems = [][]byte{} // a count of 0 changes nothing
			return res
		}
		fill := ks.EncodingLimits().ListMaxListpackSize
		db.Update(key, o.Now, keyspace.KindList, nil, func(obj keyspace.Object) {
			l := obj.(*keyspace.List)
			if o.Int == 1 {
				res.Elems = [][]byte{l.Pop(tail)}
				return
			}
			res.Elems = l.PopN(int(min(o.Int, math.MaxInt32)), tail, fill)
		})
		db.Notify(keyspace.EventList, popEvent(tail), key)
		db.NotifyGone(key, o.Now)
		return res
	}
	return res
}

// cmdPop is LPOP and RPOP: one element, or an array with a count.
func cmdPop(c *Ctx) {
	if len(c.Args) > 3 {
		c.W.Error("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
		return
	}
	o := &op.Op{Type: op.ListPop, DB: c.S.DB, Args: c.Args[1:2], Int: 1, Flags: op.PopOne}
	if len(c.Args) == 3 {
		n, ok := parseInt(c.Args[2])
		if !ok || n < 0 {
			c.W.Error(errNotPositive.Error())
			return
		}
		o.Int, o.Flags = n, op.PopCount
	}
	if c.atTail() {
		o.Flags |= op.FlagRight
	}
	c.propose(o)
}

// cmdLMPop parses as Redis's lmpopGenericCommand: numkeys, the keys,
// LEFT or RIGHT, and COUNT at most once.
func cmdLMPop(c *Ctx) {
	o, err := parseMPop(c.Args, 1)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	o.DB = c.S.DB
	c.propose(o)
}

// parseMPop parses the arguments of LMPOP (numkeys at args[at]) into
// its ListPop op; BLMPOP's numkeys is one further on.
func parseMPop(args [][]byte, at int) (*op.Op, error) {
	keys, flags, count, err := parseMPopArgs(args, at, func(a []byte) (uint32, bool) {
		right, ok := side(a)
		if right {
			return op.FlagRight, ok
		}
		return 0, ok
	})
	if err != nil {
		return nil, err
	}
	return &op.Op{Type: op.ListPop, Args: keys, Int: count, Flags: op.PopKeyed | flags}, nil
}

// parseMPopArgs parses what LMPOP and ZMPOP share, as Redis's
// lmpopGenericCommand and zmpopGenericCommand: numkeys at args[at], the
// keys, the end to pop from (where turns it into the op's flags), and
// COUNT at most once (1 without it).
func parseMPopArgs(args [][]byte, at int, where func([]byte) (uint32, bool)) (keys [][]byte, flags uint32, count int64, err error) {
	numkeys, ok := parseInt(args[at])
	if !ok || numkeys <= 0 {
		return nil, 0, 0, errNumKeys
	}
	if numkeys >= int64(len(args)-at-1) {
		return nil, 0, 0, errSyntax
	}
	w := at + 1 + int(numkeys)
	if flags, ok = where(args[w]); !ok {
		return nil, 0, 0, errSyntax
	}
	count = -1
	for j := w + 1; j < len(args); j++ {
		if count != -1 || !eq(args[j], "COUNT") || j+1 == len(args) {
			return nil, 0, 0, errSyntax
		}
		j++
		n, ok := parseInt(args[j])
		if !ok || n <= 0 {
			return nil, 0, 0, errMPopCount
		}
		count = n
	}
	return args[at+1 : w], flags, max(count, 1), nil
}

// popEvent and pushEvent name a list's events by its end.
func popEvent(tail bool) string {
	if tail {
		return "rpop"
	}
	return "lpop"
}

func pushEvent(tail bool) string {
	if tail {
		return "rpush"
	}
	return "lpush"
}
