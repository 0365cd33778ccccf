package resp

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// pattern is the content of generated bulks: byte i is i%251, so a
// misplaced or lost piece shows.
var pattern = func() []byte {
	p := make([]byte, 251*4096)
	for i := range p {
		p[i] = byte(i % 251)
	}
	return p
}()

// patternReader yields n pattern bytes in random pieces of up to max bytes
// without holding them, so a test's own memory does not hide the reader's.
type patternReader struct {
	n, off int
	rnd    *rand.Rand
	max    int
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off == p.n {
		return 0, io.EOF
	}
	k := min(len(b), p.n-p.off, 1+p.rnd.Intn(p.max))
	k = min(k, len(pattern)-251)
	copy(b, pattern[p.off%251:p.off%251+k])
	p.off += k
	return k, nil
}

// isPattern reports whether b is n pattern bytes.
func isPattern(b []byte) bool {
	for off := 0; off < len(b); {
		k := min(len(b)-off, len(pattern)-251)
		if !bytes.Equal(b[off:off+k], pattern[off%251:off%251+k]) {
			return false
		}
		off += k
	}
	return true
}

// blockReader stands for a connection gone quiet: its first Read reports
// that it blocks, then waits to be released and ends.
type blockReader struct{ blocked, release chan struct{} }

func (b *blockReader) Read([]byte) (int, error) {
	close(b.blocked)
	<-b.release
	return 0, io.EOF
}

func setHeader(n int) string {
	return "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + strconv.Itoa(n) + "\r\n"
}

func TestReaderBigBulks(t *testing.T) {
	cases := []struct {
		size, piece int
	}{
		{1 << 20, 1},
		{1 << 20, 1000},
		{100 << 20, 1 << 20},
		{100 << 20, 100_000},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d/%d", tc.size, tc.piece), func(t *testing.T) {
			src := io.MultiReader(
				strings.NewReader(setHeader(tc.size)),
				&patternReader{n: tc.size, rnd: rand.New(rand.NewSource(4)), max: tc.piece},
				strings.NewReader("\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
			if tc.piece == 1 {
				src = iotest.OneByteReader(src)
			}
			r := NewReader(src)
			args, err := r.ReadCommand()
			if err != nil {
				t.Fatal(err)
			}
			if len(args) != 3 || string(args[0]) != "SET" || string(args[1]) != "k" || len(args[2]) != tc.size || !isPattern(args[2]) {
				t.Fatalf("SET arrived wrong: %d args, value %d bytes", len(args), len(args[len(args)-1]))
			}
			args, err = r.ReadCommand()
			if err != nil || len(args) != 2 || string(args[0]) != "GET" {
				t.Fatalf("GET after the bulk: %q %v", args, err)
			}
			if _, err := r.ReadCommand(); err != io.EOF {
				t.Fatalf("end: %v, want EOF", err)
			}
		})
	}
}

// heapAlloc returns the live heap after a collection.
func heapAlloc() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestReaderIdleAfterBigRequest(t *testing.T) {
	const size = 100 << 20
	cases := []struct {
		name string
		head string
		body int
		tail string // bytes sent just before going quiet: a partial request
	}{
		{"after 100MB request", setHeader(size), size, "\r\n"},
		{"after 100MB with partial next", setHeader(size), size, "\r\n*1\r\n$4\r\nPI"},
		{"after 100MB inline-mixed pipeline", "PING\r\n" + setHeader(size), size, "\r\nECHO a\r\nPI"},
		// A length alone earns no memory: 512MB announced, 1KB sent.
		{"512MB announced", setHeader(512 << 20), 1024, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			base := heapAlloc()
			blocked, release := make(chan struct{}), make(chan struct{})
			r := NewReader(io.MultiReader(
				strings.NewReader(tc.head),
				&patternReader{n: tc.body, rnd: rand.New(rand.NewSource(5)), max: 1 << 20},
				strings.NewReader(tc.tail),
				&blockReader{blocked, release},
				strings.NewReader("NG\r\n")))
			type result struct {
				args []string
				err  error
			}
			results := make(chan result, 8)
			go func() {
				for {
					args, err := r.ReadCommand()
					res := result{err: err}
					for _, a := range args {
						res.args = append(res.args, fmt.Sprintf("%s/%d/%v", a[:min(len(a), 4)], len(a), isPattern(a)))
					}
					results <- res
					if err != nil {
						return
					}
				}
			}()
			<-blocked
			// The reader now waits for input; whatever it read before
			// must not be pinned by its buffer or argument slices.
			if got := heapAlloc(); got > base+16<<20 {
				t.Errorf("idle reader keeps %d MB of heap", (got-base)>>20)
			}
			if len(r.buf) > maxIdleBuffer {
				t.Errorf("idle reader keeps a %d byte buffer", len(r.buf))
			}
			close(release)
			var got []string
			for res := range results {
				if res.err != nil {
					if res.err != io.EOF {
						t.Errorf("error %v", res.err)
					}
					break
				}
				got = append(got, strings.Join(res.args, " "))
			}
			want := map[string][]string{
				"after 100MB request":               {"SET/3/false k/1/false " + fmt.Sprintf("\x00\x01\x02\x03/%d/true", size), "NG/2/false"},
				"after 100MB with partial next":     {"SET/3/false k/1/false " + fmt.Sprintf("\x00\x01\x02\x03/%d/true", size), "PING/4/false"},
				"after 100MB inline-mixed pipeline": {"PING/4/false", "SET/3/false k/1/false " + fmt.Sprintf("\x00\x01\x02\x03/%d/true", size), "ECHO/4/false a/1/false", "PING/4/false"},
				"512MB announced":                   nil,
			}[tc.name]
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("requests %q, want %q", got, want)
			}
		})
	}
}

// TestReaderMixedSizes sends a long pipeline of requests of every size
// class through random read boundaries, so growing, compacting and
// shrinking the buffer all happen between and inside requests.
func TestReaderMixedSizes(t *testing.T) {
	rnd := rand.New(rand.NewSource(6))
	var in bytes.Buffer
	var want [][]string
	for i := 0; i < 300; i++ {
		var cmd []string
		switch rnd.Intn(4) {
		case 0: // inline
			cmd = []string{"ECHO", strings.Repeat("x", rnd.Intn(100))}
			fmt.Fprintf(&in, "%s \"%s\"\r\n", cmd[0], cmd[1])
		case 1: // empty requests
			in.WriteString([]string{"\r\n", "*0\r\n", "*-1\r\n", " \n"}[rnd.Intn(4)])
			continue
		default:
			sizes := []int{0, 1, 100, 5000, 20_000, 70_000, 300_000}
			n := 1 + rnd.Intn(4)
			fmt.Fprintf(&in, "*%d\r\n", n)
			for j := 0; j < n; j++ {
				a := string(pattern[j : j+sizes[rnd.Intn(len(sizes))]])
				cmd = append(cmd, a)
				fmt.Fprintf(&in, "$%d\r\n%s\r\n", len(a), a)
			}
		}
		want = append(want, cmd)
	}
	for _, piece := range []int{100, 5000, 100_000} {
		r := NewReader(&chunkReader{data: in.Bytes(), rnd: rand.New(rand.NewSource(int64(piece))), max: piece})
		got, err := readAll(t, r, in.Len())
		if err != nil || !equalCmds(got, want) {
			t.Errorf("pieces of %d: %d requests (err %v), want %d, or contents differ", piece, len(got), err, len(want))
		}
	}
}

// TestReaderBigBulkAllocates: a big bulk is read into memory allocated
// little more than once: the buffer doubles only until an eighth of the
// bulk has arrived, then takes its whole length, and what arrived is
// copied once.
func TestReaderBigBulkAllocates(t *testing.T) {
	const size = 64 << 20
	r := NewReader(io.MultiReader(strings.NewReader(setHeader(size)),
		&patternReader{n: size, rnd: rand.New(rand.NewSource(7)), max: 1 << 20}, strings.NewReader("\r\n")))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	args, err := r.ReadCommand()
	runtime.ReadMemStats(&after)
	if err != nil || len(args) != 3 || !isPattern(args[2]) {
		t.Fatalf("SET arrived wrong: %v", err)
	}
	if got, most := after.TotalAlloc-before.TotalAlloc, uint64(size+size/bulkEarned*2+1<<20); got > most {
		t.Errorf("reading a %d MB bulk allocated %d MB, want at most %d MB", size>>20, got>>20, most>>20)
	}
}
