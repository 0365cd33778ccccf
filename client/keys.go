package client

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// cmdInfo is what routing needs of a command, from the node's COMMAND
// reply: where its first key is, whether it only reads (so it may be
// sent again when its connection is lost), whether it is a write the
// server applies a request id to (reqID: one flagged write that does not
// block, or a script; it may be sent again under its id) and whether its
// keys move with its arguments (then the first key position may be 0
// although it has keys).
type cmdInfo struct {
	firstKey int
	readonly bool
	reqID    bool
	movable  bool
	subs     map[string]cmdInfo // container commands: by subcommand
}

// cmdTable maps a lower-case command name to its cmdInfo. It is built
// once, when the client starts, and only read afterwards.
type cmdTable map[string]cmdInfo

// loadCommands reads COMMAND from a node.
func loadCommands(ctx context.Context, rc *redis.Client) (cmdTable, error) {
	reply, err := rc.Do(ctx, "COMMAND").Slice()
	if err != nil {
		return nil, err
	}
	t := make(cmdTable, len(reply))
	for _, e := range reply {
		name, info, ok := parseCommandEntry(e)
		if ok {
			t[name] = info
		}
	}
	return t, nil
}

// parseCommandEntry reads one COMMAND entry: name, arity, flags, first
// key, last key, step, ACL categories, tips, key specs, subcommands.
func parseCommandEntry(e any) (string, cmdInfo, bool) {
	f, ok := e.([]any)
	if !ok || len(f) < 6 {
		return "", cmdInfo{}, false
	}
	name, _ := f[0].(string)
	first, _ := f[3].(int64)
	info := cmdInfo{firstKey: int(first)}
	flags, _ := f[2].([]any)
	var write, blocking bool
	for _, fl := range flags {
		switch fl {
		case "readonly":
			info.readonly = true
		case "movablekeys":
			info.movable = true
		case "write":
			write = true
		case "blocking":
			blocking = true
		}
	}
	// As the server's commands.Command.WritesOnLeader: a blocking
	// command waits where its client is, and its pops are proposed
	// without the client's id.
	info.reqID = write && !blocking || isScript(strings.ToLower(name), true)
	if len(f) > 9 {
		subs, _ := f[9].([]any)
		for _, s := range subs {
			sname, sinfo, ok := parseCommandEntry(s)
			if !ok {
				continue
			}
			if info.subs == nil {
				info.subs = map[string]cmdInfo{}
			}
			// "object|encoding" is found under "encoding".
			_, sub, _ := strings.Cut(sname, "|")
			info.subs[sub] = sinfo
		}
	}
	return strings.ToLower(name), info, name != ""
}

// lookup finds the cmdInfo of a command's arguments (a subcommand's
// when it has one); unknown commands are keyless (the node answers them).
func (t cmdTable) lookup(cmd redis.Cmder) cmdInfo {
	info := t[cmd.Name()]
	if info.subs != nil {
		if args := cmd.Args(); len(args) > 1 {
			if s, ok := info.subs[strings.ToLower(argString(args[1]))]; ok {
				return s
			}
		}
	}
	return info
}

// firstKey returns the position of a command's first key, or 0 for none.
// A command whose keys move with its arguments and whose first key is not
// fixed asks the node (COMMAND GETKEYS), except the scripts, whose layout
// (script, numkeys, keys...) is known.
func (r *router) firstKey(ctx context.Context, cmd redis.Cmder, info cmdInfo) int {
	args := cmd.Args()
	if info.firstKey > 0 || !info.movable {
		if info.firstKey >= len(args) {
			return 0
		}
		return info.firstKey
	}
	if isScript(cmd.Name(), false) {
		if len(args) > 3 && argString(args[2]) != "0" {
			return 3
		}
		return 0
	}
	return r.keyByGetKeys(ctx, cmd)
}

// isScript reports whether a command runs a script or function (numkeys,
// then the keys); writing, only those that may write.
func isScript(name string, writing bool) bool {
	switch name {
	case "eval", "evalsha", "fcall":
		return true
	case "eval_ro", "evalsha_ro", "fcall_ro":
		return !writing
	}
	return false
}

// keyByGetKeys asks a node for the command's keys: the position of the
// first, or 0 for none (or when the node cannot tell: the command then
// goes to partition 0's leader, which forwards it or answers its error).
func (r *router) keyByGetKeys(ctx context.Context, cmd redis.Cmder) int {
	rc := r.anyNode()
	if rc == nil {
		return 0
	}
	args := append([]any{"command", "getkeys"}, cmd.Args()...)
	keys, err := rc.Do(ctx, args...).StringSlice()
	if err != nil || len(keys) == 0 {
		return 0
	}
	for i, a := range cmd.Args()[1:] {
		if argString(a) == keys[0] {
			return i + 1
		}
	}
	return 0
}

// argString is an argument as go-redis sends it, for the few types keys
// and subcommand names come in; others are formatted as go-redis would.
func argString(a any) string {
	switch v := a.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return fmt.Sprint(a)
}
