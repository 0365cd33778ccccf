// Package hll is Redis 7.0's HyperLogLog over the bytes Redis stores: the
// "HYLL" header with its cached cardinality, the sparse (ZERO, XZERO, VAL
// opcodes) and dense (6-bit registers) encodings, MurmurHash64A with
// Redis's seed and Ertl's estimator, so that the same elements give the
// same bytes and the same count as in Redis. It is pure: it works on byte
// slices the caller owns and never panics on malformed input, which it
// reports with Redis's errors.
package hll

import (
	"encoding/binary"
	"errors"
	"math"
)

// Geometry of Redis's HLLs.
const (
	P           = 14     // register index bits
	Q           = 64 - P // bits left for the run of zeroes
	Registers   = 1 << P // 16384
	RegisterMax = 63     // 6-bit registers
	HeaderSize  = 16     // magic, encoding, 3 unused, 8-byte cache
	DenseSize   = HeaderSize + (Registers*6+7)/8
	EncDense    = 0
	EncSparse   = 1
	maxEncoding = EncSparse
)

// Sparse opcodes.
const (
	xzeroBit       = 0x40 // 01xxxxxx yyyyyyyy
	valBit         = 0x80 // 1vvvvvxx
	sparseValMax   = 32
	sparseValLen   = 4
	sparseZeroLen  = 64
	sparseXZeroLen = 16384
)

// The errors Redis replies for values that are not HLLs.
var (
	ErrNotHLL  = errors.New("WRONGTYPE Key is not a valid HyperLogLog string value.")
	ErrCorrupt = errors.New("INVALIDOBJ Corrupted HLL object detected")
)

// New returns an empty HLL as Redis's createHLLObject makes it: sparse,
// one XZERO covering every register.
func New() []byte {
	b := make([]byte, HeaderSize+2, HeaderSize+16)
	copy(b, "HYLL")
	b[4] = EncSparse
	b[HeaderSize] = xzeroBit | byte((Registers-1)>>8)
	b[HeaderSize+1] = byte((Registers - 1) & 0xff)
	return b
}

// Validate applies Redis's isHLLObjectOrReply checks to a string value:
// its length, magic, encoding, and a dense value's exact length.
func Validate(b []byte) error {
	if len(b) < HeaderSize || string(b[:4]) != "HYLL" || b[4] > maxEncoding {
		return ErrNotHLL
	}
	if b[4] == EncDense && len(b) != DenseSize {
		return ErrNotHLL
	}
	return nil
}

// IsSparse reports whether a valid HLL is sparse.
func IsSparse(b []byte) bool { return b[4] == EncSparse }

// Cached returns the cached cardinality and whether it is valid (the MSB
// of its last byte clear).
func Cached(b []byte) (uint64, bool) {
	return binary.LittleEndian.Uint64(b[8:16]), b[15]&0x80 == 0
}

// SetCache stores card as the cached cardinality.
func SetCache(b []byte, card uint64) { binary.LittleEndian.PutUint64(b[8:16], card) }

// Invalidate marks the cached cardinality stale.
func Invalidate(b []byte) { b[15] |= 0x80 }

// MurmurHash64A is Redis's endian-neutral MurmurHash2, 64-bit version.
func MurmurHash64A(key []byte, seed uint32) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := uint64(seed) ^ uint64(int64(len(key)))*m
	for len(key) >= 8 {
		k := binary.LittleEndian.Uint64(key)
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
		key = key[8:]
	}
	if len(key) > 0 {
		for i := len(key) - 1; i >= 0; i-- {
			h ^= uint64(key[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// Pattern is an element's register index and run length ("000...1"
// pattern length), as Redis's hllPatLen computes them.
func Pattern(elem []byte) (index int, count uint8) {
	hash := MurmurHash64A(elem, 0xadc83b19)
	index = int(hash & (Registers - 1))
	hash >>= P
	hash |= 1 << Q // the loop ends with count <= Q+1
	count = 1
	for bit := uint64(1); hash&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

// at returns b[i], or 0 past the end, as Redis reads the sds terminator.
func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// denseGet reads register i of the dense registers r.
func denseGet(r []byte, i int) uint8 {
	byt, fb := i*6/8, uint(i*6&7)
	b0, b1 := uint(at(r, byt)), uint(at(r, byt+1))
	return uint8((b0>>fb | b1<<(8-fb)) & RegisterMax)
}

// denseSet writes register i of the dense registers r.
func denseSet(r []byte, i int, v uint8) {
	byt, fb := i*6/8, uint(i*6&7)
	r[byt] &^= byte(RegisterMax << fb)
	r[byt] |= byte(uint(v) << fb)
	if byt+1 < len(r) {
		r[byt+1] &^= byte(RegisterMax >> (8 - fb))
		r[byt+1] |= byte(uint(v) >> (8 - fb))
	}
}

// denseRaise sets register i to v if v is greater; 1 if it did.
func denseRaise(r []byte, i int, v uint8) int {
	if v > denseGet(r, i) {
		denseSet(r, i, v)
		return 1
	}
	return 0
}

// Add adds elements to the valid HLL b as PFADD does, switching a sparse
// b to dense past sparseMax bytes or for a register too large for it, and
// returns the HLL (b itself or a new slice) and how many registers
// changed. A corrupt sparse b gives ErrCorrupt, with the changes made
// before it found the corruption kept, as Redis keeps them.
func Add(b []byte, elems [][]byte, sparseMax int64) ([]byte, int, error) {
	updated := 0
	var past byte
	for _, e := range elems {
		idx, count := Pattern(e)
		var r int
		b, r = set(b, &past, idx, count, sparseMax)
		switch r {
		case 1:
			updated++
		case -1:
			return b, updated, ErrCorrupt
		}
	}
	return b, updated, nil
}

// set raises register idx to count in either encoding: 1 if it changed,
// 0 if not, -1 for a corrupt sparse HLL. past is the byte Redis would
// find past the end of a sparse b (see opcode).
func set(b []byte, past *byte, idx int, count uint8, sparseMax int64) ([]byte, int) {
	switch b[4] {
	case EncDense:
		return b, denseRaise(b[HeaderSize:], idx, count)
	case EncSparse:
		return sparseSet(b, past, idx, count, sparseMax)
	}
	return b, -1
}

// WouldChange reports whether adding elems to the valid HLL b would
// change it (or find it corrupt), without changing it: PFADD then writes.
func WouldChange(b []byte, elems [][]byte) bool {
	for _, e := range elems {
		idx, count := Pattern(e)
		if b[4] == EncDense {
			if count > denseGet(b[HeaderSize:], idx) {
				return true
			}
			continue
		}
		v, isVal, ok := sparseFind(b, idx)
		if !ok || count > sparseValMax || !isVal || v < count {
			return true
		}
	}
	return false
}

// Count computes the cardinality of the valid HLL b from its registers,
// as Redis's hllCount (ignoring the cache); ErrCorrupt for a sparse HLL
// that does not cover exactly the registers.
func Count(b []byte) (uint64, error) {
	var histo [64]int
	if b[4] == EncDense {
		// Four 6-bit registers in every three bytes.
		r := b[HeaderSize:DenseSize]
		for i := 0; i+3 <= len(r); i += 3 {
			b0, b1, b2 := r[i], r[i+1], r[i+2]
			histo[b0&63]++
			histo[(b0>>6|b1<<2)&63]++
			histo[(b1>>4|b2<<4)&63]++
			histo[b2>>2]++
		}
	} else if !sparseHisto(b[HeaderSize:], &histo) {
		return 0, ErrCorrupt
	}
	return estimate(&histo), nil
}

// CountRegisters is the cardinality of raw registers, one per byte, as
// PFCOUNT of several keys computes it.
func CountRegisters(regs *[Registers]uint8) uint64 {
	var histo [64]int
	for _, v := range regs {
		histo[v&63]++
	}
	return estimate(&histo)
}

// estimate is Ertl's estimator as Redis 7.0's hllCount writes it. The
// explicit float64 conversions keep products from being fused into
// multiply-adds on any platform, so every node computes the same count.
func estimate(histo *[64]int) uint64 {
	const m = float64(Registers)
	z := float64(m * tau((m-float64(histo[Q+1]))/m))
	for j := Q; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += float64(m * sigma(float64(histo[0])/m))
	const alphaInf = 0.721347520444481703680 // 0.5/ln(2)
	return uint64(math.Round(float64(float64(alphaInf*m)*m) / z))
}

// sigma and tau are the helpers of "New cardinality estimation algorithms
// for HyperLogLog sketches" (Otmar Ertl, arXiv:1702.01284).
func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x = float64(x * x)
		prev := z
		z += float64(x * y)
		y += y
		if prev == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := 1 - x
		z -= float64(float64(d*d) * y)
		if prev == z {
			return z / 3
		}
	}
}

// MergeInto raises each of regs to the register of the valid HLL b, as
// Redis's hllMerge; ErrCorrupt for a sparse b that does not cover exactly
// the registers.
func MergeInto(regs *[Registers]uint8, b []byte) error {
	if b[4] == EncDense {
		r := b[HeaderSize:]
		for i := range regs {
			if v := denseGet(r, i); v > regs[i] {
				regs[i] = v
			}
		}
		return nil
	}
	if !sparseRegisters(b[HeaderSize:], 0, func(i int, v uint8) { regs[i] = max(regs[i], v) }) {
		return ErrCorrupt
	}
	return nil
}

// Store writes merged registers into the valid HLL b as PFMERGE does:
// dense first if toDense (a source was dense), then each non-zero
// register raised in order, the cache invalidated.
func Store(b []byte, regs *[Registers]uint8, toDense bool, sparseMax int64) ([]byte, error) {
	if toDense {
		var err error
		if b, err = ToDense(b); err != nil {
			return b, err
		}
	}
	var past byte
	for i, v := range regs {
		if v != 0 {
			b, _ = set(b, &past, i, v, sparseMax)
		}
	}
	Invalidate(b)
	return b, nil
}
