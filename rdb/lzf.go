package rdb

// LZF as liblzf 3.6 (Redis's src/lzf_c.c and lzf_d.c) with Redis's
// settings: HLOG 16, VERY_FAST, a hash table that starts empty. The
// compressor is a line-by-line port so that it emits Redis's bytes.

const (
	lzfHLog   = 16
	lzfHSize  = 1 << lzfHLog
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = 1<<8 + 1<<3
)

// lzfCompress compresses in into at most outLen bytes; it returns nil
// when the result would not fit (as lzf_compress returns 0).
func lzfCompress(in []byte, outLen int) []byte {
	if len(in) == 0 || outLen == 0 {
		return nil
	}
	// htab holds positions + 1 (0: empty), as Redis's pointers with NULL.
	htab := make([]int32, lzfHSize)
	out := make([]byte, outLen)
	ip, op := 0, 0
	inEnd := len(in)
	lit := 0
	op++ // start run
	frst := func(p int) uint32 { return uint32(in[p])<<8 | uint32(in[p+1]) }
	next := func(v uint32, p int) uint32 { return v<<8 | uint32(in[p+2]) }
	idx := func(h uint32) uint32 { return (h>>(3*8-lzfHLog) - h*5) & (lzfHSize - 1) }
	hval := frst(ip)
	for ip < inEnd-2 {
		hval = next(hval, ip)
		slot := idx(hval)
		ref := int(htab[slot]) - 1
		htab[slot] = int32(ip + 1)
		off := ip - ref - 1
		if ref > 0 && off < lzfMaxOff && in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			l := 2
			maxlen := min(inEnd-ip-l, lzfMaxRef)
			if op+3+1 >= outLen {
				nolit := 0
				if lit == 0 {
					nolit = 1
				}
				if op-nolit+3+1 >= outLen {
					return nil
				}
			}
			out[op-lit-1] = byte(lit - 1) // stop run
			if lit == 0 {
				op-- // undo run if length is zero
			}
			l = lzfMatch(in, ref, ip, maxlen)
			l -= 2 // l is now #octets - 1
			ip++
			if l < 7 {
				out[op] = byte(off>>8 + l<<5)
				op++
			} else {
				out[op] = byte(off>>8 + 7<<5)
				out[op+1] = byte(l - 7)
				op += 2
			}
			out[op] = byte(off)
			op++
			lit = 0
			op++ // start run
			ip += l + 1
			if ip >= inEnd-2 {
				break
			}
			ip -= 2
			hval = frst(ip)
			hval = next(hval, ip)
			htab[idx(hval)] = int32(ip + 1)
			ip++
			hval = next(hval, ip)
			htab[idx(hval)] = int32(ip + 1)
			ip++
		} else {
			if op >= outLen {
				return nil
			}
			lit++
			out[op] = in[ip]
			op++
			ip++
			if lit == lzfMaxLit {
				out[op-lit-1] = byte(lit - 1)
				lit = 0
				op++
			}
		}
	}
	if op+3 > outLen {
		return nil
	}
	for ip < inEnd {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1) // end run
	if lit == 0 {
		op--
	}
	return out[:op]
}

// lzfMatch is the match-length loop of lzf_compress with its unrolled
// part, which may run past maxlen by two near the end of the input: the
// count it returns is Redis's, overshoot included.
func lzfMatch(in []byte, ref, ip, maxlen int) int {
	l := 2
	if maxlen > 16 {
		for range 16 {
			l++
			if in[ref+l] != in[ip+l] {
				return l
			}
		}
	}
	for {
		l++
		if l >= maxlen || in[ref+l] != in[ip+l] {
			return l
		}
	}
}

// lzfDecompress is lzf_decompress: the output must come to exactly n
// bytes.
func lzfDecompress(in []byte, n int) ([]byte, error) {
	out := make([]byte, 0, n)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 { // a literal run of ctrl+1 bytes
			l := ctrl + 1
			if i+l > len(in) || len(out)+l > n {
				return nil, errBadData
			}
			out = append(out, in[i:i+l]...)
			i += l
			continue
		}
		l := ctrl >> 5
		if l == 7 {
			if i >= len(in) {
				return nil, errBadData
			}
			l += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, errBadData
		}
		ref := len(out) - (ctrl&0x1f)<<8 - 1 - int(in[i])
		i++
		l += 2
		if ref < 0 || len(out)+l > n {
			return nil, errBadData
		}
		for k := range l { // overlapping copies repeat bytes, as in C
			out = append(out, out[ref+k])
		}
	}
	if len(out) != n {
		return nil, errBadData
	}
	return out, nil
}
