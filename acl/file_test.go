package acl

import (
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"
)

const loadFailed = "WARNING: ACL errors detected, no change to the previously active ACL rules was performed"

// Expectations are redis-server 7.0.15's (see TestLoadMatchesRedis).
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		data string
		want string // "" for success
	}{
		{"user a on\n\nuser b\n", ""},
		{"# comment\n", "f:1 should start with user keyword followed by the username. "},
		{"USER a\n", "f:1 should start with user keyword followed by the username. "},
		{"user\n", "f:1 should start with user keyword followed by the username. "},
		{"user a\nuser a\n", "WARNING: Duplicate user 'a' found on line 2. "},
		{"user a\tb on\n", "'f:1: username 'a\tb' contains invalid characters. "},
		{"user  a\n", "f:1: Syntax error. "},
		{"user a foo <x +nosuch -@nosuch #zz\nuser b +nosuch2\n",
			"f:1: Syntax error. f:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. " +
				"f:1: Error in applying operation '-@nosuch': Unknown command or category name in ACL. " +
				"f:2: Error in applying operation '+nosuch2': Unknown command or category name in ACL. "},
		{"user a on (~a\n", "f:1: Unmatched parenthesis in selector definition."},
		{"user a ~* ~b\n", "f:1: Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns. "},
		{"user a on (\"\")\n", "f:1: Syntax error. "},
	}
	cat := testCatalog(t)
	for _, tc := range tests {
		reg := NewRegistry(cat, false)
		mustSet(t, reg, "keep", "on")
		err := reg.Load("f", []byte(tc.data))
		if tc.want == "" {
			if err != nil {
				t.Errorf("Load %q: %v", tc.data, err)
			}
			continue
		}
		if want := "ERR " + tc.want + loadFailed; err == nil || err.Error() != want {
			t.Errorf("Load %q:\n got %v\nwant %q", tc.data, err, want)
		}
		if reg.Lookup("keep") == nil || len(reg.Users()) != 2 {
			t.Errorf("Load %q: a failed load changed the users: %q", tc.data, reg.Users())
		}
	}
}

func TestLoadLines(t *testing.T) {
	reg := NewRegistry(testCatalog(t), false)
	data := "  user a on ~x\t\t\r\n\nuser b\x01c on\nuser d (~p +get) &c\nuser e on" // no final newline
	if err := reg.Load("f", []byte(data)); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"user a on ~x resetchannels -@all",
		"user b\x01c on resetchannels -@all",
		"user d off resetchannels &c -@all (~p resetchannels -@all +get)",
		"user default on nopass ~* &* +@all",
		"user e on resetchannels -@all",
	}
	if got := reg.List(); !slices.Equal(got, want) {
		t.Errorf("List:\n got %q\nwant %q", got, want)
	}
	// A NUL byte drops the rest of its fgets piece, newline included, as
	// in Redis: the next line is glued on.
	if err := reg.Load("f", []byte("user x on\x00 +nosuch\nuser y\n")); err == nil || !strings.HasPrefix(err.Error(), "ERR f:1: Syntax error. ") {
		t.Errorf("NUL glues lines: %v", err)
	}
	if err := reg.Load("f", []byte("user x on\x00 +nosuch\n\nuser y\n")); err != nil {
		t.Fatal(err)
	}
	if got := reg.Users(); !slices.Equal(got, []string{"default", "x", "y"}) {
		t.Errorf("Users = %q", got)
	}
	if string(reg.Save()) != "user default on nopass ~* &* +@all\nuser x on resetchannels -@all\nuser y off resetchannels -@all\n" {
		t.Errorf("Save = %q", reg.Save())
	}
}

func TestLoadOpenError(t *testing.T) {
	err := LoadOpenError("/x/users.acl", &fs.PathError{Op: "open", Path: "/x/users.acl", Err: errors.New("no such file or directory")})
	if want := "ERR Error loading ACLs, opening file '/x/users.acl': No such file or directory"; err.Error() != want {
		t.Errorf("got %q", err)
	}
}

// Snapshot and Restore must rebuild every user exactly, including what
// the aclfile cannot say.
func TestSnapshotIsExact(t *testing.T) {
	cat := testCatalog(t)
	users := [][]string{
		{"on", ">pw", "~a*", "%R~r", "&c", "+@string", "-get", "+select|0", "(+set ~b*)", "(%W~w &*)"},
		{"+select|a b", "+select|x\ty", "+select|z\r"},
		{`("~a)" &b)`, `("~a\"b" "&'")`, `("+select|a b" +select|q))`, "(%RW~* %R~*)"},
		{"%RW~*", "~x", "(%RW~*)"},
		{"~\xff\x7f", "&\x01", `~"q`, "+select|\"", "(~)"},
		{"+@all", "-get", "+get", "+@all", "+select|0"},
		{"nopass", "skip-sanitize-payload", "(allkeys allchannels allcommands)", "(&x +config|get)"},
		{"reset"},
	}
	reg := NewRegistry(cat, false)
	for i, rules := range users {
		if _, err := reg.SetUser(string(rune('a'+i)), rules); err != nil {
			t.Fatalf("%q: %v", rules, err)
		}
	}
	reg.SetRequirePass("secret")
	snap := reg.Snapshot()
	again := NewRegistry(cat, false)
	if err := again.Restore(snap); err != nil {
		t.Fatalf("Restore: %v\n%s", err, snap)
	}
	for _, name := range reg.Users() {
		u, v := reg.Lookup(name).User(), again.Lookup(name)
		if v == nil || !u.equal(v.User()) {
			t.Errorf("user %s differs after Restore:\n%s", name, snap)
		}
	}
	if !slices.Equal(reg.Users(), again.Users()) || !slices.Equal(reg.List(), again.List()) {
		t.Errorf("List differs:\n got %q\nwant %q", again.List(), reg.List())
	}
	// Users the aclfile can express snapshot as ACL SAVE writes them.
	plain := NewRegistry(cat, false)
	if _, err := plain.SetUser("a", users[0]); err != nil {
		t.Fatal(err)
	}
	if string(plain.Snapshot()) != string(plain.Save()) {
		t.Errorf("Snapshot %q != Save %q", plain.Snapshot(), plain.Save())
	}
	if !strings.Contains(string(snap), `"+select|a\x20b"`) {
		t.Errorf("expected a quoted first argument in:\n%s", snap)
	}
}
