package keyspace

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/loomcache/loomcache/internal/memcopy"
)

// ErrBadSnapshot is returned for a snapshot that cannot be read.
var ErrBadSnapshot = errors.New("keyspace: bad snapshot")

// maxSnapshotString bounds a key or value length a snapshot may declare
// (Redis's proto-max-bulk-len cannot exceed it either).
const maxSnapshotString = 1 << 32

// ReadSnapshot replaces the store's contents with the snapshot in r. It
// builds the new databases without the lock, reading as it goes, and
// takes the write lock only to put them in place; on an error the store
// is unchanged.
func (s *Store) ReadSnapshot(r io.Reader) error {
	br, ok := r.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(r, 256*1024)
	}
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil {
		return fmt.Errorf("%w: no header", ErrBadSnapshot)
	}
	ld := loader{br: br}
	switch string(magic) {
	case snapshotMagic:
		ld.format = 3
	case snapshotMagicV2:
		ld.format = 2
	case snapshotMagicV1:
		ld.format = 1
	default:
		return fmt.Errorf("%w: no header", ErrBadSnapshot)
	}
	// Formats before 3 carry no versions: every entry gets version 1, so
	// nodes that load the same old snapshot still agree.
	version := uint64(1)
	if ld.format >= 3 {
		v, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("%w: no version", ErrBadSnapshot)
		}
		version = v
	}
	ld.maxVersion = version
	n, err := binary.ReadUvarint(br)
	if err != nil || n != uint64(s.NumDBs()) {
		return fmt.Errorf("%w: %d databases, want %d", ErrBadSnapshot, n, s.NumDBs())
	}
	dbs := make([]*DB, n)
	for i := range dbs {
		if dbs[i], err = ld.db(s); err != nil {
			return fmt.Errorf("%w: db %d: %v", ErrBadSnapshot, i, err)
		}
	}
	s.Lock()
	s.dbs = dbs
	s.version = version
	if s.ready != nil {
		s.ready(-1, "", 0) // any key may have changed
	}
	s.signalChanged("", true)
	s.Unlock()
	return nil
}

// loader reads databases from a snapshot.
type loader struct {
	br         *bufio.Reader
	format     int    // 1, 2 or 3
	maxVersion uint64 // the snapshot's change count: no entry's is later
	key, val   []byte // scratch
}

func (ld *loader) db(s *Store) (*DB, error) {
	count, err := binary.ReadUvarint(ld.br)
	if err != nil {
		return nil, err
	}
	if count > 1<<32 {
		return nil, fmt.Errorf("%d keys", count)
	}
	// Sized for the count, but no more than a damaged count could make
	// the loader allocate before it fails.
	d := newDB(s, int(min(count, 1<<20)))
	slot := int64(-1)
	for k := uint64(0); k < count; k++ {
		if ld.format == 1 {
			slot++
		} else {
			delta, err := binary.ReadUvarint(ld.br)
			if err != nil || delta >= 1<<32 || slot+1+int64(delta) >= 1<<32 {
				return nil, fmt.Errorf("slot after %d: %v", slot, err)
			}
			slot += 1 + int64(delta)
		}
		if err := ld.entry(d, uint32(slot)); err != nil {
			return nil, fmt.Errorf("key %d: %w", k, err)
		}
	}
	return d, nil
}

// entry reads one key into slot.
func (ld *loader) entry(d *DB, slot uint32) error {
	var err error
	if ld.format == 1 { // v1: the key first
		if ld.key, err = ld.bytes(ld.key); err != nil {
			return err
		}
	}
	var hdr [2]byte
	if _, err := io.ReadFull(ld.br, hdr[:]); err != nil {
		return err
	}
	kind, enc := Kind(hdr[0]), Encoding(hdr[1])
	deadline, err := binary.ReadVarint(ld.br)
	if err != nil {
		return err
	}
	version := uint64(1)
	if ld.format >= 3 {
		if version, err = binary.ReadUvarint(ld.br); err != nil {
			return err
		}
		if version > ld.maxVersion {
			return fmt.Errorf("version %d after the snapshot's %d", version, ld.maxVersion)
		}
	}
	if ld.format > 1 {
		if ld.key, err = ld.bytes(ld.key); err != nil {
			return err
		}
	}
	if ld.val, err = ld.bytes(ld.val); err != nil {
		return err
	}
	var obj Object
	if kind != KindString {
		if obj, err = decodeObject(kind, enc, ld.val); err != nil {
			return err
		}
	}
	if _, _, e := d.find(ld.key); e != nil {
		return errors.New("a key twice")
	}
	if obj == nil && len(ld.val) > adoptMin {
		// A large string keeps the buffer it was read into.
		obj, ld.val = &keptString{b: ld.val}, nil
	}
	e := d.place(slot, ld.key)
	e.kind, e.enc, e.obj, e.version = kind, enc, obj, version
	var b strings.Builder
	if obj == nil { // a string: inline, after its key
		b.Grow(len(ld.key) + len(ld.val))
		b.Write(ld.key)
		b.Write(ld.val)
	} else {
		b.Write(ld.key)
	}
	e.kv = b.String()
	d.setDeadline(slot, e, deadline)
	d.noteFieldTTL(slot, e)
	d.mem += footprint(e)
	return nil
}

// decodeObject decodes the snapshot encoding of a value of kind other than
// string; each kind's file provides its decoder.
func decodeObject(kind Kind, enc Encoding, data []byte) (Object, error) {
	switch kind {
	case KindHash:
		return decodeHash(enc, data)
	case KindSet:
		return decodeSet(enc, data)
	case KindList:
		return decodeList(enc, data)
	case KindZSet:
		return decodeZSet(enc, data)
	case KindStream:
		return decodeStream(enc, data)
	}
	return nil, fmt.Errorf("unknown kind %d (encoding %d)", kind, enc)
}

// bytes reads a length-prefixed string into buf's memory; the result is
// valid until buf is used again.
func (ld *loader) bytes(buf []byte) ([]byte, error) {
	n, err := binary.ReadUvarint(ld.br)
	if err != nil {
		return nil, err
	}
	if n > maxSnapshotString {
		return nil, fmt.Errorf("length %d", n)
	}
	buf = buf[:0]
	// Grow as the bytes arrive, so a damaged length fails at the end of
	// the input instead of allocating it first.
	for remaining := int(n); remaining > 0; {
		chunk := min(remaining, 1<<20)
		at := len(buf)
		// Doubling, by copies in pieces (never one long memmove, which
		// would hold up a garbage collection and every goroutine).
		buf = memcopy.Grow(buf, max(chunk, min(len(buf), remaining)))[:at+chunk]
		if _, err := io.ReadFull(ld.br, buf[at:]); err != nil {
			return nil, err
		}
		remaining -= chunk
	}
	return buf, nil
}

// place puts a new key in a given slot (a snapshot's), which must be free.
func (d *DB) place(slot uint32, key []byte) *entry {
	pi, j := int(slot>>pageBits), int(slot&(pageSize-1))
	for len(d.slots.pages) <= pi {
		d.slots.pages = append(d.slots.pages, nil)
	}
	p := d.slots.pages[pi]
	if p == nil {
		p = new(page)
		d.slots.pages[pi] = p
		d.mem += pageBytes
	}
	p.used[j>>6] |= 1 << (j & 63)
	p.n++
	d.idx.insert(d.idx.hash(key), slot)
	d.n++
	e := &p.e[j]
	e.klen = uint32(len(key))
	return e
}
