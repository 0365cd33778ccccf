package rdb

import (
	"encoding/binary"
	"strconv"
)

// Listpacks (src/listpack.c): a 6-byte header (total bytes, element
// count or 65535), entries of an encoding, data and a back length, and a
// 0xFF end byte.

const (
	lpHeader  = 6
	lpEnd     = 0xff
	lpMaxSafe = 1 << 30 // Redis's LISTPACK_MAX_SAFETY_SIZE
)

// lpEntries decodes and validates a listpack deeply (lpValidateIntegrity
// with deep checks): every entry in bounds, each back length right, the
// count right unless it says 65535. Integers come back as their decimal
// strings, as lpGet gives them.
func lpEntries(lp []byte) ([][]byte, bool) {
	if len(lp) < lpHeader+1 || int(binary.LittleEndian.Uint32(lp)) != len(lp) || lp[len(lp)-1] != lpEnd {
		return nil, false
	}
	declared := int(binary.LittleEndian.Uint16(lp[4:]))
	if declared != 65535 && declared > len(lp) {
		return nil, false
	}
	out := make([][]byte, 0, min(declared, len(lp)/2))
	p := lpHeader
	for p < len(lp)-1 {
		v, size, ok := lpEntry(lp[p : len(lp)-1])
		if !ok {
			return nil, false
		}
		bl := lpBacklenSize(size)
		if p+size+bl > len(lp)-1 || lpDecodeBacklen(lp[p+size:p+size+bl]) != size {
			return nil, false
		}
		out = append(out, v)
		p += size + bl
	}
	if declared != 65535 && declared != len(out) {
		return nil, false
	}
	return out, true
}

// lpEntry decodes the entry at the start of b: its value and the size of
// its encoding and data (the back length follows).
func lpEntry(b []byte) (v []byte, size int, ok bool) {
	if len(b) == 0 {
		return nil, 0, false
	}
	c := b[0]
	var n, hdr int
	switch {
	case c&0x80 == 0: // 7-bit unsigned
		return strconv.AppendInt(nil, int64(c&0x7f), 10), 1, true
	case c&0xc0 == 0x80: // 6-bit string length
		n, hdr = int(c&0x3f), 1
	case c&0xe0 == 0xc0: // 13-bit signed
		if len(b) < 2 {
			return nil, 0, false
		}
		u := uint64(c&0x1f)<<8 | uint64(b[1])
		return strconv.AppendInt(nil, signExtend(u, 13), 10), 2, true
	case c&0xf0 == 0xe0: // 12-bit string length
		if len(b) < 2 {
			return nil, 0, false
		}
		n, hdr = int(c&0x0f)<<8|int(b[1]), 2
	case c == 0xf0: // 32-bit string length
		if len(b) < 5 {
			return nil, 0, false
		}
		n, hdr = int(binary.LittleEndian.Uint32(b[1:])), 5
	case c >= 0xf1 && c <= 0xf4:
		w := [...]int{2, 3, 4, 8}[c-0xf1]
		if len(b) < 1+w {
			return nil, 0, false
		}
		var u uint64
		for i := w; i >= 1; i-- {
			u = u<<8 | uint64(b[i])
		}
		return strconv.AppendInt(nil, signExtend(u, uint(w*8)), 10), 1 + w, true
	default:
		return nil, 0, false
	}
	if n > len(b)-hdr {
		return nil, 0, false
	}
	return b[hdr : hdr+n : hdr+n], hdr + n, true
}

func signExtend(u uint64, bits uint) int64 {
	if bits < 64 && u&(1<<(bits-1)) != 0 {
		return int64(u) - int64(1)<<bits
	}
	return int64(u)
}

// lpBacklenSize is the size of the back length of an entry of l bytes.
func lpBacklenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// lpDecodeBacklen reads a back length stored forward in b.
func lpDecodeBacklen(b []byte) int {
	// The first byte (most significant) has no continuation bit; every
	// later one has it.
	v := 0
	for i, c := range b {
		if (i == 0) == (c&0x80 != 0) {
			return -1
		}
		v = v<<7 | int(c&0x7f)
	}
	return v
}

// appendBacklen appends an entry's back length, as lpEncodeBacklen.
func appendBacklen(b []byte, l int) []byte {
	switch n := lpBacklenSize(l); n {
	case 1:
		return append(b, byte(l))
	default:
		for i := n - 1; i >= 0; i-- {
			c := byte(l >> (7 * i) & 127)
			if i != n-1 {
				c |= 128
			}
			b = append(b, c)
		}
		return b
	}
}

// lpStringToInt is lpStringToInt64: the strings a listpack stores as
// integers.
func lpStringToInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) >= 21 {
		return 0, false
	}
	return canonicalInt(s)
}

// appendLPEntry appends one entry (encoding, data, back length) as
// lpAppend writes e.
func appendLPEntry(b, e []byte) []byte {
	if v, ok := lpStringToInt(e); ok {
		return appendLPInt(b, v)
	}
	at := len(b)
	switch n := len(e); {
	case n < 64:
		b = append(b, 0x80|byte(n))
	case n < 4096:
		b = append(b, 0xe0|byte(n>>8), byte(n))
	default:
		b = binary.LittleEndian.AppendUint32(append(b, 0xf0), uint32(n))
	}
	b = append(b, e...)
	return appendBacklen(b, len(b)-at)
}

// appendLPInt appends an integer entry in the smallest encoding.
func appendLPInt(b []byte, v int64) []byte {
	at := len(b)
	switch {
	case v >= 0 && v <= 127:
		b = append(b, byte(v))
	case v >= -4096 && v <= 4095:
		u := uint64(v) & (1<<13 - 1)
		b = append(b, 0xc0|byte(u>>8), byte(u))
	default:
		var w int
		var tag byte
		switch {
		case v >= -32768 && v <= 32767:
			w, tag = 2, 0xf1
		case v >= -8388608 && v <= 8388607:
			w, tag = 3, 0xf2
		case v >= -2147483648 && v <= 2147483647:
			w, tag = 4, 0xf3
		default:
			w, tag = 8, 0xf4
		}
		b = append(b, tag)
		for i := range w {
			b = append(b, byte(uint64(v)>>(8*i)))
		}
	}
	return appendBacklen(b, len(b)-at)
}

// Listpack builds a listpack's bytes.
type Listpack struct {
	b []byte
	n int
}

// NewListpack returns an empty listpack.
func NewListpack() *Listpack { return &Listpack{b: make([]byte, lpHeader, 64)} }

// Append adds a string entry (an integer if it looks like one).
func (l *Listpack) Append(e []byte) { l.b = appendLPEntry(l.b, e); l.n++ }

// AppendInt adds an integer entry.
func (l *Listpack) AppendInt(v int64) { l.b = appendLPInt(l.b, v); l.n++ }

// Bytes finishes the listpack: the header filled, the end byte added.
func (l *Listpack) Bytes() []byte {
	b := append(l.b, lpEnd)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	binary.LittleEndian.PutUint16(b[4:], uint16(min(l.n, 65535)))
	return b
}
