package acl_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/internal/nodetest"
)

// hashOf is the SHA-256 hex of "secret".
const hashOf = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b"

// setuserCases are ACL SETUSER sequences run on redis-server and on a
// Registry; every reply, the ACL LIST line and ACL GETUSER must match.
var setuserCases = []struct {
	name        string
	allChannels bool // acl-pubsub-default allchannels
	calls       [][]string
}{
	{"create", false, [][]string{{}}},
	{"on", false, [][]string{{"on"}}},
	{"on off", false, [][]string{{"on", "off"}}},
	{"upper nopass", false, [][]string{{"ON", "NOPASS"}}},
	{"passwords", false, [][]string{{">p1", ">p2", ">p1"}}},
	{"remove password", false, [][]string{{">p1", ">p2", "<p1"}}},
	{"hash", false, [][]string{{"#" + hashOf, ">secret"}}},
	{"remove hash", false, [][]string{{">secret", "!" + hashOf}}},
	{"missing hash", false, [][]string{{"!" + hashOf}}},
	{"upper hash", false, [][]string{{"#" + strings.ToUpper(hashOf)}}},
	{"short hash", false, [][]string{{"#abc"}}},
	{"missing password", false, [][]string{{"<nope"}}},
	{"resetpass", false, [][]string{{">p", "resetpass"}}},
	{"nopass then password", false, [][]string{{"nopass", ">x"}}},
	{"password then nopass", false, [][]string{{">x", "nopass"}}},
	{"reset", false, [][]string{{"on", ">x", "~a", "&b", "+get", "(+set)", "reset"}}},
	{"sanitize", false, [][]string{{"skip-sanitize-payload"}, {"sanitize-payload"}}},
	{"key patterns", false, [][]string{{"~a*", "~b", "~a*"}}},
	{"read write patterns", false, [][]string{{"%R~r*", "%W~w*", "%RW~rw*", "%wr~x", "%R~"}}},
	{"merged permissions", false, [][]string{{"%R~k", "%W~k", "%W~j"}}},
	{"allkeys", false, [][]string{{"~a", "allkeys"}}},
	{"pattern after allkeys", false, [][]string{{"~*", "~x"}}},
	{"percent star is no allkeys", false, [][]string{{"%RW~*", "~x"}}},
	{"resetkeys", false, [][]string{{"~a", "resetkeys", "~b"}}},
	{"bad percent", false, [][]string{{"%"}}},
	{"percent no permission", false, [][]string{{"%~x"}}},
	{"percent bad letter", false, [][]string{{"%X~a"}}},
	{"pattern with space", false, [][]string{{"~a b"}}},
	{"empty pattern", false, [][]string{{"~"}}},
	{"channels", false, [][]string{{"&ch1", "&ch*", "&ch1"}}},
	{"channel after allchannels", false, [][]string{{"allchannels", "&x"}}},
	{"resetchannels", false, [][]string{{"&a", "resetchannels", "&b"}}},
	{"allchannels", false, [][]string{{"&*"}}},
	{"pubsub default allchannels", true, [][]string{{"on"}, {"&x", "reset"}}},
	{"pubsub default selector", true, [][]string{{"(+get)", "&y"}}},
	{"commands", false, [][]string{{"+get", "+set", "+del"}}},
	{"all but get", false, [][]string{{"+@all", "-get"}}},
	{"string but get", false, [][]string{{"+@string", "-get"}}},
	{"read and write", false, [][]string{{"+@read", "+@write"}}},
	{"all but dangerous", false, [][]string{{"+@all", "-@dangerous"}}},
	{"keyspace tweaks", false, [][]string{{"-@all", "+@keyspace", "-del", "+set"}}},
	{"admin but config get", false, [][]string{{"+@all", "-@admin", "+config|get"}}},
	{"subcommands", false, [][]string{{"+config|get", "+config|set", "+CLIENT|List"}}},
	{"container minus sub", false, [][]string{{"+config", "-config|set"}}},
	{"all minus container", false, [][]string{{"+@all", "-config"}}},
	{"first args", false, [][]string{{"+select|0", "+select|1", "+SELECT|0"}}},
	{"all but select 0", false, [][]string{{"+@all", "-select", "+select|0"}}},
	{"first arg then command", false, [][]string{{"+select|0", "+select"}}},
	{"first arg then minus", false, [][]string{{"+select|0", "-select"}}},
	{"first arg then all", false, [][]string{{"+select|0", "+@all"}}},
	{"unknown command", false, [][]string{{"+get", "+nosuch"}}},
	{"unknown minus", false, [][]string{{"-nosuch"}}},
	{"unknown category", false, [][]string{{"+@nosuch"}}},
	{"unknown subcommand", false, [][]string{{"+config|nosuch"}}},
	{"first arg of subcommand", false, [][]string{{"+config|get|x"}}},
	{"empty first arg", false, [][]string{{"+get|"}}},
	{"minus first arg", false, [][]string{{"-select|0"}}},
	{"bare plus", false, [][]string{{"+"}}},
	{"unknown rule", false, [][]string{{"foo"}}},
	{"allcommands nocommands", false, [][]string{{"allcommands", "nocommands", "+ping"}}},
	{"pubsub category", false, [][]string{{"+@all", "-@all", "+@pubsub"}}},
	{"connection but hello", false, [][]string{{"+@connection", "-hello"}}},
	{"slow but dangerous", false, [][]string{{"+@slow", "-@dangerous"}}},
	{"fast and slow", false, [][]string{{"+@fast", "+@slow", "-get"}}},
	{"all minus fast slow", false, [][]string{{"+@all", "-@fast", "-@slow"}}},
	{"acl subcommands", false, [][]string{{"+acl|whoami", "+acl|cat", "+auth"}}},
	{"selector", false, [][]string{{"on", "+get", "allkeys", "(+set ~app1*)"}}},
	{"two selectors", false, [][]string{{"(+@write ~write::*)", "(+@read ~read::*)"}}},
	{"spread selector", false, [][]string{{"(~a", "+get)"}}},
	{"spread selector parens", false, [][]string{{"(", "+get", ")"}}},
	{"selector restarts", false, [][]string{{"(+get", "(~x", "y)"}}},
	{"unclosed selector", false, [][]string{{"on", "(+get"}}},
	{"empty selector", false, [][]string{{"()"}}},
	{"clearselectors", false, [][]string{{"(~a)", "(~b)", "clearselectors"}}},
	{"rich selectors", false, [][]string{{"(~a &b +@string -get)", "(%R~r* +@read -@keyspace)"}}},
	{"reset selectors", false, [][]string{{"(~a)", "reset"}}},
	{"selector unknown", false, [][]string{{"(+nosuch)"}}},
	{"selector quoted", false, [][]string{{`("+select|0" ~x)`}}},
	{"selector bad quote", false, [][]string{{`(~a"b)`}}},
	{"selector allkeys error", false, [][]string{{"(~* ~x)"}}},
	{"selector first args", false, [][]string{{"(+select|0 +select|1)"}}},
	{"atomic", false, [][]string{{"on", "+get"}, {"+set", "+nosuch"}}},
	{"not created", false, [][]string{{"+nosuch"}}},
	{"accumulate", false, [][]string{{"~a"}, {"~b", "+get"}, {"-get", "+@hash"}}},
	{"empty rule", false, [][]string{{"", "on"}}},
	{"config and client", false, [][]string{{"+@admin", "-@dangerous", "+client|kill", "-config|rewrite"}}},
}

func TestSetUserMatchesRedis(t *testing.T) {
	r := nodetest.StartRedis(t)
	c := dialRedis(t, r.Addr)
	cat := catalogFromRedis(t, c)
	reg := acl.NewRegistry(cat, false)
	for i, tc := range setuserCases {
		name := fmt.Sprintf("u%02d", i)
		pubsub := "resetchannels"
		if tc.allChannels {
			pubsub = "allchannels"
		}
		c.do(t, "CONFIG", "SET", "acl-pubsub-default", pubsub)
		reg.SetPubsubDefault(tc.allChannels)
		for _, rules := range tc.calls {
			want := c.do(t, append([]string{"ACL", "SETUSER", name}, rules...)...)
			_, err := reg.SetUser(name, rules)
			if got := replyOf(err); got != want {
				t.Errorf("%s: SETUSER %q: got %#v, redis %#v", tc.name, rules, got, want)
			}
		}
		compareUser(t, tc.name, c, cat, reg, name)
	}
	c.do(t, "CONFIG", "SET", "acl-pubsub-default", "resetchannels")
	reg.SetPubsubDefault(false)

	// Errors that are not about a rule, and the default user.
	for _, args := range [][]string{{"a b", "on"}, {"a\tb"}} {
		want := c.do(t, append([]string{"ACL", "SETUSER"}, args...)...)
		_, err := reg.SetUser(args[0], args[1:])
		if got := replyOf(err); got != want {
			t.Errorf("SETUSER %q: got %#v, redis %#v", args, got, want)
		}
	}
	for _, rules := range [][]string{{"-@hash", "~a", "&b"}, {"+@all", "allkeys", "allchannels"}} {
		c.do(t, append([]string{"ACL", "SETUSER", "default"}, rules...)...)
		reg.SetUser("default", rules)
		compareUser(t, "default", c, cat, reg, "default")
	}
	c.do(t, "CONFIG", "SET", "requirepass", "secret")
	reg.SetRequirePass("secret")
	compareUser(t, "requirepass", c, cat, reg, "default")
	c.do(t, "CONFIG", "SET", "requirepass", "")
	reg.SetRequirePass("")
	compareUser(t, "requirepass off", c, cat, reg, "default")

	for _, names := range [][]string{{"default"}, {"u01", "default"}, {"nosuch"}, {"u01", "u01", "u02", "nosuch"}} {
		want := c.do(t, append([]string{"ACL", "DELUSER"}, names...)...)
		n, err := reg.DelUser(names...)
		got := any(int64(n))
		if err != nil {
			got = respErr(err.Error())
		}
		if got != want {
			t.Errorf("DELUSER %q: got %#v, redis %#v", names, got, want)
		}
	}
	wantUsers := c.do(t, "ACL", "USERS")
	if got := toAny(reg.Users()); !reflect.DeepEqual(got, wantUsers) {
		t.Errorf("ACL USERS: got %v, redis %v", got, wantUsers)
	}
	wantList := normalizeAll(cat, c.do(t, "ACL", "LIST"))
	if got := normalizeAll(cat, toAny(reg.List())); !reflect.DeepEqual(got, wantList) {
		t.Errorf("ACL LIST:\n got %q\nredis %q", got, wantList)
	}
	// Every user survives a snapshot unchanged (ACL SAVE's file does not:
	// "%RW~* ~x" is saved as "~* ~x", which Redis refuses to load too).
	again := acl.NewRegistry(cat, false)
	if err := again.Restore(reg.Snapshot()); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if got, want := again.List(), reg.List(); !slices.Equal(got, want) {
		t.Errorf("restore:\n got %q\nwant %q", got, want)
	}
}

// compareUser compares ACL GETUSER and the user's ACL LIST line.
func compareUser(t *testing.T, label string, c *respConn, cat *acl.Catalog, reg *acl.Registry, name string) {
	t.Helper()
	want := c.do(t, "ACL", "GETUSER", name)
	var got any
	if ref := reg.Lookup(name); ref != nil {
		got = getuserReply(ref.User().Info())
	}
	if want != nil {
		w := want.([]any)
		w[5] = normalizeRules(cat, w[5].(string))
		for _, s := range w[11].([]any) {
			s.([]any)[1] = normalizeRules(cat, s.([]any)[1].(string))
		}
	}
	if got != nil {
		g := got.([]any)
		g[5] = normalizeRules(cat, g[5].(string))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: GETUSER:\n got %#v\nredis %#v", label, got, want)
	}
	var wantLine string
	for _, l := range c.do(t, "ACL", "LIST").([]any) {
		if strings.HasPrefix(l.(string), "user "+name+" ") {
			wantLine = normalizeRules(cat, l.(string))
		}
	}
	var gotLine string
	for _, l := range reg.List() {
		if strings.HasPrefix(l, "user "+name+" ") {
			gotLine = normalizeRules(cat, l)
		}
	}
	if gotLine != wantLine {
		t.Errorf("%s: ACL LIST:\n got %q\nredis %q", label, gotLine, wantLine)
	}
}

// getuserReply is ACL GETUSER's RESP2 reply built from Info.
func getuserReply(info acl.UserInfo) []any {
	sel := func(s acl.SelectorInfo) []any {
		return []any{"commands", s.Commands, "keys", s.Keys, "channels", s.Channels}
	}
	out := []any{"flags", toAny(info.Flags), "passwords", toAny(info.Passwords)}
	out = append(out, sel(info.SelectorInfo)...)
	sels := []any{}
	for _, s := range info.Selectors {
		sels = append(sels, sel(s))
	}
	return append(out, "selectors", sels)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func normalizeAll(cat *acl.Catalog, v any) []string {
	var out []string
	for _, l := range v.([]any) {
		out = append(out, normalizeRules(cat, l.(string)))
	}
	return out
}

// replyOf is the reply a SETUSER-like call gives.
func replyOf(err error) any {
	if err != nil {
		return respErr(err.Error())
	}
	return "OK"
}

// dryrunUsers and dryrunCases compare checks with ACL DRYRUN.
var dryrunUsers = map[string][]string{
	"d1": {"on", "nopass", "+get", "+set", "~a*", "%R~r*", "%W~w*", "&c*", "+publish", "+subscribe",
		"+psubscribe", "+exists", "+copy", "+mget", "+mset", "+select|0", "+config|get"},
	"d2": {"on", "+get", "~a*", "(+set ~b*)", "(+get +mget ~c* &x)"},
	"d3": {"on", "+publish", "+get", "&x", "(+publish ~k &y)"},
	"d4": {"on", "allcommands", "allkeys", "resetchannels"},
	"d5": {"off", "-@all"},
}

var dryrunCases = []struct {
	user string
	args []string
}{
	{"d1", []string{"get", "a1"}},
	{"d1", []string{"GET", "b"}},
	{"d1", []string{"get", "r1"}},
	{"d1", []string{"get", "w1"}},
	{"d1", []string{"set", "w1", "v"}},
	{"d1", []string{"set", "w1", "v", "GET"}},
	{"d1", []string{"set", "r1", "v"}},
	{"d1", []string{"exists", "w1", "r1", "zz"}},
	{"d1", []string{"del", "a1"}},
	{"d1", []string{"publish", "c1", "m"}},
	{"d1", []string{"publish", "d", "m"}},
	{"d1", []string{"subscribe", "c1", "d", "e"}},
	{"d1", []string{"psubscribe", "c*"}},
	{"d1", []string{"psubscribe", "c?"}},
	{"d1", []string{"mget", "a1", "b", "a2", "q"}},
	{"d1", []string{"mset", "w1", "x", "a1", "y"}},
	{"d1", []string{"copy", "r1", "w1"}},
	{"d1", []string{"copy", "w1", "r1"}},
	{"d1", []string{"select", "0"}},
	{"d1", []string{"select", "1"}},
	{"d1", []string{"config", "get", "maxmemory"}},
	{"d1", []string{"config", "set", "maxmemory", "1"}},
	{"d1", []string{"auth", "x"}},
	{"d1", []string{"hello"}},
	{"d2", []string{"get", "b1"}},
	{"d2", []string{"set", "a1", "v"}},
	{"d2", []string{"set", "b1", "v"}},
	{"d2", []string{"del", "a1"}},
	{"d2", []string{"mget", "c1", "a1", "b1"}},
	{"d2", []string{"mget", "a1", "c1"}},
	{"d3", []string{"publish", "z", "m"}},
	{"d3", []string{"publish", "y", "m"}},
	{"d3", []string{"get", "k"}},
	{"d4", []string{"publish", "z", "m"}},
	{"d4", []string{"get", ""}},
	{"d5", []string{"get", "a"}},
	{"d5", []string{"ping"}},
}

// refsFor gives the keys and channels of the commands the dry runs use,
// with the permissions Redis derives from their key specs.
func refsFor(args []string) ([]acl.KeyRef, []acl.ChannelRef) {
	var keys []acl.KeyRef
	var chans []acl.ChannelRef
	switch strings.ToLower(args[0]) {
	case "get":
		keys = append(keys, acl.KeyRef{Pos: 1, Perm: acl.PermRead})
	case "set":
		perm := acl.PermWrite
		for _, a := range args[3:] {
			if strings.EqualFold(a, "get") {
				perm = acl.PermAll
			}
		}
		keys = append(keys, acl.KeyRef{Pos: 1, Perm: perm})
	case "del":
		for i := 1; i < len(args); i++ {
			keys = append(keys, acl.KeyRef{Pos: i, Perm: acl.PermWrite})
		}
	case "exists":
		for i := 1; i < len(args); i++ {
			keys = append(keys, acl.KeyRef{Pos: i})
		}
	case "mget":
		for i := 1; i < len(args); i++ {
			keys = append(keys, acl.KeyRef{Pos: i, Perm: acl.PermRead})
		}
	case "mset":
		for i := 1; i < len(args); i += 2 {
			keys = append(keys, acl.KeyRef{Pos: i, Perm: acl.PermWrite})
		}
	case "copy":
		keys = append(keys, acl.KeyRef{Pos: 1, Perm: acl.PermRead}, acl.KeyRef{Pos: 2, Perm: acl.PermWrite})
	case "publish":
		chans = append(chans, acl.ChannelRef{Pos: 1})
	case "subscribe", "psubscribe":
		for i := 1; i < len(args); i++ {
			chans = append(chans, acl.ChannelRef{Pos: i, Pattern: args[0] == "psubscribe"})
		}
	}
	return keys, chans
}

func commandID(cat *acl.Catalog, args []string) acl.CmdID {
	if len(args) > 1 {
		if id, ok := cat.ID(args[0] + "|" + args[1]); ok {
			return id
		}
	}
	id, _ := cat.ID(args[0])
	return id
}

func TestChecksMatchRedisDryRun(t *testing.T) {
	r := nodetest.StartRedis(t)
	c := dialRedis(t, r.Addr)
	cat := catalogFromRedis(t, c)
	reg := acl.NewRegistry(cat, false)
	for name, rules := range dryrunUsers {
		c.do(t, append([]string{"ACL", "SETUSER", name}, rules...)...)
		if _, err := reg.SetUser(name, rules); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range dryrunCases {
		want := c.do(t, append([]string{"ACL", "DRYRUN", tc.user}, tc.args...)...)
		id := commandID(cat, tc.args)
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		keys, chans := refsFor(tc.args)
		d := reg.Lookup(tc.user).User().Check(id, args, keys, chans)
		var got any = "OK"
		if !d.OK() {
			got = cat.DryRunMessage(id, args, d)
		}
		if got != want {
			t.Errorf("DRYRUN %s %q: got %#v, redis %#v", tc.user, tc.args, got, want)
		}
	}
}

func TestCatMatchesRedis(t *testing.T) {
	r := nodetest.StartRedis(t)
	c := dialRedis(t, r.Addr)
	cat := catalogFromRedis(t, c)
	if got, want := toAny(cat.Categories()), c.do(t, "ACL", "CAT"); !reflect.DeepEqual(got, want) {
		t.Errorf("ACL CAT: got %v, redis %v", got, want)
	}
	for _, name := range append(acl.RedisCategories(), "Admin", "nosuch", strings.Repeat("x", 200)) {
		want := c.do(t, "ACL", "CAT", name)
		list, err := cat.CommandsIn(name)
		var got any
		if err != nil {
			got = respErr(err.Error())
		} else {
			got = toAny(list)
		}
		if w, ok := want.([]any); ok {
			slices.SortFunc(w, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
			if g, ok := got.([]any); ok {
				slices.SortFunc(g, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ACL CAT %s: got %v, redis %v", name, got, want)
		}
	}
}

// loadCases are aclfile contents loaded with ACL LOAD on both.
var loadCases = []string{
	"user alice on >pw ~* &* +@all\nuser bob off\n",
	"",
	"\n\n  \nuser default on nopass ~* &* +@all -@hash\n",
	"user default off +@all ~* &*\nuser admin on >x +@all ~*\n",
	"# comment\n",
	"User bob\n",
	"user\n",
	"user bob\nuser bob\n",
	"user  bob  on\n",
	"user bob\ton\n",
	"user bob on foo >x <y +nosuch -@nosuch #zz\nuser c +nosuch2\n",
	"user bob on ( ~a )\n",
	"user bob on (\"~a)\" resetchannels -@all)\n",
	"user bob on (~\"a)\n",
	"user bob on (~a)\n user c\t \n",
	"user bob on (+get \"~a\\x20b\")\n",
	"user bob on (\"\") \n",
	"user bob on ~a\t\t\n",
	"user b\x01c on\n",
	"user bob ( on\n",
	"user bob on ~* ~a\n",
	"user bob\r\nuser c\r\n",
	"user bob on (+get ~a) (+set ~b) %R~r &x +select|0\n",
	"user bob on ~a\nuser x on +@all\nlast line without newline",
}

func TestLoadMatchesRedis(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.acl")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := nodetest.StartRedis(t, "--aclfile", path)
	c := dialRedis(t, r.Addr)
	cat := catalogFromRedis(t, c)
	reg := acl.NewRegistry(cat, false)
	for _, data := range loadCases {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		want := c.do(t, "ACL", "LOAD")
		if got := replyOf(reg.Load(path, []byte(data))); got != want {
			t.Errorf("LOAD %q:\n got %#v\nredis %#v", data, got, want)
		}
		wantList := normalizeAll(cat, c.do(t, "ACL", "LIST"))
		if got := normalizeAll(cat, toAny(reg.List())); !reflect.DeepEqual(got, wantList) {
			t.Errorf("after LOAD %q, ACL LIST:\n got %q\nredis %q", data, got, wantList)
		}
	}
	os.Remove(path)
	want := c.do(t, "ACL", "LOAD")
	_, err := os.ReadFile(path)
	if got := replyOf(acl.LoadOpenError(path, err)); got != want {
		t.Errorf("LOAD missing file: got %#v, redis %#v", got, want)
	}
}
