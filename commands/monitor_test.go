package commands

import (
	"testing"
	"time"
)

// MONITOR lines as Redis's replicationFeedMonitors writes them: seconds,
// microseconds padded to six digits, the database and the client (or
// "lua"), each argument through sdscatrepr.
func TestAppendMonitorLine(t *testing.T) {
	for _, tc := range []struct {
		now      time.Time
		db       int
		script   bool
		args     []string
		redacted []int
		want     string
	}{
		{time.Unix(1700000000, 7000), 0, false, []string{"SET", "k", "v"},
			nil, `+1700000000.000007 [0 127.0.0.1:5000] "SET" "k" "v"` + "\r\n"},
		{time.Unix(5, 999999000), 15, true, []string{"get", "a b"},
			nil, `+5.999999 [15 lua] "get" "a b"` + "\r\n"},
		{time.Unix(1, 0), 0, false, []string{"x", "\"\\\n\r\t\a\b", "\x00\x1f\x7f\x80\xff~ "},
			nil, `+1.000000 [0 127.0.0.1:5000] "x" "\"\\\n\r\t\a\b" "\x00\x1f\x7f\x80\xff~ "` + "\r\n"},
		{time.Unix(1, 0), 0, false, []string{"AUTH", "u", "p"},
			[]int{1, 2}, `+1.000000 [0 127.0.0.1:5000] "AUTH" "(redacted)" "(redacted)"` + "\r\n"},
		{time.Unix(1, 0), 0, false, []string{"PING"}, nil, `+1.000000 [0 127.0.0.1:5000] "PING"` + "\r\n"},
	} {
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		got := string(AppendMonitorLine(nil, tc.now, tc.db, "127.0.0.1:5000", tc.script, args, tc.redacted))
		if got != tc.want {
			t.Errorf("%q:\n got %s want %s", tc.args, got, tc.want)
		}
	}
}
