package rdb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
)

// seedBodies are object bodies of every type the encoders write, and the
// older encodings made by hand.
func seedBodies() [][]byte {
	ints := [][]byte{[]byte("1"), []byte("-5"), []byte("70000")}
	is, _ := EncodeIntset(ints)
	s := &Stream{Nodes: []StreamNode{{Master: StreamID{1, 0}, MasterFields: [][]byte{[]byte("f")},
		Entries: []StreamEntry{{ID: StreamID{1, 0}, Fields: [][]byte{[]byte("f"), []byte("v")}},
			{ID: StreamID{2, 0}, Deleted: true, Fields: [][]byte{[]byte("g"), []byte("12")}}}}},
		Length: 1, LastID: StreamID{2, 0}, FirstID: StreamID{1, 0}, EntriesAdded: 2,
		Groups: []StreamGroup{{Name: []byte("g"), LastID: StreamID{1, 0}, EntriesRead: 1,
			PEL:       []StreamPending{{ID: StreamID{1, 0}, DeliveryTime: 5, DeliveryCount: 1}},
			Consumers: []StreamConsumer{{Name: []byte("c"), SeenTime: 5, PEL: []StreamID{{1, 0}}}}}}}
	zs := []ZMember{{[]byte("a"), 1}, {[]byte("b"), 2.5}}
	return [][]byte{
		EncodeString([]byte("hello")),
		EncodeString(bytes.Repeat([]byte("ab"), 40)),
		EncodeQuicklist(ints, []int{2, 1}),
		is,
		EncodeSet(ints),
		EncodeHashListpack([][]byte{[]byte("f"), []byte("v")}),
		EncodeHash([][]byte{[]byte("f"), []byte("v")}),
		EncodeZSetListpack(zs),
		EncodeZSetSkiplist(zs),
		EncodeStream(s),
		// a ziplist list of "a" and 5, and a zipmap hash f=v
		append([]byte{TypeListZiplist, 16}, 16, 0, 0, 0, 13, 0, 0, 0, 2, 0, 0, 1, 'a', 3, 0xf6, 0xff),
		append([]byte{TypeHashZipmap, 7}, 1, 1, 'f', 1, 0, 'v', 0xff),
	}
}

func TestSeedsDecode(t *testing.T) {
	for i, b := range seedBodies() {
		if _, err := DecodeObject(b[0], b[1:]); err != nil {
			t.Errorf("seed %d (type %d): %v", i, b[0], err)
		}
	}
}

// FuzzDecodePayload: whatever the bytes, decoding returns a value or one
// of RESTORE's two errors, and never panics.
func FuzzDecodePayload(f *testing.F) {
	for _, b := range seedBodies() {
		f.Add(Payload(b))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		if _, err := DecodePayload(p); err != nil && err != ErrBadData && err != ErrChecksum {
			t.Fatalf("error %v", err)
		}
	})
}

// FuzzDecodeObject skips the checksum, so the fuzzer reaches the
// decoders.
func FuzzDecodeObject(f *testing.F) {
	for _, b := range seedBodies() {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		v, err := DecodeObject(b[0], b[1:])
		if err != nil {
			return
		}
		if v.Kind == KindStream {
			// a decoded stream encodes to bytes that decode alike
			e := EncodeStream(v.Stream)
			if _, err := DecodeObject(e[0], e[1:]); err != nil {
				t.Fatalf("re-encoded stream does not decode: %v", err)
			}
		}
	})
}

// FuzzLZF: compressing and decompressing gives the input back.
func FuzzLZF(f *testing.F) {
	f.Add(bytes.Repeat([]byte("abc"), 30))
	f.Add([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 5 {
			return
		}
		c := lzfCompress(in, len(in)-4)
		if c == nil {
			return
		}
		out, err := lzfDecompress(c, len(in))
		if err != nil || !bytes.Equal(out, in) {
			t.Fatalf("round trip of %q: %q %v", in, out, err)
		}
	})
}

// Redis's crc64 check value, and liblzf's overlapping back reference.
func TestCRC64AndLZF(t *testing.T) {
	if got := CRC64([]byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64 of 123456789: %#x", got)
	}
	out, err := lzfDecompress([]byte{2, 'a', 'b', 'c', 0x40, 2}, 7)
	if err != nil || string(out) != "abcabca" {
		t.Fatalf("lzf: %q, %v", out, err)
	}
}

// FuzzFileReader: any file is read to its end or refused with an error,
// never a panic.
func FuzzFileReader(f *testing.F) {
	file := []byte("REDIS0010")
	file = append(file, opAux)
	file = AppendString(AppendString(file, []byte("redis-ver")), []byte("7.0.15"))
	file = append(file, opSelectDB, 0, opResizeDB, 1, 0, opExpireTimeMs, 1, 2, 3, 4, 5, 6, 7, 0)
	file = append(file, EncodeString([]byte("v"))[0])
	file = AppendString(file, []byte("k"))
	file = append(file, EncodeString([]byte("v"))[1:]...)
	file = append(file, opFunction2)
	file = AppendString(file, []byte("#!lua name=x"))
	file = append(file, opEOF)
	file = binary.LittleEndian.AppendUint64(file, CRC64(file))
	f.Add(file)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewFileReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		for range 1 << 16 {
			rec, err := r.Next()
			if err != nil {
				return
			}
			if rec.Kind == RecordKey {
				if _, err := DecodePayload(rec.Payload); err != nil {
					t.Fatalf("a key read from a file does not decode: %v", err)
				}
			}
		}
	})
}

func TestFileReader(t *testing.T) {
	// the fuzz seed, read whole
	file := []byte("REDIS0009")
	file = append(file, opSelectDB, 3, opExpireTime, 1, 0, 0, 0)
	file = append(file, TypeString)
	file = AppendString(file, []byte("key"))
	file = AppendString(file, bytes.Repeat([]byte("abc"), 20))
	file = append(file, opEOF)
	file = binary.LittleEndian.AppendUint64(file, CRC64(file))
	r, err := NewFileReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil || rec.Kind != RecordKey || rec.DB != 3 || string(rec.Key) != "key" || rec.ExpireMs != 1000 {
		t.Fatalf("%+v %v", rec, err)
	}
	v, err := DecodePayload(rec.Payload)
	if err != nil || !bytes.Equal(v.Str, bytes.Repeat([]byte("abc"), 20)) {
		t.Fatalf("%q %v", v.Str, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	file[len(file)-1] ^= 1
	r, _ = NewFileReader(bytes.NewReader(file))
	r.Next()
	if _, err := r.Next(); err == nil || err == io.EOF {
		t.Fatalf("a bad checksum: %v", err)
	}
}

// A file larger than the reader's window: records that cross its end are
// read again with more, and the checksum covers every byte.
func TestFileReaderWindow(t *testing.T) {
	file := []byte("REDIS0010")
	rnd := uint64(1)
	val := func(n int) []byte { // incompressible bytes
		b := make([]byte, n)
		for i := range b {
			rnd = rnd*6364136223846793005 + 1442695040888963407
			b[i] = byte(rnd >> 56)
		}
		return b
	}
	var want [][]byte
	for i := range 3000 {
		v := val(700 + i%900)
		if i%1000 == 7 {
			v = val(3 << 20) // larger than the window
		}
		want = append(want, v)
		file = append(file, TypeString)
		file = AppendString(file, []byte(fmt.Sprint(i)))
		file = AppendString(file, v)
	}
	file = append(file, opEOF)
	file = binary.LittleEndian.AppendUint64(file, CRC64(file))
	r, err := NewFileReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			if i != len(want) || r.Offset() != int64(len(file)) {
				t.Fatalf("%d records, offset %d of %d", i, r.Offset(), len(file))
			}
			return
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		v, err := DecodePayload(rec.Payload)
		if err != nil || string(rec.Key) != fmt.Sprint(i) || !bytes.Equal(v.Str, want[i]) {
			t.Fatalf("record %d: key %q, %v", i, rec.Key, err)
		}
	}
}
