package keyspace

import (
	"bytes"
	"testing"
)

// The list and sorted set decoders on their own: whatever the bytes, a
// decoder returns an error or a value that encodes back to bytes that
// decode alike, and that takes the kind's changes without panicking.

func FuzzDecodeList(f *testing.F) {
	small, big := NewList(), NewList()
	for _, e := range []string{"a", "", "12", "\x00\xff"} {
		small.Push([]byte(e), true, -2)
	}
	for i := range 40 {
		big.Push(bytes.Repeat([]byte{byte('a' + i%26)}, i*5), i%3 == 0, 4)
	}
	f.Add(byte(EncQuicklist), small.AppendSnapshot(nil))
	f.Add(byte(EncQuicklist), big.AppendSnapshot(nil))
	f.Fuzz(func(t *testing.T, enc byte, data []byte) {
		o, err := decodeList(Encoding(enc), data)
		if err != nil {
			return
		}
		b := o.AppendSnapshot(nil)
		o2, err := decodeList(Encoding(enc), b)
		if err != nil || !bytes.Equal(o2.AppendSnapshot(nil), b) {
			t.Fatalf("%q encodes as %q, which does not decode alike: %v", data, b, err)
		}
		l := o.(*List)
		c := l.Clone().(*List)
		l.Push([]byte("x"), false, 4)
		l.Push([]byte("y"), true, 4)
		if l.Len() > 2 {
			l.Set(l.Len()/2, []byte("mid"), 4)
			l.DelRange(0, 1, 4)
		}
		for it := l.Iter(0, false); ; {
			if _, ok := it.Next(); !ok {
				break
			}
		}
		l.Pop(true)
		if c.Len() != o2.Len() {
			t.Fatalf("a clone changed with its original: %d, want %d", c.Len(), o2.Len())
		}
	})
}

func FuzzDecodeZSet(f *testing.F) {
	lim := New(1).EncodingLimits()
	for _, n := range []int{0, 3, 300} {
		z := sampleZSet(n, lim)
		f.Add(byte(z.Encoding()), z.AppendSnapshot(nil))
	}
	f.Fuzz(func(t *testing.T, enc byte, data []byte) {
		o, err := decodeZSet(Encoding(enc), data)
		if err != nil {
			return
		}
		b := o.AppendSnapshot(nil)
		o2, err := decodeZSet(Encoding(enc), b)
		if err != nil || !bytes.Equal(o2.AppendSnapshot(nil), b) {
			t.Fatalf("%q encodes as %q, which does not decode alike: %v", data, b, err)
		}
		z := o.(*ZSet)
		z.Set([]byte("new"), 1.5, lim)
		z.Rank([]byte("new"))
		z.Range(0, true, func([]byte, float64) bool { return true })
		z.Scan(0, 5, func([]byte, float64) {})
		z.Remove([]byte("new"))
		if z.Len() > 1 {
			z.RemoveRange(0, 1)
		}
	})
}
