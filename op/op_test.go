package op

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"
)

// Codes are stable forever: a log written today is replayed by every
// future version. New types may be added; these may never change.
func TestTypeCodesStable(t *testing.T) {
	codes := map[string]Type{
		"NOOP": 1, "EXPIREKEYS": 2,
		"SET": 10, "MSET": 11, "APPEND": 12, "INCRBY": 13, "INCRBYFLOAT": 14,
		"SETRANGE": 15, "GETDEL": 16, "GETEX": 17,
		"DEL": 40, "RENAME": 41, "EXPIRE": 42, "PERSIST": 43, "COPY": 44,
		"MOVE": 45, "SWAPDB": 46, "FLUSHDB": 47, "FLUSHALL": 48,
	}
	for name, code := range codes {
		if !code.Known() || code.String() != name {
			t.Errorf("type %d is %q (known %v), want %q", code, code.String(), code.Known(), name)
		}
	}
	seen := map[string]Type{}
	for _, ty := range Types() {
		if other, dup := seen[ty.String()]; dup {
			t.Errorf("types %d and %d share the name %s", ty, other, ty)
		}
		seen[ty.String()] = ty
		if ty == 0 {
			t.Error("type 0 is defined; it must stay invalid")
		}
	}
	if Type(0).Known() || Type(9999).String() != "UNKNOWN" {
		t.Error("undefined types must be unknown")
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	cases := []Op{
		{Type: Noop},
		{Type: Set, DB: 0, Now: 1_700_000_000_000, Args: [][]byte{[]byte("k"), []byte("v")}},
		{Type: Set, DB: 15, Now: -1, Flags: FlagNX | FlagGet | FlagKeepTTL, Int: math.MaxInt64,
			Args: [][]byte{[]byte("k\r\n\x00"), bytes.Repeat([]byte{0xff}, 1000)}},
		{Type: IncrBy, DB: 1 << 20, Now: math.MinInt64, Int: math.MinInt64, Args: [][]byte{{}}},
		{Type: Del, Flags: math.MaxUint32, Args: [][]byte{{}, {}, []byte("a")}},
		{Type: ExpireKeys, DB: 3, Now: 42, Args: nil},
		{Type: SwapDB, DB: 2, Int: 9},
	}
	for _, o := range cases {
		b := o.Encode(nil)
		if len(b) > o.Size() {
			t.Errorf("%v: encoded %d bytes, Size said at most %d", o.Type, len(b), o.Size())
		}
		var got Op
		if err := Decode(b, &got); err != nil {
			t.Fatalf("%v: decode: %v", o.Type, err)
		}
		if !sameOp(got, o) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, o)
		}
		// Encode appends: a prefix stays untouched.
		if pre := o.Encode([]byte("xy")); !bytes.Equal(pre[:2], []byte("xy")) || !bytes.Equal(pre[2:], b) {
			t.Errorf("%v: Encode does not append", o.Type)
		}
	}
}

// sameOp compares ops field by field, with nil and empty byte slices
// equal as they are on the wire.
func sameOp(a, b Op) bool {
	if a.Type != b.Type || a.DB != b.DB || a.Now != b.Now || a.Flags != b.Flags || a.Int != b.Int || len(a.Args) != len(b.Args) {
		return false
	}
	for i := range a.Args {
		if !bytes.Equal(a.Args[i], b.Args[i]) {
			return false
		}
	}
	return true
}

// header builds the fixed part of an encoding with the given fields.
func header(version byte, typ, db uint64, now int64, flags uint64, i int64, n uint64) []byte {
	b := []byte{version}
	b = binary.AppendUvarint(b, typ)
	b = binary.AppendUvarint(b, db)
	b = binary.AppendVarint(b, now)
	b = binary.AppendUvarint(b, flags)
	b = binary.AppendVarint(b, i)
	return binary.AppendUvarint(b, n)
}

func TestDecodeErrors(t *testing.T) {
	valid := (&Op{Type: Set, Args: [][]byte{[]byte("key"), []byte("value")}}).Encode(nil)
	overlong := bytes.Repeat([]byte{0xff}, 11) // a varint past 64 bits
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"version only", []byte{Version}, ErrTruncated},
		{"version 0", append([]byte{0}, valid[1:]...), ErrVersion},
		{"version 2", append([]byte{2}, valid[1:]...), ErrVersion},
		{"type 0", header(Version, 0, 0, 0, 0, 0, 0), ErrUnknown},
		{"type unknown", header(Version, 999, 0, 0, 0, 0, 0), ErrUnknown},
		{"type past uint16", header(Version, uint64(Set)+1<<16, 0, 0, 0, 0, 0), ErrUnknown},
		{"db too big", header(Version, uint64(Set), 1<<20+1, 0, 0, 0, 0), ErrMalformed},
		{"flags past uint32", header(Version, uint64(Set), 0, 0, 1<<32, 0, 0), ErrMalformed},
		{"count past input", header(Version, uint64(Set), 0, 0, 0, 0, 3), ErrMalformed},
		{"count huge", header(Version, uint64(Set), 0, 0, 0, 0, math.MaxUint64), ErrMalformed},
		{"overlong varint", append([]byte{Version}, overlong...), ErrMalformed},
		{"arg past input", append(header(Version, uint64(Set), 0, 0, 0, 0, 1), 5, 'a'), ErrTruncated},
		{"arg length huge", append(header(Version, uint64(Set), 0, 0, 0, 0, 1), overlong...), ErrMalformed},
		{"trailing byte", append(append([]byte{}, valid...), 0), ErrMalformed},
	}
	for i := 1; i < len(valid); i++ {
		cases = append(cases, struct {
			name string
			in   []byte
			want error
		}{"cut", valid[:i], nil})
	}
	for _, tc := range cases {
		var o Op
		err := Decode(tc.in, &o)
		if tc.want == nil { // any error will do, but there must be one
			if err == nil {
				t.Errorf("%s %x: decoded %+v", tc.name, tc.in, o)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s %x: %v, want %v", tc.name, tc.in, err, tc.want)
		}
		if !reflect.DeepEqual(o, Op{}) {
			t.Errorf("%s: a failed Decode changed the op: %+v", tc.name, o)
		}
	}
}

// Decode's arguments alias its input instead of copying it; and capacity
// is clipped so appending to one argument cannot overwrite the next.
func TestDecodeAliasing(t *testing.T) {
	b := (&Op{Type: MSet, Args: [][]byte{[]byte("ab"), []byte("cd")}}).Encode(nil)
	var o Op
	if err := Decode(b, &o); err != nil {
		t.Fatal(err)
	}
	_ = append(o.Args[0], 'X')
	if string(o.Args[1]) != "cd" {
		t.Errorf("append to an argument overwrote the next: %q", o.Args[1])
	}
}
