package scripting

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loomcache/loomcache/resp"
)

// fakeHost answers a few commands and records what it was asked.
type fakeHost struct {
	mu     sync.Mutex
	calls  []string
	protos []int
	logs   []string
	panics bool
}

func (h *fakeHost) Call(args [][]byte, proto int) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.panics {
		panic("host bug")
	}
	h.calls = append(h.calls, string(bytes.Join(args, []byte(" "))))
	h.protos = append(h.protos, proto)
	switch strings.ToLower(string(args[0])) {
	case "ping":
		return []byte("+PONG\r\n")
	case "fail":
		return []byte("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n")
	case "map":
		return []byte("%1\r\n$1\r\nk\r\n:1\r\n")
	case "garbage":
		return []byte("?what\r\n")
	case "echo":
		return []byte(fmt.Sprintf("$%d\r\n%s\r\n", len(args[1]), args[1]))
	}
	return []byte("$-1\r\n")
}

func (h *fakeHost) ACLCheck(args [][]byte) (bool, error) {
	switch string(args[0]) {
	case "get":
		return true, nil
	case "set":
		return false, nil
	}
	return false, errors.New("unknown")
}

func (h *fakeHost) Log(level int, msg string) {
	h.mu.Lock()
	h.logs = append(h.logs, fmt.Sprintf("%d:%s", level, msg))
	h.mu.Unlock()
}

func eval(e *Engine, h Host, proto int, body string, keys ...string) string {
	w := resp.NewWriter()
	e.Run(w, Request{Kind: KindEval, Script: body, Keys: bs(keys), Host: h, Proto: proto})
	return string(w.Bytes())
}

func TestEvalReplies(t *testing.T) {
	e := NewEngine(Options{})
	defer e.Close()
	sha := func(b string) string { return SHA1Hex(b) }
	cases := []struct {
		body  string
		proto int
		want  string
	}{
		{"return 1.9", 2, ":1\r\n"},
		{"return {1, 'a', {ok='x'}, {err='E e'}}", 2, "*4\r\n:1\r\n$1\r\na\r\n+x\r\n-E e\r\n"},
		{"return {1, nil, 2}", 2, "*1\r\n:1\r\n"},
		{"return false", 3, "_\r\n"},
		{"redis.setresp(3) return false", 2, ":0\r\n"},
		{"redis.setresp(3) return false", 3, "#f\r\n"},
		{"return {double=0.5}", 2, "$3\r\n0.5\r\n"},
		{"return {double=0.5}", 3, ",0.5\r\n"},
		{"return {big_number='123'}", 3, "(123\r\n"},
		{"return {verbatim_string={format='md', string='x'}}", 3, "=5\r\nmd :x\r\n"},
		{"return {map={a=1}}", 2, "*2\r\n$1\r\na\r\n:1\r\n"},
		{"return {map={a=1}}", 3, "%1\r\n$1\r\na\r\n:1\r\n"},
		{"return {set={a=true}}", 3, "~1\r\n$1\r\na\r\n"},
		{"return redis.call('ping')", 2, "+PONG\r\n"},
		{"return redis.call('fail')", 2, "-WRONGTYPE Operation against a key holding the wrong kind of value script: " + sha("return redis.call('fail')") + ", on @user_script:1.\r\n"},
		{"return redis.pcall('fail')", 2, "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"},
		{"redis.setresp(3) return redis.call('map').map.k", 2, ":1\r\n"},
		{"return redis.call('garbage')", 2, "-ERR Protocol error: invalid reply from the command script: " + sha("return redis.call('garbage')") + ", on @user_script:1.\r\n"},
		{"return redis.call('echo', 0.1)", 2, "$19\r\n0.10000000000000001\r\n"},
		{"return redis.call('echo', 10)", 2, "$2\r\n10\r\n"},
		{"return redis.acl_check_cmd('get', 'k')", 2, ":1\r\n"},
		{"return redis.acl_check_cmd('set', 'k')", 2, "$-1\r\n"},
		{"x = 1", 2, "-ERR user_script:1: Attempt to modify a readonly table script: " + sha("x = 1") + ", on @user_script:1.\r\n"},
		{"return y", 2, "-ERR user_script:1: Script attempted to access nonexistent global variable 'y' script: " + sha("return y") + ", on @user_script:1.\r\n"},
		{"return tostring(0.1 + 0.2)", 2, "$3\r\n0.3\r\n"},
		{"math.randomseed(1) return math.random(1000)", 2, ":42\r\n"},
		{"return 1 +", 2, "-ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'\r\n"},
		{"#!lua flags=nope\nreturn 1", 2, "-ERR Unexpected flag in script shebang: nope\r\n"},
	}
	for _, c := range cases {
		if got := eval(e, &fakeHost{}, c.proto, c.body); got != c.want {
			t.Errorf("%q RESP%d:\n got %q\nwant %q", c.body, c.proto, got, c.want)
		}
	}
}

func TestHostSeesArgsProtoAndLogs(t *testing.T) {
	e := NewEngine(Options{})
	defer e.Close()
	h := &fakeHost{}
	eval(e, h, 2, "redis.call('ping', 1.5, 'x') redis.setresp(3) redis.pcall('PING') redis.log(redis.LOG_NOTICE, 'a', 2, 'b')")
	if want := []string{"ping 1.5 x", "PING"}; fmt.Sprint(h.calls) != fmt.Sprint(want) {
		t.Errorf("calls %q, want %q", h.calls, want)
	}
	if fmt.Sprint(h.protos) != "[2 3]" {
		t.Errorf("protos %v, want [2 3]", h.protos)
	}
	if fmt.Sprint(h.logs) != "[2:a 2 b]" {
		t.Errorf("logs %q", h.logs)
	}
}

func TestHostPanicIsAScriptError(t *testing.T) {
	e := NewEngine(Options{})
	defer e.Close()
	got := eval(e, &fakeHost{panics: true}, 2, "return redis.call('ping')")
	if !strings.HasPrefix(got, "-ERR ") || !strings.Contains(got, "host bug") {
		t.Fatalf("got %q", got)
	}
	if got := eval(e, &fakeHost{}, 2, "return 7"); got != ":7\r\n" {
		t.Fatalf("engine unusable after a host panic: %q", got)
	}
}

func TestScriptCache(t *testing.T) {
	e := NewEngine(Options{})
	defer e.Close()
	sha, err := e.Load("#!lua flags=no-writes,allow-oom\nreturn ARGV[1]")
	if err != nil {
		t.Fatal(err)
	}
	s, ok := e.Script(strings.ToUpper(sha))
	if !ok || !e.Exists(sha) || !s.Flags.Has(FlagNoWrites|FlagAllowOOM) || s.Flags.NoShebang() {
		t.Fatalf("script %+v ok=%v", s, ok)
	}
	w := resp.NewWriter()
	e.Run(w, Request{Kind: KindEvalSHA, Script: strings.ToUpper(sha), Args: bs([]string{"v"}), Host: &fakeHost{}, ReadOnly: true})
	if string(w.Bytes()) != "$1\r\nv\r\n" {
		t.Fatalf("EVALSHA_RO: %q", w.Bytes())
	}
	e.Flush()
	if e.Exists(sha) {
		t.Fatal("Flush kept the script")
	}
	w.Reset()
	e.Run(w, Request{Kind: KindEvalSHA, Script: sha, Host: &fakeHost{}})
	if string(w.Bytes()) != "-NOSCRIPT No matching script. Please use EVAL.\r\n" {
		t.Fatalf("after flush: %q", w.Bytes())
	}
	if _, err := e.Load("return +"); err == nil || !strings.HasPrefix(err.Error(), "ERR Error compiling script (new function): user_script:1:") {
		t.Fatalf("compile error %v", err)
	}
	w.Reset()
	e.Run(w, Request{Kind: KindEval, Script: "return redis.call('set','k','v')", Host: &fakeHost{}, ReadOnly: true})
	if got := string(w.Bytes()); got != "$-1\r\n" {
		t.Fatalf("legacy script under EVAL_RO: %q", got) // the host refuses writes, not the engine
	}
	w.Reset()
	e.Run(w, Request{Kind: KindEval, Script: "#!lua\nreturn 1", Host: &fakeHost{}, ReadOnly: true})
	if got := string(w.Bytes()); got != "-ERR Can not execute a script with write flag using *_ro command.\r\n" {
		t.Fatalf("write script under EVAL_RO: %q", got)
	}
}

func TestRunningExposesReadOnly(t *testing.T) {
	e := NewEngine(Options{})
	defer e.Close()
	var seen []bool
	h := &hookHost{fn: func() { r := e.Running(); seen = append(seen, r != nil && r.ReadOnly) }}
	for _, c := range []struct {
		body string
		ro   bool
	}{{"return redis.call('x')", false}, {"return redis.call('x')", true}, {"#!lua flags=no-writes\nreturn redis.call('x')", false}} {
		w := resp.NewWriter()
		e.Run(w, Request{Kind: KindEval, Script: c.body, Host: h, ReadOnly: c.ro})
	}
	if fmt.Sprint(seen) != "[false true true]" {
		t.Fatalf("ReadOnly seen by the host: %v", seen)
	}
	if e.Running() != nil {
		t.Fatal("a run is still published")
	}
}

type hookHost struct{ fn func() }

func (h *hookHost) Call(args [][]byte, proto int) []byte { h.fn(); return []byte("+OK\r\n") }
func (h *hookHost) ACLCheck(args [][]byte) (bool, error) { return true, nil }
func (h *hookHost) Log(level int, msg string)            {}

func TestParseShebang(t *testing.T) {
	cases := []struct {
		body  string
		flags Flags
		n     int
		err   string
	}{
		{"return 1", FlagEvalCompat, 0, ""},
		{"#!lua\nreturn 1", 0, 5, ""},
		{"#!lua flags=no-writes,allow-oom\n", FlagNoWrites | FlagAllowOOM, 31, ""},
		{"#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\n", FlagAllowStale | FlagNoCluster | FlagAllowCrossSlot, 56, ""},
		{"#!lua flags=\n", 0, 12, ""},
		{"#!lua", 0, 0, "ERR Invalid script shebang"},
		{"#!python\n", 0, 0, "ERR Unexpected engine in script shebang: #!python"},
		{"#!lua name=x\n", 0, 0, "ERR Unknown lua shebang option: name=x"},
		{"#!lua flags=no-writes,nope\n", 0, 0, "ERR Unexpected flag in script shebang: nope"},
		{"#!lua flags=No-Writes\n", 0, 0, "ERR Unexpected flag in script shebang: No-Writes"},
		{"#!lua \"x\n", 0, 0, "ERR Invalid engine in script shebang"},
	}
	for _, c := range cases {
		f, n, err := ParseShebang(c.body)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: err %v, want %q", c.body, err, c.err)
			}
			continue
		}
		if err != nil || f != c.flags || n != c.n {
			t.Errorf("%q: %v %d %v, want %v %d", c.body, f, n, err, c.flags, c.n)
		}
	}
	if !FlagEvalCompat.ReadOnly(true) || FlagEvalCompat.ReadOnly(false) || !FlagNoWrites.ReadOnly(false) {
		t.Error("ReadOnly")
	}
}

func TestKill(t *testing.T) {
	e := NewEngine(Options{})
	defer e.Close()
	for _, body := range []string{
		"while true do end",
		"local n = 0 while true do n = n + 1 end",
		"while true do pcall(function() while true do end end) end",
		"while true do pcall(error, 'x') end",
		"local co = coroutine.wrap(function() while true do end end) co()",
	} {
		done := make(chan string)
		go func() { done <- eval(e, &fakeHost{}, 2, body) }()
		var r *Run
		for r == nil {
			time.Sleep(time.Millisecond)
			r = e.Running()
		}
		time.Sleep(20 * time.Millisecond)
		if r.Elapsed() < 20*time.Millisecond || r.Name != SHA1Hex(body) {
			t.Errorf("run %s elapsed %v", r.Name, r.Elapsed())
		}
		start := time.Now()
		r.Kill()
		select {
		case got := <-done:
			want := "-ERR Script killed by user with SCRIPT KILL... script: " + SHA1Hex(body) + ", on @user_script:1.\r\n"
			if got != want {
				t.Errorf("%q killed: %q", body, got)
			}
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("%q took %v to die", body, d)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%q was not killed", body)
		}
	}
	if got := eval(e, &fakeHost{}, 2, "return 1"); got != ":1\r\n" {
		t.Fatalf("after kills: %q", got)
	}
}

func TestFunctions(t *testing.T) {
	e := NewEngine(Options{LoadTimeout: 50 * time.Millisecond})
	defer e.Close()
	lib, err := e.LoadLibrary("#!lua name=mylib\nredis.register_function{function_name='get', callback=function(k, a) return {k[1], a[1]} end, flags={'no-writes'}, description='reads'}\nredis.register_function('w', function() return 1 end)")
	if err != nil {
		t.Fatal(err)
	}
	f := lib.Functions["get"]
	if lib.Name != "mylib" || fmt.Sprint(lib.FunctionNames()) != "[get w]" || f.Description != "reads" || !f.HasDescription || f.Flags != FlagNoWrites || fmt.Sprint(f.Flags.Names()) != "[no-writes]" {
		t.Fatalf("library %+v function %+v", lib, f)
	}
	if _, ok := e.Function("get"); ok {
		t.Fatal("LoadLibrary registered the library")
	}
	if _, err := e.FunctionLoad(lib.Code, false); err != nil {
		t.Fatal(err)
	}
	w := resp.NewWriter()
	e.Run(w, Request{Kind: KindFunction, Script: "get", Keys: bs([]string{"k"}), Args: bs([]string{"a"}), Host: &fakeHost{}, ReadOnly: true})
	if string(w.Bytes()) != "*2\r\n$1\r\nk\r\n$1\r\na\r\n" {
		t.Fatalf("FCALL_RO: %q", w.Bytes())
	}
	w.Reset()
	e.Run(w, Request{Kind: KindFunction, Script: "w", Host: &fakeHost{}, ReadOnly: true})
	if string(w.Bytes()) != "-ERR Can not execute a script with write flag using *_ro command.\r\n" {
		t.Fatalf("FCALL_RO of a writer: %q", w.Bytes())
	}
	start := time.Now()
	_, err = e.FunctionLoad("#!lua name=slow\nwhile true do end", false)
	if err == nil || err.Error() != "ERR Error registering functions: ERR FUNCTION LOAD timeout" || time.Since(start) > time.Second {
		t.Fatalf("load timeout: %v after %v", err, time.Since(start))
	}
	if err := e.FunctionDelete("mylib"); err != nil {
		t.Fatal(err)
	}
	if err := e.FunctionDelete("mylib"); err == nil || err.Error() != "ERR Library not found" {
		t.Fatalf("second delete: %v", err)
	}
	w.Reset()
	e.Run(w, Request{Kind: KindFunction, Script: "get", Host: &fakeHost{}})
	if string(w.Bytes()) != "-ERR Function not found\r\n" {
		t.Fatalf("after delete: %q", w.Bytes())
	}
	// A killed function fails with the same text as Redis's hook gives it.
	if _, err := e.FunctionLoad("#!lua name=spin\nredis.register_function('spin', function()\n while true do end\nend)", false); err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		w := resp.NewWriter()
		e.Run(w, Request{Kind: KindFunction, Script: "spin", Host: &fakeHost{}})
		done <- string(w.Bytes())
	}()
	for e.Running() == nil {
		time.Sleep(time.Millisecond)
	}
	e.Running().Kill()
	if got := <-done; got != "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:3.\r\n" {
		t.Fatalf("killed function: %q", got)
	}
	e.FunctionFlush()
	if len(e.Libraries()) != 0 {
		t.Fatal("flush kept libraries")
	}
}

// TestLibrariesAreCollected loads and deletes many libraries: their Lua
// functions must not stay reachable from the engine.
func TestLibrariesAreCollected(t *testing.T) {
	e := NewEngine(Options{})
	defer e.Close()
	for i := 0; i < 200; i++ {
		code := fmt.Sprintf("#!lua name=l%d\nlocal big = {} for i = 1, 10000 do big[i] = i end\nredis.register_function('f%d', function() return #big end)", i, i)
		if _, err := e.FunctionLoad(code, false); err != nil {
			t.Fatal(err)
		}
		if err := e.FunctionDelete(fmt.Sprintf("l%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(e.fn.views) > 100 {
		t.Fatalf("the functions state grew %d views", len(e.fn.views))
	}
}

// The script cache keeps at most MaxScriptBytes of bodies, dropping the
// oldest scripts first.
func TestScriptCacheBounded(t *testing.T) {
	e := NewEngine(Options{MaxScriptBytes: 100})
	defer e.Close()
	var shas []string
	for i := 0; i < 10; i++ {
		sha, err := e.Load(fmt.Sprintf("return %d -- %s", i, strings.Repeat("x", 20)))
		if err != nil {
			t.Fatal(err)
		}
		shas = append(shas, sha)
	}
	if n := e.NumScripts(); n < 2 || n > 4 {
		t.Fatalf("%d scripts cached, want the few that fit in 100 bytes", n)
	}
	if e.Exists(shas[0]) || !e.Exists(shas[9]) {
		t.Fatal("the oldest should go, the newest stay")
	}
}
