package commands

import (
	"encoding/binary"
	"math/bits"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// applySetBit sets or clears one bit, growing the string (or creating a
// raw one) with zero bytes to reach it, as Redis's lookupStringForBitCommand
// does. The key counts as changed, and "setbit" is notified, only when
// the string grew or the bit flipped.
func applySetBit(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) != 2 || len(o.Args[1]) != 1 || o.Args[1][0]&^1 != '0' || o.Int < 0 || o.Int>>3 >= maxBulkLen {
		return errBadOp
	}
	db := ks.DB(o.DB)
	key, on := o.Args[0], o.Args[1][0] == '1'
	at, mask := int(o.Int>>3), byte(0x80)>>(o.Int&7)
	v := db.GetForWrite(key, o.Now)
	if v == nil {
		b := make([]byte, at+1)
		if on {
			b[at] = mask
		}
		db.Set(key, keyspace.NewRawString(b), 0)
		db.Notify(keyspace.EventString, "setbit", key)
		return int64(0)
	}
	if v.Kind() != keyspace.KindString {
		return errWrongType
	}
	var old byte
	cur := v.Bytes()
	grows := at >= len(cur)
	if !grows {
		old = cur[at]
	}
	b := old &^ mask
	if on {
		b |= mask
	}
	if grows || b != old {
		db.SetRange(key, at, []byte{b}) // zero-pads up to at, in place
		db.Notify(keyspace.EventString, "setbit", key)
	}
	if old&mask != 0 {
		return int64(1)
	}
	return int64(0)
}

// applyBitOp computes BITOP from the sources as they are at apply time: an
// absent source is an empty string, the result as long as the longest
// source. An empty result deletes the destination.
func applyBitOp(ks *keyspace.Store, o *op.Op) any {
	if len(o.Args) < 2 || o.Int < op.BitAnd || o.Int > op.BitNot || (o.Int == op.BitNot && len(o.Args) != 2) {
		return errBadOp
	}
	db := ks.DB(o.DB)
	dst := o.Args[0]
	srcs := make([][]byte, len(o.Args)-1)
	maxLen := 0
	for i, k := range o.Args[1:] {
		e, err := db.Lookup(k, o.Now, keyspace.KindString)
		if err != nil {
			return err
		}
		if e != nil {
			db.Touch(e, o.Now)
			srcs[i] = e.Bytes()
			maxLen = max(maxLen, len(srcs[i]))
		}
	}
	if maxLen == 0 {
		storeEmpty(db, dst, o.Now)
		return int64(0)
	}
	res := make([]byte, maxLen)
	copy(res, srcs[0])
	for _, s := range srcs[1:] {
		switch o.Int {
		case op.BitAnd:
			for i, c := range s {
				res[i] &= c
			}
			clear(res[len(s):])
		case op.BitOr:
			for i, c := range s {
				res[i] |= c
			}
		case op.BitXor:
			for i, c := range s {
				res[i] ^= c
			}
		}
	}
	if o.Int == op.BitNot {
		for i := range res {
			res[i] = ^res[i]
		}
	}
	db.Set(dst, keyspace.NewRawString(res), 0)
	db.Notify(keyspace.EventString, "set", dst)
	return int64(maxLen)
}

// bitSpan is a BITCOUNT or BITPOS range of bytes, [start, end], with the
// bits of its first and last bytes that lie outside a BIT range
// (firstOut, lastOut: set where a bit is out).
type bitSpan struct {
	start, end        int64
	firstOut, lastOut byte
}

// spanOf turns a range of a string of n bytes into bytes as Redis does:
// negative indexes count from the end, the range is clamped to the string,
// and a BIT range (isBit) keeps its edges as masks.
func spanOf(n, start, end int64, isBit bool) bitSpan {
	total := n
	if isBit {
		total <<= 3
	}
	if start < 0 {
		start += total
	}
	if end < 0 {
		end += total
	}
	start, end = max(start, 0), max(end, 0)
	if end >= total {
		end = total - 1
	}
	s := bitSpan{start: start, end: end}
	if isBit && start <= end {
		s.firstOut = ^byte(0xff >> (start & 7))
		s.lastOut = byte(1<<(7-end&7)) - 1
		s.start, s.end = start>>3, end>>3
	}
	return s
}

// bitCount counts the set bits of p within BITCOUNT's range arguments,
// with its errors.
func bitCount(p []byte, args [][]byte) (int64, error) {
	switch len(args) {
	case 0:
		return popcount(p), nil
	case 2, 3:
	default:
		return 0, errSyntax
	}
	start, ok1 := parseInt(args[0])
	end, ok2 := parseInt(args[1])
	if !ok1 || !ok2 {
		return 0, errNotInt
	}
	if start < 0 && end < 0 && start > end {
		return 0, nil
	}
	var isBit bool
	if len(args) == 3 {
		var err error
		if isBit, err = indexUnit(args[2]); err != nil {
			return 0, err
		}
	}
	s := spanOf(int64(len(p)), start, end, isBit)
	if s.start > s.end {
		return 0, nil
	}
	n := popcount(p[s.start : s.end+1])
	n -= int64(bits.OnesCount8(p[s.start]&s.firstOut) + bits.OnesCount8(p[s.end]&s.lastOut))
	return n, nil
}

// bitPos finds the first bit equal to bit within BITPOS's range
// arguments, as Redis's bitposCommand: a range with an explicit end holds
// no clear bit beyond it, while without one the string reads as followed
// by zeros.
func bitPos(p []byte, bit int64, args [][]byte) (int64, error) {
	var start, end int64 = 0, -1
	var isBit, endGiven bool
	switch len(args) {
	case 0:
	case 1, 2, 3:
		var ok bool
		if start, ok = parseInt(args[0]); !ok {
			return 0, errNotInt
		}
		if len(args) == 3 {
			var err error
			if isBit, err = indexUnit(args[2]); err != nil {
				return 0, err
			}
		}
		if len(args) >= 2 {
			if end, ok = parseInt(args[1]); !ok {
				return 0, errNotInt
			}
			endGiven = true
		}
	default:
		return 0, errSyntax
	}
	s := spanOf(int64(len(p)), start, end, isBit)
	if s.start > s.end {
		return -1, nil
	}
	// The edges of a BIT range are forced to the value not looked for.
	edge := func(b, out byte) byte {
		if bit == 1 {
			return b &^ out
		}
		return b | out
	}
	// result turns the position found in the bytes from `from` (n of
	// them) into a position in the string.
	result := func(pos, from, n int64) int64 {
		if endGiven && bit == 0 && pos == n<<3 {
			return -1
		}
		if pos != -1 {
			pos += from << 3
		}
		return pos
	}
	from, n := s.start, s.end-s.start+1
	if s.firstOut != 0 {
		b := edge(p[from], s.firstOut)
		if n == 1 {
			b = edge(b, s.lastOut)
		}
		pos := firstBit([]byte{b}, bit)
		if n == 1 || (pos != -1 && pos != 8) {
			return result(pos, from, n), nil
		}
		from, n = from+1, n-1
	}
	whole := n
	if s.lastOut != 0 {
		whole--
	}
	if whole > 0 {
		pos := firstBit(p[from:from+whole], bit)
		if n == whole || (pos != -1 && pos != whole<<3) {
			return result(pos, from, n), nil
		}
		from, n = from+whole, n-whole
	}
	return result(firstBit([]byte{edge(p[s.end], s.lastOut)}, bit), from, n), nil
}

// popcount counts the set bits of p.
func popcount(p []byte) int64 {
	n := 0
	for ; len(p) >= 8; p = p[8:] {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(p))
	}
	for _, c := range p {
		n += bits.OnesCount8(c)
	}
	return int64(n)
}

// firstBit returns the position of the first bit of p equal to bit, as
// Redis's redisBitpos: -1 when bit is 1 and none is set, len(p)*8 when bit
// is 0 and none is clear (p reads as followed by zeros).
func firstBit(p []byte, bit int64) int64 {
	skip := byte(0)
	if bit == 0 {
		skip = 0xff
	}
	word := uint64(skip) * 0x0101010101010101
	i := 0
	for ; i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:]) == word; i += 8 {
	}
	for ; i < len(p); i++ {
		if c := p[i] ^ skip; c != 0 {
			return int64(i)<<3 + int64(bits.LeadingZeros8(c))
		}
	}
	if bit == 1 {
		return -1
	}
	return int64(len(p)) << 3
}
