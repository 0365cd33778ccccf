package scripting

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/loomcache/loomcache/resp"
	lua "github.com/yuin/gopher-lua"
)

func FuzzParseShebang(f *testing.F) {
	for _, s := range []string{"return 1", "#!lua\n", "#!lua flags=no-writes,allow-oom\n", "#!lua flags=\n", "#!lua \"x\n", "#!", "#!lua flags=,\n", "#!lua\x00\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		flags, n, err := ParseShebang(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ERR ") {
				t.Fatalf("error without code: %v", err)
			}
			return
		}
		if n > len(body) || (flags.NoShebang() != (n == 0)) || (n > 0 && body[n] != '\n') {
			t.Fatalf("flags %v n %d for %q", flags, n, body)
		}
	})
}

// oneReply checks that b is exactly one well-formed RESP reply.
func oneReply(t *testing.T, b []byte) {
	t.Helper()
	r := bufio.NewReader(bytes.NewReader(b))
	var out bytes.Buffer
	if err := readReply(r, &out); err != nil || r.Buffered() != 0 || out.Len() != len(b) {
		t.Fatalf("not one RESP reply (%v): %q", err, b)
	}
}

// FuzzEvalReply runs arbitrary script bodies: whatever they return or
// raise, the engine must answer one well-formed reply, in both protocols.
func FuzzEvalReply(f *testing.F) {
	for _, s := range []string{
		"return {1,{2,{3}},'x',{ok='y'},{err='z'}}", "return {map={a={set={b=true}}}}", "local t = {} t[1] = t return t",
		"return {double=0/0}", "return {verbatim_string={format='\\0', string='\\r\\n'}}", "error({})", "error(nil)",
		"return redis.pcall('x', {})", "redis.setresp(3) return {true, false, nil}", "return {err='\\0x'}", "return 1e308 * 10",
	} {
		f.Add(s, true)
	}
	e := NewEngine(Options{})
	f.Fuzz(func(t *testing.T, body string, resp3 bool) {
		proto := 2
		if resp3 {
			proto = 3
		}
		stop := time.AfterFunc(200*time.Millisecond, func() {
			if r := e.Running(); r != nil {
				r.Kill()
			}
		})
		defer stop.Stop()
		w := resp.NewWriter()
		e.Run(w, Request{Kind: KindEval, Script: body, Host: &fakeHost{}, Proto: proto})
		oneReply(t, w.Bytes())
	})
}

// rawHost returns the same bytes for every command.
type rawHost struct{ reply []byte }

func (h rawHost) Call(args [][]byte, proto int) []byte { return h.reply }
func (h rawHost) ACLCheck(args [][]byte) (bool, error) { return true, nil }
func (h rawHost) Log(level int, msg string)            {}

// FuzzCommandReply feeds arbitrary bytes as a command's reply: the
// conversion to Lua and back must neither panic nor emit broken RESP.
func FuzzCommandReply(f *testing.F) {
	for _, s := range []string{"+OK\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "*2\r\n:1\r\n_\r\n", "%1\r\n+a\r\n,1.5\r\n",
		"~1\r\n#t\r\n", "|1\r\n+a\r\n+b\r\n:2\r\n", "=7\r\ntxt:abc\r\n", "(123\r\n", "*-1\r\n", "$-1\r\n", "*3\r\n:1\r\n"} {
		f.Add([]byte(s))
	}
	e := NewEngine(Options{})
	f.Fuzz(func(t *testing.T, reply []byte) {
		for _, body := range []string{"return redis.pcall('x')", "redis.setresp(3) return redis.pcall('x')", "return redis.call('x')"} {
			w := resp.NewWriter()
			e.Run(w, Request{Kind: KindEval, Script: body, Host: rawHost{reply}, Proto: 3})
			oneReply(t, w.Bytes())
		}
	})
}

const loopScript = "local a = 0 for i = 1, 1000000 do a = a + i end return a"

// BenchmarkLoopKillable runs a tight loop through the engine, which runs
// every script with a cancellable context so that Kill stops it.
func BenchmarkLoopKillable(b *testing.B) {
	e := NewEngine(Options{})
	defer e.Close()
	for i := 0; i < b.N; i++ {
		w := resp.NewWriter()
		e.Run(w, Request{Kind: KindEval, Script: loopScript, Host: &fakeHost{}})
	}
}

// BenchmarkLoopPlain is the same loop in a gopher-lua state without a
// context: the baseline for the kill check's cost.
func BenchmarkLoopPlain(b *testing.B) {
	L := lua.NewState()
	defer L.Close()
	fn, err := L.LoadString(loopScript)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		L.Push(fn)
		L.Call(0, 1)
		L.Pop(1)
	}
}
