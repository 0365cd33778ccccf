package rdb

import (
	"encoding/binary"
	"slices"
	"strconv"
)

// The older compact encodings Redis 7.0 still loads (ziplist, zipmap) and
// the intset it still writes.

// zlEntries decodes and validates a ziplist (ziplistValidateIntegrity,
// deep): header, each entry's previous length and encoding in bounds, the
// tail offset and count right, the end byte.
func zlEntries(zl []byte) ([][]byte, bool) {
	const hdr = 10
	if len(zl) < hdr+1 || int(binary.LittleEndian.Uint32(zl)) != len(zl) || zl[len(zl)-1] != 0xff {
		return nil, false
	}
	tail := int(binary.LittleEndian.Uint32(zl[4:]))
	declared := int(binary.LittleEndian.Uint16(zl[8:]))
	var out [][]byte
	p, prev, lastAt := hdr, 0, hdr
	for p < len(zl)-1 {
		at := p
		// previous entry's length
		var pl int
		if zl[p] < 254 {
			pl, p = int(zl[p]), p+1
		} else {
			if zl[p] == 255 || p+5 > len(zl)-1 {
				return nil, false
			}
			pl, p = int(binary.LittleEndian.Uint32(zl[p+1:])), p+5
		}
		if pl != prev {
			return nil, false
		}
		v, n, ok := zlValue(zl[p : len(zl)-1])
		if !ok {
			return nil, false
		}
		p += n
		out = append(out, v)
		prev, lastAt = p-at, at
	}
	if lastAt != tail && !(len(out) == 0 && tail == hdr) {
		return nil, false
	}
	if declared != 65535 && declared != len(out) {
		return nil, false
	}
	return out, true
}

// zlValue decodes an entry's encoding and data.
func zlValue(b []byte) ([]byte, int, bool) {
	if len(b) == 0 {
		return nil, 0, false
	}
	c := b[0]
	var n, h int
	switch c >> 6 {
	case 0:
		n, h = int(c&0x3f), 1
	case 1:
		if len(b) < 2 {
			return nil, 0, false
		}
		n, h = int(c&0x3f)<<8|int(b[1]), 2
	case 2:
		if c != 0x80 || len(b) < 5 {
			return nil, 0, false
		}
		n, h = int(binary.BigEndian.Uint32(b[1:])), 5
	default:
		var w int
		switch c {
		case 0xc0:
			w = 2
		case 0xd0:
			w = 4
		case 0xe0:
			w = 8
		case 0xf0:
			w = 3
		case 0xfe:
			w = 1
		default:
			if c >= 0xf1 && c <= 0xfd {
				return strconv.AppendInt(nil, int64(c&0x0f)-1, 10), 1, true
			}
			return nil, 0, false
		}
		if len(b) < 1+w {
			return nil, 0, false
		}
		var u uint64
		for i := w; i >= 1; i-- {
			u = u<<8 | uint64(b[i])
		}
		return strconv.AppendInt(nil, signExtend(u, uint(w*8)), 10), 1 + w, true
	}
	if n > len(b)-h {
		return nil, 0, false
	}
	return b[h : h+n : h+n], h + n, true
}

// zipmapPairs decodes and validates a zipmap (zipmapValidateIntegrity):
// fields and values in turn.
func zipmapPairs(zm []byte) ([][]byte, bool) {
	if len(zm) < 2 || zm[len(zm)-1] != 0xff {
		return nil, false
	}
	p := 1
	readLen := func() (int, bool) {
		if p >= len(zm) {
			return 0, false
		}
		switch c := zm[p]; {
		case c < 254:
			p++
			return int(c), true
		case c == 254:
			if p+5 > len(zm) {
				return 0, false
			}
			n := int(binary.LittleEndian.Uint32(zm[p+1:]))
			p += 5
			return n, true
		}
		return 0, false
	}
	var out [][]byte
	for p < len(zm) && zm[p] != 0xff {
		kl, ok := readLen()
		if !ok || kl > len(zm)-p {
			return nil, false
		}
		k := zm[p : p+kl]
		p += kl
		vl, ok := readLen()
		if !ok || p >= len(zm) {
			return nil, false
		}
		free := int(zm[p])
		p++
		if vl > len(zm)-p || free > len(zm)-p-vl {
			return nil, false
		}
		out = append(out, k, zm[p:p+vl])
		p += vl + free
	}
	if p != len(zm)-1 {
		return nil, false
	}
	// Redis checks the count in the header when it is below 254.
	if zm[0] < 254 && int(zm[0]) != len(out)/2 {
		return nil, false
	}
	return out, true
}

// intsetMembers decodes and validates an intset: its width 2, 4 or 8,
// its length matching the size, members strictly ascending.
func intsetMembers(is []byte) ([][]byte, bool) {
	if len(is) < 8 {
		return nil, false
	}
	w := int(binary.LittleEndian.Uint32(is))
	n := int(binary.LittleEndian.Uint32(is[4:]))
	if w != 2 && w != 4 && w != 8 || n == 0 || (len(is)-8)/w != n || (len(is)-8)%w != 0 {
		return nil, false
	}
	out := make([][]byte, n)
	var prev int64
	for i := range n {
		p := is[8+i*w:]
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			v = int64(binary.LittleEndian.Uint64(p))
		}
		if i > 0 && v <= prev {
			return nil, false
		}
		prev = v
		out[i] = strconv.AppendInt(nil, v, 10)
	}
	return out, true
}

// Intset builds an intset's bytes from members that are all canonical
// integers; ok is false when one is not.
func Intset(members [][]byte) ([]byte, bool) {
	vals := make([]int64, len(members))
	w := 2
	for i, m := range members {
		v, ok := canonicalInt(m)
		if !ok {
			return nil, false
		}
		vals[i] = v
		switch {
		case v < -2147483648 || v > 2147483647:
			w = 8
		case (v < -32768 || v > 32767) && w < 4:
			w = 4
		}
	}
	slices.Sort(vals)
	b := binary.LittleEndian.AppendUint32(nil, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(vals)))
	for _, v := range vals {
		for i := range w {
			b = append(b, byte(uint64(v)>>(8*i)))
		}
	}
	return b, true
}
