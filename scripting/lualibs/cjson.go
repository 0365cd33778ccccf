package lualibs

import (
	"fmt"
	"math"
	"sort"

	lua "github.com/yuin/gopher-lua"
)

// Defaults of lua_cjson.c.
const (
	cjsonVersion = "2.1.0"

	defaultSparseConvert         = 0
	defaultSparseRatio           = 2
	defaultSparseSafe            = 10
	defaultEncodeMaxDepth        = 1000
	defaultDecodeMaxDepth        = 1000
	defaultEncodeInvalidNumbers  = 0
	defaultDecodeInvalidNumbers  = 1
	defaultEncodeKeepBuffer      = 1
	defaultEncodeNumberPrecision = 14

	// maxEncodeLen bounds what one cjson.encode may build; past it the call
	// fails as Lua does when an allocation fails. (Redis's proto-max-bulk-len
	// default is 512MB, so no reply could carry more anyway.)
	maxEncodeLen = 512 << 20
)

// cjsonConfig is json_config_t: the settings of one cjson module table.
type cjsonConfig struct {
	sparseConvert         int32
	sparseRatio           int32
	sparseSafe            int32
	encodeMaxDepth        int32
	encodeInvalidNumbers  int32 // 0 off, 1 on, 2 null
	encodeNumberPrecision int32
	encodeKeepBuffer      int32
	decodeInvalidNumbers  int32
	decodeMaxDepth        int32

	null *lua.LUserData
}

// newCjsonModule is lua_cjson_new: a module table whose functions share one
// fresh configuration.
func newCjsonModule(L *lua.LState, null *lua.LUserData) *lua.LTable {
	cfg := &cjsonConfig{
		sparseConvert:         defaultSparseConvert,
		sparseRatio:           defaultSparseRatio,
		sparseSafe:            defaultSparseSafe,
		encodeMaxDepth:        defaultEncodeMaxDepth,
		decodeMaxDepth:        defaultDecodeMaxDepth,
		encodeInvalidNumbers:  defaultEncodeInvalidNumbers,
		decodeInvalidNumbers:  defaultDecodeInvalidNumbers,
		encodeKeepBuffer:      defaultEncodeKeepBuffer,
		encodeNumberPrecision: defaultEncodeNumberPrecision,
		null:                  null,
	}
	tb := L.NewTable()
	setFuncs(L, tb, []libFunc{
		{"encode", cfg.encode},
		{"decode", cfg.decode},
		{"encode_sparse_array", cfg.cfgEncodeSparseArray},
		{"encode_max_depth", cfg.cfgEncodeMaxDepth},
		{"decode_max_depth", cfg.cfgDecodeMaxDepth},
		{"encode_number_precision", cfg.cfgEncodeNumberPrecision},
		{"encode_keep_buffer", cfg.cfgEncodeKeepBuffer},
		{"encode_invalid_numbers", cfg.cfgEncodeInvalidNumbers},
		{"decode_invalid_numbers", cfg.cfgDecodeInvalidNumbers},
		{"new", func(L *lua.LState) int {
			L.Push(newCjsonModule(L, null))
			return 1
		}},
	})
	tb.RawSetString("null", null)
	tb.RawSetString("_NAME", lua.LString("cjson"))
	tb.RawSetString("_VERSION", lua.LString(cjsonVersion))
	return tb
}

/* ===== CONFIGURATION ===== */

// argInit is json_arg_init: at most args arguments, padded with nils so
// that the results pushed later land above them.
func argInit(L *lua.LState, args int) {
	if L.GetTop() > args {
		argError(L, args+1, "found too many arguments")
	}
	for L.GetTop() < args {
		L.Push(lua.LNil)
	}
}

// integerOption is json_integer_option.
func integerOption(L *lua.LState, idx int, setting *int32, min, max int32) {
	if L.Get(idx) != lua.LNil {
		value := int32(checkInteger(L, idx)) // lua_Integer to int
		if value < min || value > max {
			argError(L, 1, fmt.Sprintf("expected integer between %d and %d", min, max))
		}
		*setting = value
	}
	L.Push(lua.LNumber(*setting))
}

var boolOptions = []string{"off", "on"}

// enumOption is json_enum_option; options nil means off/on with booleans.
func enumOption(L *lua.LState, idx int, setting *int32, options []string, boolTrue int32) {
	if options == nil {
		options = boolOptions
		boolTrue = 1
	}
	if v := L.Get(idx); v != lua.LNil {
		if b, ok := v.(lua.LBool); ok && boolTrue != 0 {
			*setting = 0
			if b {
				*setting = boolTrue
			}
		} else {
			*setting = checkOption(L, idx, options)
		}
	}
	if boolTrue != 0 && (*setting == 0 || *setting == boolTrue) {
		L.Push(lua.LBool(*setting != 0))
	} else {
		L.Push(lua.LString(options[*setting]))
	}
}

// checkOption is luaL_checkoption without a default.
func checkOption(L *lua.LState, idx int, options []string) int32 {
	name := checkCString(L, idx)
	for i, o := range options {
		if o == name {
			return int32(i)
		}
	}
	argError(L, idx, fmt.Sprintf("invalid option '%s'", name))
	return 0
}

func (cfg *cjsonConfig) cfgEncodeSparseArray(L *lua.LState) int {
	argInit(L, 3)
	enumOption(L, 1, &cfg.sparseConvert, nil, 1)
	integerOption(L, 2, &cfg.sparseRatio, 0, math.MaxInt32)
	integerOption(L, 3, &cfg.sparseSafe, 0, math.MaxInt32)
	return 3
}

func (cfg *cjsonConfig) cfgEncodeMaxDepth(L *lua.LState) int {
	argInit(L, 1)
	integerOption(L, 1, &cfg.encodeMaxDepth, 1, math.MaxInt32)
	return 1
}

func (cfg *cjsonConfig) cfgDecodeMaxDepth(L *lua.LState) int {
	argInit(L, 1)
	integerOption(L, 1, &cfg.decodeMaxDepth, 1, math.MaxInt32)
	return 1
}

func (cfg *cjsonConfig) cfgEncodeNumberPrecision(L *lua.LState) int {
	argInit(L, 1)
	integerOption(L, 1, &cfg.encodeNumberPrecision, 1, 14)
	return 1
}

func (cfg *cjsonConfig) cfgEncodeKeepBuffer(L *lua.LState) int {
	argInit(L, 1)
	enumOption(L, 1, &cfg.encodeKeepBuffer, nil, 1)
	return 1
}

func (cfg *cjsonConfig) cfgEncodeInvalidNumbers(L *lua.LState) int {
	argInit(L, 1)
	enumOption(L, 1, &cfg.encodeInvalidNumbers, []string{"off", "on", "null"}, 1)
	return 1
}

func (cfg *cjsonConfig) cfgDecodeInvalidNumbers(L *lua.LState) int {
	argInit(L, 1)
	enumOption(L, 1, &cfg.decodeInvalidNumbers, nil, 1)
	return 1
}

/* ===== ENCODING ===== */

// char2escape is lua_cjson.c's table of escaped bytes.
var char2escape = func() [256]string {
	var t [256]string
	const hex = "0123456789abcdef"
	for c := 0; c < 0x20; c++ {
		t[c] = `\u00` + string(hex[c>>4]) + string(hex[c&15])
	}
	t['\b'] = `\b`
	t['\t'] = `\t`
	t['\n'] = `\n`
	t['\f'] = `\f`
	t['\r'] = `\r`
	t['"'] = `\"`
	t['/'] = `\/`
	t['\\'] = `\\`
	t[0x7f] = `\u007f`
	return t
}()

type jsonEncoder struct {
	L   *lua.LState
	cfg *cjsonConfig
	buf []byte
}

// exception is json_encode_exception.
func (e *jsonEncoder) exception(v lua.LValue, reason string) {
	raisef(e.L, "Cannot serialise %s: %s", v.Type().String(), reason)
}

func (e *jsonEncoder) grow(n int) {
	if len(e.buf)+n > maxEncodeLen {
		raise(e.L, "not enough memory")
	}
}

func (e *jsonEncoder) appendString(s string) {
	e.grow(len(s) + 2)
	e.buf = append(e.buf, '"')
	for i := 0; i < len(s); i++ {
		if esc := char2escape[s[i]]; esc != "" {
			e.buf = append(e.buf, esc...)
		} else {
			e.buf = append(e.buf, s[i])
		}
	}
	e.buf = append(e.buf, '"')
}

// arrayLength is lua_array_length: the array size of tb, or -1 for an
// object.
func (e *jsonEncoder) arrayLength(tb *lua.LTable) (int32, int32) {
	max, items, huge := arrayScan(tb.Next)
	if huge && max != -1 {
		// A key past INT_MAX turns max into INT_MIN in C, so the result
		// depends on the order lua_next visits the keys in.
		keys := luaNextOrder(tb)
		i := 0
		max, items, _ = arrayScan(func(lua.LValue) (lua.LValue, lua.LValue) {
			if i == len(keys) {
				return lua.LNil, lua.LNil
			}
			i++
			return keys[i-1], lua.LTrue
		})
	}
	if max == -1 {
		return -1, 0
	}
	cfg := e.cfg
	if cfg.sparseRatio > 0 && max > items*cfg.sparseRatio && max > cfg.sparseSafe {
		if cfg.sparseConvert == 0 {
			e.exception(tb, "excessively sparse array")
		}
		return -1, 0
	}
	return max, items
}

// arrayScan is the key loop of lua_array_length over the keys next yields:
// max is -1 when a key is not a positive integer; huge tells whether a key
// exceeded INT_MAX.
func arrayScan(next func(lua.LValue) (lua.LValue, lua.LValue)) (max, items int32, huge bool) {
	for k, _ := next(lua.LNil); k != lua.LNil; k, _ = next(k) {
		if n, ok := k.(lua.LNumber); ok && n != 0 {
			f := float64(n)
			if math.Floor(f) == f && f >= 1 {
				if f > float64(max) {
					max = cInt32(f)
				}
				huge = huge || f > math.MaxInt32
				items++
				continue
			}
		}
		return -1, 0, huge
	}
	return max, items, huge
}

func (e *jsonEncoder) appendNumber(v lua.LValue, num float64) {
	switch e.cfg.encodeInvalidNumbers {
	case 0:
		if math.IsInf(num, 0) || math.IsNaN(num) {
			e.exception(v, "must not be NaN or Inf")
		}
	case 1:
		if math.IsNaN(num) {
			e.buf = append(e.buf, "nan"...)
			return
		}
	default:
		if math.IsInf(num, 0) || math.IsNaN(num) {
			e.buf = append(e.buf, "null"...)
			return
		}
	}
	e.grow(32)
	e.buf = append(e.buf, fmtG(num, int(e.cfg.encodeNumberPrecision))...)
}

// appendData is json_append_data. slots counts the Lua stack slots the C
// encoder would hold (value included), to fail where lua_checkstack does.
func (e *jsonEncoder) appendData(v lua.LValue, depth int32, slots int) {
	switch x := v.(type) {
	case lua.LString:
		e.appendString(string(x))
	case lua.LNumber:
		e.appendNumber(v, float64(x))
	case lua.LBool:
		if x {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case *lua.LTable:
		depth++
		if depth > e.cfg.encodeMaxDepth || slots+3 > luaiMaxCStack {
			raisef(e.L, "Cannot serialise, excessive nesting (%d)", depth)
		}
		if n, items := e.arrayLength(x); n > 0 {
			e.appendArray(x, n, items, depth, slots)
		} else {
			e.appendObject(x, depth, slots)
		}
	case *lua.LNilType:
		e.buf = append(e.buf, "null"...)
	default:
		if IsNull(v) {
			e.buf = append(e.buf, "null"...)
			return
		}
		e.exception(v, "type not supported")
	}
}

func (e *jsonEncoder) appendArray(tb *lua.LTable, n, items int32, depth int32, slots int) {
	e.buf = append(e.buf, '[')
	if items < n/2 {
		e.appendSparseArray(tb, n, depth, slots)
	} else {
		for i := int32(1); i <= n; i++ {
			if i > 1 {
				e.buf = append(e.buf, ',')
			}
			e.grow(1)
			e.appendData(tb.RawGet(lua.LNumber(i)), depth, slots+1)
		}
	}
	e.buf = append(e.buf, ']')
}

// appendSparseArray writes an array with fewer items than holes (allowed by
// encode_sparse_array) element by element for the items and in bulk for
// the runs of nulls between them.
func (e *jsonEncoder) appendSparseArray(tb *lua.LTable, n int32, depth int32, slots int) {
	var idx []int32
	for k, _ := tb.Next(lua.LNil); k != lua.LNil; k, _ = tb.Next(k) {
		if i := int32(k.(lua.LNumber)); i >= 1 && i <= n && float64(i) == float64(k.(lua.LNumber)) {
			idx = append(idx, i)
		}
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	next := int32(1)
	nulls := func(upto int32) { // nulls for next..upto-1
		if upto <= next {
			return
		}
		cnt := int(upto - next)
		e.grow(cnt * 5)
		for ; next < upto; next++ {
			if next > 1 {
				e.buf = append(e.buf, ',')
			}
			e.buf = append(e.buf, "null"...)
		}
	}
	for _, i := range idx {
		nulls(i)
		if i > 1 {
			e.buf = append(e.buf, ',')
		}
		e.appendData(tb.RawGet(lua.LNumber(i)), depth, slots+1)
		next = i + 1
	}
	nulls(n + 1)
}

func (e *jsonEncoder) appendObject(tb *lua.LTable, depth int32, slots int) {
	e.buf = append(e.buf, '{')
	comma := false
	for _, k := range luaNextOrder(tb) {
		v := tb.RawGet(k)
		if comma {
			e.buf = append(e.buf, ',')
		}
		comma = true
		switch kx := k.(type) {
		case lua.LNumber:
			e.buf = append(e.buf, '"')
			e.appendNumber(k, float64(kx))
			e.buf = append(e.buf, '"', ':')
		case lua.LString:
			e.appendString(string(kx))
			e.buf = append(e.buf, ':')
		default:
			e.exception(k, "table key must be a number or string")
		}
		e.appendData(v, depth, slots+2)
	}
	e.buf = append(e.buf, '}')
}

// encode is cjson.encode.
func (cfg *cjsonConfig) encode(L *lua.LState) int {
	if L.GetTop() != 1 {
		argError(L, 1, "expected 1 argument")
	}
	e := &jsonEncoder{L: L, cfg: cfg}
	e.appendData(L.Get(1), 0, 1)
	L.Push(lua.LString(e.buf))
	return 1
}
