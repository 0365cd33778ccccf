package commands

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"strconv"
)

// FUNCTION DUMP's payload is Redis's: per library the RDB opcode
// FUNCTION2 and the code as an RDB string, then the RDB version (2 bytes)
// and a CRC64 (Jones) of everything before, both little endian. A Redis
// payload restores here and this one in Redis, so functions move between
// them as they are.

const (
	rdbOpcodeFunction2 = 245
	rdbVersion         = 10 // Redis 7.0's
)

var (
	errDumpPayload   = errors.New("ERR DUMP payload version or checksum are wrong")
	errDumpType      = errors.New("ERR can not read data type")
	errDumpNotFunc   = errors.New("ERR given type is not a function")
	errDumpBadLoaded = errors.New("ERR failed loading the given functions payload")
)

// crc64Jones is Redis's crc64: the Jones polynomial, reflected, from 0.
type crc64Jones [256]uint64

func newCRC64Jones() *crc64Jones {
	const poly = 0xad93d23594c935a9
	rev := bits.Reverse64(poly)
	var t crc64Jones
	for i := range t {
		c := uint64(i)
		for j := 0; j < 8; j++ {
			if c&1 == 1 {
				c = c>>1 ^ rev
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return &t
}

func (t *crc64Jones) sum(p []byte) uint64 {
	var crc uint64
	for _, b := range p {
		crc = t[byte(crc)^b] ^ crc>>8
	}
	return crc
}

// dumpFunctions encodes libraries' code as FUNCTION DUMP does.
func dumpFunctions(codes []string) []byte {
	var b []byte
	for _, code := range codes {
		b = append(b, rdbOpcodeFunction2)
		b = appendRDBLen(b, uint64(len(code)))
		b = append(b, code...)
	}
	b = binary.LittleEndian.AppendUint16(b, rdbVersion)
	return binary.LittleEndian.AppendUint64(b, newCRC64Jones().sum(b))
}

func appendRDBLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}

// restoreFunctions decodes a FUNCTION DUMP payload into the libraries'
// code, with Redis's errors.
func restoreFunctions(p []byte) ([]string, error) {
	if len(p) < 10 {
		return nil, errDumpPayload
	}
	footer := p[len(p)-10:]
	if binary.LittleEndian.Uint16(footer) > rdbVersion ||
		binary.LittleEndian.Uint64(footer[2:]) != newCRC64Jones().sum(p[:len(p)-8]) {
		return nil, errDumpPayload
	}
	b := p[:len(p)-10]
	var codes []string
	for len(b) > 0 {
		typ := b[0]
		b = b[1:]
		if typ != rdbOpcodeFunction2 {
			return nil, errDumpNotFunc
		}
		code, rest, err := readRDBString(b)
		if err != nil {
			return nil, errDumpBadLoaded
		}
		codes, b = append(codes, code), rest
	}
	return codes, nil
}

// readRDBString reads an RDB string: plain, integer-encoded or LZF.
func readRDBString(b []byte) (string, []byte, error) {
	n, enc, b, err := readRDBLen(b)
	if err != nil {
		return "", nil, err
	}
	if !enc {
		if n > uint64(len(b)) {
			return "", nil, errDumpBadLoaded
		}
		return string(b[:n]), b[n:], nil
	}
	switch n {
	case 0, 1, 2: // 8, 16, 32-bit integers
		size := 1 << n
		if len(b) < size {
			return "", nil, errDumpBadLoaded
		}
		var v int64
		switch size {
		case 1:
			v = int64(int8(b[0]))
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(b)))
		default:
			v = int64(int32(binary.LittleEndian.Uint32(b)))
		}
		return strconv.FormatInt(v, 10), b[size:], nil
	case 3: // LZF
		clen, _, rest, err := readRDBLen(b)
		if err != nil {
			return "", nil, err
		}
		ulen, _, rest, err := readRDBLen(rest)
		if err != nil || clen > uint64(len(rest)) || ulen > 512<<20 {
			return "", nil, errDumpBadLoaded
		}
		out, err := lzfDecompress(rest[:clen], int(ulen))
		if err != nil {
			return "", nil, err
		}
		return string(out), rest[clen:], nil
	}
	return "", nil, errDumpBadLoaded
}

// readRDBLen reads an RDB length; enc reports a special encoding, whose
// kind is then n.
func readRDBLen(b []byte) (n uint64, enc bool, rest []byte, err error) {
	if len(b) == 0 {
		return 0, false, nil, errDumpBadLoaded
	}
	switch b[0] >> 6 {
	case 0:
		return uint64(b[0] & 0x3f), false, b[1:], nil
	case 1:
		if len(b) < 2 {
			return 0, false, nil, errDumpBadLoaded
		}
		return uint64(b[0]&0x3f)<<8 | uint64(b[1]), false, b[2:], nil
	case 3:
		return uint64(b[0] & 0x3f), true, b[1:], nil
	}
	switch b[0] {
	case 0x80:
		if len(b) < 5 {
			return 0, false, nil, errDumpBadLoaded
		}
		return uint64(binary.BigEndian.Uint32(b[1:])), false, b[5:], nil
	case 0x81:
		if len(b) < 9 {
			return 0, false, nil, errDumpBadLoaded
		}
		return binary.BigEndian.Uint64(b[1:]), false, b[9:], nil
	}
	return 0, false, nil, errDumpBadLoaded
}

// lzfDecompress is liblzf's lzf_decompress: out must come to exactly n
// bytes.
func lzfDecompress(in []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 { // a literal run of ctrl+1 bytes
			l := ctrl + 1
			if i+l > len(in) || len(out)+l > n {
				return nil, errDumpBadLoaded
			}
			out = append(out, in[i:i+l]...)
			i += l
			continue
		}
		l := ctrl >> 5
		ref := len(out) - (ctrl&0x1f)<<8 - 1
		if l == 7 {
			if i >= len(in) {
				return nil, errDumpBadLoaded
			}
			l += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, errDumpBadLoaded
		}
		ref -= int(in[i])
		i++
		l += 2
		if ref < 0 || len(out)+l > n {
			return nil, errDumpBadLoaded
		}
		for k := 0; k < l; k++ { // may overlap what it appends
			out = append(out, out[ref+k])
		}
	}
	if len(out) != n {
		return nil, errDumpBadLoaded
	}
	return out, nil
}
