package acl

import (
	"fmt"
	"slices"
	"strings"
)

// The aclfile holds one "user <name> <rules...>" line per user, as ACL
// SAVE writes it and ACL LOAD reads it. Load reproduces ACLLoadFromFile:
// all or nothing, every line checked, Redis's error text.

// Save is the content ACL SAVE writes: every user's ACL LIST line.
func (r *Registry) Save() []byte {
	var b strings.Builder
	for _, line := range r.List() {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Snapshot encodes every user so that Restore rebuilds them exactly. It is
// the aclfile format, loadable by Load, except in the rare cases the
// aclfile cannot express (a first argument with a space, a pattern ending
// in ')' inside a selector, "%RW~*" as opposed to "~*"), which it quotes.
func (r *Registry) Snapshot() []byte {
	st := r.state.Load()
	var b strings.Builder
	for _, n := range st.names {
		if u := st.refs[n].User(); u != nil {
			b.WriteString("user " + n + " " + u.describe(true) + "\n")
		}
	}
	return []byte(b.String())
}

// Load is ACL LOAD of data read from filename (named in errors). On any
// error nothing changes and the error's text is Redis's reply. On success
// every user but default is replaced, so their Refs empty (Redis closes
// their connections); a file without a default user gets a fresh one.
func (r *Registry) Load(filename string, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	users, errs := r.parseFile(filename, data, false)
	if errs != "" {
		return replyError("ERR " + errs + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
	}
	st := r.state.Load()
	for n, ref := range st.refs {
		if n != "default" {
			ref.user.Store(nil)
		}
	}
	r.install(users, &registryState{refs: map[string]*Ref{"default": r.def}})
	return nil
}

// Restore replaces every user with those of a Snapshot. Users that still
// exist keep their Refs (their connections stay); others' Refs empty.
func (r *Registry) Restore(data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	users, errs := r.parseFile("snapshot", data, true)
	if errs != "" {
		return fmt.Errorf("acl: restore: %s", errs)
	}
	st := r.state.Load()
	for n, ref := range st.refs {
		if _, keep := users[n]; !keep && n != "default" {
			ref.user.Store(nil)
		}
	}
	r.install(users, st)
	return nil
}

// install publishes users, reusing the Refs of base for names it has.
func (r *Registry) install(users map[string]*User, base *registryState) {
	if users["default"] == nil {
		users["default"] = newDefaultUser(r.cat)
	}
	next := &registryState{refs: make(map[string]*Ref, len(users))}
	for n, u := range users {
		ref := base.refs[n]
		if ref == nil {
			ref = &Ref{name: n}
		}
		ref.user.Store(u)
		next.refs[n] = ref
		next.names = append(next.names, n)
	}
	slices.Sort(next.names)
	r.state.Store(next)
}

// parseFile is ACLLoadFromFile's parsing and validation. exact also
// unquotes rules that Snapshot quoted.
func (r *Registry) parseFile(filename string, data []byte, exact bool) (map[string]*User, string) {
	users := make(map[string]*User)
	var errs strings.Builder
	lines := strings.Split(readLikeFgets(data), "\n")
	if len(data) == 0 {
		lines = nil
	}
	for i, line := range lines {
		linenum := i + 1
		line = strings.Trim(line, " \t\r\n")
		if line == "" {
			continue
		}
		argv := strings.Split(line, " ")
		if argv[0] != "user" || len(argv) < 2 {
			fmt.Fprintf(&errs, "%s:%d should start with user keyword followed by the username. ", filename, linenum)
			continue
		}
		name := argv[1]
		if hasSpaces(name) {
			fmt.Fprintf(&errs, "'%s:%d: username '%s' contains invalid characters. ", filename, linenum, name)
			continue
		}
		if users[name] != nil {
			fmt.Fprintf(&errs, "WARNING: Duplicate user '%s' found on line %d. ", name, linenum)
			continue
		}
		u := newUser(r.cat, name, r.allChannels)
		users[name] = u
		ops, _, ok := mergeSelectors(argv[2:])
		if !ok {
			// Redis 7.0.15 crashes here when a rule precedes the
			// selector; later versions report and go on, as we do.
			fmt.Fprintf(&errs, "%s:%d: Unmatched parenthesis in selector definition.", filename, linenum)
			continue
		}
		syntaxErr := false
		for _, op := range ops {
			op = strings.Trim(op, "\t\r\n")
			if exact && at(op, 0) == '"' {
				if args, ok := splitArgs(op); ok && len(args) == 1 {
					op = args[0]
				}
			}
			e := u.apply(op, r.allChannels)
			switch {
			case e == ruleOK:
			case e == errUnknown:
				// Unknown names are reported each, with the rule.
				fmt.Fprintf(&errs, "%s:%d: Error in applying operation '%s': %s. ", filename, linenum, cstr(op), e)
			case !syntaxErr:
				// Other errors only once a line: later ones may follow
				// from the first.
				fmt.Fprintf(&errs, "%s:%d: %s. ", filename, linenum, e)
				syntaxErr = true
			}
		}
	}
	return users, errs.String()
}

// readLikeFgets returns what Redis keeps of the file: it reads with fgets
// into a 1024-byte buffer and appends each piece as a C string, so a NUL
// byte drops the rest of its piece.
func readLikeFgets(data []byte) string {
	var b strings.Builder
	for len(data) > 0 {
		n := 0
		for n < len(data) && n < 1023 {
			n++
			if data[n-1] == '\n' {
				break
			}
		}
		b.WriteString(cstr(string(data[:n])))
		data = data[n:]
	}
	return b.String()
}

// LoadOpenError is ACL LOAD's reply when the file cannot be opened; err's
// text is capitalized as C's strerror gives it.
func LoadOpenError(filename string, err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		msg = msg[i+2:] // drop the "open <path>: " of *fs.PathError
	}
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return replyError(fmt.Sprintf("ERR Error loading ACLs, opening file '%s': %s", filename, msg))
}
