package scripting

import (
	"bytes"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// respToLua converts a command's reply, as the Host returned it, into the
// Lua value redis.call returns (redisProtocolToLuaType in script_lua.c):
//
//	+status      {ok=status}          -ERR msg      {err="ERR msg"} (isErr)
//	:n           number               $bulk         string
//	$-1, *-1     false                *n            array table
//	%n           {map={k=v...}}       ~n            {set={m=true...}}
//	_            nil                  #t / #f       true / false
//	,d           {double=d}           (n            {big_number="n"}
//	=fmt:text    {verbatim_string={format=fmt, string=text}}
//	|attributes  dropped, the value that follows is converted
//
// A reply the parser cannot read is an error, not a crash.
func respToLua(L *lua.LState, reply []byte) (v lua.LValue, isErr bool) {
	p := respParser{L: L, b: reply}
	v, ok := p.value(0)
	if !ok {
		return errorTable(L, "-ERR Protocol error: invalid reply from the command"), true
	}
	if len(reply) > 0 && reply[0] == '-' {
		return v, true
	}
	return v, false
}

type respParser struct {
	L   *lua.LState
	b   []byte
	pos int
}

const maxReplyDepth = 10000

// line returns the next CRLF-terminated line without its type byte.
func (p *respParser) line() ([]byte, bool) {
	i := bytes.Index(p.b[p.pos:], []byte("\r\n"))
	if i < 1 {
		return nil, false
	}
	l := p.b[p.pos+1 : p.pos+i]
	p.pos += i + 2
	return l, true
}

func (p *respParser) length() (int, bool) {
	l, ok := p.line()
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(l))
	if err != nil || n < -1 {
		return 0, false
	}
	return n, true
}

func (p *respParser) bulk(n int) ([]byte, bool) {
	if n < 0 || len(p.b)-p.pos < n+2 {
		return nil, false
	}
	s := p.b[p.pos : p.pos+n]
	p.pos += n + 2
	return s, true
}

func (p *respParser) value(depth int) (lua.LValue, bool) {
	if p.pos >= len(p.b) || depth > maxReplyDepth {
		return nil, false
	}
	L := p.L
	switch p.b[p.pos] {
	case '+':
		l, ok := p.line()
		if !ok {
			return nil, false
		}
		t := L.NewTable()
		t.RawSetString("ok", lua.LString(l))
		return t, true
	case '-':
		l, ok := p.line()
		if !ok {
			return nil, false
		}
		t := errorTable(L, "-"+string(l))
		// Redis marks errors already counted by the command.
		t.RawSetString("ignore_error_stats_update", lua.LTrue)
		return t, true
	case ':':
		l, ok := p.line()
		if !ok {
			return nil, false
		}
		n, err := strconv.ParseInt(string(l), 10, 64)
		if err != nil {
			return nil, false
		}
		return lua.LNumber(n), true
	case '$', '=':
		kind := p.b[p.pos]
		n, ok := p.length()
		if !ok {
			return nil, false
		}
		if n == -1 {
			return lua.LFalse, true
		}
		s, ok := p.bulk(n)
		if !ok {
			return nil, false
		}
		if kind == '$' {
			return lua.LString(s), true
		}
		if len(s) < 4 {
			return nil, false
		}
		inner := L.NewTable()
		inner.RawSetString("string", lua.LString(s[4:]))
		inner.RawSetString("format", lua.LString(s[:3]))
		t := L.NewTable()
		t.RawSetString("verbatim_string", inner)
		return t, true
	case '*', '~', '%', '|':
		kind := p.b[p.pos]
		n, ok := p.length()
		if !ok {
			return nil, false
		}
		if n == -1 {
			return lua.LFalse, true
		}
		return p.aggregate(kind, n, depth)
	case '_':
		if _, ok := p.line(); !ok {
			return nil, false
		}
		return lua.LNil, true
	case '#':
		l, ok := p.line()
		if !ok || len(l) != 1 {
			return nil, false
		}
		return lua.LBool(l[0] == 't'), true
	case ',':
		l, ok := p.line()
		if !ok {
			return nil, false
		}
		f, ok := parseRESPDouble(string(l))
		if !ok {
			return nil, false
		}
		t := L.NewTable()
		t.RawSetString("double", lua.LNumber(f))
		return t, true
	case '(':
		l, ok := p.line()
		if !ok {
			return nil, false
		}
		t := L.NewTable()
		t.RawSetString("big_number", lua.LString(l))
		return t, true
	}
	return nil, false
}

func (p *respParser) aggregate(kind byte, n, depth int) (lua.LValue, bool) {
	L := p.L
	switch kind {
	case '*':
		t := L.CreateTable(min(n, 1024), 0)
		for i := 1; i <= n; i++ {
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			t.RawSetInt(i, v)
		}
		return t, true
	case '~':
		set := L.NewTable()
		for i := 0; i < n; i++ {
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			if v != lua.LNil {
				set.RawSet(v, lua.LTrue)
			}
		}
		t := L.NewTable()
		t.RawSetString("set", set)
		return t, true
	case '%':
		m := L.NewTable()
		for i := 0; i < n; i++ {
			k, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			v, ok := p.value(depth + 1)
			if !ok {
				return nil, false
			}
			if k != lua.LNil {
				m.RawSet(k, v)
			}
		}
		t := L.NewTable()
		t.RawSetString("map", m)
		return t, true
	}
	// Attributes are not shown to scripts: skip them, keep the value.
	for i := 0; i < 2*n; i++ {
		if _, ok := p.value(depth + 1); !ok {
			return nil, false
		}
	}
	return p.value(depth + 1)
}

func parseRESPDouble(s string) (float64, bool) {
	switch s {
	case "inf", "+inf":
		return posInf, true
	case "-inf":
		return negInf, true
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}
