package lualibs

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// call calls lib.fn(args...) in L, protected, and returns its results or
// the error message.
func call(L *lua.LState, lib, fn string, args ...lua.LValue) ([]lua.LValue, string, bool) {
	f := L.GetField(L.GetGlobal(lib), fn)
	top := L.GetTop()
	if err := L.CallByParam(lua.P{Fn: f, NRet: lua.MultRet, Protect: true}, args...); err != nil {
		L.SetTop(top)
		if ae, ok := err.(*lua.ApiError); ok {
			return nil, ae.Object.String(), false
		}
		return nil, err.Error(), false
	}
	res := make([]lua.LValue, 0, L.GetTop()-top)
	for i := top + 1; i <= L.GetTop(); i++ {
		res = append(res, L.Get(i))
	}
	L.SetTop(top)
	return res, "", true
}

// checkNoInternal fails when protect had to catch a Go panic.
func checkNoInternal(t *testing.T, what, msg string) {
	t.Helper()
	if strings.Contains(msg, "internal error") || strings.Contains(msg, "runtime error") {
		t.Fatalf("%s: Go panic caught: %s", what, msg)
	}
}

func FuzzCjsonDecode(f *testing.F) {
	for _, s := range []string{
		`[1,2,3,{"a":1}]`, `{"a":[1,2,{"b":null}],"c":"x"}`, `"\u00e9\ud83d\ude00\/"`,
		`[0x10, 1e400, nan, -inf, +1, 01]`, `[[[[]]]]`, `{"a":{"a":{}}}`, `"\ud800"`, ``,
		"[1]\x00x", `[1e, 2]`, `{"1":1,"1":2}`, `[true,false,null]`, `-0.0`, `1.7976931348623159e308`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		L := newTestState()
		defer L.Close()
		v, msg, ok := call(L, "cjson", "decode", lua.LString(data))
		checkNoInternal(t, "decode", msg)
		if !ok {
			return
		}
		enc, msg, ok := call(L, "cjson", "encode", v[0])
		checkNoInternal(t, "encode", msg)
		if !ok {
			// Only NaN/Inf from decode_invalid_numbers may not encode.
			if !strings.Contains(msg, "must not be NaN or Inf") {
				t.Fatalf("encode(decode(%q)) failed: %s", data, msg)
			}
			return
		}
		v2, msg, ok := call(L, "cjson", "decode", enc[0])
		if !ok {
			t.Fatalf("decode(encode(decode(%q))) = decode(%q) failed: %s", data, enc[0], msg)
		}
		enc2, msg, ok := call(L, "cjson", "encode", v2[0])
		if !ok {
			t.Fatalf("second encode failed: %s", msg)
		}
		// Members come out in C Lua's hash order, which depends on the
		// insertion order, so a second round may permute them (as in Redis).
		if !sameBytes(enc2[0].String(), enc[0].String()) {
			t.Fatalf("encode is not stable for %q: %q then %q", data, enc[0], enc2[0])
		}
	})
}

func FuzzCmsgpackUnpack(f *testing.F) {
	for _, s := range []string{
		"\x01\xa1x\x92\x01\x02", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", "\x81\xc0\x01",
		"\xdd\xff\xff\xff\xff", "\xdb\xff\xff\xff\xff", "\x82\x01\x01\x01\xc0", "\xca\x7f\xc0\x00\x00",
		"\xcb\x7f\xf8\x00\x00\x00\x00\x00\x01", "\x81\x91\x01\x02", "\xde\x00\x01\xa1a\x93\x01\x02\x03",
		"\x81\xce\x03\xff\xff\xff\xc3", "\xc1", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		L := newTestState()
		defer L.Close()
		vals, msg, ok := call(L, "cmsgpack", "unpack", lua.LString(data))
		checkNoInternal(t, "unpack", msg)
		if !ok || len(vals) == 0 || len(vals) > 4000 {
			return
		}
		// Tables nested deeper than 16 pack as nil, so the first round trip
		// may change the data once; after that pack(unpack(p)) is p up to
		// the order of map entries.
		var prev string
		for round := 1; round <= 3; round++ {
			packed, msg, ok := call(L, "cmsgpack", "pack", vals...)
			if !ok {
				t.Fatalf("round %d: pack(unpack(%q)) failed: %s", round, data, msg)
			}
			p := packed[0].String()
			if round == 3 && !sameBytes(p, prev) {
				t.Fatalf("pack is not stable for %q: %q then %q", data, prev, p)
			}
			prev = p
			if vals, msg, ok = call(L, "cmsgpack", "unpack", packed[0]); !ok {
				t.Fatalf("round %d: unpack(%q) failed: %s", round, p, msg)
			}
		}
		// unpack_one and unpack_limit walk the same input without panics.
		_, msg, _ = call(L, "cmsgpack", "unpack_one", lua.LString(data), lua.LNumber(len(data)/2))
		checkNoInternal(t, "unpack_one", msg)
		_, msg, _ = call(L, "cmsgpack", "unpack_limit", lua.LString(data), lua.LNumber(2), lua.LNumber(1))
		checkNoInternal(t, "unpack_limit", msg)
	})
}

func FuzzStructUnpack(f *testing.F) {
	for _, s := range [][2]string{
		{">i4", "\x00\x00\x00\x01"}, {"<i2 I2", "\xff\xff\xff\xff"}, {"b c0", "\x03abcde"},
		{"!4 b i4", "\x01\x00\x00\x00\x02\x00\x00\x00"}, {"s s", "a\x00b\x00"}, {"i16 I9 f d", "x"},
		{"c2147483647", "abc"}, {"i33", ""}, {"!3", ""}, {"c1 c0", "2abc"}, {"x T L l h H", ""},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	f.Fuzz(func(t *testing.T, format string, data []byte) {
		L := newTestState()
		defer L.Close()
		_, msg, _ := call(L, "struct", "size", lua.LString(format))
		checkNoInternal(t, "size", msg)
		vals, msg, ok := call(L, "struct", "unpack", lua.LString(format), lua.LString(data))
		checkNoInternal(t, "unpack", msg)
		if !ok {
			return
		}
		if n, isNum := vals[len(vals)-1].(lua.LNumber); !isNum || n < 1 || int(n) > len(data)+1 {
			t.Fatalf("unpack(%q, %q) returned next position %v", format, data, vals[len(vals)-1])
		}
		args := append([]lua.LValue{lua.LString(format)}, vals[:len(vals)-1]...)
		packed, msg, ok := call(L, "struct", "pack", args...)
		checkNoInternal(t, "pack", msg)
		if ok && len(packed[0].String()) > 64*len(format)+len(data)+64 {
			t.Fatalf("pack(%q, ...) made %d bytes", format, len(packed[0].String()))
		}
	})
}

// sameBytes reports whether a and b hold the same bytes in any order.
func sameBytes(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var count [256]int
	for i := 0; i < len(a); i++ {
		count[a[i]]++
		count[b[i]]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return true
}
