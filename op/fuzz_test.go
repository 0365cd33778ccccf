package op

import (
	"bytes"
	"math"
	"slices"
	"testing"
)

func FuzzDecode(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{Version})
	f.Add((&Op{Type: Set, Now: 1_700_000_000_000, Int: 5, Args: [][]byte{[]byte("k"), []byte("v")}}).Encode(nil))
	f.Add((&Op{Type: Del, DB: 1 << 20, Flags: math.MaxUint32, Args: [][]byte{{}, []byte("a\x00")}}).Encode(nil))
	f.Add((&Op{Type: ExpireKeys, Now: math.MinInt64, Int: math.MaxInt64}).Encode(nil))
	f.Add([]byte{Version, 0x80, 0x00, 0, 0, 0, 0, 0}) // overlong zero type
	f.Add((&Op{Type: IncrBy, Args: [][]byte{[]byte("k")}, Req: ReqID{Origin: "n3", Seq: math.MaxUint64}}).Encode(nil))
	f.Add([]byte{1, 0x0a, 0, 0, 0, 0, 0, 2, 1, 'k', 1, 'v'}) // version 1
	f.Add(append([]byte{Version}, bytes.Repeat([]byte{0xff}, 12)...))
	f.Add((&Op{Type: Publish, Now: 1, Args: [][]byte{[]byte("news"), []byte("hello")}}).Encode(nil))
	f.Add((&Op{Type: SPublish, Args: [][]byte{[]byte("{u1}ch"), {}}, Req: ReqID{Origin: "n1", Seq: 7}}).Encode(nil))
	f.Add((&Op{Type: Publish, Args: [][]byte{[]byte("only-channel")}}).Encode(nil)) // one argument short
	f.Fuzz(func(t *testing.T, b []byte) {
		// DecodeInto agrees with Decode, with room for the arguments or
		// not, and leaves what it did not use of spare.
		spare := make([][]byte, 0, 2)
		var into Op
		rest, intoErr := DecodeInto(b, &into, spare)
		var o Op
		if err := Decode(b, &o); err != nil {
			if intoErr == nil || cap(rest) != cap(spare) {
				t.Fatalf("%x: Decode failed (%v), DecodeInto did not (%v) or used spare", b, err, intoErr)
			}
			return
		}
		if intoErr != nil || !sameOp(o, into) || cap(rest)+cap(into.Args) != cap(spare) && len(o.Args) <= cap(spare) {
			t.Fatalf("%x: DecodeInto gives %+v (%v), Decode %+v", b, into, intoErr, o)
		}
		// Varints have more than one spelling, so b itself may not come
		// back; its canonical encoding must, and decodes to the same op.
		enc := o.Encode(nil)
		// A version 1 input gains the two bytes of an empty request id.
		grown := 0
		if b[0] == 1 {
			grown = 2
		}
		if len(enc) > len(b)+grown || len(enc) > o.Size() {
			t.Fatalf("canonical encoding of %x is %d bytes (Size %d)", b, len(enc), o.Size())
		}
		var again Op
		if err := Decode(enc, &again); err != nil {
			t.Fatalf("re-encoding of %x does not decode: %v", b, err)
		}
		if !sameOp(o, again) {
			t.Fatalf("%x decodes to %+v, its re-encoding to %+v", b, o, again)
		}
		if !bytes.Equal(again.Encode(nil), enc) {
			t.Fatalf("encoding of %x is not stable", b)
		}
	})
}

func FuzzEncode(f *testing.F) {
	f.Add(uint16(0), uint32(0), int64(0), uint32(0), int64(0), []byte("k\xffv"))
	f.Add(uint16(3), uint32(1<<20), int64(math.MinInt64), uint32(math.MaxUint32), int64(math.MaxInt64), []byte{})
	f.Add(uint16(7), uint32(15), int64(-1), uint32(FlagNX|FlagGet), int64(-5), []byte("\xff\xff\xff"))
	types := Types()
	slices.Sort(types)
	f.Fuzz(func(t *testing.T, ty uint16, db uint32, now int64, flags uint32, i int64, args []byte) {
		o := Op{
			Type:  types[int(ty)%len(types)],
			DB:    int(db % (1<<20 + 1)),
			Now:   now,
			Flags: flags,
			Int:   i,
			Args:  bytes.Split(args, []byte{0xff}),
		}
		enc := o.Encode(nil)
		if len(enc) > o.Size() {
			t.Fatalf("%d bytes, Size said at most %d", len(enc), o.Size())
		}
		if parts, size := o.EncodeParts(int(flags % 8)); size != len(enc) || !bytes.Equal(bytes.Join(parts, nil), enc) {
			t.Fatalf("parts of %+v do not join into its encoding", o)
		}
		var got Op
		if !o.Type.ValidArgs(len(o.Args)) {
			if err := Decode(enc, &got); err == nil {
				t.Fatalf("decode %+v: accepted %d arguments", o, len(o.Args))
			}
			return
		}
		if err := Decode(enc, &got); err != nil {
			t.Fatalf("decode %+v: %v", o, err)
		}
		if !sameOp(got, o) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, o)
		}
		// Any cut of a valid encoding is an error, never a panic.
		for n := 0; n < len(enc); n++ {
			if err := Decode(enc[:n], &got); err == nil {
				t.Fatalf("prefix of %d/%d bytes decoded", n, len(enc))
			}
		}
	})
}
