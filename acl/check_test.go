package acl

import (
	"strings"
	"testing"
)

// args splits a command line on spaces.
func args(line string) [][]byte {
	var out [][]byte
	for _, a := range strings.Split(line, " ") {
		out = append(out, []byte(a))
	}
	return out
}

func TestCheck(t *testing.T) {
	cat := testCatalog(t)
	reg := NewRegistry(cat, false)
	users := map[string][]string{
		"keys":   {"+get", "+set", "+exists", "+mget", "~a*", "%R~r*", "%W~w*", "~"},
		"first":  {"+config|get", "-@all", "+select|0", "+select|Db", "+select|1"},
		"subs":   {"+config", "-config|set"},
		"noauth": {"-@all"},
		"chans":  {"+publish", "+subscribe", "+psubscribe", "&news.*", "&exact"},
		// root allows the command on a* keys; selectors differ in reasons.
		"multi": {"+get", "+mget", "~a*", "(+set ~b*)", "(+get +mget ~c* &x)", "(+publish &y ~k*)"},
	}
	for name, rules := range users {
		if _, err := reg.SetUser(name, rules); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	read := []KeyRef{{Pos: 1, Perm: PermRead}}
	write := []KeyRef{{Pos: 1, Perm: PermWrite}}
	tests := []struct {
		user  string
		cmd   string // catalog name
		line  string
		keys  []KeyRef
		chans []ChannelRef
		want  Denial
	}{
		{"default", "flushall", "flushall", nil, nil, Denial{}},
		{"default", "get", "get anything", read, nil, Denial{}},
		{"keys", "get", "get a1", read, nil, Denial{}},
		{"keys", "get", "get b", read, nil, Denial{DeniedKey, 1}},
		{"keys", "get", "get r1", read, nil, Denial{}},
		{"keys", "get", "get w1", read, nil, Denial{DeniedKey, 1}},
		{"keys", "set", "set w1 v", write, nil, Denial{}},
		{"keys", "set", "set r1 v", write, nil, Denial{DeniedKey, 1}},
		{"keys", "set", "set w1 v get", []KeyRef{{1, PermAll}}, nil, Denial{DeniedKey, 1}},
		{"keys", "exists", "exists w1 r1", []KeyRef{{1, 0}, {2, 0}}, nil, Denial{}},
		{"keys", "exists", "exists w1 zz", []KeyRef{{1, 0}, {2, 0}}, nil, Denial{DeniedKey, 2}},
		{"keys", "get", "get ", read, nil, Denial{}}, // "~" matches the empty key
		{"keys", "mget", "mget a1 b a2 q", []KeyRef{{1, PermRead}, {2, PermRead}, {3, PermRead}, {4, PermRead}}, nil, Denial{DeniedKey, 2}},
		{"keys", "get", "get a1", []KeyRef{{Pos: 5, Perm: PermRead}}, nil, Denial{DeniedKey, 5}},
		{"keys", "del", "del a1", write, nil, Denial{DeniedCommand, 0}},
		{"first", "select", "select 0", nil, nil, Denial{}},
		{"first", "select", "select db", nil, nil, Denial{}},
		{"first", "select", "select 1", nil, nil, Denial{}},
		{"first", "select", "select 2", nil, nil, Denial{DeniedCommand, 0}},
		{"first", "select", "select", nil, nil, Denial{DeniedCommand, 0}},
		{"first", "select", "select 0\x00junk", nil, nil, Denial{}},
		{"first", "config|get", "config get x", nil, nil, Denial{DeniedCommand, 0}},
		{"subs", "config|get", "config get x", nil, nil, Denial{}},
		{"subs", "config|set", "config set x y", nil, nil, Denial{DeniedCommand, 0}},
		{"noauth", "auth", "auth x", nil, nil, Denial{}},
		{"noauth", "hello", "hello", nil, nil, Denial{}},
		{"noauth", "ping", "ping", nil, nil, Denial{DeniedCommand, 0}},
		{"noauth", "ping", "ping", nil, nil, Denial{DeniedCommand, 0}},
		{"chans", "publish", "publish news.a m", nil, []ChannelRef{{1, false}}, Denial{}},
		{"chans", "publish", "publish other m", nil, []ChannelRef{{1, false}}, Denial{DeniedChannel, 1}},
		{"chans", "subscribe", "subscribe exact news.x other", nil, []ChannelRef{{1, false}, {2, false}, {3, false}}, Denial{DeniedChannel, 3}},
		{"chans", "psubscribe", "psubscribe news.*", nil, []ChannelRef{{1, true}}, Denial{}},
		{"chans", "psubscribe", "psubscribe news.a", nil, []ChannelRef{{1, true}}, Denial{DeniedChannel, 1}},
		{"chans", "psubscribe", "psubscribe news.?", nil, []ChannelRef{{1, true}}, Denial{DeniedChannel, 1}},
		// Several selectors: channel beats key beats command; then the
		// latest position.
		{"multi", "get", "get b1", read, nil, Denial{DeniedKey, 1}},
		{"multi", "set", "set a1 v", write, nil, Denial{DeniedKey, 1}},
		{"multi", "del", "del a1", write, nil, Denial{DeniedCommand, 0}},
		{"multi", "mget", "mget c1 a1 b1", []KeyRef{{1, PermRead}, {2, PermRead}, {3, PermRead}}, nil, Denial{DeniedKey, 2}},
		{"multi", "mget", "mget a1 c1", []KeyRef{{1, PermRead}, {2, PermRead}}, nil, Denial{DeniedKey, 2}},
		{"multi", "get", "get c1", read, nil, Denial{}},
		{"multi", "publish", "publish z m", nil, []ChannelRef{{1, false}}, Denial{DeniedChannel, 1}},
		{"multi", "publish", "publish y m", nil, []ChannelRef{{1, false}}, Denial{}},
	}
	for _, tc := range tests {
		u := reg.Lookup(tc.user).User()
		got := u.Check(mustID(t, cat, tc.cmd), args(tc.line), tc.keys, tc.chans)
		if got != tc.want {
			t.Errorf("%s: %q = %+v, want %+v", tc.user, tc.line, got, tc.want)
		}
	}
	if d := reg.Lookup("keys").User().Check(-1, args("x"), nil, nil); d.Reason != DeniedCommand {
		t.Errorf("unknown command id: %+v", d)
	}
}

func TestDenialTexts(t *testing.T) {
	cat := testCatalog(t)
	get, cfgSet := mustID(t, cat, "get"), mustID(t, cat, "config|set")
	a := args("get k\x00x")
	tests := []struct {
		cmd                    CmdID
		d                      Denial
		noperm, dryrun, script string
		object                 string
	}{
		{cfgSet, Denial{DeniedCommand, 0},
			"NOPERM this user has no permissions to run the 'config|set' command",
			"This user has no permissions to run the 'config|set' command",
			"The user executing the script can't run this command or subcommand", "config|set"},
		{get, Denial{DeniedKey, 1},
			"NOPERM this user has no permissions to access one of the keys used as arguments",
			"This user has no permissions to access the 'k' key",
			"The user executing the script can't access at least one of the keys mentioned in the command arguments", "k\x00x"},
		{get, Denial{DeniedChannel, 1},
			"NOPERM this user has no permissions to access one of the channels used as arguments",
			"This user has no permissions to access the 'k' channel",
			"The user executing the script can't publish to the channel mentioned in the command", "k\x00x"},
		{get, Denial{}, "", "", "", "get"},
	}
	for _, tc := range tests {
		if got := cat.NoPermError(tc.cmd, tc.d); got != tc.noperm {
			t.Errorf("NoPermError(%+v) = %q", tc.d, got)
		}
		if got := cat.DryRunMessage(tc.cmd, a, tc.d); got != tc.dryrun {
			t.Errorf("DryRunMessage(%+v) = %q", tc.d, got)
		}
		if got := ScriptMessage(tc.d); got != tc.script {
			t.Errorf("ScriptMessage(%+v) = %q", tc.d, got)
		}
		if tc.d.Reason != Allowed {
			if got := cat.LogObject(tc.cmd, a, tc.d); got != tc.object {
				t.Errorf("LogObject(%+v) = %q", tc.d, got)
			}
		}
	}
	for r, want := range map[Reason]string{DeniedCommand: "command", DeniedKey: "key", DeniedChannel: "channel", DeniedAuth: "auth", Allowed: "unknown"} {
		if r.String() != want {
			t.Errorf("Reason(%d) = %q, want %q", r, r, want)
		}
	}
}

func TestCheckKeyAndChannel(t *testing.T) {
	reg := NewRegistry(testCatalog(t), false)
	if _, err := reg.SetUser("u", []string{"%R~r*", "&c*", "(%W~w* &lit)"}); err != nil {
		t.Fatal(err)
	}
	u := reg.Lookup("u").User()
	for _, tc := range []struct {
		key  string
		need Perm
		want bool
	}{{"r1", PermRead, true}, {"r1", PermWrite, false}, {"w1", PermWrite, true}, {"w1", PermAll, false}, {"x", 0, false}, {"w", 0, true}} {
		if got := u.CheckKey([]byte(tc.key), tc.need); got != tc.want {
			t.Errorf("CheckKey(%q, %d) = %v", tc.key, tc.need, got)
		}
	}
	for _, tc := range []struct {
		ch      string
		literal bool
		want    bool
	}{{"c1", false, true}, {"c*", true, true}, {"c1", true, false}, {"lit", false, true}, {"x", false, false}} {
		if got := u.CheckChannel([]byte(tc.ch), tc.literal); got != tc.want {
			t.Errorf("CheckChannel(%q, %v) = %v", tc.ch, tc.literal, got)
		}
	}
	if !reg.Default().User().CheckKey([]byte(""), PermAll) || !reg.Default().User().CheckChannel([]byte("x"), true) {
		t.Error("default user must reach every key and channel")
	}
}

// The per-command check runs on every command: it must not allocate.
// (A key pattern match may: glob.Match, inlined here, moves its skip flag
// to the heap; see BenchmarkCheckPatterns.)
func TestCheckDoesNotAllocate(t *testing.T) {
	cat := testCatalog(t)
	reg := NewRegistry(cat, false)
	if _, err := reg.SetUser("u", []string{"+@read", "-@admin", "+select|0", "allkeys", "&c*", "(+set ~b*)"}); err != nil {
		t.Fatal(err)
	}
	get := mustID(t, cat, "get")
	a := args("get b1")
	keys := []KeyRef{{Pos: 1, Perm: PermRead}}
	for _, ref := range []*Ref{reg.Default(), reg.Lookup("u")} {
		n := testing.AllocsPerRun(100, func() { ref.User().Check(get, a, keys, nil) })
		if n != 0 {
			t.Errorf("%s: %v allocations per check", ref.Name(), n)
		}
	}
}

func BenchmarkCheckDefaultUser(b *testing.B) {
	cat := testCatalog(b)
	reg := NewRegistry(cat, false)
	ref := reg.Default()
	get := mustID(b, cat, "get")
	a := args("get key")
	keys := []KeyRef{{Pos: 1, Perm: PermRead}}
	b.ReportAllocs()
	for b.Loop() {
		if !ref.User().Check(get, a, keys, nil).OK() {
			b.Fatal("denied")
		}
	}
}

func BenchmarkCheckPatterns(b *testing.B) {
	cat := testCatalog(b)
	reg := NewRegistry(cat, false)
	if _, err := reg.SetUser("u", []string{"+@read", "~user:*", "~session:*"}); err != nil {
		b.Fatal(err)
	}
	ref := reg.Lookup("u")
	get := mustID(b, cat, "get")
	a := args("get session:1234")
	keys := []KeyRef{{Pos: 1, Perm: PermRead}}
	b.ReportAllocs()
	for b.Loop() {
		if !ref.User().Check(get, a, keys, nil).OK() {
			b.Fatal("denied")
		}
	}
}

// TestCheckCmdUnrestrictedKeys: SORT's BY and GET need a selector that
// allows the command and every key for reading (allkeys, or "*" with R).
func TestCheckCmdUnrestrictedKeys(t *testing.T) {
	cat := testCatalog(t)
	reg := NewRegistry(cat, false)
	sortID, ok := cat.ID("sort")
	if !ok {
		t.Fatal("no sort in the catalog")
	}
	for _, c := range []struct {
		rules []string
		want  bool
	}{
		{[]string{"+@all", "allkeys"}, true},
		{[]string{"+@all", "~*"}, true},
		{[]string{"+@all", "%R~*"}, true},
		{[]string{"+@all", "%W~*", "~l*"}, false},
		{[]string{"+@all", "~l*"}, false},
		{[]string{"+@all", "~l*", "(~* -sort)"}, false},
		{[]string{"+@all", "~l*", "(~* +sort)"}, true},
		{[]string{"-sort", "~*"}, false},
	} {
		if _, err := reg.SetUser("u", append([]string{"reset"}, c.rules...)); err != nil {
			t.Fatalf("%v: %v", c.rules, err)
		}
		u := reg.Lookup("u").User()
		if got := u.CheckCmdUnrestrictedKeys(sortID, args("sort l by w_*"), []KeyRef{{Pos: 1, Perm: PermRead}}, PermRead); got != c.want {
			t.Errorf("%v: got %v, want %v", c.rules, got, c.want)
		}
	}
}
