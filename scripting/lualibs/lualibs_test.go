package lualibs

import (
	"math"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

func TestFmtG(t *testing.T) {
	// Expected values are glibc's printf("%.14g"), ("%.3g"), ("%.1g").
	cases := []struct {
		v           float64
		g14, g3, g1 string
	}{
		{0, "0", "0", "0"},
		{math.Copysign(0, -1), "-0", "-0", "-0"},
		{1, "1", "1", "1"},
		{0.1, "0.1", "0.1", "0.1"},
		{1.0 / 3, "0.33333333333333", "0.333", "0.3"},
		{1e15, "1e+15", "1e+15", "1e+15"},
		{123456789012345678, "1.2345678901235e+17", "1.23e+17", "1e+17"},
		{1e-5, "1e-05", "1e-05", "1e-05"},
		{1e-4, "0.0001", "0.0001", "0.0001"},
		{0.00012345678901234, "0.00012345678901234", "0.000123", "0.0001"},
		{5e-324, "4.9406564584125e-324", "4.94e-324", "5e-324"},
		{math.MaxFloat64, "1.7976931348623e+308", "1.8e+308", "2e+308"},
		{1 << 53, "9.007199254741e+15", "9.01e+15", "9e+15"},
		{100, "100", "100", "1e+02"},
		{1e100, "1e+100", "1e+100", "1e+100"},
		{2.5e-7, "2.5e-07", "2.5e-07", "2e-07"},
		{99999999999999.5, "1e+14", "1e+14", "1e+14"},
		{math.Inf(1), "inf", "inf", "inf"},
		{math.Inf(-1), "-inf", "-inf", "-inf"},
		{math.Float64frombits(negNaNBits), "-nan", "-nan", "-nan"},
		{math.Float64frombits(nanBits), "nan", "nan", "nan"},
	}
	for _, c := range cases {
		for _, p := range []struct {
			prec int
			want string
		}{{14, c.g14}, {3, c.g3}, {1, c.g1}} {
			if got := fmtG(c.v, p.prec); got != p.want {
				t.Errorf("fmtG(%v, %d) = %q, want %q", c.v, p.prec, got, p.want)
			}
		}
	}
}

func TestStrtod(t *testing.T) {
	cases := []struct {
		in   string
		want float64
		end  int
	}{
		{"1", 1, 1},
		{"  -1.5e3x", -1500, 8},
		{"1e", 1, 1},
		{"1e+", 1, 1},
		{".5", 0.5, 2},
		{"1.", 1, 2},
		{".", 0, 0},
		{"-", 0, 0},
		{"+-1", 0, 0},
		{"0x10", 16, 4},
		{"0x1p-2", 0.25, 6},
		{"0x1.8p1", 3, 7},
		{"0x", 0, 1},
		{"0xg", 0, 1},
		{"0x.8", 0.5, 4},
		{"0x1p", 1, 3},
		{"inf", math.Inf(1), 3},
		{"-Infinity", math.Inf(-1), 9},
		{"infinit", math.Inf(1), 3},
		{"1e400", math.Inf(1), 5},
		{"-1e400", math.Inf(-1), 6},
		{"1e-400", 0, 6},
		{"4.9e-324", 5e-324, 8},
		{"1\x002", 1, 1},
	}
	for _, c := range cases {
		got, end := strtod(c.in, 0)
		if got != c.want || end != c.end || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("strtod(%q) = %v, %d; want %v, %d", c.in, got, end, c.want, c.end)
		}
	}
	for _, c := range []struct {
		in  string
		end int
		neg bool
	}{{"nan", 3, false}, {"-NaN", 4, true}, {"nan(12_ab)x", 10, false}, {"nan(12", 3, false}} {
		got, end := strtod(c.in, 0)
		if !math.IsNaN(got) || end != c.end || math.Signbit(got) != c.neg {
			t.Errorf("strtod(%q) = %v, %d", c.in, got, end)
		}
	}
}

func TestStr2d(t *testing.T) {
	cases := []struct {
		in string
		v  float64
		ok bool
	}{
		{"12", 12, true},
		{"  12  ", 12, true},
		{"0x10", 16, true},
		{"1e3", 1000, true},
		{"12a", 0, false},
		{"", 0, false},
		{"  ", 0, false},
		{"0x", 0, false},
		{"1\x00junk", 1, true},
		{"\n\t5\v", 5, true},
	}
	for _, c := range cases {
		v, ok := str2d(c.in)
		if v != c.v || ok != c.ok {
			t.Errorf("str2d(%q) = %v, %v; want %v, %v", c.in, v, ok, c.v, c.ok)
		}
	}
}

func TestCIntConversions(t *testing.T) {
	if cInt64(math.NaN()) != math.MinInt64 || cInt64(1e19) != math.MinInt64 || cInt64(-1.9) != -1 {
		t.Error("cInt64")
	}
	if cInt32(2147483648) != math.MinInt32 || cInt32(-2147483648.5) != -2147483648 || cInt32(7.9) != 7 {
		t.Error("cInt32")
	}
	if cUint64(math.Pow(2, 64)) != 0 || cUint64(math.NaN()) != 1<<63 || cUint64(math.Pow(2, 63)+4096) != 1<<63|4096 || cUint64(-1) != math.MaxUint64 {
		t.Error("cUint64")
	}
}

// run runs a chunk in a fresh state and returns its first result as text.
func run(t *testing.T, script string) string {
	t.Helper()
	return runLua(script)
}

func TestLibraries(t *testing.T) {
	cases := []struct{ script, want string }{
		{`return cjson.encode({1, 2, 3, {a = 1}})`, `s:[1,2,3,{"a":1}]`},
		{`return cjson.encode({a = {b = 'x/y'}})`, `s:{"a":{"b":"x\/y"}}`},
		{`return S(pcall(cjson.encode, {[1] = 1, [100] = 2}))`, `s:false | "Cannot serialise table: excessively sparse array"`},
		{`return S(cjson.decode('[1, "a", null, true]'))`, `s:{1=1,2="a",3=null,4=true}`},
		{`return S(pcall(cjson.decode, '[1 2]'))`, `s:false | "Expected comma or array end but found T_NUMBER at character 4"`},
		{`return cmsgpack.pack(1, 2.5, 'x', {1, 2})`, "s:\x01\xca\x40\x20\x00\x00\xa1x\x92\x01\x02"},
		{`return cmsgpack.pack(0.1)`, "s:\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a"},
		{`return S(cmsgpack.unpack('\1\161x'))`, `s:1 | "x"`},
		{`return bit.tohex(-1)`, `s:ffffffff`},
		{`return bit.band(0xff, 0x0f)`, `i:15`},
		{`return struct.pack('>i4', 1)`, "s:\x00\x00\x00\x01"},
		{`return S(struct.unpack('<I2 b', '\1\2\255'))`, `s:513 | -1 | 4`},
		{`return struct.size('!4 b i4')`, `i:8`},
		{`return S(pcall(struct.pack, 'i40', 1))`, `s:false | "integral size 40 is larger than limit of 32"`},
	}
	for _, c := range cases {
		if got := run(t, c.script); got != c.want {
			t.Errorf("%s\ngot  %q\nwant %q", c.script, got, c.want)
		}
	}
}

func TestOpenAndNull(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	Open(L)
	for _, g := range []string{"cjson", "cmsgpack", "bit", "struct"} {
		if L.GetGlobal(g).Type() != lua.LTTable {
			t.Errorf("global %s is %s", g, L.GetGlobal(g).Type())
		}
	}
	null := L.GetField(L.GetGlobal("cjson"), "null")
	if !IsNull(null) || IsNull(lua.LNil) || IsNull(L.NewUserData()) || IsNull(lua.LString("null")) {
		t.Error("IsNull")
	}
	if err := L.DoString(`assert(cjson.decode('null') == cjson.null) assert(cjson.new().null == cjson.null)`); err != nil {
		t.Error(err)
	}
}

// TestStatesIndependent: cjson settings belong to one LState.
func TestStatesIndependent(t *testing.T) {
	a, b := lua.NewState(), lua.NewState()
	defer a.Close()
	defer b.Close()
	Open(a)
	Open(b)
	if err := a.DoString(`cjson.encode_max_depth(2) cjson.encode_invalid_numbers(true)`); err != nil {
		t.Fatal(err)
	}
	if err := b.DoString(`assert(cjson.encode_max_depth() == 1000) assert(not pcall(cjson.encode, 1/0))`); err != nil {
		t.Error(err)
	}
	if err := a.DoString(`assert(cjson.encode_max_depth() == 2) assert(cjson.encode(1/0) == 'inf')`); err != nil {
		t.Error(err)
	}
}

func TestProtectTurnsPanicsIntoErrors(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	L.SetGlobal("boom", L.NewFunction(protect(func(L *lua.LState) int {
		var s []int
		return s[3]
	})))
	err := L.DoString(`boom()`)
	if err == nil || !strings.Contains(err.Error(), "internal error") {
		t.Fatalf("got %v", err)
	}
	// Lua errors pass through unchanged.
	L.SetGlobal("fail", L.NewFunction(protect(func(L *lua.LState) int {
		raise(L, "plain")
		return 0
	})))
	if err := L.DoString(`local ok, e = pcall(fail) assert(e == 'plain', e)`); err != nil {
		t.Fatal(err)
	}
}

// TestResourceGuards: inputs that claim huge sizes fail fast and small.
func TestResourceGuards(t *testing.T) {
	cases := []struct{ script, want string }{
		{`return S(pcall(cmsgpack.unpack, '\221\255\255\255\255'))`, `s:false | "Missing bytes in input."`},
		{`return S(pcall(cmsgpack.unpack, '\223\255\255\255\255'))`, `s:false | "Missing bytes in input."`},
		{`return S(pcall(cmsgpack.unpack, '\219\255\255\255\255'))`, `s:false | "Missing bytes in input."`},
		{`return S(pcall(cmsgpack.unpack, '\129\206\3\255\255\255\195'))`, `s:false | "not enough memory"`},
		{`return S(pcall(cmsgpack.unpack, '\129\206\0\15\0\0\195'))`, `s:true | {983040=true}`},
		{`return S(pcall(struct.pack, 'c2147483647', 'a'))`, `s:false | "bad argument #3 to '?' (string too short)"`},
		{`return S(pcall(struct.pack, 'i2147483647', 1))`, `s:false | "integral size 2147483647 is larger than limit of 32"`},
		{`return S(pcall(struct.unpack, 'c2147483647', 'a'))`, `s:false | "bad argument #2 to '?' (data string too short)"`},
		{`local c = cjson.new() c.encode_sparse_array(false, 0) return S(pcall(c.encode, {[2^31-1] = 1}))`, `s:false | "not enough memory"`},
	}
	for _, c := range cases {
		start := time.Now()
		if got := run(t, c.script); got != c.want {
			t.Errorf("%s\ngot  %q\nwant %q", c.script, got, c.want)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("%s took %v", c.script, d)
		}
	}
}
