package commands

import (
	"math/big"
)

// INCRBYFLOAT computes in C's long double, which on x86-64 (where the
// reference Redis runs) is the x87 80-bit format: a 64-bit mantissa and
// 15-bit exponent. float64 would print different digits for most sums, so
// the arithmetic is emulated with big.Float at 64 bits, rounding to
// nearest-even as the x87 does. Every step is exact or correctly rounded,
// so every node computes the same bytes.

const (
	ldPrec = 64
	// ldMaxExp: a finite long double is below 2^16384 (MantExp <= 16384).
	ldMaxExp = 16384
	// ldMinExp: the smallest denormal is 2^-16445; at or below half of it
	// (2^-16446, whose MantExp is -16445) a value rounds to zero.
	ldMinExp = -16445
	// maxLongDoubleChars is Redis's MAX_LONG_DOUBLE_CHARS: string2ld
	// refuses inputs this long or longer.
	maxLongDoubleChars = 5 * 1024
	// expClamp bounds parsed exponents: with at most 5K mantissa digits,
	// anything beyond it is out of range either way.
	expClamp = 100000
)

// newLongDouble returns a zero with the long double's precision and
// rounding.
func newLongDouble() *big.Float {
	return new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven)
}

// parseLongDouble parses b as Redis's string2ld does with glibc's strtold:
// decimal or hex (0x) floats, inf/infinity; leading space, trailing bytes,
// NaN, overflow and underflow to zero are refused.
func parseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= maxLongDoubleChars || isSpaceByte(b[0]) {
		return nil, false
	}
	neg := false
	s := b
	if s[0] == '+' || s[0] == '-' {
		neg = s[0] == '-'
		s = s[1:]
	}
	x := newLongDouble()
	switch {
	case foldEq(s, "inf") || foldEq(s, "infinity"):
		return x.SetInf(neg), true
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		if !parseHexFloat(x, s[2:]) {
			return nil, false
		}
	default:
		if !parseDecFloat(x, s) {
			return nil, false
		}
	}
	if neg {
		x.Neg(x)
	}
	return x, ldInRange(x)
}

// ldInRange reports whether strtold would return x without ERANGE turning
// it into an error: finite after rounding, and not underflowed to zero.
func ldInRange(x *big.Float) bool {
	if x.Sign() == 0 || x.IsInf() {
		return true
	}
	e := x.MantExp(nil)
	if e > ldMaxExp {
		return false
	}
	// Below half the smallest denormal (2^-16446) rounds to zero; exactly
	// half rounds to even, which is zero too.
	if e < ldMinExp || (e == ldMinExp && isPow2(x)) {
		return false
	}
	return true
}

func isPow2(x *big.Float) bool {
	m := new(big.Float)
	x.MantExp(m)
	return m.Abs(m).Cmp(big.NewFloat(0.5)) == 0
}

// parseDecFloat scans digits [. digits] [e [sign] digits] (at least one
// mantissa digit, nothing after) and sets x to the correctly rounded value.
func parseDecFloat(x *big.Float, s []byte) bool {
	digits := make([]byte, 0, len(s))
	i, frac, seen := 0, 0, false
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits, seen = append(digits, s[i]), true
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits, seen = append(digits, s[i]), true
			frac++
		}
	}
	if !seen {
		return false
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		e, n, ok := scanExp(s[i+1:])
		if !ok {
			return false // strtold would stop before the 'e'
		}
		exp, i = e, i+1+n
	}
	if i != len(s) {
		return false
	}
	n, _ := new(big.Int).SetString(string(digits), 10)
	if n.Sign() == 0 {
		x.SetInt64(0)
		return true
	}
	exp -= frac
	switch {
	case exp > expClamp: // overflow, refused by ldInRange
		x.SetMantExp(big.NewFloat(0.5), ldMaxExp+2)
	case exp >= 0:
		n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil))
		x.SetInt(n)
	case exp < -expClamp: // underflow to zero, refused by ldInRange
		x.SetMantExp(big.NewFloat(0.5), ldMinExp-2)
	default:
		d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-exp)), nil)
		x.SetRat(new(big.Rat).SetFrac(n, d))
	}
	return true
}

// parseHexFloat scans the part after "0x": hex digits [. hex digits]
// [p [sign] digits], at least one digit.
func parseHexFloat(x *big.Float, s []byte) bool {
	digits := make([]byte, 0, len(s))
	i, frac, seen := 0, 0, false
	for ; i < len(s) && isHex(s[i]); i++ {
		digits, seen = append(digits, s[i]), true
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && isHex(s[i]); i++ {
			digits, seen = append(digits, s[i]), true
			frac++
		}
	}
	if !seen {
		return false // strtold reads "0" and stops at the 'x'
	}
	exp := 0
	if i < len(s) && (s[i] == 'p' || s[i] == 'P') {
		e, n, ok := scanExp(s[i+1:])
		if !ok {
			return false
		}
		exp, i = e, i+1+n
	}
	if i != len(s) {
		return false
	}
	n, _ := new(big.Int).SetString(string(digits), 16)
	x.SetInt(n)
	if n.Sign() == 0 {
		return true
	}
	exp -= 4 * frac
	x.SetMantExp(x, max(min(exp, 4*expClamp), -4*expClamp))
	return true
}

// scanExp reads [sign] digits, saturating at ±expClamp*4; n is the number
// of bytes used.
func scanExp(s []byte) (exp, n int, ok bool) {
	neg := false
	if n < len(s) && (s[n] == '+' || s[n] == '-') {
		neg = s[n] == '-'
		n++
	}
	start := n
	for ; n < len(s) && s[n] >= '0' && s[n] <= '9'; n++ {
		if exp < 4*expClamp {
			exp = exp*10 + int(s[n]-'0')
		}
	}
	if n == start {
		return 0, 0, false
	}
	if neg {
		exp = -exp
	}
	return exp, n, true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// foldEq reports whether b equals the lower-case s, ignoring case.
func foldEq(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// addLongDouble returns a+b rounded as the x87 does, and false if the sum
// is NaN or infinite (Redis's "increment would produce NaN or Infinity").
func addLongDouble(a, b *big.Float) (*big.Float, bool) {
	if a.IsInf() || b.IsInf() {
		return nil, false
	}
	z := newLongDouble().Add(a, b)
	if z.Sign() != 0 && z.MantExp(nil) > ldMaxExp {
		return nil, false
	}
	return z, true
}

// formatLongDouble prints x as Redis's ld2string in LD_STR_HUMAN mode:
// "%.17Lf" with trailing zeros (and a bare '.') removed, "-0" as "0".
func formatLongDouble(x *big.Float) []byte {
	if x.IsInf() {
		if x.Sign() > 0 {
			return []byte("inf")
		}
		return []byte("-inf")
	}
	b := x.Append(nil, 'f', 17)
	l := len(b)
	for b[l-1] == '0' {
		l--
	}
	if b[l-1] == '.' {
		l--
	}
	b = b[:l]
	if string(b) == "-0" {
		return []byte("0")
	}
	return b
}
