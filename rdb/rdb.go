package rdb

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
)

// Version is the RDB version Redis 7.0 writes.
const Version = 10

// Object types as an RDB names them (src/rdb.h).
const (
	TypeString          = 0
	TypeList            = 1
	TypeSet             = 2
	TypeZSet            = 3
	TypeHash            = 4
	TypeZSet2           = 5
	TypeModule          = 6
	TypeModule2         = 7
	TypeHashZipmap      = 9
	TypeListZiplist     = 10
	TypeSetIntset       = 11
	TypeZSetZiplist     = 12
	TypeHashZiplist     = 13
	TypeListQuicklist   = 14
	TypeStreamListpacks = 15
	TypeHashListpack    = 16
	TypeZSetListpack    = 17
	TypeListQuicklist2  = 18
	TypeStreamListpack2 = 19
)

// Errors with Redis's RESTORE replies.
var (
	ErrChecksum = errors.New("ERR DUMP payload version or checksum are wrong")
	ErrBadData  = errors.New("ERR Bad data format")
)

// errBadData is what every decoder returns; callers see ErrBadData.
var errBadData = ErrBadData

// Kind is a value's Redis type.
type Kind uint8

// Kinds.
const (
	KindString Kind = iota + 1
	KindList
	KindSet
	KindZSet
	KindHash
	KindStream
)

// Value is a decoded value. Which fields hold it depends on Kind: Str for
// a string; Elems for a list's elements, a set's members or a hash's
// fields and values in turn; ZSet for a sorted set; Stream for a stream.
type Value struct {
	Kind   Kind
	Str    []byte
	Elems  [][]byte
	ZSet   []ZMember
	Stream *Stream
	// Nodes is a quicklist's element count per node, as the payload had
	// them (Redis keeps a loaded quicklist's nodes); nil for a list
	// loaded element by element (LIST, LIST_ZIPLIST).
	Nodes []int
}

// ZMember is a sorted set's member and score.
type ZMember struct {
	Member []byte
	Score  float64
}

// reader reads an RDB object body from a byte slice; every read checks
// bounds and a failed read sets err, after which reads return zeros.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errBadData
	}
	r.b = nil
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) raw(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.fail()
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

// lenEnc reads an RDB length; enc reports a special string encoding,
// whose kind is then n.
func (r *reader) lenEnc() (n uint64, enc bool) {
	c := r.byte()
	if r.err != nil {
		return 0, false
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false
	case 1:
		return uint64(c&0x3f)<<8 | uint64(r.byte()), false
	case 3:
		return uint64(c & 0x3f), true
	}
	switch c {
	case 0x80:
		p := r.raw(4)
		if p == nil {
			return 0, false
		}
		return uint64(binary.BigEndian.Uint32(p)), false
	case 0x81:
		p := r.raw(8)
		if p == nil {
			return 0, false
		}
		return binary.BigEndian.Uint64(p), false
	}
	r.fail()
	return 0, false
}

// length reads a plain length.
func (r *reader) length() uint64 {
	n, enc := r.lenEnc()
	if enc {
		r.fail()
	}
	return n
}

// count reads a number of items, each at least min bytes, so a damaged
// count fails before anything is allocated for it.
func (r *reader) count(min int) int {
	n := r.length()
	if r.err == nil && n > uint64(len(r.b)/max(min, 1)) {
		r.fail()
		return 0
	}
	return int(n)
}

// maxLZF bounds a compressed string's declared length (proto-max-bulk-len
// cannot exceed 512MB by default; Redis would fail the allocation).
const maxLZF = 1 << 32

// str reads an RDB string: plain, integer-encoded or LZF.
func (r *reader) str() []byte {
	n, enc := r.lenEnc()
	if r.err != nil {
		return nil
	}
	if !enc {
		if n > uint64(len(r.b)) {
			r.fail()
			return nil
		}
		return r.raw(int(n))
	}
	switch n {
	case 0:
		return strconv.AppendInt(nil, int64(int8(r.byte())), 10)
	case 1:
		p := r.raw(2)
		if p == nil {
			return nil
		}
		return strconv.AppendInt(nil, int64(int16(binary.LittleEndian.Uint16(p))), 10)
	case 2:
		p := r.raw(4)
		if p == nil {
			return nil
		}
		return strconv.AppendInt(nil, int64(int32(binary.LittleEndian.Uint32(p))), 10)
	case 3:
		clen := r.length()
		ulen := r.length()
		if r.err != nil || clen > uint64(len(r.b)) || ulen > maxLZF {
			r.fail()
			return nil
		}
		if ulen == 0 { // lzf_decompress's 0 is then the length asked for
			r.raw(int(clen))
			return []byte{}
		}
		// LZF expands at most about 260 times: a larger claim is damage.
		if ulen > clen*300+64 {
			r.fail()
			return nil
		}
		out, err := lzfDecompress(r.raw(int(clen)), int(ulen))
		if err != nil {
			r.fail()
			return nil
		}
		return out
	}
	r.fail()
	return nil
}

// binaryDouble reads an 8-byte little-endian double (ZSET_2).
func (r *reader) binaryDouble() float64 {
	p := r.raw(8)
	if p == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p))
}

// textDouble reads the old text double (ZSET): a length byte, 253 NaN,
// 254 +inf, 255 -inf.
func (r *reader) textDouble() float64 {
	n := r.byte()
	switch n {
	case 253:
		return math.NaN()
	case 254:
		return math.Inf(1)
	case 255:
		return math.Inf(-1)
	}
	p := r.raw(int(n))
	if p == nil {
		return 0
	}
	f, err := strconv.ParseFloat(string(p), 64)
	if err != nil {
		r.fail()
	}
	return f
}

// millis reads an 8-byte little-endian millisecond time.
func (r *reader) millis() int64 {
	p := r.raw(8)
	if p == nil {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(p))
}

// AppendLen appends an RDB length as rdbSaveLen writes it.
func AppendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= math.MaxUint32:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}

// AppendString appends s as rdbSaveRawString writes it with
// rdbcompression yes: an integer encoding for a short integer-looking
// string, LZF when that saves more than 4 bytes of a string over 20,
// plain otherwise.
func AppendString(b, s []byte) []byte {
	if len(s) <= 11 {
		if v, ok := canonicalInt(s); ok && v >= math.MinInt32 && v <= math.MaxInt32 {
			return appendIntEnc(b, v)
		}
	}
	if len(s) > 20 {
		if c := lzfCompress(s, len(s)-4); c != nil {
			b = append(b, 0xc3)
			b = AppendLen(b, uint64(len(c)))
			b = AppendLen(b, uint64(len(s)))
			return append(b, c...)
		}
	}
	b = AppendLen(b, uint64(len(s)))
	return append(b, s...)
}

// AppendInt appends an integer-encoded string object as
// rdbSaveLongLongAsStringObject writes it.
func AppendInt(b []byte, v int64) []byte {
	if v >= math.MinInt32 && v <= math.MaxInt32 {
		return appendIntEnc(b, v)
	}
	s := strconv.AppendInt(nil, v, 10)
	b = AppendLen(b, uint64(len(s)))
	return append(b, s...)
}

func appendIntEnc(b []byte, v int64) []byte {
	switch {
	case v >= math.MinInt8 && v <= math.MaxInt8:
		return append(b, 0xc0, byte(int8(v)))
	case v >= math.MinInt16 && v <= math.MaxInt16:
		return binary.LittleEndian.AppendUint16(append(b, 0xc1), uint16(int16(v)))
	}
	return binary.LittleEndian.AppendUint32(append(b, 0xc2), uint32(int32(v)))
}

// canonicalInt is Redis's string2ll with the round trip its callers
// check: the decimal form of an int64, no sign on 0, no leading zeros.
func canonicalInt(s []byte) (int64, bool) {
	if len(s) == 0 || len(s) > 20 {
		return 0, false
	}
	if len(s) == 1 && s[0] == '0' {
		return 0, true
	}
	d := s
	if d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(string(s), 10, 64)
	return v, err == nil
}

// Payload wraps an object body (type byte and object) as a DUMP payload:
// the RDB version and the CRC64 after it.
func Payload(body []byte) []byte {
	body = binary.LittleEndian.AppendUint16(body, Version)
	return binary.LittleEndian.AppendUint64(body, CRC64(body))
}

// Verify checks a DUMP payload's footer as verifyDumpPayload does and
// returns the body (type byte and object).
func Verify(p []byte) ([]byte, error) {
	if len(p) < 10 {
		return nil, ErrChecksum
	}
	footer := p[len(p)-10:]
	if binary.LittleEndian.Uint16(footer) > Version ||
		binary.LittleEndian.Uint64(footer[2:]) != CRC64(p[:len(p)-8]) {
		return nil, ErrChecksum
	}
	return p[:len(p)-10], nil
}

// DecodePayload verifies a DUMP payload and decodes its value, with
// RESTORE's errors.
func DecodePayload(p []byte) (Value, error) {
	body, err := Verify(p)
	if err != nil {
		return Value{}, err
	}
	if len(body) == 0 {
		return Value{}, ErrBadData
	}
	// Redis reads the object from the whole payload, footer included: an
	// object that runs into the footer loads from its bytes.
	return DecodeObject(p[0], p[1:])
}

// ReadString reads one RDB string from the start of b (plain,
// integer-encoded or LZF) and returns it and the bytes after it.
func ReadString(b []byte) (s, rest []byte, err error) {
	r := &reader{b: b}
	s = r.str()
	if r.err != nil {
		return nil, nil, r.err
	}
	return s, r.b, nil
}
