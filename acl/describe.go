package acl

import "strings"

// Descriptions follow Redis 7.0's ACLDescribeUser. Command rules are not
// the rules that were typed: they are recomputed from the selector's
// bitmap by a best-fit over the categories, then single commands, so
// "+@string -get" and its reload print the same. Redis walks its command
// dict in hash order for the single commands (which varies between
// restarts); this package walks the catalog in order.

// Describe is the user's ACL LIST line without "user <name> ".
func (u *User) Describe() string { return u.describe(false) }

// describe writes the description; exact keeps "%RW~*" apart from "~*"
// (allkeys), which Redis prints alike but which behave differently under
// later rules, and quotes what the aclfile split would mangle. Exact is
// for snapshots only.
func (u *User) describe(exact bool) string {
	var b strings.Builder
	for _, f := range u.Flags() {
		b.WriteString(f)
		b.WriteByte(' ')
	}
	for _, p := range u.passwords {
		b.WriteByte('#')
		b.WriteString(p)
		b.WriteByte(' ')
	}
	for i, s := range u.selectors {
		if i == 0 {
			u.describeSelector(&b, s, exact, false)
			continue
		}
		b.WriteString(" (")
		u.describeSelector(&b, s, exact, true)
		b.WriteByte(')')
	}
	return b.String()
}

// Flags is ACL GETUSER's flags list, in Redis's order.
func (u *User) Flags() []string {
	flags := make([]string, 0, 3)
	if u.enabled {
		flags = append(flags, "on")
	} else {
		flags = append(flags, "off")
	}
	if u.nopass {
		flags = append(flags, "nopass")
	}
	switch u.sanitize {
	case sanitizeSkip:
		flags = append(flags, "skip-sanitize-payload")
	case sanitizePayload:
		flags = append(flags, "sanitize-payload")
	}
	return flags
}

func (u *User) describeSelector(b *strings.Builder, s *selector, exact, nested bool) {
	tok := func(t string) {
		if exact && needsQuote(t, nested) {
			t = quoteArg(t)
		}
		b.WriteString(t)
	}
	if s.allKeys {
		b.WriteString("~* ")
	} else {
		for _, k := range s.keys {
			if exact && k.perm == PermAll && k.pattern == "*" {
				tok("%RW~*")
			} else {
				tok(keyPatternString(k))
			}
			b.WriteByte(' ')
		}
	}
	if s.allChannels {
		b.WriteString("&* ")
	} else {
		b.WriteString("resetchannels ")
		for _, c := range s.channels {
			tok("&" + c)
			b.WriteByte(' ')
		}
	}
	for i, r := range u.commandRules(s) {
		if i > 0 {
			b.WriteByte(' ')
		}
		tok(r)
	}
}

// needsQuote reports whether a token would not survive the aclfile's
// split on spaces and trim of tabs and newlines, or, inside a selector,
// sdssplitargs and the merging of selector pieces (which ends at a piece
// ending in ')').
func needsQuote(t string, nested bool) bool {
	if t == "" {
		return nested
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c < 0x21 || c > 0x7e || (nested && (c == '"' || c == '\'')) {
			return true
		}
	}
	return nested && t[len(t)-1] == ')' || t[0] == '"'
}

func keyPatternString(k keyPattern) string {
	switch k.perm {
	case PermRead:
		return "%R~" + k.pattern
	case PermWrite:
		return "%W~" + k.pattern
	}
	return "~" + k.pattern
}

// commandRules is ACLDescribeSelectorCommandRules, as a list of rules.
func (u *User) commandRules(s *selector) []string {
	cat := u.cat
	var rules []string
	// fake follows the rules as they are emitted, so each step knows
	// what is left to express; temp loses each applied category.
	fake := &selector{bits: make([]uint64, len(s.bits))}
	additive := !s.future
	if additive {
		rules = append(rules, "-@all")
	} else {
		rules = append(rules, "+@all")
		fake.setAll(true)
	}
	temp := &selector{bits: append([]uint64(nil), s.bits...)}
	applied := make([]bool, len(cat.categories))
	for {
		best, mindiff, maxsame := -1, int(^uint(0)>>1), 0
		for j := range cat.categories {
			if applied[j] {
				continue
			}
			on, off := cat.countCategory(temp, 1<<j)
			diff, same := off, on
			if !additive {
				diff, same = on, off
			}
			if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
				best, mindiff, maxsame = j, diff, same
			}
		}
		if best < 0 {
			break
		}
		sign := "+@"
		if !additive {
			sign = "-@"
		}
		fake.setCategory(cat, 1<<best, additive)
		temp.setCategory(cat, 1<<best, !additive)
		rules = append(rules, sign+cat.categories[best])
		applied[best] = true
	}
	for _, id := range cat.top {
		rules = u.singleCommandRules(s, fake, id, rules)
		for _, sub := range cat.entries[id].subs {
			rules = u.singleCommandRules(s, fake, sub, rules)
		}
		if !s.bit(id) {
			for _, a := range s.firstArgs[id] {
				rules = append(rules, "+"+cat.entries[id].name+"|"+a)
			}
		}
	}
	return rules
}

// singleCommandRules emits +cmd or -cmd where the bitmap still differs.
func (u *User) singleCommandRules(s, fake *selector, id CmdID, rules []string) []string {
	userbit := s.bit(id)
	if userbit == fake.bit(id) {
		return rules
	}
	sign := "-"
	if userbit {
		sign = "+"
	}
	fake.changePerm(u.cat, id, userbit)
	return append(rules, sign+u.cat.entries[id].name)
}

// countCategory is ACLCountCategoryBitsForCommands: how many commands
// (and subcommands) of a category the selector allows and denies.
func (c *Catalog) countCategory(s *selector, flag uint64) (on, off int) {
	for i := range c.entries {
		if c.entries[i].cats&flag != 0 {
			if s.bit(CmdID(i)) {
				on++
			} else {
				off++
			}
		}
	}
	return on, off
}

// SelectorInfo is one selector as ACL GETUSER shows it.
type SelectorInfo struct {
	Commands string // "-@all +get"
	Keys     string // "~*" or the patterns, space separated ("~a %R~b")
	Channels string // "&*" or the patterns, space separated ("&a &b")
}

// UserInfo is ACL GETUSER's reply: Flags is a set, Passwords the hashes,
// the root selector's fields, then every other selector.
type UserInfo struct {
	Flags     []string
	Passwords []string
	SelectorInfo
	Selectors []SelectorInfo
}

// Info returns what ACL GETUSER prints for the user.
func (u *User) Info() UserInfo {
	info := UserInfo{
		Flags:        u.Flags(),
		Passwords:    append([]string{}, u.passwords...),
		SelectorInfo: u.selectorInfo(u.selectors[0]),
		Selectors:    []SelectorInfo{},
	}
	for _, s := range u.selectors[1:] {
		info.Selectors = append(info.Selectors, u.selectorInfo(s))
	}
	return info
}

func (u *User) selectorInfo(s *selector) SelectorInfo {
	info := SelectorInfo{Commands: strings.Join(u.commandRules(s), " "), Keys: "~*", Channels: "&*"}
	if !s.allKeys {
		ks := make([]string, len(s.keys))
		for i, k := range s.keys {
			ks[i] = keyPatternString(k)
		}
		info.Keys = strings.Join(ks, " ")
	}
	if !s.allChannels {
		cs := make([]string, len(s.channels))
		for i, c := range s.channels {
			cs[i] = "&" + c
		}
		info.Channels = strings.Join(cs, " ")
	}
	return info
}
