package lualibs

import (
	"math"
	"strconv"
	"strings"
)

// Bit patterns glibc's strtod gives "nan" and "-nan".
const (
	nanBits    = 0x7ff8000000000000
	negNaNBits = 0xfff8000000000000
)

// pow10[i] is 10^i, for the integer fast path of fmtG.
var pow10 = func() [18]float64 {
	var p [18]float64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// number2str is Lua 5.1's lua_number2str: sprintf("%.14g").
func number2str(d float64) string {
	return fmtG(d, 14)
}

// fmtG formats d as C's printf("%.<prec>g") does with glibc.
func fmtG(d float64, prec int) string {
	if math.IsNaN(d) {
		if math.Signbit(d) {
			return "-nan"
		}
		return "nan"
	}
	if math.IsInf(d, 1) {
		return "inf"
	}
	if math.IsInf(d, -1) {
		return "-inf"
	}
	if prec <= 0 {
		prec = 1
	}
	if prec > 17 {
		prec = 17
	}
	// Integers of at most prec digits print as themselves.
	if d == math.Trunc(d) && math.Abs(d) < pow10[prec] && (d != 0 || !math.Signbit(d)) {
		return strconv.FormatInt(int64(d), 10)
	}
	neg := math.Signbit(d)
	a := math.Abs(d)
	e := strconv.FormatFloat(a, 'e', prec-1, 64)
	ei := strings.LastIndexByte(e, 'e')
	x, _ := strconv.Atoi(e[ei+1:])
	var s string
	if x < -4 || x >= prec {
		mant := trimFraction(e[:ei])
		sign := byte('+')
		if x < 0 {
			sign = '-'
			x = -x
		}
		exp := strconv.Itoa(x)
		if len(exp) < 2 {
			exp = "0" + exp
		}
		s = mant + "e" + string(sign) + exp
	} else {
		s = trimFraction(strconv.FormatFloat(a, 'f', prec-1-x, 64))
	}
	if neg {
		return "-" + s
	}
	return s
}

// trimFraction drops trailing zeros of a fraction, and a bare '.'.
func trimFraction(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// byteAt returns s[i], or 0 past the end (the C string terminator).
func byteAt(s string, i int) byte {
	if i >= 0 && i < len(s) {
		return s[i]
	}
	return 0
}

// hasPrefixFold is strncasecmp(s, prefix, len(prefix)) == 0 for an ASCII
// lowercase prefix.
func hasPrefixFold(s string, i int, prefix string) bool {
	for k := 0; k < len(prefix); k++ {
		if byteAt(s, i+k)|0x20 != prefix[k] {
			return false
		}
	}
	return true
}

// strtod parses a number at s[start:] as glibc's strtod does in the C locale
// (decimal, hexadecimal, inf/infinity, nan/nan(...)), and returns the value
// and the index just past it. When nothing converts it returns (0, start).
func strtod(s string, start int) (float64, int) {
	i := start
	for isSpace(byteAt(s, i)) {
		i++
	}
	neg := false
	if c := byteAt(s, i); c == '+' || c == '-' {
		neg = c == '-'
		i++
	}
	sign := func(v float64) float64 {
		if neg {
			return -v
		}
		return v
	}
	switch {
	case hasPrefixFold(s, i, "inf"):
		j := i + 3
		if hasPrefixFold(s, j, "inity") {
			j += 5
		}
		return sign(math.Inf(1)), j
	case hasPrefixFold(s, i, "nan"):
		j := i + 3
		bits := uint64(nanBits)
		if byteAt(s, j) == '(' {
			k := j + 1
			for c := byteAt(s, k); isAlnum(c) || c == '_'; c = byteAt(s, k) {
				k++
			}
			if byteAt(s, k) == ')' {
				// glibc puts the number in the parentheses into the
				// mantissa, below the quiet bit.
				if mant, ok := nanPayload(s[j+1 : k]); ok {
					bits |= mant & (1<<51 - 1)
				}
				j = k + 1
			}
		}
		if neg {
			bits |= 1 << 63
		}
		return math.Float64frombits(bits), j
	}
	if byteAt(s, i) == '0' && byteAt(s, i+1)|0x20 == 'x' {
		j := i + 2
		digits := 0
		for isHexDigit(byteAt(s, j)) {
			j++
			digits++
		}
		if byteAt(s, j) == '.' {
			j++
			for isHexDigit(byteAt(s, j)) {
				j++
				digits++
			}
		}
		if digits == 0 {
			return sign(0), i + 1 // just the "0"
		}
		mantEnd := j
		j = exponentEnd(s, j, 'p')
		num := s[i:mantEnd]
		if j > mantEnd {
			num += s[mantEnd:j]
		} else {
			num += "p0"
		}
		v, err := strconv.ParseFloat(num, 64)
		if err != nil && !isRangeErr(err) {
			return 0, start
		}
		return sign(v), j
	}
	j := i
	digits := 0
	for isDigit(byteAt(s, j)) {
		j++
		digits++
	}
	if byteAt(s, j) == '.' {
		j++
		for isDigit(byteAt(s, j)) {
			j++
			digits++
		}
	}
	if digits == 0 {
		return 0, start
	}
	j = exponentEnd(s, j, 'e')
	v, err := strconv.ParseFloat(s[i:j], 64)
	if err != nil && !isRangeErr(err) {
		return 0, start
	}
	return sign(v), j
}

// nanPayload is strtoull(seq, &end, 0) when it consumes all of seq.
func nanPayload(seq string) (uint64, bool) {
	base, digits := uint64(10), seq
	switch {
	case len(seq) > 2 && seq[0] == '0' && seq[1]|0x20 == 'x':
		base, digits = 16, seq[2:]
	case len(seq) > 1 && seq[0] == '0':
		base, digits = 8, seq[1:]
	}
	var v uint64
	overflow := false
	for i := 0; i < len(digits); i++ {
		d := uint64(hexDigit2int(digits[i]))
		if hexDigit2int(digits[i]) < 0 || d >= base {
			return 0, false
		}
		if v > (math.MaxUint64-d)/base {
			overflow = true
		}
		v = v*base + d
	}
	if overflow {
		v = math.MaxUint64
	}
	return v, true
}

// exponentEnd returns the end of an exponent part (marker, optional sign,
// at least one decimal digit) at s[j:], or j when there is none.
func exponentEnd(s string, j int, marker byte) int {
	if byteAt(s, j)|0x20 != marker {
		return j
	}
	k := j + 1
	if c := byteAt(s, k); c == '+' || c == '-' {
		k++
	}
	if !isDigit(byteAt(s, k)) {
		return j
	}
	for isDigit(byteAt(s, k)) {
		k++
	}
	return k
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// str2d is Lua 5.1's luaO_str2d: the whole C string must be a number,
// optionally surrounded by white space.
func str2d(s string) (float64, bool) {
	s = cString(s)
	v, end := strtod(s, 0)
	if end == 0 {
		return 0, false
	}
	for end < len(s) && isSpace(s[end]) {
		end++
	}
	if end != len(s) {
		return 0, false
	}
	return v, true
}
