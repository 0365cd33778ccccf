package acl

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
)

type sanitize uint8

const (
	sanitizeUnset sanitize = iota
	sanitizePayload
	sanitizeSkip
)

// User is one ACL user. A User is immutable once a Registry published it:
// every change builds a new one, so readers need no lock.
type User struct {
	cat       *Catalog
	name      string
	enabled   bool
	nopass    bool
	sanitize  sanitize
	passwords []string    // SHA-256 hex, in the order added
	selectors []*selector // [0] is the root selector
}

// newUser is ACLCreateUser: off, no passwords, no permissions, and the
// channels acl-pubsub-default gives.
func newUser(cat *Catalog, name string, allChannels bool) *User {
	return &User{cat: cat, name: name, selectors: []*selector{newSelector(cat, allChannels)}}
}

// newDefaultUser is ACLCreateDefaultUser: "on nopass ~* &* +@all".
func newDefaultUser(cat *Catalog) *User {
	u := newUser(cat, "default", true)
	for _, op := range []string{"+@all", "~*", "&*", "on", "nopass"} {
		u.apply(op, true)
	}
	return u
}

func (u *User) clone() *User {
	c := *u
	c.passwords = slices.Clone(u.passwords)
	c.selectors = make([]*selector, len(u.selectors))
	for i, s := range u.selectors {
		c.selectors[i] = s.clone()
	}
	return &c
}

// Name is the user's name.
func (u *User) Name() string { return u.name }

// Enabled is false for a user that is "off": it cannot authenticate.
func (u *User) Enabled() bool { return u.enabled }

// NoPass is true when any password authenticates the user.
func (u *User) NoPass() bool { return u.nopass }

// NeedsAuth is Redis's authRequired for the default user: a new
// connection must AUTH first unless the default user is on and nopass.
func (u *User) NeedsAuth() bool { return !u.nopass || !u.enabled }

// SkipSanitizePayload reports the skip-sanitize-payload flag (RESTORE).
func (u *User) SkipSanitizePayload() bool { return u.sanitize == sanitizeSkip }

// Passwords returns the SHA-256 hex hashes of the user's passwords.
func (u *User) Passwords() []string { return slices.Clone(u.passwords) }

// CheckPassword is ACLCheckUserCredentials for an existing user: false
// for a disabled user and for a wrong password.
func (u *User) CheckPassword(password string) bool {
	if !u.enabled {
		return false
	}
	if u.nopass {
		return true
	}
	hashed := hashPassword(password)
	ok := 0
	for _, p := range u.passwords {
		ok |= subtle.ConstantTimeCompare([]byte(hashed), []byte(p))
	}
	return ok == 1
}

func hashPassword(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:])
}

func validHash(h string) bool {
	if len(h) != 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < 'a' || c > 'f') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// apply is ACLSetUser: one rule, applied in place to a user not yet
// published. allChannels is acl-pubsub-default, which new selectors and
// "reset" follow.
func (u *User) apply(op string, allChannels bool) ruleErr {
	if op == "" {
		return ruleOK
	}
	switch {
	case strcaseEq(op, "on"):
		u.enabled = true
	case strcaseEq(op, "off"):
		u.enabled = false
	case strcaseEq(op, "skip-sanitize-payload"):
		u.sanitize = sanitizeSkip
	case strcaseEq(op, "sanitize-payload"):
		u.sanitize = sanitizePayload
	case strcaseEq(op, "nopass"):
		u.nopass, u.passwords = true, nil
	case strcaseEq(op, "resetpass"):
		u.nopass, u.passwords = false, nil
	case op[0] == '>' || op[0] == '#':
		var p string
		if op[0] == '>' {
			p = hashPassword(op[1:])
		} else {
			if p = op[1:]; !validHash(p) {
				return errBadHash
			}
		}
		if !slices.Contains(u.passwords, p) {
			u.passwords = append(u.passwords, p)
		}
		u.nopass = false
	case op[0] == '<' || op[0] == '!':
		var p string
		if op[0] == '<' {
			p = hashPassword(op[1:])
		} else {
			if p = op[1:]; !validHash(p) {
				return errBadHash
			}
		}
		i := slices.Index(u.passwords, p)
		if i < 0 {
			return errNoSuchPassword
		}
		u.passwords = slices.Delete(u.passwords, i, i+1)
	case op[0] == '(' && op[len(op)-1] == ')':
		s := newSelector(u.cat, allChannels)
		// sdssplitargs failing leaves an empty selector, as in Redis.
		args, _ := splitArgs(cstr(op[1 : len(op)-1]))
		for _, a := range args {
			if e := s.apply(u.cat, a); e != ruleOK {
				return e
			}
		}
		u.selectors = append(u.selectors, s)
	case strcaseEq(op, "clearselectors"):
		u.selectors = u.selectors[:1]
	case strcaseEq(op, "reset"):
		for _, r := range []string{"resetpass", "resetkeys", "resetchannels"} {
			u.apply(r, allChannels)
		}
		if allChannels {
			u.apply("allchannels", allChannels)
		}
		for _, r := range []string{"off", "sanitize-payload", "clearselectors", "-@all"} {
			u.apply(r, allChannels)
		}
	default:
		return u.selectors[0].apply(u.cat, op)
	}
	return ruleOK
}

// equal reports whether two users behave alike (see selector.equal).
func (u *User) equal(o *User) bool {
	if u.name != o.name || u.enabled != o.enabled || u.nopass != o.nopass || u.sanitize != o.sanitize ||
		!slices.Equal(u.passwords, o.passwords) || len(u.selectors) != len(o.selectors) {
		return false
	}
	for i := range u.selectors {
		if !u.selectors[i].equal(o.selectors[i]) {
			return false
		}
	}
	return true
}
