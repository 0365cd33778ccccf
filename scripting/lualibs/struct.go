package lualibs

import (
	"encoding/binary"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Constants of lua_struct.c on x86-64 Linux.
const (
	structMaxIntSize = 32 // MAXINTSIZE
	structMaxAlign   = 8  // MAXALIGN
	structBig        = 0
	structLittle     = 1
	structNative     = structLittle
)

// newStructModule is luaopen_struct.
func newStructModule(L *lua.LState) *lua.LTable {
	tb := L.NewTable()
	setFuncs(L, tb, []libFunc{
		{"pack", structPack},
		{"unpack", structUnpack},
		{"size", structSize},
	})
	return tb
}

// structHeader is Header: the current endianness and maximum alignment.
type structHeader struct {
	endian int
	align  uint64
}

// structFormat walks a format string (a C string).
type structFormat struct {
	L   *lua.LState
	fmt string
	i   int
	h   structHeader
}

func newStructFormat(L *lua.LState) *structFormat {
	return &structFormat{L: L, fmt: checkCString(L, 1), h: structHeader{endian: structNative, align: 1}}
}

func (f *structFormat) more() bool { return f.i < len(f.fmt) }

func (f *structFormat) next() byte {
	c := f.fmt[f.i]
	f.i++
	return c
}

// getnum reads a decimal count, or gives df when none follows.
func (f *structFormat) getnum(df int) int {
	if !isDigit(byteAt(f.fmt, f.i)) {
		return df
	}
	a := 0
	for isDigit(byteAt(f.fmt, f.i)) {
		d := int(f.fmt[f.i] - '0')
		if a > math.MaxInt32/10 || a*10 > math.MaxInt32-d {
			raise(f.L, "integral size overflow")
		}
		a = a*10 + d
		f.i++
	}
	return a
}

// optsize is the size of option opt (0 for options that take no room).
func (f *structFormat) optsize(opt byte) uint64 {
	switch opt {
	case 'B', 'b':
		return 1
	case 'H', 'h':
		return 2
	case 'L', 'l', 'T', 'd':
		return 8
	case 'f':
		return 4
	case 'x':
		return 1
	case 'c':
		return uint64(f.getnum(1))
	case 'i', 'I':
		sz := f.getnum(4)
		if sz > structMaxIntSize {
			raisef(f.L, "integral size %d is larger than limit of %d", sz, structMaxIntSize)
		}
		return uint64(sz)
	}
	return 0
}

// gettoalign is the padding that aligns an element of size at len.
func (f *structFormat) gettoalign(len uint64, opt byte, size uint64) uint64 {
	if size == 0 || opt == 'c' {
		return 0
	}
	if size > f.h.align {
		size = f.h.align
	}
	return (size - (len & (size - 1))) & (size - 1)
}

// controloptions handles ' ', '>', '<' and '!', and rejects the rest.
func (f *structFormat) controloptions(opt byte) {
	switch opt {
	case ' ':
	case '>':
		f.h.endian = structBig
	case '<':
		f.h.endian = structLittle
	case '!':
		a := f.getnum(structMaxAlign)
		if a <= 0 || a&(a-1) != 0 {
			raisef(f.L, "alignment %d is not a power of 2", a)
		}
		f.h.align = uint64(a)
	default:
		argError(f.L, 1, "invalid format option '"+string([]byte{opt})+"'")
	}
}

// orderBytes returns b (native little-endian bytes) in the wanted order.
func orderBytes(b []byte, endian int) []byte {
	if endian != structNative {
		for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
			b[i], b[j] = b[j], b[i]
		}
	}
	return b
}

func putInteger(L *lua.LState, out []byte, arg int, endian int, size uint64) []byte {
	n := checkNumber(L, arg)
	var value uint64
	if n < 0 {
		value = uint64(cInt64(n))
	} else {
		value = cUint64(n)
	}
	buf := make([]byte, size)
	if endian == structLittle {
		for i := uint64(0); i < size; i++ {
			buf[i] = byte(value)
			value >>= 8
		}
	} else {
		for i := int(size) - 1; i >= 0; i-- {
			buf[i] = byte(value)
			value >>= 8
		}
	}
	return append(out, buf...)
}

// structPack is struct.pack(fmt, ...).
func structPack(L *lua.LState) int {
	f := newStructFormat(L)
	arg := 2
	var totalsize uint64
	var out []byte
	for f.more() {
		opt := f.next()
		size := f.optsize(opt)
		toalign := f.gettoalign(totalsize, opt, size)
		totalsize += toalign
		for ; toalign > 0; toalign-- {
			out = append(out, 0)
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			out = putInteger(L, out, arg, f.h.endian, size)
			arg++
		case 'x':
			out = append(out, 0)
		case 'f':
			v := float32(checkNumber(L, arg))
			arg++
			b := binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))
			out = append(out, orderBytes(b, f.h.endian)...)
		case 'd':
			v := checkNumber(L, arg)
			arg++
			b := binary.LittleEndian.AppendUint64(nil, math.Float64bits(v))
			out = append(out, orderBytes(b, f.h.endian)...)
		case 'c', 's':
			s := checkLString(L, arg)
			arg++
			l := uint64(len(s))
			if size == 0 {
				size = l
			}
			if l < size {
				argError(L, arg, "string too short")
			}
			out = append(out, s[:size]...)
			if opt == 's' {
				out = append(out, 0)
				size++
			}
		default:
			f.controloptions(opt)
		}
		totalsize += size
	}
	L.Push(lua.LString(out))
	return 1
}

// getInteger reads size bytes as lua_struct.c's getinteger does.
func getInteger(b string, endian int, signed bool, size uint64) float64 {
	var l uint64
	if endian == structBig {
		for i := uint64(0); i < size; i++ {
			l = l<<8 | uint64(b[i])
		}
	} else {
		for i := int(size) - 1; i >= 0; i-- {
			l = l<<8 | uint64(b[i])
		}
	}
	if !signed {
		return float64(l)
	}
	// The C shift count is masked to 6 bits by x86-64's shl.
	mask := ^uint64(0) << ((size*8 - 1) & 63)
	if l&mask != 0 {
		l |= mask
	}
	return float64(int64(l))
}

// structUnpack is struct.unpack(fmt, data [, pos]).
func structUnpack(L *lua.LState) int {
	f := newStructFormat(L)
	data := checkLString(L, 2)
	ld := uint64(len(data))
	pos := uint64(optInteger(L, 3, 1))
	if pos == 0 {
		argError(L, 3, "offset must be 1 or greater")
	}
	pos--
	base := L.GetTop()
	var res []lua.LValue
	for f.more() {
		opt := f.next()
		size := f.optsize(opt)
		pos += f.gettoalign(pos, opt, size)
		if !(size <= ld && pos <= ld-size) {
			argError(L, 2, "data string too short")
		}
		if base+len(res)+2 > luaiMaxCStack {
			raise(L, "stack overflow (too many results)")
		}
		switch opt {
		case 'b', 'B', 'h', 'H', 'l', 'L', 'T', 'i', 'I':
			signed := opt >= 'a' && opt <= 'z'
			res = append(res, lua.LNumber(getInteger(data[pos:], f.h.endian, signed, size)))
		case 'x':
		case 'f':
			b := orderBytes([]byte(data[pos:pos+4]), f.h.endian)
			res = append(res, lua.LNumber(math.Float32frombits(binary.LittleEndian.Uint32(b))))
		case 'd':
			b := orderBytes([]byte(data[pos:pos+8]), f.h.endian)
			res = append(res, lua.LNumber(math.Float64frombits(binary.LittleEndian.Uint64(b))))
		case 'c':
			if size == 0 {
				var prev float64
				ok := len(res) > 0
				if ok {
					prev, ok = toNumber(res[len(res)-1])
				}
				if !ok {
					raise(L, "format 'c0' needs a previous size")
				}
				size = cUint64(prev)
				res = res[:len(res)-1]
				if !(size <= ld && pos <= ld-size) {
					argError(L, 2, "data string too short")
				}
			}
			res = append(res, lua.LString(data[pos:pos+size]))
		case 's':
			e := strings.IndexByte(data[pos:], 0)
			if e < 0 {
				raise(L, "unfinished string in data")
			}
			size = uint64(e) + 1
			res = append(res, lua.LString(data[pos:pos+size-1]))
		default:
			f.controloptions(opt)
		}
		pos += size
	}
	for _, v := range res {
		L.Push(v)
	}
	L.Push(lua.LNumber(int64(pos + 1)))
	return len(res) + 1
}

// structSize is struct.size(fmt).
func structSize(L *lua.LState) int {
	f := newStructFormat(L)
	var pos uint64
	for f.more() {
		opt := f.next()
		size := f.optsize(opt)
		pos += f.gettoalign(pos, opt, size)
		if opt == 's' {
			argError(L, 1, "option 's' has no fixed size")
		} else if opt == 'c' && size == 0 {
			argError(L, 1, "option 'c0' has no fixed size")
		}
		if !isAlnum(opt) {
			f.controloptions(opt)
		}
		pos += size
	}
	L.Push(lua.LNumber(int64(pos)))
	return 1
}
