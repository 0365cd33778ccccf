package keyspace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// AppendSnapshot implements Object. A listpack: its member count and its
// bytes. A skiplist: its slot count and each slot, a free one as 0 and a
// member as its length+1, its bytes and its score's 8 bytes, so the slots
// (the cursors of scans in progress) survive a restart.
func (z *ZSet) AppendSnapshot(b []byte) []byte {
	if z.skip() == nil {
		return append(b, z.lpb()...) // its count, then its members
	}
	b = binary.AppendUvarint(b, uint64(len(z.skip().slots)))
	for _, x := range z.skip().slots {
		if x == nil {
			b = append(b, 0)
			continue
		}
		b = binary.AppendUvarint(b, uint64(len(x.member))+1)
		b = append(b, x.member...)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x.score))
	}
	return b
}

var errBadZSet = errors.New("bad sorted set")

// decodeZSet reads AppendSnapshot's bytes; anything else is an error.
// Every count is checked against the bytes left before it allocates.
func decodeZSet(enc Encoding, data []byte) (Object, error) {
	count, k := binary.Uvarint(data)
	if k <= 0 || count == 0 || count > uint64(len(data)) {
		return nil, errBadZSet
	}
	data = data[k:]
	switch enc {
	case EncListpack:
		z := &ZSet{}
		z.setLP(append(binary.AppendUvarint(nil, count), data...))
		var prevM []byte
		var prevS float64
		n := 0
		for off := z.hdr(); off < len(z.lpb()); n++ {
			m, s, next, ok := lpNext(z.lpb(), off)
			if !ok || math.IsNaN(s) || n > 0 && !zless(prevS, str(prevM), s, str(m)) {
				return nil, errBadZSet
			}
			prevM, prevS, off = m, s, next
		}
		if n != z.count() {
			return nil, errBadZSet
		}
		return z, nil
	case EncSkiplist:
		sl := newSkiplist()
		sl.slots = make([]*zslNode, 0, count)
		for range count {
			l, k := binary.Uvarint(data)
			if k <= 0 || l > uint64(len(data)-k) || l > 0 && uint64(len(data)-k)-(l-1) < 8 {
				return nil, errBadZSet
			}
			data = data[k:]
			if l == 0 {
				sl.free = append(sl.free, uint32(len(sl.slots)))
				sl.slots = append(sl.slots, nil)
				continue
			}
			m := string(data[:l-1])
			s := math.Float64frombits(binary.LittleEndian.Uint64(data[l-1:]))
			data = data[l-1+8:]
			if _, dup := sl.dict[m]; dup || math.IsNaN(s) {
				return nil, errBadZSet
			}
			free := sl.free
			sl.free = nil
			sl.slots = append(sl.slots, sl.addAt(m, s, uint32(len(sl.slots))))
			sl.free = free
		}
		if len(data) != 0 || sl.length == 0 || sl.slots[len(sl.slots)-1] == nil {
			return nil, errBadZSet
		}
		z := &ZSet{}
		z.setSkip(sl)
		return z, nil
	}
	return nil, fmt.Errorf("sorted set encoding %d", enc)
}
