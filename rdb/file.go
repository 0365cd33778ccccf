package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
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

// FileReader reads the records of an RDB file from an io.Reader, holding
// a window of it: a record is parsed from the bytes read so far, and when
// they run out before it ends, more are read and the parse starts again.
type FileReader struct {
	src     io.Reader
	eof     bool   // src is exhausted
	buf     []byte // the window: bytes read and not yet consumed start at pos
	pos     int
	offset  int64 // bytes consumed before buf
	crc     *CRC64Writer
	db      int
	Version int
	done    bool
}

// ErrFile is wrapped by every error of a malformed file.
var ErrFile = errors.New("bad RDB file")

// readChunk is how much the window grows by at least.
const readChunk = 1 << 20

// NewFileReader reads and checks the header ("REDIS" and a version up
// to 10).
func NewFileReader(src io.Reader) (*FileReader, error) {
	f := &FileReader{src: src, crc: NewCRC64Writer()}
	for len(f.buf) < 9 && !f.eof {
		if err := f.fill(); err != nil {
			return nil, err
		}
	}
	data := f.buf
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
	f.Version = v
	f.consume(9)
	return f, nil
}

// fill reads more of the source into the window, dropping what was
// consumed first.
func (f *FileReader) fill() error {
	if f.pos > 0 {
		f.buf = append(f.buf[:0], f.buf[f.pos:]...)
		f.pos = 0
	}
	want := max(readChunk, len(f.buf)) // doubling for a large record
	at := len(f.buf)
	f.buf = append(f.buf, make([]byte, want)...)
	n, err := io.ReadFull(f.src, f.buf[at:])
	f.buf = f.buf[:at+n]
	switch err {
	case nil:
	case io.EOF, io.ErrUnexpectedEOF:
		f.eof = true
	default:
		return err
	}
	return nil
}

// consume marks n bytes of the window read, into the file's checksum.
func (f *FileReader) consume(n int) {
	f.crc.Write(f.buf[f.pos : f.pos+n])
	f.pos += n
	f.offset += int64(n)
}

// Offset is how many bytes have been read.
func (f *FileReader) Offset() int64 { return f.offset }

// Next returns the next record, or io.EOF after the EOF opcode (whose
// checksum, when not zero, is checked). A record cut short by the end of
// what has been read is parsed again with more.
func (f *FileReader) Next() (Record, error) {
	for {
		rec, n, err := f.parse()
		if err == nil || err == io.EOF || f.eof {
			if err == nil {
				f.consume(n)
			}
			return rec, err
		}
		if ferr := f.fill(); ferr != nil {
			return rec, ferr
		}
	}
}

// parse reads the next record from the window without consuming it: the
// record and its size. Opcodes before a record (expiry, access data,
// SELECTDB) are part of it.
func (f *FileReader) parse() (Record, int, error) {
	rec := Record{Idle: -1, Freq: -1}
	data := f.buf[f.pos:]
	r := &reader{b: data}
	db := f.db
	used := func() int { return len(data) - len(r.b) }
	for {
		if f.done {
			return rec, 0, io.EOF
		}
		at := f.offset + int64(used())
		typ := r.byte()
		if r.err != nil {
			return rec, 0, fmt.Errorf("%w: truncated at byte %d (no EOF opcode)", ErrFile, at)
		}
		switch typ {
		case opEOF:
			n := used()
			if f.Version >= 5 {
				sum := r.raw(8)
				if sum == nil {
					return rec, 0, fmt.Errorf("%w: no checksum", ErrFile)
				}
				f.crc.Write(data[:n])
				if want := binary.LittleEndian.Uint64(sum); want != 0 && want != f.crc.Sum {
					return rec, 0, fmt.Errorf("%w: checksum mismatch", ErrFile)
				}
				f.pos += used()
				f.offset += int64(used())
			} else {
				f.consume(n)
			}
			f.done = true
			return rec, 0, io.EOF
		case opSelectDB:
			n := r.length()
			if r.err != nil || n > 1<<20 {
				return rec, 0, fmt.Errorf("%w: SELECTDB at byte %d", ErrFile, at)
			}
			db = int(n)
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
				return rec, 0, fmt.Errorf("%w: aux field at byte %d", ErrFile, at)
			}
			f.db = db
			return Record{Kind: RecordAux, AuxKey: slices.Clone(k), AuxVal: slices.Clone(v)}, used(), nil
		case opFunction2:
			code := r.str()
			if r.err != nil {
				return rec, 0, fmt.Errorf("%w: function at byte %d", ErrFile, at)
			}
			f.db = db
			return Record{Kind: RecordFunction, Payload: Payload(AppendString([]byte{opFunction2}, code))}, used(), nil
		case opFunction:
			return rec, 0, fmt.Errorf("%w: a pre-release Redis 7.0 function format (FUNCTION opcode) at byte %d", ErrFile, at)
		case opModuleAux:
			return rec, 0, fmt.Errorf("%w: module data at byte %d: LoomCache has no modules", ErrFile, at)
		default:
			key := r.str()
			start := used()
			r.object(typ)
			if r.err != nil {
				return rec, 0, fmt.Errorf("%w: key %q (type %d) at byte %d", ErrFile, key, typ, at)
			}
			end := used()
			body := make([]byte, 0, 1+end-start+10)
			body = append(append(body, typ), data[start:end]...)
			f.db = db
			rec.Kind, rec.DB, rec.Key, rec.Type, rec.Payload = RecordKey, db, slices.Clone(key), typ, Payload(body)
			return rec, end, nil
		}
		if r.err != nil {
			return rec, 0, fmt.Errorf("%w: opcode %d at byte %d", ErrFile, typ, at)
		}
	}
}
