package resp

import (
	"bytes"
	"math"
	"testing"
)

// Each expectation is what Redis 7.0.15 sent for a command producing that
// reply type, over RESP2 and after HELLO 3: GET of a missing key (Null),
// BLPOP timing out (NullArray), HGETALL (Map), SMEMBERS (Set), SUBSCRIBE
// (Push), ZSCORE (Double), EVAL "redis.setresp(3); return true" (Bool),
// CLIENT INFO (Verbatim).
func TestWriterProtocols(t *testing.T) {
	cases := []struct {
		name       string
		write      func(w *Writer)
		resp2, rsp string
	}{
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"map", func(w *Writer) { w.Map(1); w.BulkString("f"); w.BulkString("v") },
			"*2\r\n$1\r\nf\r\n$1\r\nv\r\n", "%1\r\n$1\r\nf\r\n$1\r\nv\r\n"},
		{"empty map", func(w *Writer) { w.Map(0) }, "*0\r\n", "%0\r\n"},
		{"set", func(w *Writer) { w.Set(1); w.BulkString("x") }, "*1\r\n$1\r\nx\r\n", "~1\r\n$1\r\nx\r\n"},
		{"push", func(w *Writer) { w.Push(3); w.BulkString("subscribe"); w.BulkString("ch"); w.Int(1) },
			"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n", ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"},
		{"array", func(w *Writer) { w.Array(2); w.Int(-1); w.BulkInt(7) }, "*2\r\n:-1\r\n$1\r\n7\r\n", "*2\r\n:-1\r\n$1\r\n7\r\n"},
		{"double 1.5", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double 0.1", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
		{"double 1e20", func(w *Writer) { w.Double(1e20) }, "$5\r\n1e+20\r\n", ",1e+20\r\n"},
		{"double 1e16", func(w *Writer) { w.Double(1e16) }, "$17\r\n10000000000000000\r\n", ",10000000000000000\r\n"},
		{"double 1e17", func(w *Writer) { w.Double(1e17) }, "$5\r\n1e+17\r\n", ",1e+17\r\n"},
		{"double 1.2345678901234568e+17", func(w *Writer) { w.Double(123456789012345678) },
			"$22\r\n1.2345678901234568e+17\r\n", ",1.2345678901234568e+17\r\n"},
		{"double 1e-5", func(w *Writer) { w.Double(1e-5) }, "$22\r\n1.0000000000000001e-05\r\n", ",1.0000000000000001e-05\r\n"},
		{"double 0.0001", func(w *Writer) { w.Double(0.0001) }, "$6\r\n0.0001\r\n", ",0.0001\r\n"},
		{"double 3.14159", func(w *Writer) { w.Double(3.14159) }, "$18\r\n3.1415899999999999\r\n", ",3.1415899999999999\r\n"},
		{"double 0", func(w *Writer) { w.Double(0) }, "$1\r\n0\r\n", ",0\r\n"},
		{"double inf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"double -inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		// glibc's printf spelling; Redis itself refuses to store a NaN.
		{"double nan", func(w *Writer) { w.Double(math.NaN()) }, "$3\r\nnan\r\n", ",nan\r\n"},
		{"bool true", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"bool false", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", []byte("id=1\n")) }, "$5\r\nid=1\n\r\n", "=9\r\ntxt:id=1\n\r\n"},
		{"status", func(w *Writer) { w.OK(); w.Status("PONG") }, "+OK\r\n+PONG\r\n", "+OK\r\n+PONG\r\n"},
		{"bulk binary", func(w *Writer) { w.Bulk([]byte("a\r\n\x00")); w.Bulk(nil) }, "$4\r\na\r\n\x00\r\n$0\r\n\r\n", "$4\r\na\r\n\x00\r\n$0\r\n\r\n"},
		// Redis turns CR and LF inside an error into spaces: "*1\r\n\r\n"
		// gets "-ERR Protocol error: expected '$', got ' '".
		{"error newlines", func(w *Writer) { w.Error("ERR Protocol error: expected '$', got '\r'") },
			"-ERR Protocol error: expected '$', got ' '\r\n", "-ERR Protocol error: expected '$', got ' '\r\n"},
	}
	for _, tc := range cases {
		for _, proto := range []int{2, 3} {
			w := NewWriter()
			w.Proto = proto
			tc.write(w)
			want := tc.resp2
			if proto == 3 {
				want = tc.rsp
			}
			if got := string(w.Bytes()); got != want {
				t.Errorf("%s RESP%d: %q, want %q", tc.name, proto, got, want)
			}
		}
	}
}

func TestWriterBuffer(t *testing.T) {
	w := NewWriter()
	w.Status("a")
	n := w.Len()
	w.Int(5)
	w.Truncate(n)
	if got := string(w.Bytes()); got != "+a\r\n" {
		t.Errorf("after Truncate: %q", got)
	}
	w.Reset()
	w.Raw([]byte("+x\r\n"))
	if got := string(w.Bytes()); got != "+x\r\n" || w.Len() != 4 {
		t.Errorf("after Reset and Raw: %q", got)
	}
}

func TestWriterResetReleasesBigBuffer(t *testing.T) {
	w := NewWriter()
	w.Bulk(make([]byte, 4<<20))
	w.Reset()
	if cap(w.Bytes()) > maxKeep {
		t.Errorf("Reset kept a %d byte buffer", cap(w.Bytes()))
	}
	w.Bulk(make([]byte, 1000))
	c := cap(w.Bytes())
	w.Reset()
	if cap(w.Bytes()) != c {
		t.Error("Reset dropped a small buffer")
	}
}

// TestBulkRef: large bulks and raw replies written by reference are the
// same replies as Bulk's and Raw's, whether the buffer is read (Bytes)
// or written out (WriteTo, which sends them from where they are), and
// count in Len.
func TestBulkRef(t *testing.T) {
	big := bytes.Repeat([]byte("v"), minRef)
	reply := append([]byte("$65536\r\n"), append(big, "\r\n"...)...)
	write := func(w *Writer, bulk, raw func([]byte)) {
		w.Status("OK")
		bulk(big)
		bulk([]byte("small"))
		w.Int(7)
		raw(reply)
		bulk(big[1:]) // under minRef: copied
		raw([]byte(":1\r\n"))
		bulk(big)
	}
	var want Writer
	write(&want, want.Bulk, want.Raw)
	for _, out := range []string{"Bytes", "WriteTo"} {
		var w Writer
		write(&w, w.BulkRef, w.RawRef)
		if w.Len() != want.Len() {
			t.Errorf("%s: Len %d, want %d", out, w.Len(), want.Len())
		}
		var got []byte
		if out == "Bytes" {
			got = w.Bytes()
		} else {
			var buf bytes.Buffer
			if n, err := w.WriteTo(&buf); err != nil || n != int64(want.Len()) {
				t.Errorf("WriteTo: %d, %v", n, err)
			}
			got = buf.Bytes()
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s: the replies differ from Bulk's", out)
		}
		w.Truncate(5)
		w.Int(1)
		if string(w.Bytes()) != "+OK\r\n:1\r\n" {
			t.Errorf("%s: after Truncate: %q", out, w.Bytes())
		}
		w.Reset()
		if w.Len() != 0 || len(w.Bytes()) != 0 {
			t.Errorf("%s: Reset left %d bytes", out, w.Len())
		}
	}
}
