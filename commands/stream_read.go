package commands

// The stream reads: XLEN XRANGE XREVRANGE XINFO (HELP, STREAM), and the
// reply shapes of entries that XREAD and XREADGROUP share.

import (
	"errors"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/resp"
)

var (
	errStartInterval = errors.New("ERR invalid start ID for the interval")
	errEndInterval   = errors.New("ERR invalid end ID for the interval")
)

// readStream runs fn with key's stream (nil if absent) under the read
// lock, or replies WRONGTYPE.
func readStream(c *Ctx, key []byte, fn func(s *keyspace.Stream)) {
	readObject(c, key, keyspace.KindStream, fn)
}

// writeEntry writes one entry: [id, [field, value, ...]].
func writeEntry(w *resp.Writer, e keyspace.StreamEntry) {
	w.Array(2)
	w.Bulk(e.ID.Append(nil))
	if e.Fields == nil { // a pending entry deleted since
		w.NullArray()
		return
	}
	w.Array(len(e.Fields))
	for _, f := range e.Fields {
		w.Bulk(f)
	}
}

// streamEntries are entries copied out of a stream, to reply after the
// read lock is gone (or from an applier).
type streamEntries []keyspace.StreamEntry

func (es streamEntries) writeReply(w *resp.Writer) {
	w.Array(len(es))
	for _, e := range es {
		writeEntry(w, e)
	}
}

// collectRange copies up to count (0: all) entries of a range.
func collectRange(s *keyspace.Stream, start, end keyspace.StreamID, count int64, rev bool) streamEntries {
	var out streamEntries
	s.Range(start, end, rev, func(e keyspace.StreamEntry) bool {
		out = append(out, e.Copy())
		return count == 0 || int64(len(out)) < count
	})
	return out
}

func cmdXLen(c *Ctx) {
	readStream(c, c.Args[1], func(s *keyspace.Stream) {
		if s == nil {
			c.W.Int(0)
			return
		}
		c.W.Int(int64(s.Len()))
	})
}

// parseInterval parses a range bound as streamParseIntervalIDOrReply: a
// "(" prefix makes it exclusive (then "-" and "+" are invalid).
func parseInterval(b []byte, missingSeq uint64) (id keyspace.StreamID, exclusive, ok bool) {
	if len(b) > 1 && b[0] == '(' {
		id, _, ok = keyspace.ParseStreamID(b[1:], missingSeq, true, false)
		return id, true, ok
	}
	id, _, ok = keyspace.ParseStreamID(b, missingSeq, false, false)
	return id, false, ok
}

// cmdXRange is XRANGE key start end [COUNT n] and XREVRANGE key end start
// [COUNT n].
func cmdXRange(c *Ctx) {
	rev := c.Cmd.Name == "xrevrange"
	startArg, endArg := c.Args[2], c.Args[3]
	if rev {
		startArg, endArg = endArg, startArg
	}
	start, end, err := parseRangeIDs(startArg, endArg)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	count := int64(-1)
	for j := 4; j < len(c.Args); j++ {
		if eq(c.Args[j], "COUNT") && j+1 < len(c.Args) {
			n, ok := parseInt(c.Args[j+1])
			if !ok {
				c.W.Error(errNotInt.Error())
				return
			}
			count = max(n, 0)
			j++
			continue
		}
		c.W.Error(errSyntax.Error())
		return
	}
	readStream(c, c.Args[1], func(s *keyspace.Stream) {
		switch {
		case s == nil:
			c.W.Array(0)
		case count == 0:
			c.W.NullArray()
		default:
			collectRange(s, start, end, max(count, 0), rev).writeReply(c.W)
		}
	})
}

var xinfoHelp = []string{
	"CONSUMERS <key> <groupname>",
	"    Show consumers of <groupname>.",
	"GROUPS <key>",
	"    Show the stream consumer groups.",
	"STREAM <key> [FULL [COUNT <count>]",
	"    Show information about the stream.",
}

func cmdXInfoHelp(c *Ctx) { writeHelp(c, "XINFO", xinfoHelp) }

// readInfoStream runs fn with XINFO's key's stream: no key is "no such
// key".
func readInfoStream(c *Ctx, fn func(s *keyspace.Stream)) {
	readStream(c, c.Args[2], func(s *keyspace.Stream) {
		if s == nil {
			c.W.Error(errNoSuchKey.Error())
			return
		}
		fn(s)
	})
}

func cmdXInfoStream(c *Ctx) {
	full, count := false, int64(10)
	switch opts := c.Args[3:]; len(opts) {
	case 0:
	case 1, 3:
		if !eq(opts[0], "FULL") || len(opts) == 3 && !eq(opts[1], "COUNT") {
			subcommandSyntax(c)
			return
		}
		full = true
		if len(opts) == 3 {
			n, ok := parseInt(opts[2])
			if !ok {
				c.W.Error(errNotInt.Error())
				return
			}
			if n >= 0 {
				count = n
			}
		}
	default:
		subcommandSyntax(c)
		return
	}
	readInfoStream(c, func(s *keyspace.Stream) {
		w := c.W
		if full {
			w.Map(9)
		} else {
			w.Map(10)
		}
		w.BulkString("length")
		w.Int(int64(s.Len()))
		w.BulkString("radix-tree-keys")
		w.Int(int64(s.Blocks()))
		w.BulkString("radix-tree-nodes")
		w.Int(s.RadixNodes())
		for _, f := range []struct {
			name string
			id   keyspace.StreamID
		}{{"last-generated-id", s.LastID()}, {"max-deleted-entry-id", s.MaxDeletedID()}} {
			w.BulkString(f.name)
			w.Bulk(f.id.Append(nil))
		}
		w.BulkString("entries-added")
		w.Int(int64(s.EntriesAdded()))
		w.BulkString("recorded-first-entry-id")
		w.Bulk(s.FirstID().Append(nil))
		if !full {
			w.BulkString("groups")
			w.Int(int64(len(s.Groups())))
			for i, name := range []string{"first-entry", "last-entry"} {
				w.BulkString(name)
				es := collectRange(s, keyspace.StreamID{}, keyspace.MaxStreamID, 1, i == 1)
				if len(es) == 0 {
					w.Null()
					continue
				}
				writeEntry(w, es[0])
			}
			return
		}
		w.BulkString("entries")
		collectRange(s, keyspace.StreamID{}, keyspace.MaxStreamID, count, false).writeReply(w)
		w.BulkString("groups")
		writeGroupsFull(w, s, count)
	})
}
