package commands

import (
	"github.com/loomcache/loomcache/resp"
	"math"
	"strconv"
)

// parseInt parses a 64-bit integer argument exactly as Redis's string2ll
// does.
func parseInt(b []byte) (int64, bool) { return resp.ParseInt(b) }

// parseFloat parses a double as Redis's string2ld/strtold does for
// arguments: no spaces, no NaN.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || isSpaceByte(b[0]) || isSpaceByte(b[len(b)-1]) {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, !math.IsNaN(f) // overflow yields ±Inf as strtold does
		}
		return 0, false
	}
	if math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// eq reports whether arg equals the upper-case keyword s, case-insensitively.
func eq(arg []byte, s string) bool {
	if len(arg) != len(s) {
		return false
	}
	for i := range arg {
		c := arg[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
