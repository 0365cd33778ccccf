package acl

import (
	"bytes"
	"fmt"

	"github.com/loomcache/loomcache/glob"
)

// Reason says why a command was denied; the values are Redis's ACL_DENIED_*
// codes, whose order decides which denial of several selectors is told.
type Reason uint8

// Denial reasons.
const (
	Allowed       Reason = iota // ACL_OK
	DeniedCommand               // the command (or subcommand) is not allowed
	DeniedKey                   // a key matches no pattern with the needed permission
	DeniedAuth                  // failed AUTH/HELLO; only logged
	DeniedChannel               // a Pub/Sub channel matches no pattern
)

// String is the reason as ACL LOG prints it.
func (r Reason) String() string {
	switch r {
	case DeniedCommand:
		return "command"
	case DeniedKey:
		return "key"
	case DeniedChannel:
		return "channel"
	case DeniedAuth:
		return "auth"
	}
	return "unknown"
}

// KeyRef is a key a command touches: its argument position and the
// permission its key spec needs (see Perm).
type KeyRef struct {
	Pos  int
	Perm Perm
}

// ChannelRef is a channel a command touches. Pattern is set for the
// arguments of PSUBSCRIBE, which must equal an allowed pattern literally;
// PUBLISH, SPUBLISH, SUBSCRIBE and SSUBSCRIBE channels are matched against
// the allowed patterns. Redis checks no channel of the unsubscribe
// commands.
type ChannelRef struct {
	Pos     int
	Pattern bool
}

// Denial is a check's result: Reason is Allowed, or what was denied, with
// Pos the argument position of the key or channel.
type Denial struct {
	Reason Reason
	Pos    int
}

// OK reports whether the command may run.
func (d Denial) OK() bool { return d.Reason == Allowed }

// Check is ACLCheckAllUserCommandPerm: may the user run cmd with args
// (args[0] is the command name) touching these keys and channels? Any
// selector allowing it is enough. Otherwise the denial told is a
// channel's over a key's over the command's, and among those the one at
// the latest argument position, as in Redis.
func (u *User) Check(cmd CmdID, args [][]byte, keys []KeyRef, channels []ChannelRef) Denial {
	relevant, last, pos := DeniedCommand, 0, 0
	for _, s := range u.selectors {
		r := s.check(u.cat, cmd, args, keys, channels, &pos)
		if r == Allowed {
			return Denial{}
		}
		// pos carries over between selectors, as local_idxptr does.
		if r > relevant || (r == relevant && pos > last) {
			relevant, last = r, pos
		}
	}
	return Denial{Reason: relevant, Pos: last}
}

// AllowsEverything reports whether some selector allows every command,
// key and channel, so no check can deny: the caller may skip extracting
// keys (the default user's common case costs nothing).
func (u *User) AllowsEverything() bool {
	for _, s := range u.selectors {
		if s.allCommands && s.allKeys && s.allChannels {
			return true
		}
	}
	return false
}

// check is ACLSelectorCheckCmd.
func (s *selector) check(cat *Catalog, cmd CmdID, args [][]byte, keys []KeyRef, channels []ChannelRef, pos *int) Reason {
	if !s.allCommands && !(cat.valid(cmd) && cat.entries[cmd].noAuth) && !s.bit(cmd) {
		// A blocked command may still be allowed with this first argument.
		allowed := s.firstArgs[cmd]
		idx := 1
		if cat.Parent(cmd) >= 0 {
			idx = 2
		}
		if len(args) < 2 || len(allowed) == 0 || idx >= len(args) {
			return DeniedCommand
		}
		found := false
		for _, a := range allowed {
			if strcaseEqBytes(args[idx], a) {
				found = true
				break
			}
		}
		if !found {
			return DeniedCommand
		}
	}
	if !s.allKeys {
		for _, k := range keys {
			if k.Pos < 0 || k.Pos >= len(args) || !s.keyAllowed(args[k.Pos], k.Perm) {
				*pos = k.Pos
				return DeniedKey
			}
		}
	}
	if !s.allChannels {
		for _, c := range channels {
			if c.Pos < 0 || c.Pos >= len(args) || !channelAllowed(s.chmatch, args[c.Pos], c.Pattern) {
				*pos = c.Pos
				return DeniedChannel
			}
		}
	}
	return Allowed
}

// keyAllowed is ACLSelectorCheckKey for a selector without allkeys.
func (s *selector) keyAllowed(key []byte, need Perm) bool {
	for _, k := range s.keys {
		if k.perm&need != need {
			continue
		}
		if glob.Match(k.match, key, false) {
			return true
		}
	}
	return false
}

// channelAllowed is ACLCheckChannelAgainstList: a literal channel (a
// PSUBSCRIBE pattern) must equal an allowed pattern, as C strings.
func channelAllowed(patterns [][]byte, channel []byte, literal bool) bool {
	for _, p := range patterns {
		if literal {
			if bytes.Equal(cbytes(p), cbytes(channel)) {
				return true
			}
		} else if glob.Match(p, channel, false) {
			return true
		}
	}
	return false
}

// CheckKey is ACLUserCheckKeyPerm, for commands that find keys as they
// run (SORT BY/GET, scripts): may any selector touch key with need?
func (u *User) CheckKey(key []byte, need Perm) bool {
	for _, s := range u.selectors {
		if s.allKeys || s.keyAllowed(key, need) {
			return true
		}
	}
	return false
}

// CheckChannel is ACLUserCheckChannelPerm.
func (u *User) CheckChannel(channel []byte, literal bool) bool {
	for _, s := range u.selectors {
		if s.allChannels || channelAllowed(s.chmatch, channel, literal) {
			return true
		}
	}
	return false
}

// NoPermError is the reply Redis sends a client whose command was denied,
// e.g. "NOPERM this user has no permissions to run the 'get' command".
func (c *Catalog) NoPermError(cmd CmdID, d Denial) string {
	switch d.Reason {
	case DeniedCommand:
		return "NOPERM this user has no permissions to run the '" + c.Name(cmd) + "' command"
	case DeniedKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case DeniedChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return ""
}

// DryRunMessage is ACL DRYRUN's bulk reply for a denial ("" when allowed:
// the reply is then +OK). args are the dry-run command's own arguments.
func (c *Catalog) DryRunMessage(cmd CmdID, args [][]byte, d Denial) string {
	switch d.Reason {
	case DeniedCommand:
		return fmt.Sprintf("This user has no permissions to run the '%s' command", c.Name(cmd))
	case DeniedKey:
		return fmt.Sprintf("This user has no permissions to access the '%s' key", argAt(args, d.Pos))
	case DeniedChannel:
		return fmt.Sprintf("This user has no permissions to access the '%s' channel", argAt(args, d.Pos))
	}
	return ""
}

// ScriptMessage is the error a script's redis.call gets for a denial
// (the caller adds Redis's "ERR " and the script location).
func ScriptMessage(d Denial) string {
	switch d.Reason {
	case DeniedCommand:
		return "The user executing the script can't run this command or subcommand"
	case DeniedKey:
		return "The user executing the script can't access at least one of the keys mentioned in the command arguments"
	case DeniedChannel:
		return "The user executing the script can't publish to the channel mentioned in the command"
	}
	return ""
}

// LogObject is the object an ACL LOG entry names for a denial: the
// command's full name, or the denied key or channel argument.
func (c *Catalog) LogObject(cmd CmdID, args [][]byte, d Denial) string {
	if d.Reason == DeniedCommand {
		return c.Name(cmd)
	}
	if d.Pos >= 0 && d.Pos < len(args) {
		return string(args[d.Pos])
	}
	return ""
}

// argAt is argument i as "%s" prints it: up to its first NUL byte.
func argAt(args [][]byte, i int) string {
	if i < 0 || i >= len(args) {
		return ""
	}
	return cstr(string(args[i]))
}

// CheckCmdUnrestrictedKeys is ACLUserCheckCmdWithUnrestrictedKeyAccess:
// does some selector both allow the command (as Check does) and reach
// every key with need (allkeys, or a "*" pattern granting need)? SORT
// asks it before BY and GET read keys named by the data.
func (u *User) CheckCmdUnrestrictedKeys(cmd CmdID, args [][]byte, keys []KeyRef, need Perm) bool {
	for _, s := range u.selectors {
		var pos int
		if s.check(u.cat, cmd, args, keys, nil, &pos) == Allowed && s.unrestrictedKeys(need) {
			return true
		}
	}
	return false
}

// unrestrictedKeys is ACLSelectorHasUnrestrictedKeyAccess.
func (s *selector) unrestrictedKeys(need Perm) bool {
	if s.allKeys {
		return true
	}
	for _, k := range s.keys {
		if k.perm&need == need && k.pattern == "*" {
			return true
		}
	}
	return false
}
