package acl

import "fmt"

// ruleErr is the errno ACLSetUser leaves behind; its text is
// ACLSetUserStringError's.
type ruleErr uint8

const (
	ruleOK             ruleErr = iota
	errSyntax                  // EINVAL
	errUnknown                 // ENOENT
	errKeyAfterAll             // EEXIST
	errChannelAfterAll         // EISDIR
	errNoSuchPassword          // ENODEV
	errBadHash                 // EBADMSG
	errFirstArgOfSub           // ECHILD
)

func (e ruleErr) String() string {
	switch e {
	case errUnknown:
		return "Unknown command or category name in ACL"
	case errSyntax:
		return "Syntax error"
	case errKeyAfterAll:
		return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
	case errChannelAfterAll:
		return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
	case errNoSuchPassword:
		return "The password you are trying to remove from the user does not exist"
	case errBadHash:
		return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
	case errFirstArgOfSub:
		return "Allowing first-arg of a subcommand is not supported"
	}
	return "Wrong format"
}

// Replies of ACL SETUSER and ACL DELUSER that are not about one rule.
const (
	errUsernameSpaces    = "ERR Usernames can't contain spaces or null characters"
	errDeleteDefault     = "ERR The 'default' user cannot be removed"
	unmatchedParenthesis = "ERR Unmatched parenthesis in acl selector starting at '%s'."
)

// RuleError is ACL SETUSER's error for one rule; Error is Redis's reply
// text, "ERR Error in ACL SETUSER modifier '<rule>': <reason>".
type RuleError struct {
	Rule string // the rule as given (after selector merging)
	code ruleErr
}

func (e *RuleError) Error() string {
	return fmt.Sprintf("ERR Error in ACL SETUSER modifier '%s': %s", cstr(e.Rule), e.code)
}

// Reason is the part after the colon, as ACL LOAD also reports it.
func (e *RuleError) Reason() string { return e.code.String() }

// replyError is an error whose text is the whole reply.
type replyError string

func (e replyError) Error() string { return string(e) }

// mergeSelectors is ACLMergeSelectorArguments: a selector may be spread
// over several arguments, "(+get" "~a)", which are joined with spaces.
// An argument starting with '(' while one is open starts over, as in
// Redis. bad is the index of the unclosed selector's first argument.
func mergeSelectors(args []string) (merged []string, bad int, ok bool) {
	open := -1
	var cur string
	for j, op := range args {
		if at(op, 0) == '(' && op[len(op)-1] != ')' {
			cur, open = op, j
			continue
		}
		if open >= 0 {
			cur += " " + cstr(op)
			if len(op) > 0 && op[len(op)-1] == ')' {
				open = -1
				merged = append(merged, cur)
			}
			continue
		}
		merged = append(merged, op)
	}
	if open >= 0 {
		return nil, open, false
	}
	return merged, 0, true
}
