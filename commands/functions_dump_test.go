package commands

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"
)

func TestFunctionDumpRoundTrip(t *testing.T) {
	codes := []string{"#!lua name=a\nredis.register_function('f', function() return 1 end)", "", string(bytes.Repeat([]byte("x"), 70000))}
	got, err := restoreFunctions(dumpFunctions(codes))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(codes) {
		t.Fatalf("%d libraries, want %d", len(got), len(codes))
	}
	for i := range codes {
		if got[i] != codes[i] {
			t.Errorf("library %d changed", i)
		}
	}
	p := dumpFunctions(codes[:1])
	p[3] ^= 1
	if _, err := restoreFunctions(p); err != errDumpPayload {
		t.Fatalf("a corrupt payload: %v", err)
	}
}

// A payload Redis 7.0.15 wrote (FUNCTION DUMP of one library): its code
// is LZF-compressed.
func TestFunctionRestoreRedisPayload(t *testing.T) {
	p, _ := hex.DecodeString("f5c3407c40e51f23216c7561206e616d653d6d796c69620a72656469732e72656769737465725f0b66756e6374696f6e28276d79400b02272c2040066012116b6579732c2061726773292072657475726e2006403d0b63616c6c2827696e6372627920304027025b315d802a2008052920656e6429e0176900322039e03c6a0164290a0079401327daf8cf03")
	codes, err := restoreFunctions(p)
	if err != nil {
		t.Fatal(err)
	}
	const f = "redis.register_function('%s', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)"
	want := "#!lua name=mylib\n" + fmt.Sprintf(f, "myfunc") + "\n" + fmt.Sprintf(f, "myfunc2")
	if len(codes) != 1 || codes[0] != want {
		t.Fatalf("restored %q", codes)
	}
	p[len(p)-1] ^= 1
	if _, err := restoreFunctions(p); err != errDumpPayload {
		t.Fatalf("bad CRC: %v", err)
	}
}

// FuzzRestoreFunctions: any payload is refused with one of Redis's errors
// or decodes to libraries that dump back to a payload decoding the same.
func FuzzRestoreFunctions(f *testing.F) {
	f.Add(dumpFunctions([]string{"#!lua name=a\nredis.register_function('f', function() return 1 end)"}))
	f.Add(dumpFunctions(nil))
	f.Add([]byte("\xf5\xc3\x05\x07\x02abc\x20\x02\x0a\x00"))
	f.Fuzz(func(t *testing.T, p []byte) {
		codes, err := restoreFunctions(p)
		if err != nil {
			switch err {
			case errDumpPayload, errDumpNotFunc, errDumpBadLoaded, errDumpType:
				return
			}
			t.Fatalf("unexpected error %v", err)
		}
		again, err := restoreFunctions(dumpFunctions(codes))
		if err != nil || len(again) != len(codes) {
			t.Fatalf("re-dump: %v", err)
		}
	})
}

// FuzzScriptRegistryRestore: any aux snapshot of the scripts restores or
// fails, and what restores snapshots back to the same bytes.
func FuzzScriptRegistryRestore(f *testing.F) {
	r := newScriptRegistry()
	r.bodies["x"] = "return 1"
	r.add(libSpec{Name: "lib", Code: "code", Funcs: []string{"f", "g"}}, false, true)
	f.Add(r.snapshot())
	f.Add([]byte(scriptSnapshotMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := newScriptRegistry()
		if err := r.restore(b); err != nil {
			return
		}
		s1 := r.snapshot()
		r2 := newScriptRegistry()
		if err := r2.restore(s1); err != nil {
			t.Fatalf("a snapshot does not restore: %v", err)
		}
		if !bytes.Equal(r2.snapshot(), s1) {
			t.Fatal("snapshot changed across a restore")
		}
	})
}
