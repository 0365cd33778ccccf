package acl

import (
	"strings"
	"testing"
)

// The expectations below are redis-server 7.0.15's (redis_compare_test.go
// checks the same and more against a live server).
func TestSetUserDescribe(t *testing.T) {
	cat := testCatalog(t)
	const p2 = "3946ca64ff78d93ca61090a437cbb6b3d2ca0d488f5f9ccf3059608368b27693" // SHA-256 of "p2"
	tests := []struct {
		rules string // space separated; "_" stands for an empty rule
		want  string
	}{
		{"", "off resetchannels -@all"},
		{"_ on", "on resetchannels -@all"},
		{"ON oFF", "off resetchannels -@all"},
		{"on >p1 >p2 <p1", "on #" + p2 + " resetchannels -@all"},
		{">p2 >p2", "off #" + p2 + " resetchannels -@all"},
		{">p2 nopass", "off nopass resetchannels -@all"},
		{"nopass >p2", "off #" + p2 + " resetchannels -@all"},
		{">p2 resetpass", "off resetchannels -@all"},
		{"#" + p2 + " !" + p2, "off resetchannels -@all"},
		{"nopass skip-sanitize-payload", "off nopass skip-sanitize-payload resetchannels -@all"},
		{"skip-sanitize-payload sanitize-payload", "off sanitize-payload resetchannels -@all"},
		{"~a* %R~r* %W~w* %R~k %W~k &ch*", "off ~a* %R~r* %W~w* ~k resetchannels &ch* -@all"},
		{"%rw~x %WR~y %R %W~ %R~z", "off ~x ~y ~ %R~z resetchannels -@all"},
		{"~a allkeys", "off ~* resetchannels -@all"},
		{"%RW~* ~x", "off ~* ~x resetchannels -@all"},
		{"allkeys resetkeys ~b", "off ~b resetchannels -@all"},
		{"~", "off ~ resetchannels -@all"},
		{"&a &a &b", "off resetchannels &a &b -@all"},
		{"&a allchannels", "off &* -@all"},
		{"& resetchannels &c", "off resetchannels &c -@all"},
		{"+get +set +get", "off resetchannels -@all +get +set"},
		{"+GET", "off resetchannels -@all +get"},
		{"+@all -get", "off resetchannels +@all -get"},
		{"+@ALL", "off resetchannels +@all"},
		{"allcommands nocommands +ping", "off resetchannels -@all +ping"},
		{"+@string -get", "off resetchannels -@all +@string -get"},
		{"+@read +@write", "off resetchannels -@all +@write +@read"},
		{"+@all -@admin +config|get", "off resetchannels +@all -@admin +config|get"},
		{"+config -config|set", "off resetchannels -@all +config -config|set"},
		{"+config|get +config|set", "off resetchannels -@all +config|get +config|set"},
		{"+@all -config", "off resetchannels +@all -config"},
		{"+@all -select +select|0 +select|1 +SELECT|0", "off resetchannels +@all -select +select|0 +select|1"},
		{"+select|A +select|a", "off resetchannels -@all +select|A"},
		{"+select|0 +select", "off resetchannels -@all +select"},
		{"+select|0 -select", "off resetchannels -@all"},
		{"+select|0 +@all", "off resetchannels +@all"},
		{"-@all +@keyspace -del +set", "off resetchannels -@all +@keyspace -del +set"},
		{"+acl|whoami +auth", "off resetchannels -@all +acl|whoami +auth"},
		{"on +get allkeys (+set ~app1* &c)", "on ~* resetchannels -@all +get (~app1* resetchannels &c -@all +set)"},
		{"(~a +get) (~b) clearselectors", "off resetchannels -@all"},
		{"() (~a'b)", "off resetchannels -@all (resetchannels -@all) (resetchannels -@all)"},
		{`("+select|a b")`, "off resetchannels -@all (resetchannels -@all +select|a b)"},
		{"(~a +get)", "off resetchannels -@all (~a resetchannels -@all +get)"},
		{"on >p2 ~a &b +get (+set) reset", "off sanitize-payload resetchannels -@all"},
	}
	for _, tc := range tests {
		reg := NewRegistry(cat, false)
		if _, err := reg.SetUser("u", splitRules(tc.rules)); err != nil {
			t.Errorf("SetUser %q: %v", tc.rules, err)
			continue
		}
		if got := reg.Lookup("u").User().Describe(); got != tc.want {
			t.Errorf("SetUser %q:\n got %q\nwant %q", tc.rules, got, tc.want)
		}
	}
}

// splitRules splits on spaces, except inside parentheses and quotes
// (selectors); "_" is an empty rule.
func splitRules(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	flush := func(end int) {
		if r := s[start:end]; r != "" {
			if r == "_" {
				r = ""
			}
			out = append(out, r)
		}
		start = end + 1
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ' ' && depth <= 0:
			flush(i)
		}
	}
	flush(len(s))
	return out
}

func TestSetUserErrors(t *testing.T) {
	cat := testCatalog(t)
	const (
		unknown  = "Unknown command or category name in ACL"
		syntax   = "Syntax error"
		keyAll   = "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
		chanAll  = "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
		noPass   = "The password you are trying to remove from the user does not exist"
		badHash  = "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
		firstArg = "Allowing first-arg of a subcommand is not supported"
	)
	tests := []struct {
		rules []string
		bad   string // the rule named in the error
		why   string
	}{
		{[]string{"+nosuch"}, "+nosuch", unknown},
		{[]string{"-nosuch"}, "-nosuch", unknown},
		{[]string{"+@nosuch"}, "+@nosuch", unknown},
		{[]string{"-@"}, "-@", unknown},
		{[]string{"+"}, "+", unknown},
		{[]string{"-"}, "-", unknown},
		{[]string{"+|"}, "+|", unknown},
		{[]string{"+nosuch|x"}, "+nosuch|x", unknown},
		{[]string{"+config|nosuch"}, "+config|nosuch", unknown},
		{[]string{"-config|"}, "-config|", unknown},
		{[]string{"-select|0"}, "-select|0", unknown},
		{[]string{"-config|get|x"}, "-config|get|x", unknown},
		{[]string{"+config|get|x"}, "+config|get|x", firstArg},
		{[]string{"+get|"}, "+get|", syntax},
		{[]string{"+config|"}, "+config|", syntax},
		{[]string{"foo"}, "foo", syntax},
		{[]string{")"}, ")", syntax},
		{[]string{"%"}, "%", syntax},
		{[]string{"%~x"}, "%~x", syntax},
		{[]string{"%RR~x"}, "%RR~x", syntax},
		{[]string{"%X~x"}, "%X~x", syntax},
		{[]string{"%Rx"}, "%Rx", syntax},
		{[]string{"~a b"}, "~a b", syntax},
		{[]string{"~a\x00b"}, "~a", syntax},
		{[]string{"&a\tb"}, "&a\tb", syntax},
		{[]string{"~*", "~x"}, "~x", keyAll},
		{[]string{"allkeys", "%R~x"}, "%R~x", keyAll},
		{[]string{"&*", "&x"}, "&x", chanAll},
		{[]string{"<nope"}, "<nope", noPass},
		{[]string{"<"}, "<", noPass},
		{[]string{"!" + strings.Repeat("a", 64)}, "!" + strings.Repeat("a", 64), noPass},
		{[]string{"#abc"}, "#abc", badHash},
		{[]string{"!" + strings.Repeat("A", 64)}, "!" + strings.Repeat("A", 64), badHash},
		{[]string{`("")`}, `("")`, syntax},
		{[]string{"(+nosuch)"}, "(+nosuch)", unknown},
		{[]string{"(~* ~x)"}, "(~* ~x)", keyAll},
		{[]string{"(+get", "(~x", "y)"}, "(~x y)", syntax},
	}
	for _, tc := range tests {
		reg := NewRegistry(cat, false)
		_, err := reg.SetUser("u", tc.rules)
		want := "ERR Error in ACL SETUSER modifier '" + tc.bad + "': " + tc.why
		if err == nil || err.Error() != want {
			t.Errorf("SetUser %q: got %v, want %q", tc.rules, err, want)
		}
		if reg.Lookup("u") != nil {
			t.Errorf("SetUser %q: a failed SETUSER created the user", tc.rules)
		}
	}
	reg := NewRegistry(cat, false)
	for _, tc := range []struct {
		name  string
		rules []string
		want  string
	}{
		{"a b", nil, "ERR Usernames can't contain spaces or null characters"},
		{"a\x00", nil, "ERR Usernames can't contain spaces or null characters"},
		{"u", []string{"on", "(+get"}, "ERR Unmatched parenthesis in acl selector starting at '(+get'."},
		{"u", []string{"(", "(~a"}, "ERR Unmatched parenthesis in acl selector starting at '(~a'."},
	} {
		if _, err := reg.SetUser(tc.name, tc.rules); err == nil || err.Error() != tc.want {
			t.Errorf("SetUser %q %q: got %v, want %q", tc.name, tc.rules, err, tc.want)
		}
	}
}

func TestSetUserIsAtomic(t *testing.T) {
	reg := NewRegistry(testCatalog(t), false)
	if _, err := reg.SetUser("u", []string{"on", "+get", "~a"}); err != nil {
		t.Fatal(err)
	}
	ref := reg.Lookup("u")
	before := ref.User()
	if _, err := reg.SetUser("u", []string{"+set", "~b", "+nosuch"}); err == nil {
		t.Fatal("accepted +nosuch")
	}
	if ref.User() != before || before.Describe() != "on ~a resetchannels -@all +get" {
		t.Errorf("failed SETUSER changed the user: %q", ref.User().Describe())
	}
	prev, err := reg.SetUser("u", []string{"+set"})
	if err != nil || prev != before {
		t.Errorf("SetUser returned prev %p, err %v; want %p", prev, err, before)
	}
	if before.Describe() != "on ~a resetchannels -@all +get" {
		t.Errorf("a published user changed: %q", before.Describe())
	}
}

func TestSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"  a  b ", []string{"a", "b"}, true},
		{"\v a", []string{"a"}, true},
		{`"a b" c`, []string{"a b", "c"}, true},
		{`"\x41\n\"\\" x`, []string{"A\n\"\\", "x"}, true},
		{`'a\'b'`, []string{"a'b"}, true},
		{`a"b c"`, []string{"ab c"}, true},
		{`"a"b`, nil, false},
		{`"a`, nil, false},
		{`'a`, nil, false},
		{"a\x00b", []string{"a"}, true},
	}
	for _, tc := range tests {
		got, ok := splitArgs(tc.in)
		if ok != tc.ok || strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("splitArgs(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok {
			for _, a := range got {
				if back, ok := splitArgs(quoteArg(a)); !ok || len(back) != 1 || back[0] != a {
					t.Errorf("quoteArg(%q) does not round-trip: %q", a, back)
				}
			}
		}
	}
}
