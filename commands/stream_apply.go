package commands

// The stream writes of stage one: XADD XTRIM XDEL XSETID. Each handler
// checks the arguments as Redis does and proposes one op; its applier
// decides from the stream as it is when applied (ids generated from the
// op's clock, an explicit id checked against the last id).

import (
	"errors"
	"strconv"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

var (
	errStreamID          = errors.New("ERR Invalid stream ID specified as stream command argument")
	errXAddZero          = errors.New("ERR The ID specified in XADD must be greater than 0-0")
	errTrimBoth          = errors.New("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
	errMaxLenNegative    = errors.New("ERR The MAXLEN argument must be >= 0.")
	errLimitNegative     = errors.New("ERR The LIMIT argument must be >= 0.")
	errLimitNoStrategy   = errors.New("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
	errXTrimNoStrategy   = errors.New("ERR syntax error, XTRIM must be called with a trimming strategy")
	errLimitNoApprox     = errors.New("ERR syntax error, LIMIT cannot be used without the special ~ option")
	errXSetIDSmaller     = errors.New("ERR The ID specified in XSETID is smaller than the target stream top item")
	errXSetIDEntries     = errors.New("ERR The entries_added specified in XSETID is smaller than the target stream length")
	errXSetIDMaxDeleted  = errors.New("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
	errEntriesAddedNeg   = errors.New("ERR entries_added must be positive")
	errWrongArgsXAddBase = "ERR wrong number of arguments for 'xadd' command"
)

func newStream() keyspace.Object { return keyspace.NewStream() }

// writableStream returns key's stream for an applier (nil if absent);
// WRONGTYPE for another kind.
func writableStream(db *keyspace.DB, key []byte, now int64) (*keyspace.Stream, error) {
	return streamAt(db, key, now, true)
}

// streamAt is key's stream (nil if absent); WRONGTYPE for another kind.
// write: an applier's lookup, which deletes an expired key; a read's
// changes nothing.
func streamAt(db *keyspace.DB, key []byte, now int64, write bool) (*keyspace.Stream, error) {
	var e *keyspace.Entry
	if write {
		e = db.GetForWrite(key, now)
	} else {
		e = db.Get(key, now)
	}
	if e == nil {
		return nil, nil
	}
	s, ok := e.Object().(*keyspace.Stream)
	if !ok {
		return nil, errWrongType
	}
	return s, nil
}

// parseStrictID parses an id argument that may not be "-" or "+".
func parseStrictID(b []byte) (keyspace.StreamID, bool) {
	id, _, ok := keyspace.ParseStreamID(b, 0, true, false)
	return id, ok
}

// trimSpec is the trimming part of XADD and XTRIM as parsed.
type trimSpec struct {
	flags            uint32 // op.XTrim*
	threshold, limit []byte // as the op carries them
}

// parseAddOrTrim parses from Args[2] as Redis's
// streamParseAddOrTrimArgsOrReply; for XADD it returns the index of the
// id, and whether NOMKSTREAM was given.
func parseAddOrTrim(args [][]byte, xadd bool) (t trimSpec, idPos int, noMk bool, err error) {
	limitGiven := false
	var limit int64
	i := 2
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		opt := args[i]
		switch {
		case xadd && string(opt) == "*":
			idPos = i
			goto done
		case eq(opt, "MAXLEN") && more > 0, eq(opt, "MINID") && more > 0:
			if t.flags&(op.XTrimMaxLen|op.XTrimMinID) != 0 {
				return t, 0, false, errTrimBoth
			}
			t.flags &^= op.XTrimApprox
			if more >= 2 && string(args[i+1]) == "~" {
				t.flags |= op.XTrimApprox
				i++
			} else if more >= 2 && string(args[i+1]) == "=" {
				i++
			}
			if eq(opt, "MAXLEN") {
				n, ok := parseInt(args[i+1])
				if !ok {
					return t, 0, false, errNotInt
				}
				if n < 0 {
					return t, 0, false, errMaxLenNegative
				}
				t.flags |= op.XTrimMaxLen
				t.threshold = strconv.AppendInt(nil, n, 10)
			} else {
				id, ok := parseStrictID(args[i+1])
				if !ok {
					return t, 0, false, errStreamID
				}
				t.flags |= op.XTrimMinID
				t.threshold = id.Append(nil)
			}
			i++
		case eq(opt, "LIMIT") && more > 0:
			n, ok := parseInt(args[i+1])
			if !ok {
				return t, 0, false, errNotInt
			}
			if n < 0 {
				return t, 0, false, errLimitNegative
			}
			limit, limitGiven = n, true
			i++
		case xadd && eq(opt, "NOMKSTREAM"):
			noMk = true
		case xadd:
			id, seqGiven, ok := keyspace.ParseStreamID(opt, 0, true, true)
			if !ok {
				return t, 0, false, errStreamID
			}
			if seqGiven && id.IsZero() {
				// Checked after the arity below, as Redis does.
				idPos = -i
			} else {
				idPos = i
			}
			goto done
		default:
			return t, 0, false, errSyntax
		}
	}
done:
	strategy := t.flags&(op.XTrimMaxLen|op.XTrimMinID) != 0
	if limit != 0 && !strategy {
		return t, 0, false, errLimitNoStrategy
	}
	if !xadd && !strategy {
		return t, 0, false, errXTrimNoStrategy
	}
	if limitGiven {
		if t.flags&op.XTrimApprox == 0 {
			return t, 0, false, errLimitNoApprox
		}
		t.limit = strconv.AppendInt(nil, limit, 10)
	}
	return t, idPos, noMk, nil
}

func cmdXAdd(c *Ctx) {
	t, idPos, noMk, err := parseAddOrTrim(c.Args, true)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	zero := idPos < 0
	idPos = max(idPos, -idPos)
	if idPos == 0 || (len(c.Args)-idPos-1) < 2 || (len(c.Args)-idPos-1)%2 == 1 {
		c.W.Error(errWrongArgsXAddBase)
		return
	}
	if zero {
		c.W.Error(errXAddZero.Error())
		return
	}
	flags := t.flags
	if noMk {
		flags |= op.XNoMkStream
	}
	args := make([][]byte, 0, len(c.Args)-idPos+3)
	args = append(args, c.Args[1], c.Args[idPos], t.threshold, t.limit)
	args = append(args, c.Args[idPos+1:]...)
	c.propose(&op.Op{Type: op.XAdd, DB: c.S.DB, Flags: flags, Int: nodeLimits(c), Args: args})
}

// nodeLimits packs this node's stream-node-max-bytes and -entries into an
// op's Int: where a block ends decides what "~" trims, so every node cuts
// blocks by the limits of the node that proposed the op, not its own.
func nodeLimits(c *Ctx) int64 {
	ks := c.Node.Store()
	ks.RLock()
	l := ks.EncodingLimits()
	ks.RUnlock()
	return min(max(l.StreamNodeMaxBytes, 0), 1<<31)<<32 | min(max(l.StreamNodeMaxEntries, 0), 1<<31-1)
}

// opLimits are the applying node's encoding limits with the stream limits
// the op carries (nodeLimits).
func opLimits(ks *keyspace.Store, o *op.Op) keyspace.EncodingLimits {
	l := ks.EncodingLimits()
	l.StreamNodeMaxBytes, l.StreamNodeMaxEntries = int64(uint64(o.Int)>>32), o.Int&(1<<32-1)
	return l
}

// trimArgs turns an op's trimming fields into the keyspace's; limits are
// the applying node's.
func trimArgs(flags uint32, threshold, limit []byte, lim keyspace.EncodingLimits) (keyspace.TrimArgs, bool) {
	a := keyspace.TrimArgs{MinID: flags&op.XTrimMinID != 0, Approx: flags&op.XTrimApprox != 0}
	var ok bool
	if a.MinID {
		a.Min, ok = parseStrictID(threshold)
	} else {
		a.MaxLen, ok = parseInt(threshold)
	}
	switch {
	case !ok:
		return a, false
	case len(limit) > 0:
		a.Limit, ok = parseInt(limit)
	case a.Approx:
		a.Limit = 100 * lim.StreamNodeMaxEntries
		if a.Limit <= 0 {
			a.Limit = 10000
		}
		a.Limit = min(a.Limit, 1000000)
	}
	return a, ok
}

func applyXAdd(ks *keyspace.Store, o *op.Op) any {
	key := o.Args[0]
	db := ks.DB(o.DB)
	s, err := writableStream(db, key, o.Now)
	if err != nil {
		return err
	}
	if s == nil && o.Flags&op.XNoMkStream != 0 {
		return nil
	}
	lim := opLimits(ks, o)
	trim := o.Flags&(op.XTrimMaxLen|op.XTrimMinID) != 0
	var ta keyspace.TrimArgs
	if trim {
		var ok bool
		if ta, ok = trimArgs(o.Flags, o.Args[2], o.Args[3], lim); !ok {
			return errBadOp
		}
	}
	explicit := string(o.Args[1]) != "*"
	var given keyspace.StreamID
	seqGiven := true
	if explicit {
		var ok bool
		if given, seqGiven, ok = keyspace.ParseStreamID(o.Args[1], 0, true, true); !ok {
			return errBadOp
		}
	}
	cur := s
	if cur == nil {
		cur = keyspace.NewStream()
	}
	id, err := cur.NextID(o.Now, explicit, given, seqGiven)
	if err != nil {
		return err
	}
	var trimmed int64
	db.Update(key, o.Now, keyspace.KindStream, newStream, func(obj keyspace.Object) {
		st := obj.(*keyspace.Stream)
		if err = st.Add(id, o.Args[4:], lim); err == nil && trim {
			trimmed = st.Trim(ta)
		}
	})
	if err != nil {
		return err
	}
	db.Notify(keyspace.EventStream, "xadd", key)
	if trimmed > 0 {
		db.Notify(keyspace.EventStream, "xtrim", key)
	}
	return id.Append(nil)
}

func cmdXTrim(c *Ctx) {
	t, _, _, err := parseAddOrTrim(c.Args, false)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.propose(&op.Op{Type: op.XTrim, DB: c.S.DB, Flags: t.flags, Int: nodeLimits(c), Args: [][]byte{c.Args[1], t.threshold, t.limit}})
}

// existingStream is an applier's stream at Args[0], or (nil) the reply
// when there is none: 0, or WRONGTYPE.
func existingStream(db *keyspace.DB, o *op.Op) (*keyspace.Stream, any) {
	s, err := writableStream(db, o.Args[0], o.Now)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, int64(0)
	}
	return s, nil
}

func applyXTrim(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	s, res := existingStream(db, o)
	if s == nil {
		return res
	}
	ta, ok := trimArgs(o.Flags, o.Args[1], o.Args[2], opLimits(ks, o))
	if !ok {
		return errBadOp
	}
	if !s.WouldTrim(ta) {
		return int64(0) // nothing goes: the key's version stays
	}
	var n int64
	db.Update(o.Args[0], o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
		n = obj.(*keyspace.Stream).Trim(ta)
	})
	db.Notify(keyspace.EventStream, "xtrim", o.Args[0])
	return n
}

func cmdXDel(c *Ctx) {
	proposeWithIDs(c, op.XDel, 2, func(s *keyspace.Stream) bool { return s == nil })
}

// proposeWithIDs proposes t with the command's arguments once its ids
// from Args[from] on parse. Redis looks the key up before it judges them:
// with an invalid id, nothing to touch (absent) is 0, another kind
// WRONGTYPE, and only then the id's error.
func proposeWithIDs(c *Ctx, t op.Type, from int, absent func(s *keyspace.Stream) bool) {
	for _, a := range c.Args[from:] {
		if _, valid := parseStrictID(a); !valid {
			readStream(c, c.Args[1], func(s *keyspace.Stream) {
				if absent(s) {
					c.W.Int(0)
					return
				}
				c.W.Error(errStreamID.Error())
			})
			return
		}
	}
	c.propose(&op.Op{Type: t, DB: c.S.DB, Args: c.Args[1:]})
}

func applyXDel(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	s, res := existingStream(db, o)
	if s == nil {
		return res
	}
	ids := make([]keyspace.StreamID, 0, len(o.Args)-1)
	hit := false
	for _, a := range o.Args[1:] {
		id, ok := parseStrictID(a)
		if !ok {
			return errStreamID
		}
		ids = append(ids, id)
		if _, found := s.Get(id); found {
			hit = true
		}
	}
	if !hit {
		return int64(0)
	}
	var deleted int64
	db.Update(o.Args[0], o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
		st := obj.(*keyspace.Stream)
		first := st.FirstID()
		var maxDel keyspace.StreamID
		firstGone := false
		for _, id := range ids {
			if st.Delete(id) {
				deleted++
				firstGone = firstGone || id == first
				if maxDel.Less(id) {
					maxDel = id
				}
			}
		}
		st.NoteDeleted(maxDel, firstGone)
	})
	db.Notify(keyspace.EventStream, "xdel", o.Args[0])
	return deleted
}

func cmdXSetID(c *Ctx) {
	id, ok := parseStrictID(c.Args[2])
	if !ok {
		c.W.Error(errStreamID.Error())
		return
	}
	var added, maxDel []byte
	for i := 3; i < len(c.Args); i += 2 {
		more := len(c.Args) - 1 - i
		switch {
		case eq(c.Args[i], "ENTRIESADDED") && more > 0:
			n, ok := parseInt(c.Args[i+1])
			if !ok {
				c.W.Error(errNotInt.Error())
				return
			}
			if n < 0 {
				c.W.Error(errEntriesAddedNeg.Error())
				return
			}
			added = strconv.AppendInt(nil, n, 10)
		case eq(c.Args[i], "MAXDELETEDID") && more > 0:
			m, ok := parseStrictID(c.Args[i+1])
			if !ok {
				c.W.Error(errStreamID.Error())
				return
			}
			if id.Less(m) {
				c.W.Error(errXSetIDMaxDeleted.Error())
				return
			}
			maxDel = m.Append(nil)
		default:
			c.W.Error(errSyntax.Error())
			return
		}
	}
	c.propose(&op.Op{Type: op.XSetID, DB: c.S.DB, Args: [][]byte{c.Args[1], id.Append(nil), added, maxDel}})
}

func applyXSetID(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	s, err := writableStream(db, o.Args[0], o.Now)
	if err != nil {
		return err
	}
	if s == nil {
		return errNoSuchKey
	}
	id, valid := parseStrictID(o.Args[1])
	if !valid {
		return errBadOp
	}
	var added *uint64
	if len(o.Args[2]) > 0 {
		n, ok := parseInt(o.Args[2])
		if !ok || n < 0 {
			return errBadOp
		}
		u := uint64(n)
		added = &u
	}
	var maxDel *keyspace.StreamID
	if len(o.Args[3]) > 0 {
		m, ok := parseStrictID(o.Args[3])
		if !ok {
			return errBadOp
		}
		if !m.IsZero() {
			maxDel = &m
		}
	}
	if s.Len() > 0 {
		if id.Less(s.LastLive()) {
			return errXSetIDSmaller
		}
		if added != nil && uint64(s.Len()) > *added {
			return errXSetIDEntries
		}
	}
	db.Update(o.Args[0], o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
		obj.(*keyspace.Stream).SetID(id, added, maxDel)
	})
	db.Notify(keyspace.EventStream, "xsetid", o.Args[0])
	return ok
}
