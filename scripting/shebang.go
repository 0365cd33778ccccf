package scripting

import (
	"strings"

	"github.com/loomcache/loomcache/resp"
)

// Flags are a script's or function's flags (Redis's SCRIPT_FLAG_*).
type Flags uint64

// The flags a shebang or register_function may carry, with Redis's values.
const (
	FlagNoWrites       Flags = 1 << 0
	FlagAllowOOM       Flags = 1 << 1
	FlagAllowStale     Flags = 1 << 2
	FlagNoCluster      Flags = 1 << 3
	FlagEvalCompat     Flags = 1 << 4 // EVAL body without a shebang: legacy semantics
	FlagAllowCrossSlot Flags = 1 << 5
)

// flagNames is scripts_flags_def, in Redis's order.
var flagNames = [...]struct {
	name string
	flag Flags
}{
	{"no-writes", FlagNoWrites},
	{"allow-oom", FlagAllowOOM},
	{"allow-stale", FlagAllowStale},
	{"no-cluster", FlagNoCluster},
	{"allow-cross-slot-keys", FlagAllowCrossSlot},
}

// Has reports whether all of x are set.
func (f Flags) Has(x Flags) bool { return f&x == x }

// NoShebang reports Redis's "eval compat mode": an EVAL body without a
// shebang, which runs with the command's own flags (may write, deny-oom)
// instead of declared ones.
func (f Flags) NoShebang() bool { return f&FlagEvalCompat != 0 }

// Names lists the set flags by their Redis names (for FUNCTION LIST).
func (f Flags) Names() []string {
	var out []string
	for _, d := range flagNames {
		if f&d.flag != 0 {
			out = append(out, d.name)
		}
	}
	return out
}

// ReadOnly reports whether a run with these flags may not write: a *_RO
// command, or a script that declared no-writes.
func (f Flags) ReadOnly(roCommand bool) bool {
	return roCommand || (!f.NoShebang() && f&FlagNoWrites != 0)
}

// ParseShebang extracts the flags from an EVAL body as Redis's
// evalExtractShebangFlags does. shebangLen is the length of the first line
// without its newline (the compiled body starts at the newline so line
// numbers stay right); it is 0 without a shebang. err is the message
// without the "ERR " code.
func ParseShebang(body string) (flags Flags, shebangLen int, err error) {
	if !strings.HasPrefix(body, "#!") {
		return FlagEvalCompat, 0, nil
	}
	end := strings.IndexByte(body, '\n')
	if end < 0 {
		return 0, 0, errorf("ERR Invalid script shebang")
	}
	parts, ok := resp.SplitArgs([]byte(body[:end]), nil)
	if !ok || len(parts) == 0 {
		return 0, 0, errorf("ERR Invalid engine in script shebang")
	}
	if string(parts[0]) != "#!lua" {
		return 0, 0, errorf("ERR Unexpected engine in script shebang: %s", cstr(string(parts[0])))
	}
	for _, p := range parts[1:] {
		ps := string(p)
		if !strings.HasPrefix(ps, "flags=") {
			return 0, 0, errorf("ERR Unknown lua shebang option: %s", cstr(ps))
		}
		// sdssplitlen of an empty string yields no parts: "flags=" is no flag.
		if rest := ps[6:]; rest != "" {
			for _, name := range strings.Split(rest, ",") {
				f, ok := flagByName(name, false)
				if !ok {
					return 0, 0, errorf("ERR Unexpected flag in script shebang: %s", cstr(name))
				}
				flags |= f
			}
		}
	}
	return flags, end, nil
}

func flagByName(name string, fold bool) (Flags, bool) {
	for _, d := range flagNames {
		if d.name == name || (fold && strings.EqualFold(d.name, name)) {
			return d.flag, true
		}
	}
	return 0, false
}

// cstr cuts s at its first NUL, as a C string formatted with %s would be.
func cstr(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}
