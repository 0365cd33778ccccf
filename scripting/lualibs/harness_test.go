package lualibs

import (
	"fmt"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// prelude defines, on one line, the helpers every snippet may use: S(...)
// serialises its arguments the same way under Redis's Lua and gopher-lua
// (numbers exactly, strings byte by byte, tables with sorted entries), so a
// snippet returns one string to compare.
const prelude = `local ser; ser = function(v, d) local t = type(v) d = d or 0 ` +
	`if t == 'number' then if v ~= v then return 'nan' end if v == 1/0 then return 'inf' end if v == -1/0 then return '-inf' end ` +
	`if v == math.floor(v) and v > -2^53 and v < 2^53 then if v == 0 and 1/v < 0 then return '-0' end return string.format('%d', v) end ` +
	`return string.format('%.17g', v) ` +
	`elseif t == 'string' then local o = {} for i = 1, #v do local b = string.byte(v, i) ` +
	`if b >= 32 and b < 127 and b ~= 92 then o[#o+1] = string.char(b) else o[#o+1] = '\\' .. b .. ';' end end return '"' .. table.concat(o) .. '"' ` +
	`elseif t == 'table' then if d > 50 then return '{...}' end local o = {} for k, x in pairs(v) do o[#o+1] = ser(k, d+1) .. '=' .. ser(x, d+1) end table.sort(o) return '{' .. table.concat(o, ',') .. '}' ` +
	`elseif t == 'userdata' then if v == cjson.null then return 'null' end return 'userdata' ` +
	`else return tostring(v == nil and 'nil' or (t == 'boolean' and tostring(v)) or t) end end ` +
	`local function S(...) local o = {} for i = 1, select('#', ...) do o[i] = ser((select(i, ...))) end return table.concat(o, ' | ') end` +
	"\n"

// newTestState returns a gopher-lua state with the standard libraries and
// Open applied, with room for the 8000 values a C function may return.
func newTestState() *lua.LState {
	L := lua.NewState(lua.Options{RegistrySize: 1024 * 20, RegistryMaxSize: 1024 * 80, CallStackSize: 512})
	Open(L)
	return L
}

// runLua runs prelude+script as chunk "@user_script" and converts its first
// result as Redis converts a script's return value to RESP (RESP2).
func runLua(script string) string {
	L := newTestState()
	defer L.Close()
	fn, err := L.Load(strings.NewReader(prelude+script), "@user_script")
	if err != nil {
		return "compile error: " + err.Error()
	}
	L.Push(fn)
	if err := L.PCall(0, 1, nil); err != nil {
		if ae, ok := err.(*lua.ApiError); ok {
			return "error: " + ae.Object.String()
		}
		return "error: " + err.Error()
	}
	return respOfLua(L.Get(-1))
}

// respOfLua is Redis's luaReplyToRedisReply, rendered as text.
func respOfLua(v lua.LValue) string {
	switch x := v.(type) {
	case lua.LString:
		return "s:" + string(x)
	case lua.LNumber:
		return fmt.Sprintf("i:%d", cInt64(float64(x)))
	case lua.LBool:
		if x {
			return "i:1"
		}
		return "nil"
	case *lua.LTable:
		if e, ok := x.RawGetString("err").(lua.LString); ok {
			return "error: " + string(e)
		}
		if s, ok := x.RawGetString("ok").(lua.LString); ok {
			return "s:" + string(s)
		}
		var parts []string
		for i := 1; ; i++ {
			e := x.RawGetInt(i)
			if e == lua.LNil {
				break
			}
			parts = append(parts, respOfLua(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "nil"
}

// respOfRedis renders a go-redis EVAL result like respOfLua.
func respOfRedis(v interface{}, err error) string {
	if err != nil {
		if err.Error() == "redis: nil" {
			return "nil"
		}
		return "error: " + err.Error()
	}
	switch x := v.(type) {
	case string:
		return "s:" + x
	case int64:
		return fmt.Sprintf("i:%d", x)
	case []interface{}:
		var parts []string
		for _, e := range x {
			parts = append(parts, respOfRedis(e, nil))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case nil:
		return "nil"
	}
	return fmt.Sprintf("?%T:%v", v, v)
}

func TestPreludeRuns(t *testing.T) {
	got := runLua(`return S(1, 'a\0', {1, x = true}, nil, cjson.null, 0.5)`)
	want := `s:1 | "a\0;" | {"x"=true,1=1} | nil | null | 0.5`
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}
