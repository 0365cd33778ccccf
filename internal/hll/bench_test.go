package hll

import (
	"strconv"
	"testing"
)

func benchElems(n int) [][]byte {
	elems := make([][]byte, n)
	for i := range elems {
		elems[i] = []byte("element:" + strconv.Itoa(i))
	}
	return elems
}

func BenchmarkAddSparse(b *testing.B) {
	elems := benchElems(1000)
	base, _, _ := Add(New(), elems[:500], 3000)
	h := append([]byte{}, base...)
	b.ResetTimer()
	for i := range b.N {
		if i%500 == 0 {
			h = append(h[:0], base...)
		}
		h, _, _ = Add(h, elems[500+i%500:501+i%500], 3000)
	}
}

func BenchmarkAddDense(b *testing.B) {
	h, _ := ToDense(New())
	elems := benchElems(100000)
	b.ResetTimer()
	for i := range b.N {
		h, _, _ = Add(h, elems[i%len(elems):i%len(elems)+1], 3000)
	}
}

func BenchmarkCountDense(b *testing.B) {
	h, _, _ := Add(New(), benchElems(20000), 3000)
	b.ResetTimer()
	for range b.N {
		if _, err := Count(h); err != nil {
			b.Fatal(err)
		}
	}
}
