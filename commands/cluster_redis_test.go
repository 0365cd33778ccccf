package commands

import (
	"strings"
	"testing"
)

// TestClusterDisabled: every CLUSTER subcommand and ASKING answer as a
// standalone Redis 7.0 does, while READONLY and READWRITE keep their
// follower-read meaning.
func TestClusterDisabled(t *testing.T) {
	x := newTester(t)
	disabled := "-ERR This instance has cluster support disabled\r\n"
	cases := []struct{ line, want string }{
		{"CLUSTER INFO", disabled},
		{"cluster help", disabled},
		{"CLUSTER RESET HARD", disabled},
		{"CLUSTER KEYSLOT foo", disabled},
		{"CLUSTER SETSLOT 1 STABLE", disabled},
		{"ASKING", disabled},
		{"CLUSTER", "-ERR wrong number of arguments for 'cluster' command\r\n"},
		{"CLUSTER INFO x", "-ERR wrong number of arguments for 'cluster|info' command\r\n"},
		{"CLUSTER SETSLOT 1", "-ERR wrong number of arguments for 'cluster|setslot' command\r\n"},
		{"CLUSTER NOSUCH", "-ERR unknown subcommand 'NOSUCH'. Try CLUSTER HELP.\r\n"},
		{"ASKING x", "-ERR wrong number of arguments for 'asking' command\r\n"},
		{"READONLY", "+OK\r\n"},
		{"READWRITE", "+OK\r\n"},
	}
	for _, tc := range cases {
		if got := x.do(tc.line); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.line, got, tc.want)
		}
	}
	// All 27 of Redis 7.0's subcommands are listed.
	if got := x.do("COMMAND INFO cluster"); !strings.Contains(got, "*27\r\n*10\r\n") {
		t.Errorf("COMMAND INFO cluster: %q", got)
	}
}
