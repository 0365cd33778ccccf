package rdb

import (
	"encoding/binary"
	"math"
	"strconv"
)

// Encoders of object bodies (the type byte and the object) as Redis 7.0's
// rdbSaveObjectType and rdbSaveObject write them for each encoding. Wrap
// a body with Payload for DUMP.

// EncodeString encodes a string.
func EncodeString(s []byte) []byte { return AppendString([]byte{TypeString}, s) }

// EncodeQuicklist encodes a list as a quicklist of listpack nodes, nodes
// giving each node's element count in order.
func EncodeQuicklist(elems [][]byte, nodes []int) []byte {
	b := AppendLen([]byte{TypeListQuicklist2}, uint64(len(nodes)))
	at := 0
	for _, n := range nodes {
		lp := NewListpack()
		for _, e := range elems[at : at+n] {
			lp.Append(e)
		}
		at += n
		b = AppendLen(b, 2) // QUICKLIST_NODE_CONTAINER_PACKED
		b = AppendString(b, lp.Bytes())
	}
	return b
}

// EncodeIntset encodes a set of integers as an intset; ok is false if a
// member is not a canonical integer.
func EncodeIntset(members [][]byte) ([]byte, bool) {
	is, ok := Intset(members)
	if !ok {
		return nil, false
	}
	return AppendString([]byte{TypeSetIntset}, is), true
}

// EncodeSet encodes a hashtable set, members in the order given.
func EncodeSet(members [][]byte) []byte {
	b := AppendLen([]byte{TypeSet}, uint64(len(members)))
	for _, m := range members {
		b = AppendString(b, m)
	}
	return b
}

// EncodeHashListpack encodes a listpack hash: fields and values in turn.
func EncodeHashListpack(pairs [][]byte) []byte {
	lp := NewListpack()
	for _, e := range pairs {
		lp.Append(e)
	}
	return AppendString([]byte{TypeHashListpack}, lp.Bytes())
}

// EncodeHash encodes a hashtable hash: fields and values in turn.
func EncodeHash(pairs [][]byte) []byte {
	b := AppendLen([]byte{TypeHash}, uint64(len(pairs)/2))
	for _, e := range pairs {
		b = AppendString(b, e)
	}
	return b
}

// EncodeZSetListpack encodes a listpack sorted set, members in rank
// order.
func EncodeZSetListpack(ms []ZMember) []byte {
	lp := NewListpack()
	var buf []byte
	for _, m := range ms {
		lp.Append(m.Member)
		buf = appendD2String(buf[:0], m.Score)
		lp.Append(buf)
	}
	return AppendString([]byte{TypeZSetListpack}, lp.Bytes())
}

// EncodeZSetSkiplist encodes a skiplist sorted set (ZSET_2), members
// given in rank order and written from the last, as Redis walks its
// skiplist from the tail.
func EncodeZSetSkiplist(ms []ZMember) []byte {
	b := AppendLen([]byte{TypeZSet2}, uint64(len(ms)))
	for i := len(ms) - 1; i >= 0; i-- {
		b = AppendString(b, ms[i].Member)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(ms[i].Score))
	}
	return b
}

// appendD2String is Redis 7.0's d2string, by which a listpack sorted set
// holds its scores.
func appendD2String(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	case f > -4503599627370495 && f < 4503599627370496 && f == math.Trunc(f):
		return strconv.AppendInt(b, int64(f), 10)
	}
	return strconv.AppendFloat(b, f, 'g', 17, 64)
}

// EncodeStream encodes a stream as STREAM_LISTPACKS_2.
func EncodeStream(s *Stream) []byte {
	b := AppendLen([]byte{TypeStreamListpack2}, uint64(len(s.Nodes)))
	for i := range s.Nodes {
		nd := &s.Nodes[i]
		var key [16]byte
		binary.BigEndian.PutUint64(key[:], nd.Master.Ms)
		binary.BigEndian.PutUint64(key[8:], nd.Master.Seq)
		b = AppendString(b, key[:])
		b = AppendString(b, streamListpack(nd))
	}
	b = AppendLen(b, s.Length)
	b = appendLenID(b, s.LastID)
	b = appendLenID(b, s.FirstID)
	b = appendLenID(b, s.MaxDeleted)
	b = AppendLen(b, s.EntriesAdded)
	b = AppendLen(b, uint64(len(s.Groups)))
	for _, g := range s.Groups {
		b = AppendString(b, g.Name)
		b = appendLenID(b, g.LastID)
		b = AppendLen(b, uint64(g.EntriesRead))
		b = AppendLen(b, uint64(len(g.PEL)))
		for _, p := range g.PEL {
			b = appendRawID(b, p.ID)
			b = binary.LittleEndian.AppendUint64(b, uint64(p.DeliveryTime))
			b = AppendLen(b, p.DeliveryCount)
		}
		b = AppendLen(b, uint64(len(g.Consumers)))
		for _, c := range g.Consumers {
			b = AppendString(b, c.Name)
			b = binary.LittleEndian.AppendUint64(b, uint64(c.SeenTime))
			b = AppendLen(b, uint64(len(c.PEL)))
			for _, id := range c.PEL {
				b = appendRawID(b, id)
			}
		}
	}
	return b
}

func appendLenID(b []byte, id StreamID) []byte { return AppendLen(AppendLen(b, id.Ms), id.Seq) }

func appendRawID(b []byte, id StreamID) []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(b, id.Ms), id.Seq)
}

// streamListpack builds a node's listpack as streamAppendItem leaves it.
func streamListpack(nd *StreamNode) []byte {
	lp := NewListpack()
	var live, dead int64
	for _, e := range nd.Entries {
		if e.Deleted {
			dead++
		} else {
			live++
		}
	}
	lp.AppendInt(live)
	lp.AppendInt(dead)
	lp.AppendInt(int64(len(nd.MasterFields)))
	for _, f := range nd.MasterFields {
		lp.Append(f)
	}
	lp.AppendInt(0)
	for _, e := range nd.Entries {
		nf := len(e.Fields) / 2
		same := nf == len(nd.MasterFields)
		for j := 0; same && j < nf; j++ {
			same = string(e.Fields[2*j]) == string(nd.MasterFields[j])
		}
		flags := int64(0)
		if e.Deleted {
			flags |= streamDeleted
		}
		if same {
			flags |= streamSameFields
		}
		lp.AppendInt(flags)
		lp.AppendInt(int64(e.ID.Ms - nd.Master.Ms))
		lp.AppendInt(int64(e.ID.Seq - nd.Master.Seq))
		if same {
			for j := range nf {
				lp.Append(e.Fields[2*j+1])
			}
			lp.AppendInt(int64(nf + 3))
			continue
		}
		lp.AppendInt(int64(nf))
		for _, x := range e.Fields {
			lp.Append(x)
		}
		lp.AppendInt(int64(2*nf + 4))
	}
	return lp.Bytes()
}
