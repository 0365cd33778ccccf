package scripting

import (
	"fmt"
	"testing"

	"github.com/loomcache/loomcache/resp"
)

type echoHost struct{}

func (echoHost) Call(args [][]byte, proto int) []byte {
	switch string(args[0]) {
	case "ping":
		return []byte("+PONG\r\n")
	case "err":
		return []byte("-ERR boom\r\n")
	}
	return []byte(fmt.Sprintf("$%d\r\n%s\r\n", len(args[0]), args[0]))
}
func (echoHost) ACLCheck(args [][]byte) (bool, error) { return true, nil }
func (echoHost) Log(level int, msg string)            {}

func TestSmoke(t *testing.T) {
	e := NewEngine(Options{})
	for _, body := range []string{
		"return 1", "return {1,2,{3,'x'}}", "return redis.call('ping')", "return redis.call('err')",
		"return redis.pcall('err')", "a = 1", "return a", "return 1 + nil", "error('x')", "return math.random()",
		"return tostring(0.1+0.2)", "local t = {} t[1] = t return t", "return string.rep('x', 3)",
		"return redis.sha1hex('')", "return pcall(redis.call, 'err')", "return redis.error_reply('My Error')",
		"x = = 1", "return loadstring(string.dump(function() return 1 end))()", "string.foo = 1",
		"return rawget(_G, 'redis') ~= nil", "rawset(_G, 'x', 1)", "return getmetatable(_G).__index == nil",
		"setmetatable(_G, {})", "return #KEYS", "os.exit()", "return {double=3.5}", "return redis.setresp(3)",
	} {
		w := resp.NewWriter()
		e.Run(w, Request{Kind: KindEval, Script: body, Host: echoHost{}, Proto: 2})
		out := w.Bytes()
		if len(out) > 200 {
			out = out[:200]
		}
		t.Logf("%-50q -> %q", body, out)
	}
}
