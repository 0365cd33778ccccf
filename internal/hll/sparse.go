package hll

import "strings"

// The sparse encoding: runs of registers as opcodes.
//
//	ZERO  00xxxxxx           1..64 registers at 0
//	XZERO 01xxxxxx yyyyyyyy  1..16384 registers at 0
//	VAL   1vvvvvxx           1..4 registers at 1..32
//
// An XZERO cut short by the end of the value reads past as its second
// byte, as Redis reads the string's terminator there: 0, unless a change
// earlier in the same command wrote past the end (past then holds what it
// wrote, as Redis's buffer does; a later command starts from 0 again).

// opcode decodes the opcode at p of data: its run, value and length.
func opcode(data []byte, p int, past byte) (run int, val uint8, n int) {
	c := data[p]
	switch {
	case c&0xc0 == 0:
		return int(c&0x3f) + 1, 0, 1
	case c&0xc0 == xzeroBit:
		second := past
		if p+1 < len(data) {
			second = data[p+1]
		}
		return (int(c&0x3f)<<8 | int(second)) + 1, 0, 2
	}
	return int(c&0x3) + 1, (c>>2)&0x1f + 1, 1
}

// walkSparse calls fn for each opcode of the sparse registers data, in
// order, while fn returns true; it reports whether fn never stopped it.
func walkSparse(data []byte, past byte, fn func(run int, val uint8) bool) bool {
	for p := 0; p < len(data); {
		run, val, n := opcode(data, p, past)
		if !fn(run, val) {
			return false
		}
		p += n
	}
	return true
}

// sparseHisto adds the registers of sparse data to histo; false if they
// do not number exactly Registers.
func sparseHisto(data []byte, histo *[64]int) bool {
	idx := 0
	walkSparse(data, 0, func(run int, val uint8) bool {
		idx += run
		histo[val] += run
		return true
	})
	return idx == Registers
}

// sparseFind locates register index in the sparse HLL b as Redis's
// hllSparseSet does before changing it: the value of a VAL covering it
// (isVal), and ok false where hllSparseSet would find b corrupt.
func sparseFind(b []byte, index int) (val uint8, isVal, ok bool) {
	data := b[HeaderSize:]
	first, span, p := 0, 0, 0
	for p < len(data) {
		var n int
		span, val, n = opcode(data, p, 0)
		if index <= first+span-1 {
			break
		}
		p += n
		first += span
	}
	if span == 0 || p >= len(data) {
		return 0, false, false
	}
	return val, data[p]&valBit != 0, true
}

func valOp(val uint8, run int) byte { return byte(int(val-1)<<2|(run-1)) | valBit }

// appendZeros appends the shortest opcode for run zero registers.
func appendZeros(seq []byte, run int) []byte {
	if run > sparseZeroLen {
		return append(seq, xzeroBit|byte((run-1)>>8), byte((run-1)&0xff))
	}
	return append(seq, byte(run-1))
}

// sparseSet raises register index of the sparse HLL b to count, as Redis's
// hllSparseSet: the opcode covering it is split in place, neighbouring
// VALs merged, and b becomes dense when count is too large for a VAL or
// the value would outgrow sparseMax. It returns the HLL and 1 if it
// changed, 0 if not, -1 if b is corrupt. past is the byte past b's end.
func sparseSet(b []byte, past *byte, index int, count uint8, sparseMax int64) ([]byte, int) {
	if count > sparseValMax {
		return promote(b, past, index, count)
	}
	// Step 1: find the opcode covering index, and the one before it.
	data := b[HeaderSize:]
	end := len(data)
	first, span, p, prev := 0, 0, 0, -1
	for p < end {
		var n int
		span, _, n = opcode(data, p, *past)
		if index <= first+span-1 {
			break
		}
		prev = p
		p += n
		first += span
	}
	if span == 0 || p >= end {
		return b, -1
	}
	isXZero := data[p]&0xc0 == xzeroBit
	isZero := data[p]&0xc0 == 0
	runlen, cur, oldlen := opcode(data, p, *past)
	next := p + oldlen
	hasNext := next < end

	switch {
	case !isZero && !isXZero && cur >= count: // a VAL already as high
		return b, 0
	case !isXZero && runlen == 1: // a VAL or ZERO of this register alone
		data[p] = valOp(count, 1)
		return sparseMerge(b, past, prev, p), 1
	}

	// Step 2: split the opcode into up to three.
	seq := make([]byte, 0, 5)
	last := first + span - 1
	if isZero || isXZero {
		if index != first {
			seq = appendZeros(seq, index-first)
		}
		seq = append(seq, valOp(count, 1))
		if index != last {
			seq = appendZeros(seq, last-index)
		}
	} else {
		if index != first {
			seq = append(seq, valOp(cur, index-first))
		}
		seq = append(seq, valOp(count, 1))
		if index != last {
			seq = append(seq, valOp(cur, last-index))
		}
	}

	// Step 3: put the sequence in place of the opcode.
	delta := len(seq) - oldlen
	if delta > 0 && int64(len(b)+delta) > sparseMax {
		return promote(b, past, index, count)
	}
	newEnd := end + delta
	var tail []byte
	if delta != 0 && hasNext {
		tail = append(tail, data[next:end]...)
	}
	b = resize(b, HeaderSize+newEnd)
	data = b[HeaderSize:]
	if tail != nil {
		copy(data[next+delta:], tail)
	}
	// Redis ends the string with a zero, then copies the sequence, which
	// reaches one byte past the end where it replaces an XZERO cut short.
	*past = 0
	copy(data[p:newEnd], seq)
	if p+len(seq) > newEnd {
		*past = seq[newEnd-p]
	}
	return sparseMerge(b, past, prev, p), 1
}

// resize sets b's length to n, growing it with zeros.
func resize(b []byte, n int) []byte {
	if n <= len(b) {
		return b[:n]
	}
	return append(b, make([]byte, n-len(b))...)
}

// sparseMerge is hllSparseSet's step 4: from the opcode before the one
// changed, up to five opcodes on, adjacent VALs of one value merge while
// their run fits one VAL. The cache is invalidated.
func sparseMerge(b []byte, past *byte, prev, p int) []byte {
	data := b[HeaderSize:]
	if prev >= 0 {
		p = prev
	} else {
		p = 0
	}
	end := len(data)
	for scan := 5; p < end && scan > 0; scan-- {
		c := data[p]
		if c&0xc0 == xzeroBit {
			p += 2
			continue
		}
		if c&0xc0 == 0 {
			p++
			continue
		}
		if p+1 < end && data[p+1]&valBit != 0 {
			_, v1, _ := opcode(data, p, 0)
			_, v2, _ := opcode(data, p+1, 0)
			if v1 == v2 {
				run := int(c&3) + 1 + int(data[p+1]&3) + 1
				if run <= sparseValLen {
					data[p+1] = valOp(v1, run)
					copy(data[p:], data[p+1:end])
					end--
					data = data[:end]
					*past = 0
					continue
				}
			}
		}
		p++
	}
	b = b[:HeaderSize+end]
	Invalidate(b)
	return b
}

// promote makes the sparse b dense and raises register index to count,
// which changes it; -1 if b is corrupt (then b is unchanged).
func promote(b []byte, past *byte, index int, count uint8) ([]byte, int) {
	d, err := toDense(b, *past)
	if err != nil {
		return b, -1
	}
	*past = 0
	denseSet(d[HeaderSize:], index, count)
	return d, 1
}

// ToDense returns the valid HLL b in the dense encoding (b itself if it
// is dense), its header kept, as Redis's hllSparseToDense; ErrCorrupt if
// its sparse registers do not number exactly Registers.
func ToDense(b []byte) ([]byte, error) { return toDense(b, 0) }

func toDense(b []byte, past byte) ([]byte, error) {
	if b[4] == EncDense {
		return b, nil
	}
	d := make([]byte, DenseSize)
	copy(d, b[:HeaderSize])
	d[4] = EncDense
	r := d[HeaderSize:]
	if !sparseRegisters(b[HeaderSize:], past, func(i int, v uint8) { denseSet(r, i, v) }) {
		return b, ErrCorrupt
	}
	return d, nil
}

// sparseRegisters calls fn with each non-zero register of sparse data, as
// Redis's hllMerge and hllSparseToDense read them: false if they do not
// number exactly Registers (a VAL past the last one stops the walk).
func sparseRegisters(data []byte, past byte, fn func(i int, v uint8)) bool {
	idx := 0
	ok := walkSparse(data, past, func(run int, val uint8) bool {
		if val == 0 {
			idx += run
			return true
		}
		if run+idx > Registers {
			return false
		}
		for ; run > 0; run-- {
			fn(idx, val)
			idx++
		}
		return true
	})
	return ok && idx == Registers
}

// GetRegisters returns the registers of the dense HLL b.
func GetRegisters(b []byte) []uint8 {
	regs := make([]uint8, Registers)
	for i := range regs {
		regs[i] = denseGet(b[HeaderSize:], i)
	}
	return regs
}

// Decode describes the opcodes of the sparse HLL b as PFDEBUG DECODE
// does ("z:run", "Z:run", "v:value,run").
func Decode(b []byte) string {
	var s strings.Builder
	data := b[HeaderSize:]
	for p := 0; p < len(data); {
		run, val, n := opcode(data, p, 0)
		switch {
		case data[p]&0xc0 == 0:
			s.WriteString("z:" + itoa(run) + " ")
		case data[p]&0xc0 == xzeroBit:
			s.WriteString("Z:" + itoa(run) + " ")
		default:
			s.WriteString("v:" + itoa(int(val)) + "," + itoa(run) + " ")
		}
		p += n
	}
	return strings.TrimRight(s.String(), " ")
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var buf [20]byte
	i := len(buf)
	for ; n > 0; n /= 10 {
		i--
		buf[i] = byte('0' + n%10)
	}
	return string(buf[i:])
}
