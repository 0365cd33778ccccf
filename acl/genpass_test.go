package acl

import (
	"strings"
	"testing"
)

func TestGenPass(t *testing.T) {
	for _, tc := range []struct {
		bits  int64
		chars int
	}{{1, 1}, {4, 1}, {5, 2}, {255, 64}, {256, 64}, {4096, 1024}} {
		p, err := GenPass(tc.bits)
		if err != nil || len(p) != tc.chars || strings.Trim(p, "0123456789abcdef") != "" {
			t.Errorf("GenPass(%d) = %q, %v; want %d hex chars", tc.bits, p, err, tc.chars)
		}
	}
	a, _ := GenPass(256)
	b, _ := GenPass(256)
	if a == b {
		t.Error("two 256-bit passwords are equal")
	}
	for _, bits := range []int64{0, -1, 4097, 1 << 40} {
		if _, err := GenPass(bits); err == nil || err.Error() != GenPassError {
			t.Errorf("GenPass(%d) error = %v", bits, err)
		}
	}
}
