package op

import (
	"bytes"
	"errors"
	"testing"
)

func TestBatchRoundTrip(t *testing.T) {
	ops := [][]byte{
		(&Op{Type: Set, Args: [][]byte{[]byte("k"), []byte("v")}}).Encode(nil),
		(&Op{Type: IncrBy, Int: -3, Args: [][]byte{[]byte("n")}, Req: ReqID{Origin: "n2", Seq: 9}}).Encode(nil),
		(&Op{Type: Del, Args: [][]byte{{}}}).Encode(nil),
	}
	b := AppendBatch([]byte("prefix"), ops)[len("prefix"):]
	if !IsBatch(b) || IsBatch(ops[0]) || IsBatch(nil) {
		t.Fatal("IsBatch does not tell a batch from an op")
	}
	got, err := SplitBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ops) {
		t.Fatalf("%d ops, want %d", len(got), len(ops))
	}
	for i := range ops {
		if !bytes.Equal(got[i], ops[i]) {
			t.Errorf("op %d: %x, want %x", i, got[i], ops[i])
		}
	}
	// The same batch in parts, each op in parts of its own.
	split := [][][]byte{{ops[0][:2], ops[0][2:]}, {ops[1]}, {ops[2][:1], nil, ops[2][1:]}}
	parts, size := BatchParts(split)
	if joined := bytes.Join(parts, nil); size != len(b) || !bytes.Equal(joined, b) {
		t.Errorf("BatchParts: %x (size %d), want %x", joined, size, b)
	}
}

func TestSplitBatchMalformed(t *testing.T) {
	good := AppendBatch(nil, [][]byte{{Version, 1}, {Version}})
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"not a batch", []byte{Version, 1}, ErrMalformed},
		{"no count", []byte{BatchTag}, ErrTruncated},
		{"zero ops", []byte{BatchTag, 0}, ErrMalformed},
		{"count beyond the bytes", []byte{BatchTag, 5, 0}, ErrMalformed},
		{"op cut short", good[:len(good)-1], ErrTruncated},
		{"trailing byte", append(append([]byte{}, good...), 0), ErrMalformed},
		{"overflowing count", []byte{BatchTag, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, ErrMalformed},
	} {
		if ops, err := SplitBatch(tc.b); !errors.Is(err, tc.want) || ops != nil {
			t.Errorf("%s: %v, %v; want %v and no ops", tc.name, ops, err, tc.want)
		}
	}
}
