package keyspace

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkReadSnapshot restores a snapshot of 1M keys of 64-byte values,
// as a restart does.
func BenchmarkReadSnapshot(b *testing.B) {
	s := New(16)
	val := bytes.Repeat([]byte("v"), 64)
	for i := range 1_000_000 {
		s.DB(0).Set([]byte(fmt.Sprintf("key:%012d", i)), NewString(val), 0)
	}
	var buf bytes.Buffer
	if err := s.WriteSnapshot(&buf); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	for b.Loop() {
		if err := New(16).ReadSnapshot(bytes.NewReader(buf.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
}
