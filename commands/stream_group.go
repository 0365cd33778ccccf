package commands

// Consumer groups: XGROUP (its appliers check everything in Redis's
// order against the stream as it is when applied), XINFO GROUPS and
// CONSUMERS, and XINFO STREAM FULL's groups.

import (
	"errors"
	"math"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

var (
	errXGroupNoKey      = errors.New("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
	errBusyGroup        = errors.New("BUSYGROUP Consumer Group name already exists")
	errEntriesReadRange = errors.New("ERR value for ENTRIESREAD must be positive or -1")
)

// errNoGroupFor is XGROUP's and XINFO's NOGROUP reply.
func errNoGroupFor(group, key []byte) error {
	return errorf("NOGROUP No such consumer group '%s' for key name '%s'", cstr(group), cstr(key))
}

// errNoKeyOrGroup is the NOGROUP reply of XPENDING XCLAIM XAUTOCLAIM.
func errNoKeyOrGroup(key, group []byte) error {
	return errorf("NOGROUP No such key '%s' or consumer group '%s'", cstr(key), cstr(group))
}

var xgroupHelp = []string{
	"CREATE <key> <groupname> <id|$> [option]",
	"    Create a new consumer group. Options are:",
	"    * MKSTREAM",
	"      Create the empty stream if it does not exist.",
	"    * ENTRIESREAD entries_read",
	"      Set the group's entries_read counter (internal use).",
	"CREATECONSUMER <key> <groupname> <consumer>",
	"    Create a new consumer in the specified group.",
	"DELCONSUMER <key> <groupname> <consumer>",
	"    Remove the specified consumer.",
	"DESTROY <key> <groupname>",
	"    Remove the specified group.",
	"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
	"    Set the current group ID and entries_read counter.",
}

func cmdXGroupHelp(c *Ctx) { writeHelp(c, "XGROUP", xgroupHelp) }

// cmdXGroup proposes every XGROUP subcommand but HELP as it is: what it
// answers depends on the stream, so the applier decides.
func cmdXGroup(c *Ctx) {
	t := map[string]op.Type{"xgroup|create": op.XGroupCreate, "xgroup|setid": op.XGroupSetID,
		"xgroup|destroy": op.XGroupDestroy, "xgroup|createconsumer": op.XGroupCreateConsumer,
		"xgroup|delconsumer": op.XGroupDelConsumer}[c.Cmd.Name]
	c.propose(&op.Op{Type: t, DB: c.S.DB, Args: c.Args[2:]})
}

// xgroupSyntax is addReplySubcommandSyntaxError's reply for XGROUP sub.
func xgroupSyntax(sub string) error {
	return errorf("ERR unknown subcommand or wrong number of arguments for '%s'. Try XGROUP HELP.", sub)
}

// xgroupLookup is xgroupCommand's common part, for an applier of
// subcommand sub: the options of CREATE and SETID, the stream and the
// group. needGroup: SETID and the consumer subcommands require it.
func xgroupLookup(db *keyspace.DB, o *op.Op, sub string, needGroup bool) (s *keyspace.Stream, g *keyspace.StreamGroup, mk bool, entriesRead int64, err error) {
	entriesRead = keyspace.EntriesReadUnknown
	for i := 3; i < len(o.Args); i++ {
		switch a := o.Args[i]; {
		case sub == "CREATE" && eq(a, "MKSTREAM"):
			mk = true
		case (sub == "CREATE" || sub == "SETID") && eq(a, "ENTRIESREAD") && i+1 < len(o.Args):
			n, ok := parseInt(o.Args[i+1])
			if !ok {
				return nil, nil, false, 0, errNotInt
			}
			if n < 0 && n != keyspace.EntriesReadUnknown {
				return nil, nil, false, 0, errEntriesReadRange
			}
			entriesRead = n
			i++
		default:
			return nil, nil, false, 0, xgroupSyntax(sub)
		}
	}
	if s, err = writableStream(db, o.Args[0], o.Now); err != nil {
		return nil, nil, false, 0, err
	}
	if s != nil {
		g = s.Group(o.Args[1])
	}
	if !mk {
		if s == nil {
			return nil, nil, false, 0, errXGroupNoKey
		}
		if g == nil && needGroup {
			return nil, nil, false, 0, errNoGroupFor(o.Args[1], o.Args[0])
		}
	}
	return s, g, mk, entriesRead, nil
}

func applyXGroupCreate(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	s, _, _, entriesRead, err := xgroupLookup(db, o, "CREATE", false)
	if err != nil {
		return err
	}
	if len(o.Args) > 6 {
		return xgroupSyntax("CREATE")
	}
	var id keyspace.StreamID
	if string(o.Args[2]) == "$" {
		if s != nil {
			id = s.LastID()
		}
	} else if id, err = parseStrictIDErr(o.Args[2]); err != nil {
		return err
	}
	if s != nil && s.Group(o.Args[1]) != nil {
		return errBusyGroup
	}
	db.Update(o.Args[0], o.Now, keyspace.KindStream, newStream, func(obj keyspace.Object) {
		obj.(*keyspace.Stream).CreateGroup(o.Args[1], id, entriesRead)
	})
	db.Notify(keyspace.EventStream, "xgroup-create", o.Args[0])
	return ok
}

func parseStrictIDErr(b []byte) (keyspace.StreamID, error) {
	id, valid := parseStrictID(b)
	if !valid {
		return id, errStreamID
	}
	return id, nil
}

func applyXGroupSetID(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	s, _, _, entriesRead, err := xgroupLookup(db, o, "SETID", true)
	if err != nil {
		return err
	}
	if len(o.Args) != 3 && len(o.Args) != 5 {
		return xgroupSyntax("SETID")
	}
	id := s.LastID()
	if string(o.Args[2]) != "$" {
		var valid bool
		if id, _, valid = keyspace.ParseStreamID(o.Args[2], 0, false, false); !valid {
			return errStreamID
		}
	}
	updateGroup(db, o, "xgroup-setid", func(g *keyspace.StreamGroup) { g.LastID, g.EntriesRead = id, entriesRead })
	return ok
}

func applyXGroupDestroy(ks *keyspace.Store, o *op.Op) any {
	db := ks.DB(o.DB)
	_, g, _, _, err := xgroupLookup(db, o, "DESTROY", false)
	if err != nil {
		return err
	}
	if g == nil {
		return int64(0)
	}
	// The update signals the key: readers blocked on the group get
	// NOGROUP, as Redis unblocks them.
	db.Update(o.Args[0], o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
		obj.(*keyspace.Stream).DestroyGroup(o.Args[1])
	})
	db.Notify(keyspace.EventStream, "xgroup-destroy", o.Args[0])
	return int64(1)
}

// applyXGroupConsumer is CREATECONSUMER's applier (create) or
// DELCONSUMER's: 1 or 0 created, or the deleted consumer's pending count.
func applyXGroupConsumer(create bool) ApplyFunc {
	sub, event := "DELCONSUMER", "xgroup-delconsumer"
	if create {
		sub, event = "CREATECONSUMER", "xgroup-createconsumer"
	}
	return func(ks *keyspace.Store, o *op.Op) any {
		db := ks.DB(o.DB)
		_, g, _, _, err := xgroupLookup(db, o, sub, true)
		if err != nil {
			return err
		}
		if (g.Consumer(o.Args[2]) != nil) == create {
			return int64(0)
		}
		var res int64
		updateGroup(db, o, event, func(g *keyspace.StreamGroup) {
			if create {
				g.CreateConsumer(o.Args[2], o.Now)
				res = 1
				return
			}
			res = int64(g.DeleteConsumer(o.Args[2]))
		})
		return res
	}
}

// updateGroup runs fn on group Args[1] of stream Args[0], which exist,
// and emits event.
func updateGroup(db *keyspace.DB, o *op.Op, event string, fn func(g *keyspace.StreamGroup)) {
	db.Update(o.Args[0], o.Now, keyspace.KindStream, nil, func(obj keyspace.Object) {
		fn(obj.(*keyspace.Stream).Group(o.Args[1]))
	})
	db.Notify(keyspace.EventStream, event, o.Args[0])
}

// writeGroupProgress writes a group's last-delivered-id, entries-read
// and lag (null when not known) as XINFO's maps list them.
func writeGroupProgress(w *resp.Writer, s *keyspace.Stream, g *keyspace.StreamGroup) {
	w.BulkString("last-delivered-id")
	w.Bulk(g.LastID.Append(nil))
	w.BulkString("entries-read")
	if g.EntriesRead == keyspace.EntriesReadUnknown {
		w.Null()
	} else {
		w.Int(g.EntriesRead)
	}
	w.BulkString("lag")
	if lag, known := s.Lag(g); known {
		w.Int(lag)
	} else {
		w.Null()
	}
}

func cmdXInfoGroups(c *Ctx) {
	readInfoStream(c, func(s *keyspace.Stream) {
		w := c.W
		w.Array(len(s.Groups()))
		for _, g := range s.Groups() {
			w.Map(6)
			w.BulkString("name")
			w.BulkString(g.Name)
			w.BulkString("consumers")
			w.Int(int64(len(g.Consumers())))
			w.BulkString("pending")
			w.Int(int64(len(g.PEL())))
			writeGroupProgress(w, s, g)
		}
	})
}

func cmdXInfoConsumers(c *Ctx) {
	readInfoStream(c, func(s *keyspace.Stream) {
		g := s.Group(c.Args[3])
		if g == nil {
			c.W.Error(errNoGroupFor(c.Args[3], c.Args[2]).Error())
			return
		}
		w := c.W
		w.Array(len(g.Consumers()))
		for _, cons := range g.Consumers() {
			w.Map(3)
			w.BulkString("name")
			w.BulkString(cons.Name)
			w.BulkString("pending")
			w.Int(int64(cons.Pending()))
			w.BulkString("idle")
			w.Int(max(c.Now()-cons.SeenTime, 0))
		}
	})
}

// writeGroupsFull is XINFO STREAM FULL's groups: count (0: all) bounds
// each PEL listed.
func writeGroupsFull(w *resp.Writer, s *keyspace.Stream, count int64) {
	limit := func(n int) int {
		if count == 0 || int64(n) <= count {
			return n
		}
		return int(min(count, math.MaxInt32))
	}
	w.Array(len(s.Groups()))
	for _, g := range s.Groups() {
		w.Map(7)
		w.BulkString("name")
		w.BulkString(g.Name)
		writeGroupProgress(w, s, g)
		w.BulkString("pel-count")
		w.Int(int64(len(g.PEL())))
		w.BulkString("pending")
		pel := g.PEL()[:limit(len(g.PEL()))]
		w.Array(len(pel))
		for _, p := range pel {
			w.Array(4)
			w.Bulk(p.ID.Append(nil))
			w.BulkString(p.Consumer.Name)
			w.Int(p.DeliveryTime)
			w.Int(int64(p.DeliveryCount))
		}
		w.BulkString("consumers")
		w.Array(len(g.Consumers()))
		for _, cons := range g.Consumers() {
			w.Map(4)
			w.BulkString("name")
			w.BulkString(cons.Name)
			w.BulkString("seen-time")
			w.Int(cons.SeenTime)
			w.BulkString("pel-count")
			w.Int(int64(cons.Pending()))
			w.BulkString("pending")
			ids := cons.PendingIDs()[:limit(cons.Pending())]
			w.Array(len(ids))
			for _, id := range ids {
				p := g.Pending(id)
				w.Array(3)
				w.Bulk(id.Append(nil))
				w.Int(p.DeliveryTime)
				w.Int(int64(p.DeliveryCount))
			}
		}
	}
}
