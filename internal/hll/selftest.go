package hll

import (
	"encoding/binary"
	"fmt"
	"math"
)

// SelfTest is PFSELFTEST: it checks that dense registers keep what is
// written to them without touching their neighbours, and that the sparse
// and dense encodings agree and stay within the expected error while ten
// million elements are added. rnd supplies the random values (Redis uses
// rand()); the error's text is Redis's reply.
func SelfTest(rnd func() uint64, sparseMax int64) error {
	dense := make([]byte, DenseSize)
	copy(dense, "HYLL")
	r := dense[HeaderSize:]
	var want [Registers]uint8
	for range 1000 {
		for i := range want {
			want[i] = uint8(rnd() & RegisterMax)
			denseSet(r, i, want[i])
		}
		for i, w := range want {
			if v := denseGet(r, i); v != w {
				return fmt.Errorf("TESTFAILED Register %d should be %d but is %d", i, w, v)
			}
		}
	}

	clear(r)
	sparse := New()
	relerr := 1.04 / math.Sqrt(Registers)
	checkpoint := uint64(1)
	seed := rnd()
	var ele [8]byte
	var past byte
	for j := uint64(1); j <= 10000000; j++ {
		binary.LittleEndian.PutUint64(ele[:], j^seed)
		idx, count := Pattern(ele[:])
		denseRaise(r, idx, count)
		sparse, _ = set(sparse, &past, idx, count, sparseMax)
		if j != checkpoint {
			continue
		}
		if int64(j) < sparseMax/2 && !IsSparse(sparse) {
			return fmt.Errorf("TESTFAILED sparse encoding not used")
		}
		cd, _ := Count(dense)
		if cs, _ := Count(sparse); cd != cs {
			return fmt.Errorf("TESTFAILED dense/sparse disagree")
		}
		abserr := int64(checkpoint) - int64(cd)
		maxerr := uint64(math.Ceil(relerr * 6 * float64(checkpoint)))
		if j == 10 {
			maxerr = 1
		}
		if abserr < 0 {
			abserr = -abserr
		}
		if abserr > int64(maxerr) {
			return fmt.Errorf("TESTFAILED Too big error. card:%d abserr:%d", checkpoint, abserr)
		}
		checkpoint *= 10
	}
	return nil
}
