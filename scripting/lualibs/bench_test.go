package lualibs

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func benchScript(b *testing.B, setup, call string) {
	L := lua.NewState()
	defer L.Close()
	Open(L)
	if err := L.DoString(setup); err != nil {
		b.Fatal(err)
	}
	fn, err := L.LoadString(call)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		L.Push(fn)
		if err := L.PCall(0, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeObject(b *testing.B) {
	benchScript(b, `obj = {} for i = 1, 20 do obj['field' .. i] = i end`, `cjson.encode(obj)`)
}

func BenchmarkEncodeArrayOfObjects(b *testing.B) {
	benchScript(b, `arr = {} for i = 1, 1000 do arr[i] = {id = i, name = 'n' .. i, ok = true} end`, `cjson.encode(arr)`)
}

func BenchmarkEncodeBigObject(b *testing.B) {
	benchScript(b, `big = {} for i = 1, 100000 do big['k' .. i] = i end`, `cjson.encode(big)`)
}

func BenchmarkDecode(b *testing.B) {
	benchScript(b, `s = cjson.encode({a = {1, 2, 3}, b = 'text', c = {d = 1.5, e = false}})`, `cjson.decode(s)`)
}

func BenchmarkMsgpackRoundTrip(b *testing.B) {
	benchScript(b, `v = {1, 2, 'three', {x = 1, y = 2}, 4.5}`, `cmsgpack.unpack(cmsgpack.pack(v))`)
}
