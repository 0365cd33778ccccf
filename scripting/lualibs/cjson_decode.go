package lualibs

import (
	lua "github.com/yuin/gopher-lua"
)

// jsonTokenType is json_token_type_t.
type jsonTokenType int

const (
	tObjBegin jsonTokenType = iota
	tObjEnd
	tArrBegin
	tArrEnd
	tString
	tNumber
	tBoolean
	tNull
	tColon
	tComma
	tEnd
	tWhitespace
	tError
	tUnknown
)

var jsonTokenTypeName = [...]string{
	"T_OBJ_BEGIN", "T_OBJ_END", "T_ARR_BEGIN", "T_ARR_END", "T_STRING",
	"T_NUMBER", "T_BOOLEAN", "T_NULL", "T_COLON", "T_COMMA", "T_END",
	"T_WHITESPACE", "T_ERROR", "T_UNKNOWN",
}

// ch2token is the lookup table json_create_config builds.
var ch2token = func() [256]jsonTokenType {
	var t [256]jsonTokenType
	for i := range t {
		t[i] = tError
	}
	t['{'] = tObjBegin
	t['}'] = tObjEnd
	t['['] = tArrBegin
	t[']'] = tArrEnd
	t[','] = tComma
	t[':'] = tColon
	t[0] = tEnd
	t[' '] = tWhitespace
	t['\t'] = tWhitespace
	t['\n'] = tWhitespace
	t['\r'] = tWhitespace
	for _, c := range "fiInNt\"+-0123456789" {
		t[c] = tUnknown
	}
	return t
}()

// escape2char is the table of single-character escapes ('u' needs more).
var escape2char = func() [256]byte {
	var t [256]byte
	t['"'] = '"'
	t['\\'] = '\\'
	t['/'] = '/'
	t['b'] = '\b'
	t['t'] = '\t'
	t['n'] = '\n'
	t['f'] = '\f'
	t['r'] = '\r'
	t['u'] = 'u'
	return t
}()

type jsonToken struct {
	typ     jsonTokenType
	index   int
	str     string // T_STRING value, or T_ERROR message
	number  float64
	boolean bool
}

type jsonParser struct {
	L     *lua.LState
	cfg   *cjsonConfig
	data  string
	ptr   int
	depth int32
	tmp   []byte
}

// at reads the input as a C string: 0 past its end.
func (p *jsonParser) at(i int) byte { return byteAt(p.data, i) }

func hexDigit2int(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	c |= 0x20
	if c >= 'a' && c <= 'f' {
		return 10 + int(c-'a')
	}
	return -1
}

func (p *jsonParser) decodeHex4(i int) int {
	v := 0
	for k := 0; k < 4; k++ {
		d := hexDigit2int(p.at(i + k))
		if d < 0 {
			return -1
		}
		v = v<<4 | d
	}
	return v
}

// codepointToUTF8 appends the UTF-8 bytes of cp (at most 0x10FFFF here).
func codepointToUTF8(b []byte, cp int) []byte {
	switch {
	case cp <= 0x7F:
		return append(b, byte(cp))
	case cp <= 0x7FF:
		return append(b, byte(cp>>6|0xC0), byte(cp&0x3F|0x80))
	case cp <= 0xFFFF:
		return append(b, byte(cp>>12|0xE0), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80))
	default:
		return append(b, byte(cp>>18|0xF0), byte(cp>>12&0x3F|0x80), byte(cp>>6&0x3F|0x80), byte(cp&0x3F|0x80))
	}
}

// appendUnicodeEscape is json_append_unicode_escape, at a "\u".
func (p *jsonParser) appendUnicodeEscape() bool {
	escapeLen := 6
	cp := p.decodeHex4(p.ptr + 2)
	if cp < 0 {
		return false
	}
	if cp&0xF800 == 0xD800 {
		if cp&0x400 != 0 {
			return false
		}
		if p.at(p.ptr+escapeLen) != '\\' || p.at(p.ptr+escapeLen+1) != 'u' {
			return false
		}
		low := p.decodeHex4(p.ptr + 2 + escapeLen)
		if low < 0 || low&0xFC00 != 0xDC00 {
			return false
		}
		cp = ((cp&0x3FF)<<10 | low&0x3FF) + 0x10000
		escapeLen = 12
	}
	p.tmp = codepointToUTF8(p.tmp, cp)
	p.ptr += escapeLen
	return true
}

func (p *jsonParser) setTokenError(tok *jsonToken, msg string) {
	tok.typ = tError
	tok.index = p.ptr
	tok.str = msg
}

func (p *jsonParser) nextStringToken(tok *jsonToken) {
	p.ptr++ // skip "
	p.tmp = p.tmp[:0]
	for {
		ch := p.at(p.ptr)
		if ch == '"' {
			break
		}
		if ch == 0 {
			p.setTokenError(tok, "unexpected end of string")
			return
		}
		if ch == '\\' {
			ch = escape2char[p.at(p.ptr+1)]
			if ch == 'u' {
				if p.appendUnicodeEscape() {
					continue
				}
				p.setTokenError(tok, "invalid unicode escape code")
				return
			}
			if ch == 0 {
				p.setTokenError(tok, "invalid escape code")
				return
			}
			p.ptr++
		}
		p.tmp = append(p.tmp, ch)
		p.ptr++
	}
	p.ptr++ // final quote
	tok.typ = tString
	tok.str = string(p.tmp)
}

// isInvalidNumber is json_is_invalid_number: numbers strtod takes but strict
// JSON does not.
func (p *jsonParser) isInvalidNumber() bool {
	i := p.ptr
	if p.at(i) == '+' {
		return true
	}
	if p.at(i) == '-' {
		i++
	}
	if p.at(i) == '0' {
		ch2 := p.at(i + 1)
		return ch2|0x20 == 'x' || isDigit(ch2)
	} else if int8(p.at(i)) <= '9' { // C char is signed
		return false
	}
	return hasPrefixFold(p.data, i, "inf") || hasPrefixFold(p.data, i, "nan")
}

func (p *jsonParser) nextNumberToken(tok *jsonToken) {
	tok.typ = tNumber
	v, end := strtod(p.data, p.ptr)
	if end == p.ptr {
		p.setTokenError(tok, "invalid number")
		return
	}
	tok.number = v
	p.ptr = end
}

func (p *jsonParser) hasWord(w string) bool {
	for k := 0; k < len(w); k++ {
		if p.at(p.ptr+k) != w[k] {
			return false
		}
	}
	return true
}

// nextToken is json_next_token.
func (p *jsonParser) nextToken(tok *jsonToken) {
	var ch byte
	for {
		ch = p.at(p.ptr)
		tok.typ = ch2token[ch]
		if tok.typ != tWhitespace {
			break
		}
		p.ptr++
	}
	tok.index = p.ptr
	switch tok.typ {
	case tError:
		p.setTokenError(tok, "invalid token")
		return
	case tEnd:
		return
	case tUnknown:
	default:
		p.ptr++
		return
	}
	switch {
	case ch == '"':
		p.nextStringToken(tok)
	case ch == '-' || isDigit(ch):
		if p.cfg.decodeInvalidNumbers == 0 && p.isInvalidNumber() {
			p.setTokenError(tok, "invalid number")
			return
		}
		p.nextNumberToken(tok)
	case p.hasWord("true"):
		tok.typ, tok.boolean = tBoolean, true
		p.ptr += 4
	case p.hasWord("false"):
		tok.typ, tok.boolean = tBoolean, false
		p.ptr += 5
	case p.hasWord("null"):
		tok.typ = tNull
		p.ptr += 4
	case p.cfg.decodeInvalidNumbers != 0 && p.isInvalidNumber():
		p.nextNumberToken(tok)
	default:
		p.setTokenError(tok, "invalid token")
	}
}

// throwParseError is json_throw_parse_error.
func (p *jsonParser) throwParseError(exp string, tok *jsonToken) {
	found := jsonTokenTypeName[tok.typ]
	if tok.typ == tError {
		found = tok.str
	}
	raisef(p.L, "Expected %s but found %s at character %d", exp, found, tok.index+1)
}

// descend is json_decode_descend; slots are the C stack slots in use and
// need the ones the new level takes.
func (p *jsonParser) descend(slots, need int) {
	p.depth++
	if p.depth <= p.cfg.decodeMaxDepth && slots+need <= luaiMaxCStack {
		return
	}
	raisef(p.L, "Found too many nested data structures (%d) at character %d", p.depth, p.ptr)
}

func (p *jsonParser) parseObject(slots int) lua.LValue {
	p.descend(slots, 3)
	tb := p.L.NewTable()
	var tok jsonToken
	p.nextToken(&tok)
	if tok.typ == tObjEnd {
		p.depth--
		return tb
	}
	for {
		if tok.typ != tString {
			p.throwParseError("object key string", &tok)
		}
		key := tok.str
		p.nextToken(&tok)
		if tok.typ != tColon {
			p.throwParseError("colon", &tok)
		}
		p.nextToken(&tok)
		tb.RawSetString(key, p.processValue(&tok, slots+2))
		p.nextToken(&tok)
		if tok.typ == tObjEnd {
			p.depth--
			return tb
		}
		if tok.typ != tComma {
			p.throwParseError("comma or object end", &tok)
		}
		p.nextToken(&tok)
	}
}

func (p *jsonParser) parseArray(slots int) lua.LValue {
	p.descend(slots, 2)
	tb := p.L.NewTable()
	var tok jsonToken
	p.nextToken(&tok)
	if tok.typ == tArrEnd {
		p.depth--
		return tb
	}
	for i := 1; ; i++ {
		tb.RawSet(lua.LNumber(i), p.processValue(&tok, slots+1))
		p.nextToken(&tok)
		if tok.typ == tArrEnd {
			p.depth--
			return tb
		}
		if tok.typ != tComma {
			p.throwParseError("comma or array end", &tok)
		}
		p.nextToken(&tok)
	}
}

// processValue is json_process_value.
func (p *jsonParser) processValue(tok *jsonToken, slots int) lua.LValue {
	switch tok.typ {
	case tString:
		return lua.LString(tok.str)
	case tNumber:
		return lua.LNumber(tok.number)
	case tBoolean:
		return lua.LBool(tok.boolean)
	case tObjBegin:
		return p.parseObject(slots)
	case tArrBegin:
		return p.parseArray(slots)
	case tNull:
		return p.cfg.null
	}
	p.throwParseError("value", tok)
	return lua.LNil
}

// decode is cjson.decode.
func (cfg *cjsonConfig) decode(L *lua.LState) int {
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	data := checkLString(L, 1)
	if len(data) >= 2 && (data[0] == 0 || data[1] == 0) {
		raise(L, "JSON parser does not support UTF-16 or UTF-32")
	}
	p := &jsonParser{L: L, cfg: cfg, data: data}
	var tok jsonToken
	p.nextToken(&tok)
	v := p.processValue(&tok, 1)
	p.nextToken(&tok)
	if tok.typ != tEnd {
		p.throwParseError("the end", &tok)
	}
	L.Push(v)
	return 1
}
