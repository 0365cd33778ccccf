package glob

import (
	"slices"
	"strings"
	"testing"
)

// keysCorpus are the keys stored on redis-server 7.0.15 for the cases below.
var keysCorpus = []string{"", "hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h\\llo", "a]b", "-", "^", "[", "]", "\\", "*", "?", "k1", "k2", "k3", "A", "b", "z", "\xe9", "\xff", "\x7f", "\x80", "\x00", "abc", "aBc", "a-c", "a\\", "ab\\c", "a\x00c", "foo.bar", "h", "he", "hel"}

// keysCases are what KEYS <pattern> returned on redis-server 7.0.15 over
// keysCorpus (sorted). KEYS answers "*" without matching, so the test
// applies the same shortcut.
var keysCases = []struct {
	pattern string
	matches []string
}{
	{"*", []string{"", "\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "a\x00c", "a-c", "aBc", "a\\", "a]b", "ab\\c", "abc", "b", "foo.bar", "h", "h*llo", "h\\llo", "hallo", "he", "heeeello", "hel", "hello", "hllo", "hxllo", "k1", "k2", "k3", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"**", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "a\x00c", "a-c", "aBc", "a\\", "a]b", "ab\\c", "abc", "b", "foo.bar", "h", "h*llo", "h\\llo", "hallo", "he", "heeeello", "hel", "hello", "hllo", "hxllo", "k1", "k2", "k3", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"?", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "b", "h", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"??", []string{"a\\", "he", "k1", "k2", "k3"}},
	{"", []string{""}},
	{"*?", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "a\x00c", "a-c", "aBc", "a\\", "a]b", "ab\\c", "abc", "b", "foo.bar", "h", "h*llo", "h\\llo", "hallo", "he", "heeeello", "hel", "hello", "hllo", "hxllo", "k1", "k2", "k3", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"?*", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "a\x00c", "a-c", "aBc", "a\\", "a]b", "ab\\c", "abc", "b", "foo.bar", "h", "h*llo", "h\\llo", "hallo", "he", "heeeello", "hel", "hello", "hllo", "hxllo", "k1", "k2", "k3", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"h?llo", []string{"h*llo", "h\\llo", "hallo", "hello", "hxllo"}},
	{"h*llo", []string{"h*llo", "h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo"}},
	{"h*l*o", []string{"h*llo", "h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo"}},
	{"*l*l*o*", []string{"h*llo", "h\\llo", "hallo", "heeeello", "hello", "hllo", "hxllo"}},
	{"h[ae]llo", []string{"hallo", "hello"}},
	{"h[^e]llo", []string{"h*llo", "h\\llo", "hallo", "hxllo"}},
	{"h[a-b]llo", []string{"hallo"}},
	{"h\\*llo", []string{"h*llo"}},
	{"h[*]llo", []string{"h*llo"}},
	{"[", []string{}},
	{"[[", []string{"["}},
	{"h[", []string{}},
	{"k[1-", []string{"k1"}},
	{"k[3-1]", []string{"k1", "k2", "k3"}},
	{"k[1-3]", []string{"k1", "k2", "k3"}},
	{"[-]", []string{"-"}},
	{"[\\-]", []string{"-"}},
	{"[^]", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "b", "h", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"[]]", []string{}},
	{"a]b", []string{"a]b"}},
	{"a[]]b", []string{}},
	{"[a-]", []string{"]", "^"}},
	{"k[1-]", []string{"k1", "k2", "k3"}},
	{"h\\", []string{}},
	{"h\\\\llo", []string{"h\\llo"}},
	{"*\\", []string{"\\", "a\\"}},
	{"\\", []string{"\\"}},
	{"\\\\", []string{"\\"}},
	{"[\\]]", []string{"]"}},
	{"[\\", []string{"\\"}},
	{"[\\]", []string{"]"}},
	{"a[\\]b", []string{}},
	{"[a-c-e]", []string{"-", "b"}},
	{"*[", []string{}},
	{"a*", []string{"a\x00c", "a-c", "aBc", "a\\", "a]b", "ab\\c", "abc"}},
	{"*c", []string{"a\x00c", "a-c", "aBc", "ab\\c", "abc"}},
	{"a*c", []string{"a\x00c", "a-c", "aBc", "ab\\c", "abc"}},
	{"[^a-z]", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "\x7f", "\x80", "\xe9", "\xff"}},
	{"[!a]", []string{}},
	{"[a-\xff]", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "\xff"}},
	{"[\x80-\xff]", []string{"\x80", "\xe9", "\xff"}},
	{"[^a-\xff]", []string{"b", "h", "z", "\x7f", "\x80", "\xe9"}},
	{"[\x7f-\x80]", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "b", "h", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"[A-Z]", []string{"A"}},
	{"[z-a]", []string{"b", "h", "z"}},
	{"a[b-]c", []string{}},
	{"a[b-c]c", []string{"abc"}},
	{"a[^B]c", []string{"a\x00c", "a-c", "abc"}},
	{"[^", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "b", "h", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"[^\\", []string{"\x00", "*", "-", "?", "A", "[", "]", "^", "b", "h", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"h[e", []string{"he"}},
	{"h[el", []string{"he"}},
	{"he[l", []string{"hel"}},
	{"\\h\\e\\l\\l\\o", []string{"hello"}},
	{"?\\", []string{"a\\"}},
	{"a\x00c", []string{"a\x00c"}},
	{"a?c", []string{"a\x00c", "a-c", "aBc", "abc"}},
	{"\x00", []string{"\x00"}},
	{"[\x00]", []string{"\x00"}},
	{"*.*", []string{"foo.bar"}},
	{"foo?bar", []string{"foo.bar"}},
	{"[^^]", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "b", "h", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"[^-]", []string{"\x00", "*", "?", "A", "[", "\\", "]", "^", "b", "h", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"[]-a]", []string{}},
	{"[--/]", []string{"-"}},
	{"k[12", []string{"k1", "k2"}},
	{"k[^12", []string{"k3"}},
	{"[*]", []string{"*"}},
	{"[?]", []string{"?"}},
	{"a[\\-]c", []string{"a-c"}},
	{"*[^o]", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "a\x00c", "a-c", "aBc", "a\\", "a]b", "ab\\c", "abc", "b", "foo.bar", "h", "he", "hel", "k1", "k2", "k3", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"*[^o", []string{"\x00", "*", "-", "?", "A", "[", "\\", "]", "^", "a\x00c", "a-c", "aBc", "a\\", "a]b", "ab\\c", "abc", "b", "foo.bar", "h", "he", "hel", "k1", "k2", "k3", "z", "\x7f", "\x80", "\xe9", "\xff"}},
	{"h*[l]*", []string{"h*llo", "h\\llo", "hallo", "heeeello", "hel", "hello", "hllo", "hxllo"}},
}

func TestMatchAgainstRedisKeys(t *testing.T) {
	for _, c := range keysCases {
		var got []string
		for _, k := range keysCorpus {
			if c.pattern == "*" || MatchString(c.pattern, k, false) {
				got = append(got, k)
			}
		}
		slices.Sort(got)
		want := slices.Clone(c.matches)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("KEYS %q\n got %q\nwant %q", c.pattern, got, want)
		}
		// The []byte form must agree with the string form.
		for _, k := range keysCorpus {
			if Match([]byte(c.pattern), []byte(k), false) != MatchString(c.pattern, k, false) {
				t.Errorf("Match and MatchString disagree on %q %q", c.pattern, k)
			}
		}
	}
}

func TestMatchSingleCases(t *testing.T) {
	cases := []struct {
		pattern, s string
		nocase     bool
		want       bool
	}{
		// stringmatchlen itself does not match "*" to the empty string:
		// PSUBSCRIBE * receives nothing from PUBLISH "".
		{"*", "", false, false},
		{"", "", false, true},
		// nocase, checked with CONFIG GET on redis-server 7.0.15.
		{"[M]axmemory", "maxmemory", true, true},
		{"[L-N]axmemory", "maxmemory", true, true},
		{"[n-l]AXMEMORY", "maxmemory", true, true},
		{"[^M]axmemory", "maxmemory", true, false},
		{"[^m]axmemory", "maxmemory", true, false},
		{"MaxMemory-polic?", "maxmemory-policy", true, true},
		{"MaxMemory-polic?", "maxmemory-policy", false, false},
	}
	for _, c := range cases {
		if got := MatchString(c.pattern, c.s, c.nocase); got != c.want {
			t.Errorf("MatchString(%q, %q, %v) = %v, want %v", c.pattern, c.s, c.nocase, got, c.want)
		}
	}
}

// TestMatchNesting checks Redis's recursion limit: KEYS with 1000 "*a"
// pairs matched a key of 1200 a's on redis-server 7.0.15, 1001 did not.
func TestMatchNesting(t *testing.T) {
	key := strings.Repeat("a", 1200)
	for _, c := range []struct {
		pairs int
		want  bool
	}{{998, true}, {1000, true}, {1001, false}, {1100, false}} {
		if got := MatchString(strings.Repeat("*a", c.pairs), key, false); got != c.want {
			t.Errorf("%d pairs: got %v, want %v", c.pairs, got, c.want)
		}
	}
}

// TestMatchPathological would take exponential time without
// skipLongerMatches; it fails by timing out.
func TestMatchPathological(t *testing.T) {
	pattern := strings.Repeat("*a", 40) + "*b"
	if MatchString(pattern, strings.Repeat("a", 200), false) {
		t.Error("matched a string with no b")
	}
	if !MatchString(pattern, strings.Repeat("a", 200)+"b", false) {
		t.Error("did not match")
	}
}
