package acl

import (
	"bytes"
	"strings"
)

// Redis handles rule arguments as C strings in most places: strcasecmp,
// strrchr, sdsnew and "%s" all stop at the first NUL byte, while password
// hashing and key patterns use the full length. These helpers make the
// difference explicit where it changes the outcome.

// cstr is s as C sees it: up to the first NUL byte.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// cbytes is cstr for a byte slice.
func cbytes(b []byte) []byte {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}

// at is s[i], or 0 past the end, as reading a NUL-terminated string is.
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperByte(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// lower is ASCII-only lowercasing, like C's tolower in the C locale.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerByte(b[j])
			}
			return string(b)
		}
	}
	return s
}

// strcaseEq is !strcasecmp(a, b) on C strings.
func strcaseEq(a, b string) bool {
	a, b = cstr(a), cstr(b)
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

// strcaseEqBytes is strcaseEq for a command argument, without a copy.
func strcaseEqBytes(a []byte, b string) bool {
	n := len(a)
	for i, c := range a {
		if c == 0 {
			n = i
			break
		}
	}
	b = cstr(b)
	if n != len(b) {
		return false
	}
	for i := 0; i < n; i++ {
		if lowerByte(a[i]) != lowerByte(b[i]) {
			return false
		}
	}
	return true
}

// isSpace is C's isspace in the C locale.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// hasSpaces is ACLStringHasSpaces: usernames, key and channel patterns
// may hold neither whitespace nor NUL bytes.
func hasSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) || s[i] == 0 {
			return true
		}
	}
	return false
}

// splitArgs is sdssplitargs, which parses the inside of a selector: it
// splits on blanks, honours "double quotes" (with \xHH and \n-style
// escapes) and 'single quotes', and stops at a NUL byte. ok is false for
// unbalanced quotes or a closing quote not followed by a blank.
func splitArgs(line string) (args []string, ok bool) {
	p := 0
	c := func(i int) byte { return at(line, i) }
	for {
		for c(p) != 0 && isSpace(c(p)) {
			p++
		}
		if c(p) == 0 {
			return args, true
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			switch {
			case inq:
				switch {
				case c(p) == '\\' && c(p+1) == 'x' && isHex(c(p+2)) && isHex(c(p+3)):
					cur = append(cur, hexVal(c(p+2))<<4|hexVal(c(p+3)))
					p += 3
				case c(p) == '\\' && c(p+1) != 0:
					p++
					switch c(p) {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, c(p))
					}
				case c(p) == '"':
					if c(p+1) != 0 && !isSpace(c(p+1)) {
						return nil, false
					}
					done = true
				case c(p) == 0:
					return nil, false
				default:
					cur = append(cur, c(p))
				}
			case insq:
				switch {
				case c(p) == '\\' && c(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case c(p) == '\'':
					if c(p+1) != 0 && !isSpace(c(p+1)) {
						return nil, false
					}
					done = true
				case c(p) == 0:
					return nil, false
				default:
					cur = append(cur, c(p))
				}
			default:
				switch c(p) {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					cur = append(cur, c(p))
				}
			}
			if c(p) != 0 {
				p++
			}
		}
		args = append(args, string(cur))
	}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// quoteArg quotes s so that splitArgs gives it back unchanged.
func quoteArg(s string) string {
	const hexdigits = "0123456789abcdef"
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x21 || c > 0x7e:
			b.WriteString(`\x`)
			b.WriteByte(hexdigits[c>>4])
			b.WriteByte(hexdigits[c&15])
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
