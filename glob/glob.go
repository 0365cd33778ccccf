// Package glob owns Redis's glob-style pattern matching (stringmatchlen),
// used by KEYS, SCAN MATCH, CONFIG GET, COMMAND LIST FILTERBY PATTERN and
// ACL key and channel patterns. It reproduces Redis 7.0's matcher exactly,
// quirks included, so that a pattern selects the same keys on both.
package glob

// Match reports whether s matches pattern with Redis's rules: * ? [abc]
// [^a-z] and \ escapes. Like stringmatchlen, "*" does not match the empty
// string; KEYS and SCAN special-case the pattern "*" before calling it.
func Match(pattern, s []byte, nocase bool) bool {
	skip := false
	return match(pattern, s, nocase, &skip, 0)
}

// MatchString is Match for strings.
func MatchString(pattern, s string, nocase bool) bool {
	skip := false
	return match(pattern, s, nocase, &skip, 0)
}

// maxNesting is stringmatchlen's limit on nested '*' recursion: deeper
// patterns do not match rather than exhaust the stack.
const maxNesting = 1000

func lower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// signed reads a byte as C's (signed) char does on the platforms Redis is
// built for: range bounds and the compared character above 0x7f are
// negative, which decides what [a-\xff] matches.
func signed(c byte) int { return int(int8(c)) }

// match is stringmatchlen_impl. skip is its skipLongerMatches: once the
// text after a '*' failed to match at every position, no longer prefix
// can succeed either, which keeps patterns like "*a*a*a*b" linear-ish.
func match[S ~string | ~[]byte](p, s S, nocase bool, skip *bool, nesting int) bool {
	if nesting > maxNesting {
		return false
	}
	for len(p) > 0 && len(s) > 0 {
		switch p[0] {
		case '*':
			for len(p) > 1 && p[1] == '*' {
				p = p[1:]
			}
			if len(p) == 1 {
				return true
			}
			for len(s) > 0 {
				if match(p[1:], s, nocase, skip, nesting+1) {
					return true
				}
				if *skip {
					return false
				}
				s = s[1:]
			}
			*skip = true
			return false
		case '?':
			s = s[1:]
		case '[':
			p = p[1:]
			not := len(p) > 0 && p[0] == '^'
			if not {
				p = p[1:]
			}
			matched := false
			for {
				if len(p) >= 2 && p[0] == '\\' {
					p = p[1:]
					if p[0] == s[0] {
						matched = true
					}
				} else if len(p) > 0 && p[0] == ']' {
					break
				} else if len(p) == 0 {
					// Unclosed: the set ends with the pattern; stepping
					// back one lets the shared advance below consume it.
					break
				} else if len(p) >= 3 && p[1] == '-' {
					start, end, c := signed(p[0]), signed(p[2]), signed(s[0])
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p = p[2:]
					if c >= start && c <= end {
						matched = true
					}
				} else if nocase {
					if lower(int(p[0])) == lower(int(s[0])) {
						matched = true
					}
				} else if p[0] == s[0] {
					matched = true
				}
				p = p[1:]
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			s = s[1:]
			if len(p) == 0 {
				// The unclosed set consumed the whole pattern.
				if len(s) == 0 {
					return true
				}
				return false
			}
		case '\\':
			if len(p) >= 2 {
				p = p[1:]
			}
			fallthrough
		default:
			if nocase {
				if lower(int(p[0])) != lower(int(s[0])) {
					return false
				}
			} else if p[0] != s[0] {
				return false
			}
			s = s[1:]
		}
		p = p[1:]
		if len(s) == 0 {
			for len(p) > 0 && p[0] == '*' {
				p = p[1:]
			}
			break
		}
	}
	return len(p) == 0 && len(s) == 0
}
