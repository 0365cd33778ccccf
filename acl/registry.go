package acl

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
)

// Ref is a user's identity as a connection holds it: it follows the user
// through ACL SETUSER and becomes empty when the user is deleted or
// replaced by ACL LOAD. The default user's Ref never empties.
type Ref struct {
	name string
	user atomic.Pointer[User]
}

// Name is the user's name.
func (r *Ref) Name() string { return r.name }

// User returns the user's current version, or nil once it was deleted
// (Redis then closes the connections authenticated as it).
func (r *Ref) User() *User { return r.user.Load() }

// Registry holds the users. Readers (a check per command on every
// connection) take no lock: users are immutable and swapped atomically.
// Writers (SetUser, DelUser, Load, Restore, ...) are serialized; in a
// cluster they run on the Raft apply goroutine, in log order.
type Registry struct {
	cat   *Catalog
	mu    sync.Mutex // serializes writers
	state atomic.Pointer[registryState]
	def   *Ref
	// allChannels is acl-pubsub-default == allchannels; guarded by mu.
	allChannels bool
}

// registryState is an immutable snapshot of the user table.
type registryState struct {
	refs  map[string]*Ref
	names []string // sorted, as Redis's rax iterates
}

// NewRegistry returns a registry holding only the default user ("on
// nopass ~* &* +@all"). allChannels is acl-pubsub-default: false for
// Redis 7.0's default, resetchannels.
func NewRegistry(cat *Catalog, allChannels bool) *Registry {
	r := &Registry{cat: cat, allChannels: allChannels, def: &Ref{name: "default"}}
	r.def.user.Store(newDefaultUser(cat))
	r.state.Store(&registryState{refs: map[string]*Ref{"default": r.def}, names: []string{"default"}})
	return r
}

// Catalog is the catalog the registry's rules refer to.
func (r *Registry) Catalog() *Catalog { return r.cat }

// Default is the default user's Ref, which new connections start with.
func (r *Registry) Default() *Ref { return r.def }

// Lookup returns a user's Ref, or nil when there is no such user.
func (r *Registry) Lookup(name string) *Ref { return r.state.Load().refs[name] }

// Users returns the user names in ACL USERS order.
func (r *Registry) Users() []string { return slices.Clone(r.state.Load().names) }

// List returns ACL LIST's lines, "user <name> <description>".
func (r *Registry) List() []string {
	st := r.state.Load()
	out := make([]string, 0, len(st.names))
	for _, n := range st.names {
		if u := st.refs[n].User(); u != nil {
			out = append(out, "user "+n+" "+u.Describe())
		}
	}
	return out
}

// SetPubsubDefault sets acl-pubsub-default: whether users created from
// now on, and "reset", get allchannels (true) or resetchannels.
func (r *Registry) SetPubsubDefault(allChannels bool) {
	r.mu.Lock()
	r.allChannels = allChannels
	r.mu.Unlock()
}

// SetUser is ACL SETUSER: it applies rules to the user, creating it if
// needed, all or nothing. It returns the user's previous version (nil
// when created) so the caller can close Pub/Sub connections whose
// channels were revoked (see User.RevokesChannelsOf). The error's text
// is Redis's reply.
func (r *Registry) SetUser(name string, rules []string) (prev *User, err error) {
	if hasSpaces(name) {
		return nil, replyError(errUsernameSpaces)
	}
	merged, bad, ok := mergeSelectors(rules)
	if !ok {
		return nil, replyError(fmt.Sprintf(unmatchedParenthesis, cstr(rules[bad])))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.state.Load()
	ref := st.refs[name]
	var u *User
	if ref != nil {
		prev = ref.User()
		u = prev.clone()
	} else {
		u = newUser(r.cat, name, r.allChannels)
	}
	for _, op := range merged {
		if e := u.apply(op, r.allChannels); e != ruleOK {
			return nil, &RuleError{Rule: op, code: e}
		}
	}
	if ref != nil {
		ref.user.Store(u)
		return prev, nil
	}
	ref = &Ref{name: name}
	ref.user.Store(u)
	r.publish(st, map[string]*Ref{name: ref}, nil)
	return nil, nil
}

// publish stores a new state: st plus added minus removed.
func (r *Registry) publish(st *registryState, added map[string]*Ref, removed map[string]bool) {
	next := &registryState{refs: make(map[string]*Ref, len(st.refs)+len(added))}
	for n, ref := range st.refs {
		if !removed[n] {
			next.refs[n] = ref
		}
	}
	for n, ref := range added {
		next.refs[n] = ref
	}
	for n := range next.refs {
		next.names = append(next.names, n)
	}
	slices.Sort(next.names)
	r.state.Store(next)
}

// DelUser is ACL DELUSER: it deletes the named users and returns how many
// existed. Deleted users' Refs empty. Naming "default" deletes nothing.
func (r *Registry) DelUser(names ...string) (int, error) {
	for _, n := range names {
		if cstr(n) == "default" {
			return 0, replyError(errDeleteDefault)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.state.Load()
	removed := make(map[string]bool)
	for _, n := range names {
		if ref := st.refs[n]; ref != nil && !removed[n] {
			removed[n] = true
			ref.user.Store(nil)
		}
	}
	if len(removed) > 0 {
		r.publish(st, nil, removed)
	}
	return len(removed), nil
}

// SetRequirePass is CONFIG SET requirepass: the default user gets
// exactly this password ("resetpass >pass"), or nopass when pass is "".
func (r *Registry) SetRequirePass(pass string) {
	rules := []string{"resetpass", "nopass"}
	if pass != "" {
		rules[1] = ">" + pass
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.def.User().clone()
	for _, op := range rules {
		u.apply(op, r.allChannels)
	}
	r.def.user.Store(u)
}

// Authenticate is ACLCheckUserCredentials: the user's Ref when name and
// password are valid. A missing user, a disabled one and a wrong password
// all fail alike (WRONGPASS); ACL LOG records each as an "auth" entry
// naming the user as given.
func (r *Registry) Authenticate(name, password string) (*Ref, bool) {
	ref := r.Lookup(name)
	if ref == nil {
		return nil, false
	}
	u := ref.User()
	if u == nil || !u.CheckPassword(password) {
		return nil, false
	}
	return ref, true
}

// Replies of AUTH and HELLO ... AUTH.
const (
	WrongPassError      = "WRONGPASS invalid username-password pair or user is disabled."
	AuthNoPasswordError = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
	NoAuthError         = "NOAUTH Authentication required."
)

// RevokesChannelsOf is the test of ACLKillPubsubClientsIfNeeded: false
// when no connection of the user can have lost a channel, because some
// selector allows every channel or every previous pattern is still
// listed. Losing allchannels revokes (7.0.15 fixed that case). When true, the caller closes those of the user's Pub/Sub
// connections for which KeepsSubscription fails on any subscription.
func (u *User) RevokesChannelsOf(prev *User) bool {
	if prev == nil {
		return false
	}
	for _, s := range u.selectors {
		if s.allChannels {
			return false
		}
	}
	for _, ps := range prev.selectors {
		if ps.allChannels {
			return true
		}
		for _, c := range ps.channels {
			if !u.hasChannelPattern(c) {
				return true
			}
		}
	}
	return false
}

func (u *User) hasChannelPattern(c string) bool {
	for _, s := range u.selectors {
		if slices.Contains(s.channels, c) {
			return true
		}
	}
	return false
}

// KeepsSubscription reports whether a connection subscribed to channel
// (a pattern subscription when pattern) may keep it: patterns must be
// listed literally, channels match a listed pattern. Redis checks against
// every selector's channel list and ignores allchannels here, which
// RevokesChannelsOf has ruled out already.
func (u *User) KeepsSubscription(channel []byte, pattern bool) bool {
	for _, s := range u.selectors {
		if channelAllowed(s.chmatch, channel, pattern) {
			return true
		}
	}
	return false
}

// TrySetUser reports the error SetUser would return for these rules now,
// changing nothing.
func (r *Registry) TrySetUser(name string, rules []string) error {
	if hasSpaces(name) {
		return replyError(errUsernameSpaces)
	}
	merged, bad, ok := mergeSelectors(rules)
	if !ok {
		return replyError(fmt.Sprintf(unmatchedParenthesis, cstr(rules[bad])))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	u := newUser(r.cat, name, r.allChannels)
	if ref := r.state.Load().refs[name]; ref != nil {
		u = ref.User().clone()
	}
	for _, op := range merged {
		if e := u.apply(op, r.allChannels); e != ruleOK {
			return &RuleError{Rule: op, code: e}
		}
	}
	return nil
}

// HashPasswords returns rules with every clear-text password rule
// (">pass", "<pass") outside selectors replaced by its hashed form
// ("#hash", "!hash"), which has the same effect: a node proposing ACL
// SETUSER writes no clear password into the log.
func HashPasswords(rules []string) []string {
	out := make([]string, len(rules))
	open := false
	for i, r := range rules {
		out[i] = r
		switch {
		case open:
			open = len(r) == 0 || r[len(r)-1] != ')'
		case at(r, 0) == '(':
			open = r[len(r)-1] != ')'
		case at(r, 0) == '>':
			out[i] = "#" + hashPassword(r[1:])
		case at(r, 0) == '<':
			out[i] = "!" + hashPassword(r[1:])
		}
	}
	return out
}
