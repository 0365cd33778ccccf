package op

import (
	"encoding/binary"

	"github.com/loomcache/loomcache/internal/memcopy"
)

// A piece carries a slice of one large encoded op. Replicating a 200 MB
// op as one Raft entry holds up every entry behind it for as long as the
// entry takes to store and send (seconds), and heartbeats with it; so an
// op over a threshold goes to Raft in pieces of about a megabyte, which
// other clients' writes can pass between. Each node appends a piece to
// the upload it belongs to and applies the op when its last piece is
// applied. Its first byte, PieceTag, can never start a single op (whose
// first byte is its version) nor a batch; a piece may travel inside a
// batch, with other ops.
//
//	PieceTag | uvarint upload | uvarint total | uvarint offset | uvarint n | n bytes
//
// upload names the upload among those of the proposer's term; total is
// the encoded op's size, offset where the piece's bytes start in it. A
// piece with total 0 aborts the upload.

// PieceTag is the first byte of a piece.
const PieceTag = 0xB1

// MaxPieceTotal bounds the op size a piece may declare: it is allocated
// when the first piece arrives.
const MaxPieceTotal = 1 << 32

// Piece is a decoded piece; Data aliases the encoding.
type Piece struct {
	Upload uint64
	Total  uint64 // 0: abort the upload
	Offset uint64
	Data   []byte
}

// AppendPiece appends p's encoding to dst.
func AppendPiece(dst []byte, p Piece) []byte {
	return memcopy.Append(AppendPieceHead(dst, p, len(p.Data)), p.Data)
}

// AppendPieceHead appends the encoding of a piece like p (its Data
// ignored) up to its n bytes of data, which the caller appends.
func AppendPieceHead(dst []byte, p Piece, n int) []byte {
	dst = append(dst, PieceTag)
	dst = binary.AppendUvarint(dst, p.Upload)
	dst = binary.AppendUvarint(dst, p.Total)
	dst = binary.AppendUvarint(dst, p.Offset)
	return binary.AppendUvarint(dst, uint64(n))
}

// PieceHead bounds the encoding of a piece besides its bytes.
const PieceHead = 1 + 4*binary.MaxVarintLen64

// PieceSize is the encoded size of a piece of n bytes, at most.
func PieceSize(n int) int { return PieceHead + n }

// IsPiece reports whether an encoded op or entry is a piece.
func IsPiece(b []byte) bool { return len(b) > 0 && b[0] == PieceTag }

// DecodePiece parses a piece. It never panics: a malformed piece is
// ErrTruncated or ErrMalformed.
func DecodePiece(b []byte) (Piece, error) {
	d := decoder{b: b}
	if d.byte() != PieceTag && d.err == nil {
		return Piece{}, ErrMalformed
	}
	p := Piece{Upload: d.uvarint(), Total: d.uvarint(), Offset: d.uvarint()}
	p.Data = d.bytes()
	if d.err != nil {
		return Piece{}, d.err
	}
	if len(d.b) != 0 || p.Total > MaxPieceTotal || p.Offset > p.Total || uint64(len(p.Data)) > p.Total-p.Offset {
		return Piece{}, ErrMalformed
	}
	return p, nil
}
