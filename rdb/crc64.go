package rdb

import "math/bits"

// crcTable is Redis's crc64 (src/crc64.c): the Jones polynomial,
// reflected, from 0.
type crcTable [256]uint64

func newCRCTable() *crcTable {
	const poly = 0xad93d23594c935a9
	rev := bits.Reverse64(poly)
	var t crcTable
	for i := range t {
		c := uint64(i)
		for range 8 {
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

func (t *crcTable) update(crc uint64, p []byte) uint64 {
	for _, b := range p {
		crc = t[byte(crc)^b] ^ crc>>8
	}
	return crc
}

// crcTab is computed once and never changes.
var crcTab = newCRCTable()

// CRC64 is Redis's crc64(0, p): the checksum of DUMP payloads and RDB
// files.
func CRC64(p []byte) uint64 { return crcTab.update(0, p) }

// CRC64Writer accumulates Redis's crc64 over what is written to it.
type CRC64Writer struct {
	t   *crcTable
	Sum uint64
}

// NewCRC64Writer returns a writer whose Sum starts at 0.
func NewCRC64Writer() *CRC64Writer { return &CRC64Writer{t: crcTab} }

// Write implements io.Writer.
func (w *CRC64Writer) Write(p []byte) (int, error) {
	w.Sum = w.t.update(w.Sum, p)
	return len(p), nil
}
