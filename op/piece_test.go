package op

import (
	"bytes"
	"errors"
	"testing"
)

func TestPieceRoundTrip(t *testing.T) {
	for _, p := range []Piece{
		{Upload: 1, Total: 10, Offset: 0, Data: []byte("abcd")},
		{Upload: 1<<63 + 5, Total: MaxPieceTotal, Offset: MaxPieceTotal - 3, Data: []byte("xyz")},
		{Upload: 7, Total: 0}, // abort
	} {
		b := AppendPiece([]byte("prefix"), p)[len("prefix"):]
		if len(b) > PieceSize(len(p.Data)) {
			t.Errorf("%+v: %d bytes, PieceSize says at most %d", p, len(b), PieceSize(len(p.Data)))
		}
		if !IsPiece(b) || IsBatch(b) {
			t.Fatalf("%x is not told as a piece", b)
		}
		got, err := DecodePiece(b)
		if err != nil {
			t.Fatalf("%+v: %v", p, err)
		}
		if got.Upload != p.Upload || got.Total != p.Total || got.Offset != p.Offset || !bytes.Equal(got.Data, p.Data) {
			t.Errorf("decoded %+v, want %+v", got, p)
		}
	}
	// Neither an op nor a batch is a piece.
	if IsPiece((&Op{Type: Set}).Encode(nil)) || IsPiece(AppendBatch(nil, [][]byte{{Version}})) || IsPiece(nil) {
		t.Error("IsPiece takes an op or a batch for a piece")
	}
}

func TestDecodePieceMalformed(t *testing.T) {
	good := AppendPiece(nil, Piece{Upload: 1, Total: 8, Offset: 4, Data: []byte("abcd")})
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"not a piece", []byte{Version, 1}, ErrMalformed},
		{"cut short", good[:len(good)-1], ErrTruncated},
		{"trailing byte", append(bytes.Clone(good), 0), ErrMalformed},
		{"past its total", AppendPiece(nil, Piece{Upload: 1, Total: 5, Offset: 4, Data: []byte("ab")}), ErrMalformed},
		{"offset past total", AppendPiece(nil, Piece{Upload: 1, Total: 5, Offset: 6}), ErrMalformed},
		{"total too large", AppendPiece(nil, Piece{Upload: 1, Total: MaxPieceTotal + 1}), ErrMalformed},
		{"overflowing varint", []byte{PieceTag, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, ErrMalformed},
	} {
		if _, err := DecodePiece(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func FuzzDecodePiece(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{PieceTag})
	f.Add(AppendPiece(nil, Piece{Upload: 3, Total: 6, Offset: 2, Data: []byte("data")}))
	f.Add(AppendPiece(nil, Piece{Upload: 3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePiece(b)
		if err != nil {
			return
		}
		if p.Offset+uint64(len(p.Data)) > p.Total || p.Total > MaxPieceTotal {
			t.Fatalf("%x decodes to a piece past its op: %+v", b, p)
		}
		again, err := DecodePiece(AppendPiece(nil, p))
		if err != nil || again.Upload != p.Upload || again.Total != p.Total || again.Offset != p.Offset || !bytes.Equal(again.Data, p.Data) {
			t.Fatalf("%+v does not survive its encoding: %+v, %v", p, again, err)
		}
	})
}
