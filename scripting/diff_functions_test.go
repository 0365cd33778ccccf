package scripting

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/loomcache/loomcache/resp"
)

// A function case is a sequence of FUNCTION LOAD / FCALL / FUNCTION DELETE
// steps after a FUNCTION FLUSH, compared reply by reply.
type fstep struct {
	load    string // FUNCTION LOAD code
	replace bool
	call    string // FCALL function
	keys    []string
	args    []string
	ro      bool
	del     string // FUNCTION DELETE library
	known   string
}

func load(code string) fstep              { return fstep{load: code} }
func call(fn string, a ...string) fstep   { return fstep{call: fn, args: a} }
func callRO(fn string, a ...string) fstep { return fstep{call: fn, args: a, ro: true} }

const lib1 = "#!lua name=lib1\nredis.register_function('f1', function(keys, args) return {keys, args} end)\n" +
	"redis.register_function{function_name='f2', callback=function() return redis.call('set','x','1') end, flags={'no-writes'}}\n" +
	"redis.register_function{function_name='f3', callback=function(k, a) return redis.call('get', k[1]) end, flags={'no-writes', 'allow-oom'}, description='d'}\n"

var functionCases = [][]fstep{
	{load(lib1), {call: "f1", keys: []string{"k"}, args: []string{"a", "b"}}, call("f2"), callRO("f3"), call("f3"), callRO("f1"), call("nosuch")},
	{load(lib1), load(lib1), {load: lib1, replace: true}, call("f1")},
	{load(lib1), load("#!lua name=lib2\nredis.register_function('f1', function() return 1 end)"), call("f1")},
	{load(lib1), {load: "#!lua name=lib1\nredis.register_function('g', function() return 2 end)", replace: true}, call("f1"), call("g")},
	{load(lib1), {del: "lib1"}, call("f1"), {del: "lib1"}},
	{load("#!lua name=l\nredis.register_function('f', function() return redis.setresp(3) end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() redis.setresp(3) return redis.call('hgetall','nosuch') end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function(keys, args) return #keys + #args end)"), {call: "f", keys: []string{"a"}, args: []string{"b", "c"}}},
	{load("#!lua name=l\nredis.register_function('f', function() return KEYS end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() error('boom') end)"), call("f")},
	{load("#!lua name=l\nlocal x = 1\nredis.register_function('f', function()\n  return redis.call('nosuch')\nend)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() a = 1 end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() return math.random(100) end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() return redis.register_function('g', function() end) end)"), {call: "f", known: "Lua 5.1 names the field; gopher-lua does not track names"}},
	{load("#!lua name=l\nlocal lib = redis\nlib.register_function('f', function() lib.redis = redis end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() return type(redis.breakpoint) end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() return type(__redis__err__handler) end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() mt = getmetatable(_G) end)"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() local mt = getmetatable(_G) mt.__index.redis = 1 end)"), {call: "f", known: "Lua 5.1 names the field; gopher-lua does not track names"}},
	{load("#!lua name=l\nredis.register_function('f', function() return redis.REDIS_VERSION end)\nredis.log(redis.LOG_NOTICE, 'loading')"), call("f")},
	{load("#!lua name=l\nredis.register_function('f', function() return redis.status_reply('ok') end)"), call("f")},
	// FUNCTION LOAD errors
	{load("redis.register_function('f', function() return 1 end)")},
	{load("#!lua")}, {load("#!lua\n")}, {load("#!lua name=\n")}, {load("#!lua name=bad-name\n")},
	{load("#!lua name=a name=b\n")}, {load("#!lua foo=bar\n")}, {load("#!lua NAME=x\nredis.register_function('f', function() return 1 end)")},
	{load("#!nosuch name=x\n")}, {load("#! name=x\n")}, {load("#!LUA name=x\nredis.register_function('f', function() return 1 end)")},
	{load("#!lua name=\"foo\"\nredis.register_function('foo', function() return 1 end)")}, {load("#!lua name=x \"y\n")},
	{load("#!lua name=x\n")}, {load("#!lua name=x\nreturn 1")}, {load("#!lua name=x\nreturn 1 +")},
	{load("#!lua name=x\nreturn math.random()")}, {load("#!lua name=x\nreturn redis.call('ping')")},
	{load("#!lua name=x\nredis.setresp(3)")}, {load("#!lua name=x\nredis.set_repl(redis.REPL_NONE)")},
	{load("#!lua name=x\nerror('boom')")}, {{load: "#!lua name=x\nlocal t = {} t.x.y = 1", known: "Lua 5.1 names the field; gopher-lua does not track names"}},
	{load("#!lua name=x\nredis.redis.call('ping')")}, {load("#!lua name=x\nredis.math.random()")},
	{load("#!lua name=x\nmt = getmetatable(_G)")}, {load("#!lua name=x\nredis.register_function()")},
	{load("#!lua name=x\nredis.register_function('f')")}, {load("#!lua name=x\nredis.register_function('f', 1)")},
	{load("#!lua name=x\nredis.register_function(1, function() end)"), call("1")},
	{load("#!lua name=x\nredis.register_function({}, function() end)")}, {load("#!lua name=x\nredis.register_function('a','b','c')")},
	{load("#!lua name=x\nredis.register_function('bad-name', function() end)")}, {load("#!lua name=x\nredis.register_function('', function() end)")},
	{load("#!lua name=x\nredis.register_function('f', function() end)\nredis.register_function('f', function() end)")},
	{load("#!lua name=x\nredis.register_function('f')")}, {load("#!lua name=x\nredis.register_function(5)")},
	{load("#!lua name=x\nredis.register_function{function_name='f'}")}, {load("#!lua name=x\nredis.register_function{callback=function() end}")},
	{load("#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}")},
	{load("#!lua name=x\nredis.register_function{function_name='f', callback=function() end, flags='no-writes'}")},
	{load("#!lua name=x\nredis.register_function{function_name='f', callback=function() end, other=1}")},
	{load("#!lua name=x\nredis.register_function{function_name='f', callback=1}")},
	{load("#!lua name=x\nredis.register_function{function_name={}, callback=function() end}")},
	{load("#!lua name=x\nredis.register_function{function_name='f', callback=function() end, description={}}")},
	{load("#!lua name=x\nredis.register_function{function_name='f', callback=function() return 7 end, flags={'NO-WRITES'}}"), callRO("f")},
	{load("#!lua name=x\nredis.register_function{function_name='f', callback=function() return 7 end, flags={}}"), callRO("f")},
	{load("#!lua name=x\nredis.register_function{function_name='f', callback=function() return 7 end, flags={'allow-stale','no-cluster','allow-cross-slot-keys'}}"), call("f")},
	{load("#!lua name=x\nlocal a = 1 while true do a = a + 1 end")},
}

func TestDifferentialFunctions(t *testing.T) {
	ref := dialRaw(t, startRedis(t))
	back := dialRaw(t, startRedis(t))
	e := NewEngine(Options{})
	defer e.Close()
	h := &redisHost{conn: back, e: e, infos: map[string]cmdInfo{}}
	compared := 0
	for ci, steps := range functionCases {
		ref.setProto(2)
		ref.cmd("FLUSHALL")
		ref.cmd("FUNCTION", "FLUSH")
		back.setProto(2)
		back.cmd("FLUSHALL")
		e.FunctionFlush()
		for si, s := range steps {
			var want []byte
			w := resp.NewWriter()
			switch {
			case s.load != "":
				if s.replace {
					want = ref.cmd("FUNCTION", "LOAD", "REPLACE", s.load)
				} else {
					want = ref.cmd("FUNCTION", "LOAD", s.load)
				}
				if name, err := e.FunctionLoad(s.load, s.replace); err != nil {
					w.Error(err.Error())
				} else {
					w.BulkString(name)
				}
			case s.del != "":
				want = ref.cmd("FUNCTION", "DELETE", s.del)
				if err := e.FunctionDelete(s.del); err != nil {
					w.Error(err.Error())
				} else {
					w.OK()
				}
			default:
				cmd := "FCALL"
				if s.ro {
					cmd = "FCALL_RO"
				}
				args := append([]string{cmd, s.call, strconv.Itoa(len(s.keys))}, s.keys...)
				want = ref.cmd(append(args, s.args...)...)
				e.Run(w, Request{Kind: KindFunction, Script: s.call, Keys: bs(s.keys), Args: bs(s.args), Host: h, Proto: 2, ReadOnly: s.ro})
			}
			compared++
			if got := w.Bytes(); !bytes.Equal(got, want) {
				if s.known != "" {
					t.Logf("known difference (%s), case %d step %d", s.known, ci, si)
					continue
				}
				t.Errorf("case %d step %d (%q%q):\n redis: %q\n   ours: %q", ci, si, s.load, s.call, short(want), short(got))
			}
		}
	}
	t.Logf("%d FUNCTION replies compared", compared)
}
