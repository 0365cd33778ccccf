package memcopy

import (
	"bytes"
	"testing"
)

func TestCopies(t *testing.T) {
	src := make([]byte, 3*Piece+17)
	for i := range src {
		src[i] = byte(i % 251)
	}
	for _, n := range []int{0, 1, Piece, Piece + 1, len(src)} {
		s := src[:n]
		if got := Append([]byte("head"), s); !bytes.Equal(got, append([]byte("head"), s...)) {
			t.Errorf("Append of %d bytes differs", n)
		}
		if got := AppendString([]byte("head"), string(s)); !bytes.Equal(got, append([]byte("head"), s...)) {
			t.Errorf("AppendString of %d bytes differs", n)
		}
		dst := make([]byte, n+5)
		if k := Copy(dst, s); k != n || !bytes.Equal(dst[:n], s) {
			t.Errorf("Copy of %d bytes: %d, contents differ: %v", n, k, !bytes.Equal(dst[:n], s))
		}
		if k := Copy(dst[:n/2], s); k != n/2 || !bytes.Equal(dst[:n/2], s[:n/2]) {
			t.Errorf("Copy into a shorter dst of %d: %d", n/2, k)
		}
	}
	// Compacting a buffer in place: dst before src, overlapping.
	buf := bytes.Clone(src)
	if k := Copy(buf, buf[Piece/2:]); k != len(src)-Piece/2 || !bytes.Equal(buf[:k], src[Piece/2:]) {
		t.Error("overlapping Copy to the left differs")
	}
	// Grow keeps the bytes and leaves the length; it reuses room it has.
	g := Grow(append(make([]byte, 0, 8), "abc"...), 2*Piece)
	if string(g) != "abc" || cap(g) < 3+2*Piece {
		t.Errorf("Grow: %q, cap %d", g, cap(g))
	}
	if h := Grow(g, 10); &h[0] != &g[0] {
		t.Error("Grow with room to spare copied")
	}
}
