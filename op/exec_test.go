package op

import (
	"bytes"
	"errors"
	"testing"
)

func TestChecksRoundTrip(t *testing.T) {
	for _, checks := range [][]Check{
		nil,
		{{DB: 0, Key: []byte("k"), Version: 7}},
		{{DB: 3, Key: []byte(""), Version: 0, Watch: true}, {Store: true, Version: 1 << 40}, {DB: 15, Key: []byte("a\x00b"), Version: 1}},
	} {
		got, err := DecodeChecks(AppendChecks(nil, checks))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(checks) {
			t.Fatalf("%d checks, want %d", len(got), len(checks))
		}
		for i := range got {
			g, w := got[i], checks[i]
			if g.DB != w.DB || !bytes.Equal(g.Key, w.Key) || g.Version != w.Version || g.Watch != w.Watch || g.Store != w.Store {
				t.Errorf("check %d: %+v, want %+v", i, g, w)
			}
		}
	}
}

func TestChecksMalformed(t *testing.T) {
	good := AppendChecks(nil, []Check{{DB: 1, Key: []byte("key"), Version: 9}})
	for name, b := range map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"trailing":  append(append([]byte(nil), good...), 0),
		"flags":     {1, 0x80, 0, 0, 0},
		"huge":      {0xff, 0xff, 0xff, 0xff, 0x0f},
		"db":        {1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0},
	} {
		if _, err := DecodeChecks(b); !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// FuzzDecodeChecks: any bytes decode or fail with an error; what decodes
// encodes back to the same bytes.
func FuzzDecodeChecks(f *testing.F) {
	f.Add(AppendChecks(nil, []Check{{DB: 2, Key: []byte("x"), Version: 5, Watch: true}, {Store: true}}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		checks, err := DecodeChecks(b)
		if err != nil {
			return
		}
		if again := AppendChecks(nil, checks); !bytes.Equal(again, b) {
			// Varints have one canonical form only when minimal; accept a
			// shorter re-encoding that decodes the same.
			back, err := DecodeChecks(again)
			if err != nil || len(back) != len(checks) {
				t.Fatalf("re-encoding does not decode: %v", err)
			}
		}
	})
}
