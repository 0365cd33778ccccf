package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Reading whole RDB files (rdbLoadRio): the header, aux fields,
// databases, expiry and access opcodes, functions and keys. Each key
// comes out as a DUMP payload of its object's own bytes, so a server's
// RESTORE does the decoding.

// RDB file opcodes (src/rdb.h).
const (
	opFunction2    = 245
	opFunction     = 246
	opModuleAux    = 247
	opIdle         = 248
	opFreq         = 249
	opAux          = 250
	opResizeDB     = 251
	opExpireTimeMs = 252
	opExpireTime   = 253
	opSelectDB     = 254
	opEOF          = 255
)

// RecordKind says what a Record holds.
type RecordKind int

// Record kinds.
const (
	RecordKey      RecordKind = iota + 1 // a key and its value
	RecordFunction                       // a function library's code
	RecordAux                            // an aux field
)

// Record is one item of an RDB file.
type Record struct {
	Kind RecordKind
	DB   int
	Key  []byte
	// Payload is the key's value as a DUMP payload (RecordKey), or a
	// FUNCTION RESTORE payload of one library (RecordFunction).
	Payload []byte
	// Type is the key's RDB object type.
	Type byte
	// ExpireMs is the key's deadline (unix ms), 0 if none.
	ExpireMs int64
	// Idle (seconds) and Freq are the key's access data when the file
	// has them, -1 otherwise.
	Idle int64
	Freq int
	// AuxKey and AuxVal are an aux field (RecordAux).
	AuxKey, AuxVal []byte
}

// FileReader reads the records of an RDB file held in memory.
type FileReader struct {
	data    []byte
	pos     int
	db      int
	Version int
	done    bool
}

// ErrFile is wrapped by every error of a malformed file.
var ErrFile = errors.New("bad RDB file")

// NewFileReader checks the header ("REDIS" and a version up to 10).
func NewFileReader(data []byte) (*FileReader, error) {
	if len(data) < 9 || string(data[:5]) != "REDIS" {
		return nil, fmt.Errorf("%w: no REDIS header", ErrFile)
	}
	v, err := strconv.Atoi(string(data[5:9]))
	if err != nil || v < 1 {
		return nil, fmt.Errorf("%w: version %q", ErrFile, data[5:9])
	}
	if v > Version {
		return nil, fmt.Errorf("%w: RDB version %d is newer than Redis 7.0's %d", ErrFile, v, Version)
	}
	return &FileReader{data: data, pos: 9, Version: v}, nil
}

// Offset is how many bytes have been read.
func (f *FileReader) Offset() int { return f.pos }

// Next returns the next record, or io.EOF after the EOF opcode (whose
// checksum, when not zero, is checked).
func (f *FileReader) Next() (Record, error) {
	rec := Record{Idle: -1, Freq: -1}
	for {
		if f.done {
			return rec, io.EOF
		}
		r := &reader{b: f.data[f.pos:]}
		at := f.pos
		advance := func() { f.pos = len(f.data) - len(r.b) }
		typ := r.byte()
		if r.err != nil {
			return rec, fmt.Errorf("%w: truncated at byte %d (no EOF opcode)", ErrFile, at)
		}
		switch typ {
		case opEOF:
			advance()
			f.done = true
			if f.Version >= 5 {
				sum := r.raw(8)
				if sum == nil {
					return rec, fmt.Errorf("%w: no checksum", ErrFile)
				}
				if want := binary.LittleEndian.Uint64(sum); want != 0 && want != CRC64(f.data[:f.pos]) {
					return rec, fmt.Errorf("%w: checksum mismatch", ErrFile)
				}
				advance()
			}
			return rec, io.EOF
		case opSelectDB:
			db := r.length()
			if r.err != nil || db > 1<<20 {
				return rec, fmt.Errorf("%w: SELECTDB at byte %d", ErrFile, at)
			}
			f.db = int(db)
		case opResizeDB:
			r.length()
			r.length()
		case opExpireTimeMs:
			rec.ExpireMs = r.millis()
		case opExpireTime:
			if p := r.raw(4); p != nil {
				rec.ExpireMs = int64(int32(binary.LittleEndian.Uint32(p))) * 1000
			}
		case opIdle:
			rec.Idle = int64(r.length())
		case opFreq:
			rec.Freq = int(r.byte())
		case opAux:
			k, v := r.str(), r.str()
			if r.err != nil {
				return rec, fmt.Errorf("%w: aux field at byte %d", ErrFile, at)
			}
			advance()
			return Record{Kind: RecordAux, AuxKey: k, AuxVal: v}, nil
		case opFunction2:
			code := r.str()
			if r.err != nil {
				return rec, fmt.Errorf("%w: function at byte %d", ErrFile, at)
			}
			advance()
			return Record{Kind: RecordFunction, Payload: Payload(AppendString([]byte{opFunction2}, code))}, nil
		case opFunction:
			return rec, fmt.Errorf("%w: a pre-release Redis 7.0 function format (FUNCTION opcode) at byte %d", ErrFile, at)
		case opModuleAux:
			return rec, fmt.Errorf("%w: module data at byte %d: LoomCache has no modules", ErrFile, at)
		default:
			key := r.str()
			start := len(f.data) - len(r.b)
			r.object(typ)
			if r.err != nil {
				return rec, fmt.Errorf("%w: key %q (type %d) at byte %d", ErrFile, key, typ, at)
			}
			advance()
			body := make([]byte, 0, 1+f.pos-start+10)
			body = append(append(body, typ), f.data[start:f.pos]...)
			rec.Kind, rec.DB, rec.Key, rec.Type, rec.Payload = RecordKey, f.db, key, typ, Payload(body)
			return rec, nil
		}
		if r.err != nil {
			return rec, fmt.Errorf("%w: opcode %d at byte %d", ErrFile, typ, at)
		}
		advance()
	}
}
