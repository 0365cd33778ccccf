package persistence

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/hashicorp/raft"
)

// encodeLog: term, type, appended-at (unix ns), data, extensions.
func encodeLog(b []byte, l *raft.Log) []byte {
	b = binary.AppendUvarint(b, l.Term)
	b = append(b, byte(l.Type))
	b = binary.AppendVarint(b, appendedAt(l))
	b = binary.AppendUvarint(b, uint64(len(l.Data)))
	b = append(b, l.Data...)
	b = binary.AppendUvarint(b, uint64(len(l.Extensions)))
	return append(b, l.Extensions...)
}

// logSize is the length of encodeLog's encoding of l.
func logSize(l *raft.Log) int {
	return uvarintLen(l.Term) + 1 + uvarintLen(uint64(zigzag(appendedAt(l)))) +
		uvarintLen(uint64(len(l.Data))) + len(l.Data) + uvarintLen(uint64(len(l.Extensions))) + len(l.Extensions)
}

func appendedAt(l *raft.Log) int64 {
	if l.AppendedAt.IsZero() {
		return 0
	}
	return l.AppendedAt.UnixNano()
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// zigzag is binary.AppendVarint's mapping of a signed value to the
// unsigned one it writes.
func zigzag(x int64) uint64 { return uint64(x<<1) ^ uint64(x>>63) }

// The layout of a Pebble batch (batchrepr): a header, then per record a
// kind byte, the key's and the value's lengths (uvarints of at most 5
// bytes) and their bytes.
const (
	batchHeader = 12
	batchRecord = 1 + 2*5
)

var errCorruptLog = errors.New("corrupt log entry")

// errLogSize: an entry's encoding was not the size logSize said.
var errLogSize = errors.New("log entry encoding size mismatch")

func decodeLog(b []byte, index uint64, l *raft.Log) error {
	term, n := binary.Uvarint(b)
	if n <= 0 || len(b) < n+1 {
		return errCorruptLog
	}
	b = b[n:]
	typ := raft.LogType(b[0])
	b = b[1:]
	at, n := binary.Varint(b)
	if n <= 0 {
		return errCorruptLog
	}
	b = b[n:]
	data, b, ok := readChunk(b)
	if !ok {
		return errCorruptLog
	}
	ext, _, ok := readChunk(b)
	if !ok {
		return errCorruptLog
	}
	*l = raft.Log{Index: index, Term: term, Type: typ, Data: data, Extensions: ext}
	if at != 0 {
		l.AppendedAt = time.Unix(0, at)
	}
	return nil
}

// readChunk reads a length-prefixed byte string, copying it out of b
// (which belongs to Pebble).
func readChunk(b []byte) (chunk, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	b = b[k:]
	if n == 0 {
		return nil, b, true
	}
	return append([]byte(nil), b[:n]...), b[n:], true
}
