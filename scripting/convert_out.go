package scripting

import (
	"strings"

	"github.com/loomcache/loomcache/resp"
	lua "github.com/yuin/gopher-lua"
)

// Lua -> RESP, as luaReplyToRedisReply in script_lua.c:
//
//	string                  bulk string
//	number                  integer (truncated)
//	true                    :1, or #t to a RESP3 client after redis.setresp(3)
//	false                   null (setresp 2), or :0 / #f (setresp 3)
//	{err=s}                 error reply       {ok=s}             status reply
//	{double=n}              double            {big_number=s}     big number
//	{verbatim_string={format=f, string=s}}    verbatim string
//	{map={...}}             map               {set={...}}        set
//	other table             array of t[1], t[2]... up to the first nil
//	nil, functions...       null
//
// RESP3 types become their RESP2 forms for a RESP2 client (the Writer's
// protocol). Redis converts on the C Lua stack and gives up with "reached
// lua stack limit" where nesting would overflow it (LUAI_MAXCSTACK), which
// is also what bounds a table that contains itself; slots mirrors that.

const luaMaxCStack = 8000 // LUAI_MAXCSTACK

type replyWriter struct {
	w          *resp.Writer
	le         *luaEnv
	scriptResp int // the script's redis.setresp
}

// write converts v; slots is how many values the C function's stack frame
// would hold with v on top.
func (rw *replyWriter) write(v lua.LValue, slots int) {
	w := rw.w
	if slots+4 > luaMaxCStack {
		w.Error("ERR reached lua stack limit")
		return
	}
	switch x := v.(type) {
	case lua.LString:
		w.Bulk([]byte(x))
	case lua.LBool:
		if rw.scriptResp == 2 {
			if x {
				w.Int(1)
			} else {
				w.Null()
			}
			return
		}
		if w.Proto == 2 {
			w.Int(map[bool]int64{true: 1, false: 0}[bool(x)])
			return
		}
		w.Bool(bool(x))
	case lua.LNumber:
		w.Int(cInt64(float64(x)))
	case *lua.LTable:
		rw.table(rw.le.realOf(x), slots)
	default:
		w.Null()
	}
}

func (rw *replyWriter) table(t *lua.LTable, slots int) {
	w := rw.w
	if s, ok := t.RawGetString("err").(lua.LString); ok {
		w.Error(strings.TrimRight(cstr(string(s)), "\r\n"))
		return
	}
	if s, ok := t.RawGetString("ok").(lua.LString); ok {
		w.Status(noCRLF(cstr(string(s))))
		return
	}
	if n, ok := t.RawGetString("double").(lua.LNumber); ok {
		w.Double(float64(n))
		return
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		n := noCRLF(string(s))
		if w.Proto == 2 {
			w.BulkString(n)
		} else {
			w.Raw([]byte("(" + n + "\r\n"))
		}
		return
	}
	if vt, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		vt = rw.le.realOf(vt)
		if f, ok := vt.RawGetString("format").(lua.LString); ok {
			if s, ok := vt.RawGetString("string").(lua.LString); ok {
				w.Verbatim(verbatimFormat(string(f)), []byte(s))
				return
			}
		}
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		m = rw.le.realOf(m)
		n := 0
		m.ForEach(func(_, _ lua.LValue) { n++ })
		w.Map(n)
		m.ForEach(func(k, v lua.LValue) {
			rw.write(k, slots+4)
			rw.write(v, slots+3)
		})
		return
	}
	if s, ok := t.RawGetString("set").(*lua.LTable); ok {
		s = rw.le.realOf(s)
		n := 0
		s.ForEach(func(_, _ lua.LValue) { n++ })
		w.Set(n)
		s.ForEach(func(k, _ lua.LValue) { rw.write(k, slots+3) })
		return
	}
	n := 0
	for t.RawGetInt(n+1) != lua.LNil {
		n++
	}
	w.Array(n)
	for i := 1; i <= n; i++ {
		rw.write(t.RawGetInt(i), slots+1)
	}
}

// verbatimFormat is the 3-byte format addReplyVerbatim writes: the C
// string's first three bytes, padded with spaces.
func verbatimFormat(f string) string {
	f = cstr(f)
	if len(f) > 3 {
		f = f[:3]
	}
	return f + "   "[:3-len(f)]
}

// noCRLF is sdsmapchars(s, "\r\n", "  "): a status line must stay one line.
func noCRLF(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
