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
		"NOOP": 1, "EXPIREKEYS": 2, "FORWARD": 3,
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
		{Type: IncrBy, Int: 1, Args: [][]byte{[]byte("n")}, Req: ReqID{Origin: "n2", Seq: 1<<63 + 5}},
		{Type: Forward, DB: 3, Int: 3, Args: [][]byte{[]byte("GET"), []byte("k")}, Req: ReqID{Origin: string(bytes.Repeat([]byte{'x'}, MaxOrigin)), Seq: 1}},
		{Type: Set, Args: [][]byte{[]byte("k"), []byte("v")}, Req: ReqID{Seq: 7}}, // a sequence with no origin is kept as is
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
		checkParts(t, &o, b)
	}
}

// checkParts checks that o's parts, for several thresholds, join into
// its encoding enc, and that the arguments they take whole are o's own.
func checkParts(t *testing.T, o *Op, enc []byte) {
	t.Helper()
	for _, ref := range []int{0, 1, 2, 1000, math.MaxInt} {
		parts, size := o.EncodeParts(ref)
		if got := bytes.Join(parts, nil); size != len(enc) || !bytes.Equal(got, enc) {
			t.Errorf("%v, ref %d: parts join into %x (size %d), want %x", o.Type, ref, got, size, enc)
		}
		refs := 0
		for _, p := range parts {
			for _, a := range o.Args {
				if len(a) > 0 && len(p) == len(a) && &p[0] == &a[0] {
					refs++
				}
			}
		}
		want := 0
		for _, a := range o.Args {
			if len(a) >= ref && len(a) > 0 {
				want++
			}
		}
		if refs != want {
			t.Errorf("%v, ref %d: %d arguments taken whole, want %d", o.Type, ref, refs, want)
		}
	}
}

// sameOp compares ops field by field, with nil and empty byte slices
// equal as they are on the wire.
func sameOp(a, b Op) bool {
	if a.Type != b.Type || a.DB != b.DB || a.Req != b.Req || a.Now != b.Now || a.Flags != b.Flags || a.Int != b.Int || len(a.Args) != len(b.Args) {
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
		{"version 3", append([]byte{3}, valid[1:]...), ErrVersion},
		{"version 1 with a request id", append([]byte{1}, valid[1:]...), ErrMalformed},
		{"origin too long", append(append(header(Version, uint64(Noop), 0, 0, 0, 0, 0), 0x80, 0x02), append(bytes.Repeat([]byte{'x'}, 256), 0)...), ErrMalformed},
		{"no request id", header(Version, uint64(Noop), 0, 0, 0, 0, 0), ErrTruncated},
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

// Version 1 encodings (logs written before request ids existed) still
// decode, with no request id.
func TestDecodeVersion1(t *testing.T) {
	// SET foo bar, db 0, Now 1700000000000, as version 1 wrote it.
	v1 := []byte{0x01, 0x0a, 0x00, 0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62, 0x00, 0x00, 0x02, 0x03, 'f', 'o', 'o', 0x03, 'b', 'a', 'r'}
	var o Op
	if err := Decode(v1, &o); err != nil {
		t.Fatal(err)
	}
	want := Op{Type: Set, Now: 1700000000000, Args: [][]byte{[]byte("foo"), []byte("bar")}}
	if !sameOp(o, want) {
		t.Fatalf("decoded %+v, want %+v", o, want)
	}
	// Version 2 is the same bytes plus the (empty) request id.
	if v2 := o.Encode(nil); !bytes.Equal(v2, append(append([]byte{2}, v1[1:]...), 0, 0)) {
		t.Errorf("version 2 encoding % x", v2)
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
