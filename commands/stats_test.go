package commands

import (
	"fmt"
	"strings"
	"testing"
)

func TestErrorCode(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"WRONGTYPE Operation against a key", "WRONGTYPE"},
		{"ERR syntax error", "ERR"},
		{"MY_ERR_CODE custom msg", "MY_ERR_CODE"},
		{"", "ERR"},
		{"NOSPACE", "ERR"},
		// Redis looks for the space within 32 bytes of "-CODE...".
		{strings.Repeat("A", 30) + " x", strings.Repeat("A", 30)},
		{strings.Repeat("A", 31) + " x", "ERR"},
	} {
		if got := ErrorCode(tc.msg); got != tc.want {
			t.Errorf("ErrorCode(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}

// TestErrorCodesBounded: past 128 distinct codes, new codes are not
// kept, the known ones still count, and the total counts every error.
func TestErrorCodesBounded(t *testing.T) {
	tb := NewTable()
	for i := range maxErrorCodes + 10 {
		tb.CountError(fmt.Sprintf("C%03d x", i))
	}
	tb.CountError("C000 again")
	got := string(tb.AppendErrorStats(nil))
	if n := strings.Count(got, "\r\n"); n != maxErrorCodes {
		t.Errorf("%d codes kept, want %d", n, maxErrorCodes)
	}
	if !strings.Contains(got, "errorstat_C000:count=2\r\n") || strings.Contains(got, "errorstat_C130") {
		t.Errorf("errorstats:\n%s", got)
	}
	if tb.ErrorReplies() != maxErrorCodes+11 {
		t.Errorf("total_error_replies = %d, want %d", tb.ErrorReplies(), maxErrorCodes+11)
	}
	tb.ResetCommandStats()
	if got := tb.AppendErrorStats(nil); len(got) != 0 || tb.ErrorReplies() != 0 {
		t.Errorf("after reset: %q, total %d", got, tb.ErrorReplies())
	}
}
