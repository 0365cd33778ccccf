package commands

import (
	"strconv"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/resp"
)

// Expected replies below were read from redis-server 7.0.15.

// testTable is the server family (COMMAND itself) plus entries shaped like
// Redis's own, covering every kind of key spec.
func testTable() *Table {
	t := &Table{cmds: make(map[string]*Command), apply: make(map[op.Type]ApplyFunc)}
	t.lat.init()
	registerServer(t)
	registerConnection(t)
	t.add(
		&Command{Name: "get", Arity: 2, Flags: FlagReadonly | FlagFast, Categories: CatString,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Index: 1, KeyStep: 1}},
			Group: "string", Since: "1.0.0", Complexity: "O(1)", Summary: "Get the value of a key"},
		&Command{Name: "eval_ro", Arity: -3,
			Flags:      FlagReadonly | FlagNoScript | FlagStale | FlagSkipMonitor | FlagNoMandatoryKeys | FlagMayReplicate,
			Categories: CatScripting,
			Keys: []KeySpec{{Notes: "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS",
				Flags: KeyRO | KeyAccess, Index: 2, KeyNum: true, KeyNumAt: 0, FirstKey: 1, KeyStep: 1}},
			Group: "scripting", Since: "7.0.0", Complexity: "Depends on the script that is executed.",
			Summary: "Execute a read-only Lua script server side"},
		&Command{Name: "xread", Arity: -4, Flags: FlagReadonly | FlagBlocking, Categories: CatStream,
			Keys:  []KeySpec{{Flags: KeyRO | KeyAccess, Keyword: "STREAMS", StartFrom: 1, LastKey: -1, KeyStep: 1, Limit: 2}},
			Group: "stream", Since: "5.0.0", Complexity: "O(1)", Summary: "x"},
		&Command{Name: "sort", Arity: -2, Flags: FlagWrite | FlagDenyOOM,
			Categories: CatSet | CatSortedSet | CatList | CatDangerous,
			Keys: []KeySpec{
				{Flags: KeyRO | KeyAccess, Index: 1, KeyStep: 1},
				{Notes: "For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort",
					Flags: KeyRO | KeyAccess},
				{Notes: "For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array",
					Flags: KeyOW | KeyUpdate},
			},
			Group: "generic", Since: "1.0.0", Complexity: "O(1)", Summary: "x"},
		&Command{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, Categories: CatString,
			Keys:  []KeySpec{{Flags: KeyRW | KeyAccess | KeyUpdate, Index: 1, KeyStep: 1}},
			Group: "string", Since: "1.0.0", Complexity: "O(1)",
			Summary:  "Set the string value of a key and return its old value",
			DocFlags: []string{"deprecated"}, DeprecatedSince: "6.2.0", ReplacedBy: "`SET` with the `!GET` argument"},
	)
	return t
}

func TestCommandInfoReplies(t *testing.T) {
	x := newTester(t)
	x.ctx.Table = testTable()
	for _, c := range []struct {
		proto      int
		line, want string
	}{
		{2, "COMMAND INFO get", "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n"},
		{3, "COMMAND INFO get", "*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n"},
		{2, "COMMAND INFO ping", "*1\r\n*10\r\n$4\r\nping\r\n:-1\r\n*1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:all_succeeded\r\n*0\r\n*0\r\n"},
		{2, "COMMAND INFO hello", "*1\r\n*10\r\n$5\r\nhello\r\n:-1\r\n*6\r\n+noscript\r\n+loading\r\n+stale\r\n+fast\r\n+no_auth\r\n+allow_busy\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"},
		{2, "COMMAND INFO CLIENT|ID nosuch client|nosuch", "*3\r\n*10\r\n$9\r\nclient|id\r\n:2\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n$-1\r\n$-1\r\n"},
		{3, "COMMAND INFO nosuch", "*1\r\n_\r\n"},
		{2, "COMMAND INFO eval_ro", "*1\r\n*10\r\n$7\r\neval_ro\r\n:-3\r\n*6\r\n+readonly\r\n+noscript\r\n+stale\r\n+skip_monitor\r\n+no_mandatory_keys\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@scripting\r\n*0\r\n*1\r\n*8\r\n$5\r\nnotes\r\n$78\r\nWe cannot tell how the keys will be used so we assume the worst, RO and ACCESS\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n*0\r\n"},
		{2, "COMMAND INFO xread", "*1\r\n*10\r\n$5\r\nxread\r\n:-4\r\n*3\r\n+readonly\r\n+blocking\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n*4\r\n+@read\r\n+@stream\r\n+@slow\r\n+@blocking\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\nkeyword\r\n$7\r\nSTREAMS\r\n$9\r\nstartfrom\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:2\r\n*0\r\n"},
		{3, "COMMAND INFO sort", "*1\r\n*10\r\n$4\r\nsort\r\n:-2\r\n~3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n~6\r\n+@write\r\n+@set\r\n+@sortedset\r\n+@list\r\n+@slow\r\n+@dangerous\r\n~0\r\n~3\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%4\r\n$5\r\nnotes\r\n$120\r\nFor the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n%4\r\n$5\r\nnotes\r\n$116\r\nFor the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array\r\n$5\r\nflags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n~0\r\n"},
		{2, "COMMAND DOCS client|id nosuch", "*2\r\n$9\r\nclient|id\r\n*8\r\n$7\r\nsummary\r\n$48\r\nReturns the client ID for the current connection\r\n$5\r\nsince\r\n$5\r\n5.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"},
		{3, "COMMAND DOCS getset", "%1\r\n$6\r\ngetset\r\n%7\r\n$7\r\nsummary\r\n$54\r\nSet the string value of a key and return its old value\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\ndoc_flags\r\n~1\r\n+deprecated\r\n$16\r\ndeprecated_since\r\n$5\r\n6.2.0\r\n$11\r\nreplaced_by\r\n$30\r\n`SET` with the `!GET` argument\r\n"},
		{3, "COMMAND DOCS info", "%1\r\n$4\r\ninfo\r\n%6\r\n$7\r\nsummary\r\n$47\r\nGet information and statistics about the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$7\r\nhistory\r\n~1\r\n*2\r\n$5\r\n7.0.0\r\n$52\r\nAdded support for taking multiple section arguments.\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$7\r\nsection\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\nflags\r\n~2\r\n+optional\r\n+multiple\r\n"},
		{2, "COMMAND DOCS info", "*2\r\n$4\r\ninfo\r\n*12\r\n$7\r\nsummary\r\n$47\r\nGet information and statistics about the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n$52\r\nAdded support for taking multiple section arguments.\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$7\r\nsection\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\nflags\r\n*2\r\n+optional\r\n+multiple\r\n"},
		// Nested blocks, tokens and flags.
		{3, "COMMAND DOCS hello", "%1\r\n$5\r\nhello\r\n%6\r\n$7\r\nsummary\r\n$20\r\nHandshake with Redis\r\n$5\r\nsince\r\n$5\r\n6.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$7\r\nhistory\r\n~1\r\n*2\r\n$5\r\n6.2.0\r\n$109\r\n`protover` made optional; when called without arguments the command reports the current connection's context.\r\n$9\r\narguments\r\n*1\r\n%4\r\n$4\r\nname\r\n$9\r\narguments\r\n$4\r\ntype\r\n$5\r\nblock\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*3\r\n%2\r\n$4\r\nname\r\n$8\r\nprotover\r\n$4\r\ntype\r\n$7\r\ninteger\r\n%5\r\n$4\r\nname\r\n$17\r\nusername_password\r\n$4\r\ntype\r\n$5\r\nblock\r\n$5\r\ntoken\r\n$4\r\nAUTH\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*2\r\n%2\r\n$4\r\nname\r\n$8\r\nusername\r\n$4\r\ntype\r\n$6\r\nstring\r\n%2\r\n$4\r\nname\r\n$8\r\npassword\r\n$4\r\ntype\r\n$6\r\nstring\r\n%4\r\n$4\r\nname\r\n$10\r\nclientname\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\ntoken\r\n$7\r\nSETNAME\r\n$5\r\nflags\r\n~1\r\n+optional\r\n"},
		{2, "COMMAND GETKEYS get", "-ERR wrong number of arguments for 'command|getkeys' command\r\n"},
		{2, "COMMAND GETKEYS nosuch a", "-ERR Invalid command specified\r\n"},
		{2, "COMMAND GETKEYS client nosuch", "-ERR Invalid command specified\r\n"},
		{2, "COMMAND GETKEYS client list", "-ERR The command has no key arguments\r\n"},
		{2, "COMMAND GETKEYS ping a", "-ERR The command has no key arguments\r\n"},
		{2, "COMMAND GETKEYS get a b", "-ERR Invalid number of arguments specified for command\r\n"},
		{2, "COMMAND GETKEYS GET a", "*1\r\n$1\r\na\r\n"},
		{2, "COMMAND GETKEYS xread STREAMS a b 1 2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{2, "COMMAND GETKEYS xread COUNT 2 STREAMS a b c 1 2 3", "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"},
		{2, "COMMAND GETKEYS xread COUNT 2 NOSTREAMS a", "-ERR Invalid arguments specified for command\r\n"},
		{2, "COMMAND GETKEYS eval_ro s 0", "*0\r\n"},
		{2, "COMMAND GETKEYS eval_ro s 2 k1 k2 a", "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n"},
		{3, "COMMAND GETKEYSANDFLAGS get a", "*1\r\n*2\r\n$1\r\na\r\n~2\r\n+RO\r\n+access\r\n"},
		{2, "COMMAND LIST FILTERBY PATTERN cl*id", "*1\r\n$9\r\nclient|id\r\n"},
		{2, "COMMAND LIST FILTERBY PATTERN GET", "*1\r\n$3\r\nget\r\n"},
		{2, "COMMAND LIST FILTERBY ACLCAT STREAM", "*1\r\n$5\r\nxread\r\n"},
		{2, "COMMAND LIST FILTERBY ACLCAT nosuch", "*0\r\n"},
		{2, "COMMAND LIST FILTERBY MODULE m", "*0\r\n"},
		{2, "COMMAND LIST FILTERBY PATTERN a b", "-ERR syntax error\r\n"},
		{2, "COMMAND LIST FILTERBY KIND a", "-ERR syntax error\r\n"},
		{2, "COMMAND LIST x", "-ERR syntax error\r\n"},
		{2, "COMMAND FOO", "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"},
		{2, "COMMAND COUNT x", "-ERR wrong number of arguments for 'command|count' command\r\n"},
	} {
		x.ctx.W.Proto = c.proto
		x.expect(c.line, c.want)
	}
}

// TestWriteArgs covers the argument fields no test-table entry has, with
// SORT's and CLIENT KILL's arguments as redis-server 7.0.15 prints them.
func TestWriteArgs(t *testing.T) {
	for _, c := range []struct {
		proto int
		args  []Arg
		want  string
	}{
		{3, []Arg{argPattern("pattern").keySpec(1).token("GET").optional().multiple().multipleToken()},
			"*1\r\n%5\r\n$4\r\nname\r\n$7\r\npattern\r\n$4\r\ntype\r\n$7\r\npattern\r\n$14\r\nkey_spec_index\r\n:1\r\n$5\r\ntoken\r\n$3\r\nGET\r\n$5\r\nflags\r\n~3\r\n+optional\r\n+multiple\r\n+multiple_token\r\n"},
		{2, []Arg{argString("ip:port").deprecatedSince("2.8.12"), argString("ip:port").token("LADDR").since("6.2.0").optional()},
			"*2\r\n*6\r\n$4\r\nname\r\n$7\r\nip:port\r\n$4\r\ntype\r\n$6\r\nstring\r\n$16\r\ndeprecated_since\r\n$6\r\n2.8.12\r\n*10\r\n$4\r\nname\r\n$7\r\nip:port\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\ntoken\r\n$5\r\nLADDR\r\n$5\r\nsince\r\n$5\r\n6.2.0\r\n$5\r\nflags\r\n*1\r\n+optional\r\n"},
		{3, []Arg{argKey("key", 0), argKey("newkey", 1)},
			"*2\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n%3\r\n$4\r\nname\r\n$6\r\nnewkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:1\r\n"},
	} {
		w := resp.NewWriter()
		w.Proto = c.proto
		writeArgs(w, c.args)
		if got := string(w.Bytes()); got != c.want {
			t.Errorf("resp%d %v\n got %q\nwant %q", c.proto, c.args, got, c.want)
		}
	}
}

// TestCommandInfoSubcommandList checks the type of COMMAND INFO's last
// element under RESP3: an array of subcommands, but an empty set when
// there are none (addReplyCommandSubCommands).
func TestCommandInfoSubcommandList(t *testing.T) {
	x := newTester(t)
	x.ctx.W.Proto = 3
	if got := x.do("COMMAND INFO config"); !strings.Contains(got, "~0\r\n*5\r\n*10\r\n$10\r\nconfig|get\r\n") {
		t.Errorf("COMMAND INFO config: want an array of its 5 subcommands (as Redis 7.0: GET SET RESETSTAT REWRITE HELP), got %.300q", got)
	}
	if got := x.do("COMMAND INFO get"); !strings.HasSuffix(got, ":0\r\n~0\r\n") {
		t.Errorf("COMMAND INFO get: want an empty set last, got %q", got)
	}
}

func TestCommandCountAndList(t *testing.T) {
	x := newTester(t)
	x.ctx.Table = testTable()
	n := len(x.ctx.Table.Commands())
	x.expect("COMMAND COUNT", ":"+strconv.Itoa(n)+"\r\n")
	if got := x.do("COMMAND"); !strings.HasPrefix(got, "*"+strconv.Itoa(n)+"\r\n*10\r\n") {
		t.Errorf("COMMAND: %.40q", got)
	}
	if got := x.do("COMMAND INFO"); !strings.HasPrefix(got, "*"+strconv.Itoa(n)+"\r\n*10\r\n") {
		t.Errorf("COMMAND INFO: %.40q", got)
	}
	if got := x.do("COMMAND DOCS"); !strings.HasPrefix(got, "*"+strconv.Itoa(2*n)+"\r\n") {
		t.Errorf("COMMAND DOCS: %.40q", got)
	}
	subs := 0
	for _, c := range x.ctx.Table.Commands() {
		subs += len(c.Subs)
	}
	if got := x.do("COMMAND LIST"); !strings.HasPrefix(got, "*"+strconv.Itoa(n+subs)+"\r\n") {
		t.Errorf("COMMAND LIST: %.40q, want %d names", got, n+subs)
	}
	if !strings.HasPrefix(x.do("COMMAND HELP"), "*21\r\n+COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n") {
		t.Error("COMMAND HELP header")
	}
}

// TestTableDocumented checks that every entry of the real table has what
// COMMAND INFO and DOCS print, so a new command cannot leave them blank.
func TestTableDocumented(t *testing.T) {
	check := func(c *Command, parent string) {
		t.Helper()
		// Redis documents no complexity for MONITOR.
		if c.Group == "" || c.Summary == "" || c.Since == "" || c.Complexity == "" && c.Name != "monitor" {
			t.Errorf("%s: group %q summary %q since %q complexity %q", c.Name, c.Group, c.Summary, c.Since, c.Complexity)
		}
		if c.Arity == 0 {
			t.Errorf("%s: arity 0", c.Name)
		}
		if parent != "" && !strings.HasPrefix(c.Name, parent+"|") {
			t.Errorf("subcommand %s not named %s|...", c.Name, parent)
		}
		if c.Name != strings.ToLower(c.Name) {
			t.Errorf("%s: names are lower case", c.Name)
		}
		for i, k := range c.Keys {
			if k.Flags&(KeyRO|KeyRW|KeyOW|KeyRM) == 0 && k.Flags&KeyNotKey == 0 {
				t.Errorf("%s: key spec %d has no RO/RW/OW/RM flag", c.Name, i)
			}
		}
		if c.Handler == nil && len(c.Subs) == 0 {
			t.Errorf("%s: no handler", c.Name)
		}
		checkArgs(t, c, c.Args)
	}
	for _, c := range NewTable().Commands() {
		check(c, "")
		for _, s := range c.Subs {
			check(s, c.Name)
		}
	}
}

// checkArgs checks that arguments are shaped as Redis's are: a key points
// at a key spec, a pure token has its token, and only a oneof or a block
// nests arguments.
func checkArgs(t *testing.T, c *Command, args []Arg) {
	t.Helper()
	for _, a := range args {
		if a.Name == "" {
			t.Errorf("%s: argument without a name", c.Name)
		}
		if (a.Type == ArgKey) != (a.KeySpec > 0) && a.Type != ArgPattern {
			t.Errorf("%s: argument %s: type %s with key spec %d", c.Name, a.Name, argTypeNames[a.Type], a.KeySpec-1)
		}
		if a.KeySpec > len(c.Keys) {
			t.Errorf("%s: argument %s: key spec %d of %d", c.Name, a.Name, a.KeySpec-1, len(c.Keys))
		}
		// MIGRATE's empty_string is Redis's one pure token whose token is "".
		if a.Type == ArgPureToken && a.Token == "" && (c.Name != "migrate" || a.Name != "empty_string") {
			t.Errorf("%s: pure-token %s has no token", c.Name, a.Name)
		}
		if nests := a.Type == ArgOneof || a.Type == ArgBlock; nests != (len(a.Args) > 0) {
			t.Errorf("%s: argument %s: type %s with %d nested", c.Name, a.Name, argTypeNames[a.Type], len(a.Args))
		}
		checkArgs(t, c, a.Args)
	}
}
