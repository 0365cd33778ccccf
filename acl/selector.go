package acl

import "slices"

// Perm is the access a key pattern grants or a key reference needs.
type Perm uint8

// Key permissions. A key whose key spec has ACCESS needs PermRead; one
// with INSERT, DELETE or UPDATE needs PermWrite; one with neither needs
// nothing and matches a pattern of any permission.
const (
	PermRead Perm = 1 << iota
	PermWrite
	PermAll = PermRead | PermWrite
)

type keyPattern struct {
	pattern string
	perm    Perm
	match   []byte // pattern, for glob without a conversion per check
}

// selector is aclSelector: one set of command, key and channel
// permissions. The root selector holds the rules written outside
// parentheses; each "(...)" adds another.
type selector struct {
	allKeys     bool
	allChannels bool
	allCommands bool // cleared as soon as any command bit is cleared
	// future is Redis's reserved last bitmap bit: set only by +@all and
	// allcommands, it makes descriptions start from +@all.
	future    bool
	bits      []uint64
	firstArgs map[CmdID][]string // allowed first arguments of blocked commands
	keys      []keyPattern
	channels  []string
	chmatch   [][]byte // channels, for glob without a conversion per check
}

func newSelector(cat *Catalog, allChannels bool) *selector {
	return &selector{allChannels: allChannels, bits: make([]uint64, (cat.Len()+63)/64)}
}

func (s *selector) clone() *selector {
	c := *s
	c.bits = slices.Clone(s.bits)
	c.keys = slices.Clone(s.keys)
	c.channels = slices.Clone(s.channels)
	c.chmatch = slices.Clone(s.chmatch)
	if s.firstArgs != nil {
		c.firstArgs = make(map[CmdID][]string, len(s.firstArgs))
		for id, args := range s.firstArgs {
			c.firstArgs[id] = slices.Clone(args)
		}
	}
	return &c
}

func (s *selector) bit(id CmdID) bool {
	if id < 0 || int(id)/64 >= len(s.bits) {
		return false
	}
	return s.bits[id/64]&(1<<(id%64)) != 0
}

// setBit is ACLSetSelectorCommandBit: clearing any bit means the selector
// no longer runs every command unchecked.
func (s *selector) setBit(id CmdID, v bool) {
	if v {
		s.bits[id/64] |= 1 << (id % 64)
	} else {
		s.bits[id/64] &^= 1 << (id % 64)
		s.allCommands = false
	}
}

// changePerm is ACLChangeSelectorPerm: a container command carries its
// subcommands along.
func (s *selector) changePerm(cat *Catalog, id CmdID, allow bool) {
	s.setBit(id, allow)
	delete(s.firstArgs, id)
	for _, sub := range cat.entries[id].subs {
		s.setBit(sub, allow)
	}
}

// setCategory is ACLSetSelectorCommandBitsForCategory.
func (s *selector) setCategory(cat *Catalog, flag uint64, allow bool) {
	for _, id := range cat.top {
		e := &cat.entries[id]
		if e.cats&flag != 0 {
			s.changePerm(cat, id, allow)
		}
		for _, sub := range e.subs {
			if cat.entries[sub].cats&flag != 0 {
				s.changePerm(cat, sub, allow)
			}
		}
	}
}

func (s *selector) setAll(allow bool) {
	var w uint64
	if allow {
		w = ^uint64(0)
	}
	for i := range s.bits {
		s.bits[i] = w
	}
	s.allCommands, s.future = allow, allow
	s.firstArgs = nil
}

// addFirstArg is ACLAddAllowedFirstArg: first arguments compare without
// regard to case and keep the spelling they were first given.
func (s *selector) addFirstArg(id CmdID, arg string) {
	for _, a := range s.firstArgs[id] {
		if strcaseEq(a, arg) {
			return
		}
	}
	if s.firstArgs == nil {
		s.firstArgs = make(map[CmdID][]string)
	}
	s.firstArgs[id] = append(s.firstArgs[id], arg)
}

// apply is ACLSetSelector: one key, channel or command rule.
func (s *selector) apply(cat *Catalog, op string) ruleErr {
	switch {
	case strcaseEq(op, "allkeys") || strcaseEq(op, "~*"):
		s.allKeys, s.keys = true, nil
	case strcaseEq(op, "resetkeys"):
		s.allKeys, s.keys = false, nil
	case strcaseEq(op, "allchannels") || strcaseEq(op, "&*"):
		s.allChannels, s.channels, s.chmatch = true, nil, nil
	case strcaseEq(op, "resetchannels"):
		s.allChannels, s.channels, s.chmatch = false, nil, nil
	case strcaseEq(op, "allcommands") || strcaseEq(op, "+@all"):
		s.setAll(true)
	case strcaseEq(op, "nocommands") || strcaseEq(op, "-@all"):
		s.setAll(false)
	case at(op, 0) == '~' || at(op, 0) == '%':
		return s.addKeyPattern(op)
	case at(op, 0) == '&':
		if s.allChannels {
			return errChannelAfterAll
		}
		pat := op[1:]
		if hasSpaces(pat) {
			return errSyntax
		}
		if !slices.Contains(s.channels, pat) {
			s.channels = append(s.channels, pat)
			s.chmatch = append(s.chmatch, []byte(pat))
		}
		s.allChannels = false
	case at(op, 0) == '+' && at(op, 1) != '@':
		return s.allowCommand(cat, cstr(op[1:]))
	case at(op, 0) == '-' && at(op, 1) != '@':
		id, ok := cat.lookupRule(op[1:])
		if !ok {
			return errUnknown
		}
		s.changePerm(cat, id, false)
	case (at(op, 0) == '+' || at(op, 0) == '-') && at(op, 1) == '@':
		flag := cat.category(op[2:])
		if flag == 0 {
			return errUnknown
		}
		s.setCategory(cat, flag, op[0] == '+')
	default:
		return errSyntax
	}
	return ruleOK
}

// addKeyPattern handles ~pattern and %R~ / %W~ / %RW~pattern.
func (s *selector) addKeyPattern(op string) ruleErr {
	if s.allKeys {
		return errKeyAfterAll
	}
	perm, offset := PermAll, 1
	if op[0] == '%' {
		perm = 0
		for ; offset < len(op); offset++ {
			switch c := op[offset]; {
			case upperByte(c) == 'R' && perm&PermRead == 0:
				perm |= PermRead
			case upperByte(c) == 'W' && perm&PermWrite == 0:
				perm |= PermWrite
			case c == '~':
				offset++
				goto done
			default:
				return errSyntax
			}
		}
	done:
		// 7.0.15 refuses a '%' rule that names no permission ("%~x").
		if perm == 0 {
			return errSyntax
		}
	}
	pat := op[offset:]
	if hasSpaces(pat) {
		return errSyntax
	}
	i := slices.IndexFunc(s.keys, func(k keyPattern) bool { return k.pattern == pat })
	if i < 0 {
		s.keys = append(s.keys, keyPattern{pattern: pat, perm: perm, match: []byte(pat)})
	} else {
		s.keys[i].perm |= perm
	}
	s.allKeys = false
	return ruleOK
}

// allowCommand handles +cmd, +cmd|sub and the first-argument form
// +cmd|arg of a command without subcommands.
func (s *selector) allowCommand(cat *Catalog, name string) ruleErr {
	bar := -1
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '|' {
			bar = i
			break
		}
	}
	if bar < 0 {
		id, ok := cat.lookupRule(name)
		if !ok {
			return errUnknown
		}
		s.changePerm(cat, id, true)
		return ruleOK
	}
	id, ok := cat.lookupRule(name[:bar])
	if !ok {
		return errUnknown
	}
	if cat.entries[id].parent >= 0 {
		return errFirstArgOfSub
	}
	sub := name[bar+1:]
	if sub == "" {
		return errSyntax
	}
	if len(cat.entries[id].subs) > 0 {
		sid, ok := cat.lookupRule(name)
		if !ok {
			return errUnknown
		}
		s.changePerm(cat, sid, true)
		return ruleOK
	}
	s.addFirstArg(id, sub)
	return ruleOK
}

func (k keyPattern) same(o keyPattern) bool { return k.pattern == o.pattern && k.perm == o.perm }

// equal reports whether two selectors behave alike now and after any
// further rule. It ignores what no check nor description can see: the
// allcommands flag while every bit is set anyway, and first arguments of
// commands whose bit is set (a later -cmd drops them).
func (s *selector) equal(o *selector) bool {
	if s.allKeys != o.allKeys || s.allChannels != o.allChannels || s.future != o.future ||
		!slices.Equal(s.bits, o.bits) || !slices.EqualFunc(s.keys, o.keys, keyPattern.same) ||
		!slices.Equal(s.channels, o.channels) {
		return false
	}
	for _, m := range [2]map[CmdID][]string{s.firstArgs, o.firstArgs} {
		for id := range m {
			if !s.bit(id) && !slices.Equal(s.firstArgs[id], o.firstArgs[id]) {
				return false
			}
		}
	}
	return true
}
