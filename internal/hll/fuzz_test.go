package hll

import (
	"bytes"
	"errors"
	"testing"
)

func TestValidate(t *testing.T) {
	sparse, _, _ := Add(New(), [][]byte{[]byte("a"), []byte("b")}, 3000)
	dense, _ := ToDense(sparse)
	for _, tc := range []struct {
		name string
		b    []byte
		err  error
	}{
		{"empty sparse", New(), nil},
		{"sparse", sparse, nil},
		{"dense", dense, nil},
		{"short", []byte("HYLL\x01"), ErrNotHLL},
		{"magic", append([]byte("HYLX"), sparse[4:]...), ErrNotHLL},
		{"encoding", append(append([]byte{}, sparse[:4]...), append([]byte{2}, sparse[5:]...)...), ErrNotHLL},
		{"dense length", append(append([]byte{}, dense...), 0), ErrNotHLL},
		{"sparse marked dense", append(append([]byte("HYLL"), 0), sparse[5:]...), ErrNotHLL},
	} {
		if err := Validate(tc.b); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
}

func TestCorruptSparse(t *testing.T) {
	b, _, _ := Add(New(), [][]byte{[]byte("a"), []byte("b"), []byte("c")}, 3000)
	tail := append(append([]byte{}, b...), "hello"...) // Redis's "Additional at tail"
	if _, err := Count(tail); err != ErrCorrupt {
		t.Fatalf("count of a sparse HLL with bytes at its tail: %v", err)
	}
	var regs [Registers]uint8
	if err := MergeInto(&regs, tail); err != ErrCorrupt {
		t.Fatalf("merge: %v", err)
	}
	if _, err := ToDense(tail); err != ErrCorrupt {
		t.Fatalf("to dense: %v", err)
	}
	// Too few registers: an add past them finds no opcode.
	short := append([]byte{}, b[:HeaderSize]...)
	short = append(short, 0x3f) // ZERO:64
	if _, _, err := Add(short, [][]byte{[]byte("x"), []byte("y"), []byte("z")}, 3000); err != ErrCorrupt {
		t.Fatalf("add to a short sparse HLL: %v", err)
	}
}

func TestSparseDenseAgree(t *testing.T) {
	sparse := New()
	dense, _ := ToDense(New())
	for i := range 2500 {
		e := [][]byte{[]byte{byte(i), byte(i >> 8), 'x'}}
		var u1, u2 int
		sparse, u1, _ = Add(sparse, e, 1<<20)
		dense, u2, _ = Add(dense, e, 1<<20)
		if u1 != u2 {
			t.Fatalf("element %d: sparse updated %d, dense %d", i, u1, u2)
		}
		if i%100 == 0 {
			c1, err1 := Count(sparse)
			c2, err2 := Count(dense)
			if err1 != nil || err2 != nil || c1 != c2 {
				t.Fatalf("element %d: sparse %d %v, dense %d %v", i, c1, err1, c2, err2)
			}
		}
	}
	if !IsSparse(sparse) {
		t.Fatal("a sparse HLL under its limit became dense")
	}
	d, _ := ToDense(sparse)
	if !bytes.Equal(d[HeaderSize:], dense[HeaderSize:]) {
		t.Fatal("sparse registers differ from dense ones")
	}
}

func TestDecode(t *testing.T) {
	b := append(New()[:HeaderSize], 0x40|3, 0xe7, 0x80|1<<2|1, 0x05, 0x7f, 0xff) // Z:1000 v:2,2 z:6 Z:16384
	if got := Decode(b); got != "Z:1000 v:2,2 z:6 Z:16384" {
		t.Fatalf("decode: %q", got)
	}
}

// FuzzHLL feeds arbitrary bytes to every entry point: nothing panics, and
// what is valid stays consistent between encodings.
func FuzzHLL(f *testing.F) {
	b, _, _ := Add(New(), [][]byte{[]byte("a"), []byte("b"), []byte("c")}, 3000)
	d, _ := ToDense(b)
	f.Add(b, []byte("x"), int64(3000))
	f.Add(d, []byte("y"), int64(3000))
	f.Add(New(), []byte(""), int64(0))
	f.Add(append(b, "hello"...), []byte("z"), int64(20))
	f.Add(b[:HeaderSize+1], []byte("z"), int64(3000))
	f.Fuzz(func(t *testing.T, b, elem []byte, sparseMax int64) {
		if err := Validate(b); err != nil {
			return
		}
		_ = Decode(b)
		_, _ = Cached(b)
		orig := append([]byte{}, b...)
		elem = elem[:len(elem):len(elem)] // appends must not write into b
		elems := [][]byte{elem, append(elem, 1), append(elem, 2)}
		change := WouldChange(b, elems)
		out, updated, err := Add(append([]byte{}, b...), elems, sparseMax)
		if !change && (updated != 0 || err != nil || !bytes.Equal(out, orig)) {
			t.Fatalf("WouldChange said no, Add changed %d registers (%v)", updated, err)
		}
		if change && updated == 0 && err == nil {
			t.Fatalf("WouldChange said yes, Add changed nothing")
		}
		if err == nil && Validate(out) != nil {
			t.Fatalf("Add made an invalid HLL %x from %x", out, orig)
		}
		c1, err1 := Count(b)
		var regs [Registers]uint8
		errM := MergeInto(&regs, b)
		dd, errD := ToDense(append([]byte{}, b...))
		if (err1 == nil) != (errM == nil) || (err1 == nil) != (errD == nil) {
			t.Fatalf("count %v, merge %v, to dense %v disagree", err1, errM, errD)
		}
		if err1 != nil {
			return
		}
		if c2, _ := Count(dd); c2 != c1 || CountRegisters(&regs) != c1 {
			t.Fatalf("counts disagree: %d %d %d", c1, c2, CountRegisters(&regs))
		}
		if _, err := Store(append([]byte{}, b...), &regs, !IsSparse(b), sparseMax); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSelfTest(t *testing.T) {
	x := uint64(1)
	rnd := func() uint64 { x = x*6364136223846793005 + 1442695040888963407; return x >> 33 }
	if err := SelfTest(rnd, 3000); err != nil {
		t.Fatal(err)
	}
}
