// Package compattests runs the same command scripts against a real
// redis-server and a LoomCache node and compares the replies byte for byte,
// and drives real clients (go-redis, redis-cli, redis-benchmark) against
// LoomCache. It holds tests only: nothing imports it.
package compattests

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/loomcache/loomcache/resp"
)

// Script files are line based; see testdata/README or the common brief:
//
//	# comment
//	SET foo bar                 a command, split like redis-cli
//	!sort SMEMBERS s            compare the reply with its elements sorted
//	!type PTTL foo              compare only the reply's type byte
//	!rules ACL LIST             compare with runs of single-command ACL rules sorted
//	!noreply-compare RANDOMKEY  send and read, compare nothing
//	!sleep 1100                 sleep that many milliseconds
//	!raw "*1\r\n$4\r\nPING\r\n" send raw bytes, compare all read until idle
//	!resp2 / !resp3 / !both     following lines run under that protocol only

// stepKind is what a script line does.
type stepKind int

const (
	stepCommand stepKind = iota // send Args, read one reply
	stepRaw                     // send Raw, read until idle or closed
	stepSleep                   // wait Sleep
)

// compareMode says how much of a reply must match.
type compareMode int

const (
	compareExact compareMode = iota
	compareSorted
	compareRules
	compareType
	compareNothing
)

// Protocol bits for Step.Protos.
const (
	proto2 = 1 << iota
	proto3
	protoBoth = proto2 | proto3
)

// Step is one runnable line of a script.
type Step struct {
	Line    int    // 1-based line number in the file
	Text    string // the line as written, for messages
	Kind    stepKind
	Compare compareMode
	Args    [][]byte
	Raw     []byte
	Sleep   time.Duration
	Protos  int // proto2|proto3: the protocols the line runs under
}

// RunsUnder reports whether the step runs when the connection speaks
// RESP version proto (2 or 3).
func (s Step) RunsUnder(proto int) bool {
	if proto == 3 {
		return s.Protos&proto3 != 0
	}
	return s.Protos&proto2 != 0
}

// maxSleep keeps a typo in !sleep from stalling the suite.
const maxSleep = 10 * time.Second

// ParseScript parses a script. Any line it cannot understand is an error
// naming file:line, so a broken script fails its test instead of quietly
// running less than it says.
func ParseScript(name string, src []byte) ([]Step, error) {
	var steps []Step
	protos := protoBoth
	for i, text := range strings.Split(string(src), "\n") {
		lineNo := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(text, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fail := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s: %q", name, lineNo, fmt.Sprintf(format, a...), line)
		}
		st := Step{Line: lineNo, Text: line, Protos: protos}
		rest := line
		if strings.HasPrefix(line, "!") {
			directive, after, _ := strings.Cut(line, " ")
			rest = strings.TrimSpace(after)
			switch directive {
			case "!resp2", "!resp3", "!both":
				if rest != "" {
					return nil, fail("%s takes nothing after it", directive)
				}
				protos = map[string]int{"!resp2": proto2, "!resp3": proto3, "!both": protoBoth}[directive]
				continue
			case "!sleep":
				ms, err := strconv.Atoi(rest)
				if err != nil || ms <= 0 || time.Duration(ms)*time.Millisecond > maxSleep {
					return nil, fail("!sleep wants milliseconds between 1 and %d", maxSleep.Milliseconds())
				}
				st.Kind = stepSleep
				st.Sleep = time.Duration(ms) * time.Millisecond
				steps = append(steps, st)
				continue
			case "!raw":
				args, ok := resp.SplitArgs([]byte(rest), nil)
				if !ok || len(args) != 1 || len(args[0]) == 0 {
					return nil, fail("!raw wants one quoted, non-empty string")
				}
				st.Kind = stepRaw
				st.Raw = args[0]
				steps = append(steps, st)
				continue
			case "!sort":
				st.Compare = compareSorted
			case "!type":
				st.Compare = compareType
			case "!rules":
				st.Compare = compareRules
			case "!noreply-compare":
				st.Compare = compareNothing
			default:
				return nil, fail("unknown directive %s", directive)
			}
		}
		args, ok := resp.SplitArgs([]byte(rest), nil)
		if !ok {
			return nil, fail("unbalanced quotes")
		}
		if len(args) == 0 {
			return nil, fail("no command")
		}
		st.Args = args
		steps = append(steps, st)
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("%s: no commands", name)
	}
	return steps, nil
}

// encodeCommand writes args as a RESP multibulk request, as redis-cli and
// every client library send them.
func encodeCommand(args [][]byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n", len(a))
		b.Write(a)
		b.WriteString("\r\n")
	}
	return b.Bytes()
}
