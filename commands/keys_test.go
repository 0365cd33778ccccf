package commands

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/loomcache/loomcache/op"
)

// keysScript is a sequence of commands and the raw replies redis-server
// 7.0.15 gave for them on a fresh server (the scripts were run against
// one to take the expectations). "!advance N" moves the fake clock N ms
// (on redis-server: a sleep); scripts that use it only assert replies a
// few milliseconds of drift cannot change.
type keysScript struct {
	name  string
	proto int
	steps [][2]string
}

func keysScripts() []keysScript {
	return []keysScript{
		{name: "del-exists-type", proto: 2, steps: [][2]string{
			{"DEL", "-ERR wrong number of arguments for 'del' command\r\n"},
			{"UNLINK", "-ERR wrong number of arguments for 'unlink' command\r\n"},
			{"EXISTS", "-ERR wrong number of arguments for 'exists' command\r\n"},
			{"TYPE", "-ERR wrong number of arguments for 'type' command\r\n"},
			{"TYPE a b", "-ERR wrong number of arguments for 'type' command\r\n"},
			{"TOUCH", "-ERR wrong number of arguments for 'touch' command\r\n"},
			{"MSET a 1 b 2 c 3", "+OK\r\n"},
			{"EXISTS a a nosuch b", ":3\r\n"},
			{"TOUCH a a nosuch", ":2\r\n"},
			{"TYPE a", "+string\r\n"},
			{"TYPE nosuch", "+none\r\n"},
			{"DEL a a nosuch", ":1\r\n"},
			{"UNLINK b c", ":2\r\n"},
			{"UNLINK b", ":0\r\n"},
			{"EXISTS a b c", ":0\r\n"},
		}},
		{name: "rename", proto: 2, steps: [][2]string{
			{"RENAME nosuch x", "-ERR no such key\r\n"},
			{"RENAME nosuch nosuch", "-ERR no such key\r\n"},
			{"RENAMENX nosuch x", "-ERR no such key\r\n"},
			{"RENAME a", "-ERR wrong number of arguments for 'rename' command\r\n"},
			{"RENAMENX a b c", "-ERR wrong number of arguments for 'renamenx' command\r\n"},
			{"SET a 1", "+OK\r\n"},
			{"RENAME a a", "+OK\r\n"},
			{"RENAMENX a a", ":0\r\n"},
			{"EXPIRE a 100", ":1\r\n"},
			{"RENAME a b", "+OK\r\n"},
			{"EXISTS a", ":0\r\n"},
			{"TTL b", ":100\r\n"},
			{"SET c 2 EX 500", "+OK\r\n"},
			{"SET d 3", "+OK\r\n"},
			{"RENAME d c", "+OK\r\n"},
			{"TTL c", ":-1\r\n"},
			{"GET c", "$1\r\n3\r\n"},
			{"RENAMENX b c", ":0\r\n"},
			{"RENAMENX b e", ":1\r\n"},
			{"TTL e", ":100\r\n"},
			{"GET e", "$1\r\n1\r\n"},
		}},
		{name: "keys", proto: 2, steps: [][2]string{
			{"KEYS", "-ERR wrong number of arguments for 'keys' command\r\n"},
			{"KEYS a b", "-ERR wrong number of arguments for 'keys' command\r\n"},
			{"KEYS *", "*0\r\n"},
			{`MSET hello 1 "h*llo" 2 k1 3 "" 4`, "+OK\r\n"},
			{"KEYS h?llo*x", "*0\r\n"},
			{`KEYS "h\\*llo"`, "*1\r\n$5\r\nh*llo\r\n"},
			{"KEYS h[e]llo", "*1\r\n$5\r\nhello\r\n"},
			{"KEYS k[3-1]", "*1\r\n$2\r\nk1\r\n"},
			{`KEYS ""`, "*1\r\n$0\r\n\r\n"},
			{"KEYS ?", "*0\r\n"},
		}},
		{name: "scan-args", proto: 2, steps: [][2]string{
			{"SCAN", "-ERR wrong number of arguments for 'scan' command\r\n"},
			{"SCAN abc", "-ERR invalid cursor\r\n"},
			{`SCAN " 1"`, "-ERR invalid cursor\r\n"},
			{"SCAN 18446744073709551616", "-ERR invalid cursor\r\n"},
			{"SCAN -", "-ERR invalid cursor\r\n"},
			{"SCAN abc COUNT 0", "-ERR invalid cursor\r\n"},
			{"SCAN 0 COUNT 0", "-ERR syntax error\r\n"},
			{"SCAN 0 COUNT -5", "-ERR syntax error\r\n"},
			{"SCAN 0 COUNT x", "-ERR value is not an integer or out of range\r\n"},
			{"SCAN 0 COUNT", "-ERR syntax error\r\n"},
			{"SCAN 0 MATCH", "-ERR syntax error\r\n"},
			{"SCAN 0 TYPE", "-ERR syntax error\r\n"},
			{"SCAN 0 MATCH * bad", "-ERR syntax error\r\n"},
			{"SCAN -1", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"SCAN 18446744073709551615", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{`SCAN ""`, "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"SET only v", "+OK\r\n"},
			{"SCAN 0", "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n"},
			{"SCAN 0 TYPE STRING MATCH o*", "*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n"},
			{"SCAN 0 TYPE list", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"SCAN 0 MATCH x*", "*2\r\n$1\r\n0\r\n*0\r\n"},
		}},
		{name: "randomkey", proto: 2, steps: [][2]string{
			{"RANDOMKEY", "$-1\r\n"},
			{"RANDOMKEY x", "-ERR wrong number of arguments for 'randomkey' command\r\n"},
			{"SET k v", "+OK\r\n"},
			{"RANDOMKEY", "$1\r\nk\r\n"},
		}},
		{name: "expire-args", proto: 2, steps: [][2]string{
			{"SET k v", "+OK\r\n"},
			{"EXPIRE k", "-ERR wrong number of arguments for 'expire' command\r\n"},
			{"EXPIRE k abc", "-ERR value is not an integer or out of range\r\n"},
			{"EXPIRE k abc foo", "-ERR Unsupported option foo\r\n"},
			{`EXPIRE k 1 "a\x00b"`, "-ERR Unsupported option a\r\n"},
			{"PEXPIRE k 1 NX XX", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"EXPIREAT k 1 NX LT", "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"},
			{"PEXPIREAT k 1 GT LT", "-ERR GT and LT options at the same time are not compatible\r\n"},
			{"EXPIRE k 9223372036854775", "-ERR invalid expire time in 'expire' command\r\n"},
			{"EXPIRE k -9223372036854776", "-ERR invalid expire time in 'expire' command\r\n"},
			{"PEXPIRE k 9223372036854775807", "-ERR invalid expire time in 'pexpire' command\r\n"},
			{"EXPIREAT k 9223372036854776", "-ERR invalid expire time in 'expireat' command\r\n"},
			{"EXPIRE nosuch 10", ":0\r\n"},
			{"TTL k", ":-1\r\n"},
		}},
		{name: "expire-flags", proto: 2, steps: [][2]string{
			{"SET k v", "+OK\r\n"},
			{"EXPIRE k 100 XX", ":0\r\n"},
			{"EXPIRE k 100 GT", ":0\r\n"},
			{"EXPIRE k 100 LT", ":1\r\n"},
			{"EXPIRE k 200 NX", ":0\r\n"},
			{"EXPIRE k 200 LT", ":0\r\n"},
			{"EXPIRE k 99 GT", ":0\r\n"},
			{"EXPIRE k 300 gt xx", ":1\r\n"},
			{"TTL k", ":300\r\n"},
			{"PEXPIRE k 50000 lt", ":1\r\n"},
			{"TTL k", ":50\r\n"},
			{"PERSIST k", ":1\r\n"},
			{"EXPIRE k 100 NX", ":1\r\n"},
			{"TTL k", ":100\r\n"},
		}},
		{name: "expire-past-deletes", proto: 2, steps: [][2]string{
			{"SET k v", "+OK\r\n"},
			{"EXPIRE k 0", ":1\r\n"},
			{"EXISTS k", ":0\r\n"},
			{"SET k v", "+OK\r\n"},
			{"PEXPIRE k -9223372036854775808", ":1\r\n"},
			{"EXISTS k", ":0\r\n"},
			{"SET k v", "+OK\r\n"},
			{"EXPIREAT k 1", ":1\r\n"},
			{"EXISTS k", ":0\r\n"},
			{"SET k v", "+OK\r\n"},
			{"EXPIRE k -1 GT", ":0\r\n"},
			{"EXPIRE k -1 LT", ":1\r\n"},
			{"EXISTS k", ":0\r\n"},
			{"PEXPIREAT k 1", ":0\r\n"},
		}},
		{name: "ttl-family", proto: 2, steps: [][2]string{
			{"TTL nosuch", ":-2\r\n"},
			{"PTTL nosuch", ":-2\r\n"},
			{"EXPIRETIME nosuch", ":-2\r\n"},
			{"PEXPIRETIME nosuch", ":-2\r\n"},
			{"SET k v", "+OK\r\n"},
			{"PTTL k", ":-1\r\n"},
			{"EXPIRETIME k", ":-1\r\n"},
			{"EXPIREAT k 4102444800", ":1\r\n"},
			{"EXPIRETIME k", ":4102444800\r\n"},
			{"PEXPIRETIME k", ":4102444800000\r\n"},
			{"PEXPIREAT k 4102444800499", ":1\r\n"},
			{"EXPIRETIME k", ":4102444800\r\n"},
			{"PEXPIREAT k 4102444800500", ":1\r\n"},
			{"EXPIRETIME k", ":4102444801\r\n"},
			{"PEXPIREAT k 9223372036854775807", ":1\r\n"},
			{"EXPIRETIME k", ":9223372036854776\r\n"},
			{"PEXPIRETIME k", ":9223372036854775807\r\n"},
			{"PEXPIREAT k 9223372036854775308", ":1\r\n"},
			{"EXPIRETIME k", ":9223372036854775\r\n"},
			{"SET k v PX 1800", "+OK\r\n"},
			{"TTL k", ":2\r\n"},
			{"SET k v PX 1200", "+OK\r\n"},
			{"TTL k", ":1\r\n"},
			{"PERSIST nosuch", ":0\r\n"},
			{"PERSIST k", ":1\r\n"},
			{"PERSIST k", ":0\r\n"},
			{"PTTL k", ":-1\r\n"},
		}},
		{name: "copy", proto: 2, steps: [][2]string{
			{"SET s hello", "+OK\r\n"},
			{"COPY s", "-ERR wrong number of arguments for 'copy' command\r\n"},
			{"COPY s s", "-ERR source and destination objects are the same\r\n"},
			{"COPY s s DB 0", "-ERR source and destination objects are the same\r\n"},
			{"COPY s t DB 16", "-ERR DB index is out of range\r\n"},
			{"COPY s t DB -1", "-ERR DB index is out of range\r\n"},
			{"COPY s t DB x", "-ERR value is not an integer or out of range\r\n"},
			{"COPY s t DB 4294967296", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"},
			{"COPY s t DB 99 foo", "-ERR DB index is out of range\r\n"},
			{"COPY s t foo DB 99", "-ERR syntax error\r\n"},
			{"COPY s t DB", "-ERR syntax error\r\n"},
			{"COPY nosuch t", ":0\r\n"},
			{"SET t old EX 100", "+OK\r\n"},
			{"COPY s t", ":0\r\n"},
			{"COPY s t REPLACE", ":1\r\n"},
			{"GET t", "$5\r\nhello\r\n"},
			{"TTL t", ":-1\r\n"},
			{"SET e v EX 200", "+OK\r\n"},
			{"COPY e e2", ":1\r\n"},
			{"TTL e2", ":200\r\n"},
			{"COPY s s DB 1", ":1\r\n"},
			{"SELECT 1", "+OK\r\n"},
			{"GET s", "$5\r\nhello\r\n"},
			{"SELECT 0", "+OK\r\n"},
			{"SET n 7", "+OK\r\n"},
			{"COPY n n2", ":1\r\n"},
			{"OBJECT ENCODING n2", "$3\r\nint\r\n"},
			{"OBJECT REFCOUNT n2", ":1\r\n"},
			{"OBJECT REFCOUNT n", ":2147483647\r\n"},
		}},
		{name: "move", proto: 2, steps: [][2]string{
			{"SET a 1 EX 100", "+OK\r\n"},
			{"MOVE a 0", "-ERR source and destination objects are the same\r\n"},
			{"MOVE a 16", "-ERR DB index is out of range\r\n"},
			{"MOVE a x", "-ERR value is not an integer or out of range\r\n"},
			{"MOVE a 4294967296", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"},
			{"MOVE nosuch 1", ":0\r\n"},
			{"MOVE a 1", ":1\r\n"},
			{"MOVE a 1", ":0\r\n"},
			{"SELECT 1", "+OK\r\n"},
			{"TTL a", ":100\r\n"},
			{"SELECT 0", "+OK\r\n"},
			{"SET a other", "+OK\r\n"},
			{"MOVE a 1", ":0\r\n"},
			{"GET a", "$5\r\nother\r\n"},
		}},
		{name: "swapdb-flush", proto: 2, steps: [][2]string{
			{"SET a db0", "+OK\r\n"},
			{"SWAPDB 0", "-ERR wrong number of arguments for 'swapdb' command\r\n"},
			{"SWAPDB x 0", "-ERR invalid first DB index\r\n"},
			{"SWAPDB 0 x", "-ERR invalid second DB index\r\n"},
			{"SWAPDB 4294967296 0", "-ERR invalid first DB index\r\n"},
			{"SWAPDB 0 16", "-ERR DB index is out of range\r\n"},
			{"SWAPDB -1 0", "-ERR DB index is out of range\r\n"},
			{"SWAPDB 0 0", "+OK\r\n"},
			{"SWAPDB 0 1", "+OK\r\n"},
			{"GET a", "$-1\r\n"},
			{"SELECT 1", "+OK\r\n"},
			{"GET a", "$3\r\ndb0\r\n"},
			{"FLUSHDB x", "-ERR syntax error\r\n"},
			{"FLUSHDB ASYNC SYNC", "-ERR syntax error\r\n"},
			{"FLUSHDB async", "+OK\r\n"},
			{"DBSIZE", ":0\r\n"},
			{"SET b 1", "+OK\r\n"},
			{"SELECT 0", "+OK\r\n"},
			{"SET c 1", "+OK\r\n"},
			{"FLUSHALL x", "-ERR syntax error\r\n"},
			{"FLUSHALL Sync", "+OK\r\n"},
			{"DBSIZE", ":0\r\n"},
			{"SELECT 1", "+OK\r\n"},
			{"DBSIZE", ":0\r\n"},
		}},
		{name: "object", proto: 2, steps: [][2]string{
			{"OBJECT", "-ERR wrong number of arguments for 'object' command\r\n"},
			{"OBJECT foo", "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"},
			{"OBJECT ENCODING", "-ERR wrong number of arguments for 'object|encoding' command\r\n"},
			{"OBJECT HELP x", "-ERR wrong number of arguments for 'object|help' command\r\n"},
			{"OBJECT ENCODING nosuch", "$-1\r\n"},
			{"OBJECT FREQ nosuch", "$-1\r\n"},
			{"MSET i 12345 small 9999 big 10000 neg -1 e abc", "+OK\r\n"},
			{"SET r aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "+OK\r\n"},
			{"OBJECT ENCODING i", "$3\r\nint\r\n"},
			{"OBJECT ENCODING e", "$6\r\nembstr\r\n"},
			{"OBJECT ENCODING r", "$3\r\nraw\r\n"},
			{"OBJECT REFCOUNT small", ":2147483647\r\n"},
			{"OBJECT REFCOUNT big", ":1\r\n"},
			{"OBJECT REFCOUNT neg", ":1\r\n"},
			{"OBJECT REFCOUNT e", ":1\r\n"},
			{"OBJECT IDLETIME e", ":0\r\n"},
			{"OBJECT FREQ e", "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.\r\n"},
			{"OBJECT HELP", "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+ENCODING <key>\r\n+    Return the kind of internal representation used in order to store the value\r\n+    associated with a <key>.\r\n+FREQ <key>\r\n+    Return the access frequency index of the <key>. The returned integer is\r\n+    proportional to the logarithm of the recent access frequency of the key.\r\n+IDLETIME <key>\r\n+    Return the idle time of the <key>, that is the approximated number of\r\n+    seconds elapsed since the last access to the key.\r\n+REFCOUNT <key>\r\n+    Return the number of references of the value associated with the specified\r\n+    <key>.\r\n+HELP\r\n+    Prints this help.\r\n"},
		}},
		{name: "resp3-nulls", proto: 3, steps: [][2]string{
			{"RANDOMKEY", "_\r\n"},
			{"OBJECT ENCODING nosuch", "_\r\n"},
			{"OBJECT IDLETIME nosuch", "_\r\n"},
			{"SCAN 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
			{"KEYS *", "*0\r\n"},
		}},
		{name: "expiry-in-time", proto: 2, steps: [][2]string{
			{"SET k v PX 1500", "+OK\r\n"},
			{"SET p v", "+OK\r\n"},
			{"EXPIRE p 10", ":1\r\n"},
			{"!advance 1100", ""},
			{"TTL k", ":0\r\n"},
			{"EXISTS k p", ":2\r\n"},
			{"!advance 600", ""},
			{"TTL k", ":-2\r\n"},
			{"EXISTS k", ":0\r\n"},
			{"TYPE k", "+none\r\n"},
			{"KEYS *", "*1\r\n$1\r\np\r\n"},
			{"SCAN 0", "*2\r\n$1\r\n0\r\n*1\r\n$1\r\np\r\n"},
			{"RENAME k k2", "-ERR no such key\r\n"},
			{"SET k v PX 500", "+OK\r\n"},
			{"SET k2 v", "+OK\r\n"},
			{"!advance 600", ""},
			{"RENAMENX k2 k", ":1\r\n"},
			{"COPY k k3", ":1\r\n"},
			{"MOVE k 1", ":1\r\n"},
		}},
	}
}

// doStep runs one script step on the tester.
func (x *tester) doStep(cmd, want string) {
	x.t.Helper()
	if ms, ok := strings.CutPrefix(cmd, "!advance "); ok {
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			x.t.Fatalf("bad step %q", cmd)
		}
		x.node.now += n
		return
	}
	x.expect(cmd, want)
}

func TestKeysScripts(t *testing.T) {
	for _, s := range keysScripts() {
		t.Run(s.name, func(t *testing.T) {
			x := newTester(t)
			x.ctx.W.Proto = s.proto
			for _, st := range s.steps {
				x.doStep(st[0], st[1])
			}
		})
	}
}

// arrayBulks returns the bulk strings of a flat array reply (keys without
// CR or LF), sorted.
func arrayBulks(t *testing.T, raw string) []string {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(raw, "\r\n"), "\r\n")
	n, err := strconv.Atoi(strings.TrimPrefix(lines[0], "*"))
	if err != nil || !strings.HasPrefix(lines[0], "*") || len(lines) != 1+2*n {
		t.Fatalf("not a flat array of bulk strings: %q", raw)
	}
	out := []string{}
	for i := 2; i < len(lines); i += 2 {
		out = append(out, lines[i])
	}
	slices.Sort(out)
	return out
}

// scanReply splits a SCAN reply into its cursor and sorted keys.
func scanReply(t *testing.T, raw string) (string, []string) {
	t.Helper()
	lines := strings.SplitN(raw, "\r\n", 4)
	if len(lines) != 4 || lines[0] != "*2" {
		t.Fatalf("not a SCAN reply: %q", raw)
	}
	return lines[2], arrayBulks(t, lines[3])
}

// TestKeysScanSurvivesChanges iterates with a small COUNT while keys are
// deleted (enough to compact the scan order) and inserted between calls:
// every key present for the whole scan comes back exactly once, and the
// iteration ends.
func TestKeysScanSurvivesChanges(t *testing.T) {
	x := newTester(t)
	rng := rand.New(rand.NewPCG(1, 2))
	stable := map[string]bool{}
	var doomed []string
	for i := range 400 {
		k := "k" + strconv.Itoa(i)
		x.expect("SET "+k+" v", "+OK\r\n")
		if i%3 == 0 {
			stable[k] = true
		} else {
			doomed = append(doomed, k)
		}
	}
	rng.Shuffle(len(doomed), func(i, j int) { doomed[i], doomed[j] = doomed[j], doomed[i] })
	seen := map[string]int{}
	cursor, calls, inserted := "0", 0, 0
	for {
		next, keys := scanReply(t, x.do("SCAN "+cursor+" COUNT 3"))
		for _, k := range keys {
			seen[k]++
		}
		calls++
		// Between calls: delete some, add some.
		for range 10 {
			if len(doomed) > 0 {
				x.expect("DEL "+doomed[0], ":1\r\n")
				doomed = doomed[1:]
			}
		}
		x.expect("SET new"+strconv.Itoa(inserted)+" v", "+OK\r\n")
		inserted++
		if cursor = next; cursor == "0" {
			break
		}
		if calls > 10000 {
			t.Fatal("SCAN never returned cursor 0")
		}
	}
	for k := range stable {
		if seen[k] != 1 {
			t.Errorf("stable key %s returned %d times", k, seen[k])
		}
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("key %s returned %d times", k, n)
		}
	}
	if len(doomed) != 0 {
		t.Fatalf("test did not delete every doomed key (%d left): the scan was too short", len(doomed))
	}
}

// TestKeysScanFull checks a whole iteration with MATCH and COUNT returns
// every matching key once, and nothing else.
func TestKeysScanFull(t *testing.T) {
	x := newTester(t)
	want := []string{}
	for i := range 50 {
		x.expect("SET user:"+strconv.Itoa(i)+" v", "+OK\r\n")
		x.expect("SET other:"+strconv.Itoa(i)+" v", "+OK\r\n")
		want = append(want, "user:"+strconv.Itoa(i))
	}
	slices.Sort(want)
	for _, count := range []string{"1", "3", "10", "1000"} {
		var got []string
		cursor := "0"
		for {
			next, keys := scanReply(t, x.do("SCAN "+cursor+" MATCH user:* COUNT "+count))
			got = append(got, keys...)
			if cursor = next; cursor == "0" {
				break
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("COUNT %s: got %d keys %q", count, len(got), got)
		}
	}
}

func TestKeysKeysSorted(t *testing.T) {
	x := newTester(t)
	x.expect(`MSET hello 1 hallo 2 hxllo 3 hllo 4 heeeello 5 "h*llo" 6 k1 7`, "+OK\r\n")
	for _, c := range []struct {
		pattern string
		want    []string
	}{
		{"*", []string{"h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo", "k1"}},
		{"h?llo", []string{"h*llo", "hallo", "hello", "hxllo"}},
		{"h*llo", []string{"h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"}},
		{"h[^e]llo", []string{"h*llo", "hallo", "hxllo"}},
		{"h[a-e]llo", []string{"hallo", "hello"}},
		{"nomatch", []string{}},
	} {
		if got := arrayBulks(t, x.do("KEYS "+c.pattern)); !slices.Equal(got, c.want) {
			t.Errorf("KEYS %s = %q, want %q", c.pattern, got, c.want)
		}
	}
}

// TestKeysReadsNeverDelete: an expired key is absent to every read, but
// only a write (the leader's) removes it.
func TestKeysReadsNeverDelete(t *testing.T) {
	x := newTester(t)
	x.expect("SET k v PX 100", "+OK\r\n")
	x.node.now += 100
	for _, s := range [][2]string{
		{"EXISTS k", ":0\r\n"},
		{"TYPE k", "+none\r\n"},
		{"TTL k", ":-2\r\n"},
		{"PTTL k", ":-2\r\n"},
		{"EXPIRETIME k", ":-2\r\n"},
		{"TOUCH k", ":0\r\n"},
		{"KEYS *", "*0\r\n"},
		{"SCAN 0", "*2\r\n$1\r\n0\r\n*0\r\n"},
		{"RANDOMKEY", "$-1\r\n"},
		{"OBJECT ENCODING k", "$-1\r\n"},
	} {
		x.expect(s[0], s[1])
	}
	if n := x.node.ks.DB(0).Len(); n != 1 {
		t.Fatalf("a read deleted the expired key: %d keys left", n)
	}
	x.expect("DEL k", ":0\r\n")
	if n := x.node.ks.DB(0).Len(); n != 0 {
		t.Fatalf("DEL left %d keys", n)
	}
}

// TestKeysTTLRounding: TTL rounds to the nearest second, PTTL is exact.
func TestKeysTTLRounding(t *testing.T) {
	x := newTester(t)
	x.expect("SET k v PX 1500", "+OK\r\n")
	x.expect("TTL k", ":2\r\n")
	x.expect("PTTL k", ":1500\r\n")
	x.node.now++
	x.expect("TTL k", ":1\r\n")
	x.expect("PTTL k", ":1499\r\n")
	x.node.now += 999
	x.expect("PTTL k", ":500\r\n")
	x.expect("TTL k", ":1\r\n")
	x.node.now++
	x.expect("TTL k", ":0\r\n")
	x.node.now += 498
	x.expect("PTTL k", ":1\r\n")
	x.expect("TTL k", ":0\r\n")
	x.node.now++
	x.expect("PTTL k", ":-2\r\n")
	x.expect("EXPIRE k 10", ":0\r\n")
}

// TestKeysIdleTime: commands that Redis looks keys up for with
// LOOKUP_NOTOUCH leave the access time alone; TOUCH, GET and the writes
// that find the key reset it (checked on redis-server 7.0.15).
func TestKeysIdleTime(t *testing.T) {
	x := newTester(t)
	x.expect("SET k v", "+OK\r\n")
	x.expect("GET k", "$1\r\nv\r\n")
	x.node.now += 5000
	for _, cmd := range []string{"EXISTS k", "TYPE k", "TTL k", "PTTL k", "EXPIRETIME k",
		"PEXPIRETIME k", "OBJECT ENCODING k", "KEYS *", "SCAN 0"} {
		x.do(cmd)
		x.expect("OBJECT IDLETIME k", ":5\r\n")
	}
	for _, c := range []struct{ cmd, key string }{
		{"TOUCH k", "k"}, {"GET k", "k"}, {"EXPIRE k 100", "k"}, {"PERSIST k", "k"},
		{"COPY k k2", "k"}, {"COPY k k3", "k3"}, {"RENAME k k4", "k4"}, {"RENAMENX k4 k", "k"},
	} {
		x.node.now += 3000
		x.do(c.cmd)
		x.expect("OBJECT IDLETIME "+c.key, ":0\r\n")
	}
	x.expect("OBJECT IDLETIME k2", ":9\r\n")
	x.node.now += 999
	x.expect("OBJECT IDLETIME k", ":0\r\n")
	x.node.now++
	x.expect("OBJECT IDLETIME k", ":1\r\n")
	x.expect("MOVE k 1", ":1\r\n")
	x.expect("SELECT 1", "+OK\r\n")
	x.expect("OBJECT IDLETIME k", ":0\r\n")
}

func TestKeysRandomKey(t *testing.T) {
	x := newTester(t)
	x.expect("MSET a 1 b 2 c 3", "+OK\r\n")
	x.expect("SET gone v PX 10", "+OK\r\n")
	x.node.now += 10
	seen := map[string]bool{}
	for range 200 {
		reply := x.do("RANDOMKEY")
		switch reply {
		case "$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n":
			seen[reply] = true
		default:
			t.Fatalf("RANDOMKEY = %q", reply)
		}
	}
	if len(seen) != 3 {
		t.Errorf("200 RANDOMKEYs saw only %d of 3 keys", len(seen))
	}
	x.expect("FLUSHDB", "+OK\r\n")
	x.expect("SET gone v PX 10", "+OK\r\n")
	x.node.now += 10
	x.expect("RANDOMKEY", "$-1\r\n")
}

// TestKeysExpireJudgedByOpTime: whether a deadline is already past is
// decided with the op's time, so every node applies it alike whatever
// its own clock says.
func TestKeysExpireJudgedByOpTime(t *testing.T) {
	x := newTester(t)
	x.expect("SET k v", "+OK\r\n")
	x.expect("PEXPIREAT k 1700000000500", ":1\r\n")
	x.expect("PTTL k", ":500\r\n")
	x.node.now += 1000 // this node's clock is now past the deadline
	res, err := x.node.Propose(&op.Op{Type: op.Expire, Now: 1_700_000_000_000, Int: 1_700_000_000_800, Args: [][]byte{[]byte("k")}})
	if err != nil || res != int64(1) {
		t.Fatalf("Expire = %v, %v", res, err)
	}
	if d := x.node.ks.DB(0).Deadline([]byte("k")); d != 1_700_000_000_800 {
		t.Fatalf("deadline %d: the op's time was not used", d)
	}
	res, _ = x.node.Propose(&op.Op{Type: op.Expire, Now: 1_700_000_000_000, Int: 1_700_000_000_000, Args: [][]byte{[]byte("k")}})
	if res != int64(1) || x.node.ks.DB(0).Len() != 0 {
		t.Fatalf("a deadline at the op's time did not delete: %v, %d keys", res, x.node.ks.DB(0).Len())
	}
}
