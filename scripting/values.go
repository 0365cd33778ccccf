package scripting

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Error is an error reply; its message starts with the error code
// ("ERR ...", "NOSCRIPT ..."), as resp.Writer.Error takes it.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func errorf(format string, args ...any) error {
	if len(args) == 0 {
		return &Error{Msg: format}
	}
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// fmtNumber is Lua's number-to-string ("%.14g").
func fmtNumber(f float64) string { return string(appendG(nil, f, 14)) }

// fmtNumber17 is "%.17g", the precision redis.call gives number arguments.
func fmtNumber17(f float64) []byte { return appendG(nil, f, 17) }

// appendG is C's "%.<prec>g": Go's 'g' with the same precision picks the
// same form and strips zeros the same way; only the non-finite spellings
// differ.
func appendG(b []byte, f float64, prec int) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		if math.Signbit(f) {
			return append(b, "-nan"...)
		}
		return append(b, "nan"...)
	}
	return strconv.AppendFloat(b, f, 'g', prec, 64)
}

// cInt64 is C's (long long) cast of a double as x86-64 does it: out of
// range and NaN give the "integer indefinite" value.
func cInt64(f float64) int64 {
	if math.IsNaN(f) || f >= 9223372036854775807 || f < -9223372036854775808 {
		return math.MinInt64
	}
	return int64(f)
}

// cInt32 is C's (int) cast of a double on x86-64.
func cInt32(f float64) int32 {
	if math.IsNaN(f) || f >= 2147483648 || f <= -2147483649 {
		return math.MinInt32
	}
	return int32(f)
}

// toNumber is lua_isnumber/lua_tonumber: numbers, and strings that
// convert (strtod, or hex), with surrounding spaces.
func toNumber(v lua.LValue) (float64, bool) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), true
	case lua.LString:
		return strToNumber(string(x))
	}
	return 0, false
}

func strToNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		n, err := strconv.ParseUint(s[2:], 16, 64)
		return float64(n), err == nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// toLString is lua_tolstring: strings, and numbers as "%.14g".
func toLString(v lua.LValue) ([]byte, bool) {
	switch x := v.(type) {
	case lua.LString:
		return []byte(x), true
	case lua.LNumber:
		return []byte(fmtNumber(float64(x))), true
	}
	return nil, false
}

// luaToString is tostring() without metamethods, for messages.
func luaToString(v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return string(x)
	case lua.LNumber:
		return fmtNumber(float64(x))
	}
	return v.String()
}

// trimCRLF is sdstrim(s, "\r\n").
func trimCRLF(s string) string { return strings.Trim(s, "\r\n") }

func indexByte(s string, c byte) int { return strings.IndexByte(s, c) }

func itoa(n int) string { return strconv.Itoa(n) }

var (
	posInf = math.Inf(1)
	negInf = math.Inf(-1)
)
