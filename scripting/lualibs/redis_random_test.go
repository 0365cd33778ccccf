package lualibs

import (
	"context"
	"flag"
	"fmt"
	"math"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

var randomCases = flag.Int("random-cases", 150, "inputs per generator in TestRedisCompareRandom")

// runLuaArgs is runLua with the global ARGV set as Redis sets it.
func runLuaArgs(script string, argv []string) string {
	L := newTestState()
	defer L.Close()
	tb := L.NewTable()
	for _, a := range argv {
		tb.Append(lua.LString(a))
	}
	L.SetGlobal("ARGV", tb)
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

// randomGenerator makes one input: a script and its ARGV.
type randomGenerator struct {
	name string
	gen  func(r *rand.Rand) (string, []string)
}

func pick(r *rand.Rand, xs []string) string { return xs[r.Intn(len(xs))] }

var jsonPieces = []string{
	"[", "]", "{", "}", ",", ":", ",", ":", `"a"`, `"b"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`,
	`"\/\b\f\n\r\t"`, `"\q"`, `"`, `\`, "1", "-0.5e3", "0x1F", "nan", "inf", "-Infinity", "true",
	"false", "null", " ", "\t", "\n", "tru", "01", "+2", "1e", "1.", ".5", "12345678901234567890",
	"1e400", "-", "\x00", "\xff", "[1,2]", `{"k":[]}`, "4.9e-324",
}

var mpPieces = []string{
	"\x00", "\x7f", "\xff", "\xe0", "\xc0", "\xc2", "\xc3", "\xc1", "\xcc", "\xcd", "\xce", "\xcf",
	"\xd0", "\xd1", "\xd2", "\xd3", "\xca", "\xcb", "\xd9", "\xda", "\xdb", "\xdc", "\xdd", "\xde",
	"\xdf", "\x90", "\x91", "\x92", "\x93", "\x80", "\x81", "\x82", "\xa0", "\xa1", "\xa3", "\xc4",
	"\x01", "\x02", "\x03", "abc", "\x7f\xf8\x00\x00", "\x00\x00\x00\x01", "\x3f\xf0\x00\x00\x00\x00\x00\x00",
}

var structPieces = []string{
	"b", "B", "h", "H", "l", "L", "T", "i", "I", "i3", "I5", "i16", "i0", "f", "d", "c", "c0", "c3", "s",
	"x", "<", ">", "!", "!2", "!4", "!3", " ", "z", "9", "c2147483647", "i40",
}

func randomNumberText(r *rand.Rand) string {
	switch r.Intn(8) {
	case 0:
		return pick(r, []string{"1/0", "-1/0", "0", "-1", "2^31", "2^32", "2^53", "2^63", "-2^63", "2^64", "0.5", "-0.5", "1.5", "2.5"})
	case 1:
		return fmt.Sprintf("%d", r.Int63n(1<<40)-(1<<39))
	case 2:
		return fmt.Sprintf("%d", r.Intn(300)-150)
	case 3:
		return fmt.Sprintf("%.17g", math.Float64frombits(r.Uint64()&^(0x7ff<<52)|uint64(r.Intn(0x7fe)+1)<<52))
	default:
		return fmt.Sprintf("%.17g", (r.Float64()-0.5)*math.Pow(10, float64(r.Intn(40)-20)))
	}
}

func randomLuaString(r *rand.Rand) string {
	var b strings.Builder
	b.WriteByte('\'')
	for n := r.Intn(6); n > 0; n-- {
		fmt.Fprintf(&b, "\\%d", pick(r, []string{"a", "/", "\"", "\\", "\x00", "\x1f", "\x7f", "\xe9", "\n", "z"})[0])
	}
	b.WriteByte('\'')
	return b.String()
}

// randomLuaValue builds the source of a Lua value whose tables have array
// parts and at most one other key, so key order cannot differ.
func randomLuaValue(r *rand.Rand, depth int) string {
	switch k := r.Intn(10); {
	case k < 3:
		return randomNumberText(r)
	case k < 5:
		return randomLuaString(r)
	case k == 5:
		return pick(r, []string{"true", "false", "nil", "cjson.null"})
	default:
		if depth > 3 {
			return "{}"
		}
		var parts []string
		for n := r.Intn(5); n > 0; n-- {
			parts = append(parts, randomLuaValue(r, depth+1))
		}
		switch r.Intn(4) {
		case 0:
			// A literal with holes and another key is laid out by its
			// presized array part in C Lua: not this package's model.
			for i, p := range parts {
				if p == "nil" {
					parts[i] = "0"
				}
			}
			parts = append(parts, fmt.Sprintf("[%d] = %s", r.Intn(30)+1, randomLuaValue(r, depth+1)))
		case 1:
			if len(parts) == 0 {
				parts = append(parts, "x = "+randomLuaValue(r, depth+1))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
}

// randomJSON writes a mostly valid JSON text.
func randomJSON(r *rand.Rand, b *strings.Builder, depth int) {
	switch k := r.Intn(12); {
	case k < 3:
		b.WriteString(pick(r, []string{"0", "-0", "1", "-1", "1e5", "1E-5", "0.1", "-1.5e+300", "4.9e-324",
			"12345678901234567890", "1.7976931348623159e308", "2.5", "0.000001", "123.456e-10"}))
	case k == 3:
		fmt.Fprintf(b, "%.17g", (r.Float64()-0.5)*math.Pow(10, float64(r.Intn(60)-30)))
	case k < 6:
		b.WriteByte('"')
		for n := r.Intn(5); n > 0; n-- {
			b.WriteString(pick(r, []string{"a", `\\`, `\/`, `\"`, `\n`, `\u00e9`, `\uD83D\uDE00`, `\u0000`,
				`\u7fff`, `\uffff`, "\xc3\xa9", "\x01", "\x7f", " "}))
		}
		b.WriteByte('"')
	case k == 6:
		b.WriteString(pick(r, []string{"true", "false", "null"}))
	default:
		if depth > 4 {
			b.WriteString("[]")
			return
		}
		obj := r.Intn(2) == 0
		open, end := "[", "]"
		if obj {
			open, end = "{", "}"
		}
		b.WriteString(open)
		for i, n := 0, r.Intn(4)+r.Intn(2)*r.Intn(12); i < n; i++ {
			if i > 0 {
				b.WriteString(pick(r, []string{",", ",", ", ", " ,\n"}))
			}
			if obj {
				fmt.Fprintf(b, `"%s":`, pick(r, []string{"k", "id", "name", "a", "b", "key1", "key2", "x_y", "", "\u00e9", "10", "3"})+fmt.Sprint(r.Intn(3)))
			}
			randomJSON(r, b, depth+1)
		}
		b.WriteString(end)
	}
}

// mutate sometimes damages s: a byte dropped, replaced or inserted, or a cut.
func mutate(r *rand.Rand, s string, pieces []string) string {
	if r.Intn(3) != 0 || len(s) == 0 {
		return s
	}
	i := r.Intn(len(s))
	switch r.Intn(4) {
	case 0:
		return s[:i] + s[i+1:]
	case 1:
		return s[:i] + pick(r, pieces) + s[i+1:]
	case 2:
		return s[:i] + pick(r, pieces) + s[i:]
	}
	return s[:i]
}

// randomMsgpack writes a msgpack value using every header the decoder knows.
func randomMsgpack(r *rand.Rand, b *strings.Builder, depth int) {
	be := func(n int, v uint64) {
		for i := n - 1; i >= 0; i-- {
			b.WriteByte(byte(v >> (8 * i)))
		}
	}
	switch k := r.Intn(14); {
	case k < 2:
		if r.Intn(2) == 0 {
			b.WriteByte(byte(r.Intn(128))) // positive fixnum
		} else {
			b.WriteByte(byte(0xe0 + r.Intn(32))) // negative fixnum
		}
	case k == 2:
		t := pick(r, []string{"\xcc", "\xd0", "\xcd", "\xd1", "\xce", "\xd2", "\xcf", "\xd3"})
		b.WriteString(t)
		be(map[byte]int{0xcc: 1, 0xd0: 1, 0xcd: 2, 0xd1: 2, 0xce: 4, 0xd2: 4, 0xcf: 8, 0xd3: 8}[t[0]], r.Uint64())
	case k == 3:
		b.WriteByte(0xca)
		be(4, uint64(math.Float32bits(float32((r.Float64()-0.5)*1e6))))
	case k == 4:
		b.WriteByte(0xcb)
		if r.Intn(3) == 0 {
			be(8, r.Uint64())
		} else {
			be(8, math.Float64bits((r.Float64()-0.5)*math.Pow(10, float64(r.Intn(40)-20))))
		}
	case k == 5:
		b.WriteString(pick(r, []string{"\xc0", "\xc2", "\xc3"}))
	case k < 8:
		n := r.Intn(6)
		switch r.Intn(4) {
		case 0:
			b.WriteByte(0xa0 | byte(n))
		case 1:
			b.WriteByte(0xd9)
			be(1, uint64(n))
		case 2:
			b.WriteByte(0xda)
			be(2, uint64(n))
		default:
			b.WriteByte(0xdb)
			be(4, uint64(n))
		}
		for ; n > 0; n-- {
			b.WriteByte(byte(r.Intn(256)))
		}
	default:
		if depth > 4 {
			b.WriteByte(0x90)
			return
		}
		n := r.Intn(4)
		isMap := r.Intn(2) == 0
		switch r.Intn(3) {
		case 0:
			if isMap {
				b.WriteByte(0x80 | byte(n))
			} else {
				b.WriteByte(0x90 | byte(n))
			}
		case 1:
			b.WriteByte(map[bool]byte{false: 0xdc, true: 0xde}[isMap])
			be(2, uint64(n))
		default:
			b.WriteByte(map[bool]byte{false: 0xdd, true: 0xdf}[isMap])
			be(4, uint64(n))
		}
		for i := 0; i < n; i++ {
			if isMap {
				// Keys of one kind at most once, so key order cannot show.
				b.WriteByte(0xa1)
				b.WriteByte(byte('a' + i))
			}
			randomMsgpack(r, b, depth+1)
		}
	}
}

var randomGenerators = []randomGenerator{
	{"cjson.decode", func(r *rand.Rand) (string, []string) {
		var b strings.Builder
		if r.Intn(4) == 0 {
			for n := r.Intn(12) + 1; n > 0; n-- {
				b.WriteString(pick(r, jsonPieces))
			}
		} else {
			randomJSON(r, &b, 0)
		}
		in := mutate(r, b.String(), jsonPieces)
		return `local ok, v = pcall(cjson.decode, ARGV[1]) if not ok then return S(false, v) end ` +
			`local ok2, e = pcall(cjson.encode, v) return S(true, v, ok2, e, ok2 and cmsgpack.pack(v))`, []string{in}
	}},
	{"cmsgpack.unpack", func(r *rand.Rand) (string, []string) {
		var b strings.Builder
		if r.Intn(4) == 0 {
			for n := r.Intn(10) + 1; n > 0; n-- {
				b.WriteString(pick(r, mpPieces))
			}
		} else {
			for n := r.Intn(3) + 1; n > 0; n-- {
				randomMsgpack(r, &b, 0)
			}
		}
		in := mutate(r, b.String(), mpPieces)
		return `return S(pcall(cmsgpack.unpack, ARGV[1])) .. ' / ' .. S(pcall(cmsgpack.unpack_limit, ARGV[1], 2, 1))`, []string{in}
	}},
	{"struct", func(r *rand.Rand) (string, []string) {
		var f strings.Builder
		for n := r.Intn(5) + 1; n > 0; n-- {
			f.WriteString(pick(r, structPieces))
		}
		data := make([]byte, r.Intn(24))
		r.Read(data)
		return `return S(pcall(struct.unpack, ARGV[1], ARGV[2])) .. ' / ' .. S(pcall(struct.size, ARGV[1])) .. ' / ' .. ` +
			`S(pcall(struct.pack, ARGV[1], 1, -2, 'abc', -1.5, 70000, 'xyz', 2^40, 'q'))`, []string{f.String(), string(data)}
	}},
	{"bit", func(r *rand.Rand) (string, []string) {
		a, b := randomNumberText(r), randomNumberText(r)
		return fmt.Sprintf(`local a, b = %s, %s return S(bit.tobit(a), bit.tohex(a, b), bit.band(a, b), bit.bor(a, b), bit.bxor(a, b), `+
			`bit.lshift(a, b), bit.rshift(a, b), bit.arshift(a, b), bit.rol(a, b), bit.ror(a, b), bit.bswap(a), bit.bnot(b))`, a, b), nil
	}},
	{"encode built", func(r *rand.Rand) (string, []string) {
		// Objects built by assignment to an empty table, as C Lua lays
		// them out by rehashing: key order must match byte for byte.
		// Positive integer keys come first and ascending: gopher-lua keeps
		// no record of when they were set relative to the other keys.
		// No key is set to nil (a dead node in C Lua).
		var b strings.Builder
		b.WriteString("local t = {} ")
		var ints []int
		for n := r.Intn(4); n > 0; n-- {
			ints = append(ints, r.Intn(40)+1)
		}
		sort.Ints(ints)
		value := func() string {
			// Values without table literals that mix keys: a literal is
			// presized in C Lua, which this package cannot see.
			switch r.Intn(6) {
			case 0:
				return "{" + randomNumberText(r) + ", " + randomLuaString(r) + "}"
			case 1:
				return "{x = " + randomLuaString(r) + "}"
			case 2:
				return randomLuaString(r)
			case 3:
				return pick(r, []string{"true", "false", "cjson.null", "{}"})
			}
			return randomNumberText(r)
		}
		for _, i := range ints {
			fmt.Fprintf(&b, "t[%d] = %s ", i, value())
		}
		for n := r.Intn(20) + 1; n > 0; n-- {
			var key string
			switch r.Intn(6) {
			case 0:
				key = fmt.Sprint(-r.Intn(5))
			case 1:
				key = randomNumberText(r)
				if f, err := strconv.ParseFloat(key, 64); err == nil && f >= 1 && f == math.Floor(f) {
					key += " + 0.5"
				}
			case 2:
				key = pick(r, []string{"true", "false"})
			default:
				key = fmt.Sprintf("'%s%d'", pick(r, []string{"k", "name", "id", "", "a_b", "Z"}), r.Intn(50))
			}
			fmt.Fprintf(&b, "t[%s] = %s ", key, value())
		}
		b.WriteString(`local ok, e = pcall(cjson.encode, t) local ok2, m = pcall(cmsgpack.pack, t) return S(ok, e, ok2, m)`)
		return b.String(), nil
	}},
	{"encode settings", func(r *rand.Rand) (string, []string) {
		conv := pick(r, []string{"true", "false"})
		inv := pick(r, []string{"true", "false", "'null'"})
		var nums []string
		for n := r.Intn(6) + 1; n > 0; n-- {
			nums = append(nums, randomNumberText(r))
		}
		return fmt.Sprintf(`local c = cjson.new() c.encode_number_precision(%d) c.encode_invalid_numbers(%s) `+
			`c.encode_sparse_array(%s, %d, %d) local t = {%s} t[%d] = %s `+
			`return S(pcall(c.encode, t), pcall(c.encode, {[%s] = 1}))`,
			r.Intn(14)+1, inv, conv, r.Intn(4), r.Intn(12), strings.Join(nums, ", "), r.Intn(30)+1,
			randomNumberText(r), randomNumberText(r)), nil
	}},
	{"encode", func(r *rand.Rand) (string, []string) {
		v := randomLuaValue(r, 0)
		return fmt.Sprintf(`local t = %s return S(pcall(cjson.encode, t)) .. ' / ' .. S(pcall(cmsgpack.pack, t, t))`, v), nil
	}},
}

// TestRedisCompareRandom feeds generated inputs (fixed seed) to Redis and to
// this package and wants identical replies.
func TestRedisCompareRandom(t *testing.T) {
	client := startRedis(t)
	ctx := context.Background()
	for _, g := range randomGenerators {
		g := g
		t.Run(g.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(7))
			fails := 0
			for i := 0; i < *randomCases && fails < 5; i++ {
				script, argv := g.gen(r)
				args := make([]interface{}, len(argv))
				for j, a := range argv {
					args[j] = a
				}
				if err := client.ScriptFlush(ctx).Err(); err != nil {
					t.Fatal(err)
				}
				want := normalizeRedisError(respOfRedis(client.Eval(ctx, prelude+script, nil, args...).Result()))
				if got := runLuaArgs(script, argv); got != want {
					fails++
					t.Errorf("script:\n%s\nargv: %q\nredis:   %q\nlualibs: %q", script, argv, want, got)
				}
			}
		})
	}
}
