package op

import "encoding/binary"

// A batch carries several encoded ops in one Raft entry, so the writes of
// many clients that arrive together cost one entry (one future, one log
// record, one replication frame) instead of one each. Its first byte,
// BatchTag, can never start a single op (whose first byte is its
// version), so an entry is one or the other by its first byte.

// BatchTag is the first byte of a batch.
const BatchTag = 0xB0

// maxBatchOps bounds the op count a batch may declare.
const maxBatchOps = 1 << 20

// AppendBatch appends a batch of the given encoded ops to dst.
func AppendBatch(dst []byte, ops [][]byte) []byte {
	dst = append(dst, BatchTag)
	dst = binary.AppendUvarint(dst, uint64(len(ops)))
	for _, o := range ops {
		dst = binary.AppendUvarint(dst, uint64(len(o)))
		dst = append(dst, o...)
	}
	return dst
}

// BatchParts returns, as parts whose concatenation it is, the batch that
// AppendBatch makes of the ops whose encodings are the concatenations of
// ops[i] (each op in parts, as EncodeParts gives them), and its size.
// The ops' parts are not copied.
func BatchParts(ops [][][]byte) (parts [][]byte, size int) {
	// The batch's own bytes share one buffer, sized so it never moves.
	head := make([]byte, 0, 1+binary.MaxVarintLen64*(1+len(ops)))
	head = append(head, BatchTag)
	head = binary.AppendUvarint(head, uint64(len(ops)))
	at := 0
	for _, o := range ops {
		n := 0
		for _, p := range o {
			n += len(p)
		}
		head = binary.AppendUvarint(head, uint64(n))
		parts = append(parts, head[at:])
		parts = append(parts, o...)
		size += len(head) - at + n
		at = len(head)
	}
	return parts, size
}

// IsBatch reports whether an entry's data is a batch.
func IsBatch(b []byte) bool { return len(b) > 0 && b[0] == BatchTag }

// SplitBatch checks a batch and returns its encoded ops (aliasing b). It
// never panics: a malformed batch is ErrTruncated or ErrMalformed, and
// then no op of it is returned.
func SplitBatch(b []byte) ([][]byte, error) {
	d := decoder{b: b}
	if d.byte() != BatchTag && d.err == nil {
		return nil, ErrMalformed
	}
	n := d.uvarint()
	if d.err != nil {
		return nil, d.err
	}
	if n == 0 || n > maxBatchOps || n > uint64(len(d.b)) {
		return nil, ErrMalformed
	}
	ops := make([][]byte, n)
	for i := range ops {
		ops[i] = d.bytes()
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, ErrMalformed
	}
	return ops, nil
}
