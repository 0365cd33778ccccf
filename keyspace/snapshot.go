package keyspace

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// snapshotMagic starts every snapshot; the digit is the format version.
const snapshotMagic = "LCKS1"

// WriteSnapshot writes every database to w. The caller holds at least the
// read lock for the whole call.
func (s *Store) WriteSnapshot(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 256*1024)
	var buf []byte
	buf = append(buf, snapshotMagic...)
	buf = binary.AppendUvarint(buf, uint64(len(s.dbs)))
	for _, d := range s.dbs {
		buf = binary.AppendUvarint(buf, uint64(len(d.keys)))
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		buf = buf[:0]
		for _, e := range d.order {
			if e == nil {
				continue
			}
			buf = appendBytes(buf, []byte(e.key))
			buf = append(buf, byte(e.val.kind), byte(e.val.enc))
			buf = binary.AppendVarint(buf, e.deadline)
			buf = appendValue(buf, e.val)
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func appendValue(b []byte, v *Value) []byte {
	switch v.kind {
	case KindString:
		b = appendBytes(b, v.str)
	}
	return b
}

// ErrBadSnapshot is returned for a snapshot that cannot be read.
var ErrBadSnapshot = errors.New("keyspace: bad snapshot")

// ReadSnapshot replaces the store's contents with the snapshot in r. The
// caller holds the write lock.
func (s *Store) ReadSnapshot(r io.Reader) error {
	br := bufio.NewReaderSize(r, 256*1024)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return fmt.Errorf("%w: no header", ErrBadSnapshot)
	}
	n, err := binary.ReadUvarint(br)
	if err != nil || n != uint64(len(s.dbs)) {
		return fmt.Errorf("%w: %d databases, want %d", ErrBadSnapshot, n, len(s.dbs))
	}
	dbs := make([]*DB, len(s.dbs))
	for i := range dbs {
		d := newDB(s)
		count, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("%w: db %d: %v", ErrBadSnapshot, i, err)
		}
		for k := uint64(0); k < count; k++ {
			key, err := readBytes(br)
			if err != nil {
				return fmt.Errorf("%w: db %d: %v", ErrBadSnapshot, i, err)
			}
			var hdr [2]byte
			if _, err := io.ReadFull(br, hdr[:]); err != nil {
				return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
			}
			deadline, err := binary.ReadVarint(br)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
			}
			v := &Value{kind: Kind(hdr[0]), enc: Encoding(hdr[1])}
			if err := readValue(br, v); err != nil {
				return err
			}
			d.Set(key, v, deadline)
		}
		dbs[i] = d
	}
	s.dbs = dbs
	return nil
}

func readBytes(r *bufio.Reader) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > 1<<32 {
		return nil, fmt.Errorf("%w: length %d", ErrBadSnapshot, n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return b, err
}

func readValue(r *bufio.Reader, v *Value) error {
	switch v.kind {
	case KindString:
		b, err := readBytes(r)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
		}
		v.str = b
		return nil
	}
	return fmt.Errorf("%w: unknown kind %d", ErrBadSnapshot, v.kind)
}
