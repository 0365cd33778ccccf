package commands

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// ACL is a node's access control state. Users and requirepass are
// replicated: only the appliers of the access control ops change them,
// on the FSM goroutine, in log order, so every node enforces the same
// users at the same log position; they are part of every snapshot. The
// ACL LOG is this node's own, as in Redis.
type ACL struct {
	Users *acl.Registry
	Log   *acl.Log
	// requirePass is the requirepass directive's value, as CONFIG GET
	// shows it; replicated with the users.
	requirePass atomic.Pointer[string]
	// changed, when set, runs after an applier or a restore changed the
	// users, on the FSM goroutine: the server has the connections of
	// deleted users closed (elsewhere: see OnChange).
	changed atomic.Pointer[func()]
	// holding makes every new connection authenticate, whatever the
	// default user says: set while a node's startup requirepass or
	// aclfile is not applied yet.
	holding atomic.Bool
}

// HoldAuth turns holding on or off.
func (a *ACL) HoldAuth(on bool) { a.holding.Store(on) }

// AuthNeeded is whether a connection that has not authenticated must:
// the default user needs a password, or holding is on.
func (a *ACL) AuthNeeded() bool { return a.holding.Load() || a.Users.Default().User().NeedsAuth() }

// AuthRequired is Redis's authRequired for the session: it has not
// authenticated and must.
func (a *ACL) AuthRequired(s *Session) bool { return !s.Authenticated && a.AuthNeeded() }

// aclLogMaxLen is acllog-max-len's default.
const aclLogMaxLen = 128

func newACL(cat *acl.Catalog) *ACL {
	a := &ACL{Users: acl.NewRegistry(cat, false), Log: acl.NewLog(aclLogMaxLen)}
	empty := ""
	a.requirePass.Store(&empty)
	return a
}

// RequirePass is the requirepass value ("" when none).
func (a *ACL) RequirePass() string { return *a.requirePass.Load() }

// OnChange sets what runs after the users changed. It runs on the
// goroutine that changed them, the FSM's, inside an apply with the
// keyspace locked: it must not block, on I/O or on a lock held across
// I/O (a socket's Close, a session a connection holds while it writes).
// Signal a goroutine that does the work, and return.
func (a *ACL) OnChange(f func()) { a.changed.Store(&f) }

func (a *ACL) notify() {
	if f := a.changed.Load(); f != nil {
		(*f)()
	}
}

// aclSnapshotMagic starts the access control state in a snapshot.
const aclSnapshotMagic = "LCACL1"

// Snapshot encodes the replicated state: requirepass and every user,
// exactly (acl.Registry.Snapshot).
func (a *ACL) Snapshot() []byte {
	rp := a.RequirePass()
	b := binary.AppendUvarint([]byte(aclSnapshotMagic), uint64(len(rp)))
	b = append(b, rp...)
	return append(b, a.Users.Snapshot()...)
}

var errACLSnapshot = errors.New("acl snapshot: malformed")

// Restore replaces the replicated state with a Snapshot's; an empty one
// (a snapshot from before access control existed) is the initial state.
func (a *ACL) Restore(data []byte) error {
	rp := ""
	if len(data) > 0 {
		rest, ok := bytes.CutPrefix(data, []byte(aclSnapshotMagic))
		if !ok {
			return errACLSnapshot
		}
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return errACLSnapshot
		}
		rp, data = string(rest[k:k+int(n)]), rest[k+int(n):]
	}
	if err := a.Users.Restore(data); err != nil {
		return err
	}
	a.requirePass.Store(&rp)
	a.notify()
	return nil
}

// registerACLAppliers registers the appliers of the access control ops.
func (t *Table) registerACLAppliers() {
	a := t.acl
	t.applier(op.AclSetUser, func(_ *keyspace.Store, o *op.Op) any {
		rules := make([]string, len(o.Args)-1)
		for i, r := range o.Args[1:] {
			rules[i] = string(r)
		}
		if _, err := a.Users.SetUser(string(o.Args[0]), rules); err != nil {
			return err
		}
		a.notify()
		return ok
	})
	t.applier(op.AclDelUser, func(_ *keyspace.Store, o *op.Op) any {
		names := make([]string, len(o.Args))
		for i, n := range o.Args {
			names[i] = string(n)
		}
		n, err := a.Users.DelUser(names...)
		if err != nil {
			return err
		}
		if n > 0 {
			a.notify()
		}
		return int64(n)
	})
	t.applier(op.AclLoad, func(_ *keyspace.Store, o *op.Op) any {
		name, data := string(o.Args[0]), o.Args[1]
		if o.Flags&op.FlagIfChanged != 0 && a.sameUsers(name, data) {
			return ok
		}
		if err := a.Users.Load(name, data); err != nil {
			return err
		}
		a.notify()
		return ok
	})
	t.applier(op.AclRequirePass, func(_ *keyspace.Store, o *op.Op) any {
		pass := string(o.Args[0])
		if o.Flags&op.FlagIfChanged != 0 && pass == a.RequirePass() {
			return ok
		}
		a.Users.SetRequirePass(pass)
		a.requirePass.Store(&pass)
		return ok
	})
}

// InEffect reports whether the startup settings about users would change
// nothing if applied now (as op.FlagIfChanged applies them): requirepass
// pass (nil: not given) is the one in force, and the aclfile's content
// (nil: none) loads the users there are.
func (a *ACL) InEffect(pass *string, fileName string, file []byte) bool {
	if pass != nil && *pass != a.RequirePass() {
		return false
	}
	return file == nil || a.sameUsers(fileName, file)
}

// sameUsers reports whether loading data would leave the users as they
// are (the file loads, and its users equal the current ones exactly).
func (a *ACL) sameUsers(name string, data []byte) bool {
	scratch := acl.NewRegistry(a.Users.Catalog(), false)
	if scratch.Load(name, data) != nil {
		return false
	}
	return bytes.Equal(scratch.Snapshot(), a.Users.Snapshot())
}

// aclCatalog describes the table to the ACL model: every command and
// subcommand with its categories (Redis's, by the table's flags) and
// no_auth flag. Each command learns its id in it.
func (t *Table) aclCatalog() *acl.Catalog {
	var cmds []acl.Command
	for _, c := range t.order {
		e := acl.Command{Name: c.Name, Categories: uint64(c.AllCategories()), NoAuth: c.Has(FlagNoAuth)}
		for _, s := range c.Subs {
			e.Subcommands = append(e.Subcommands, acl.Command{Name: s.Name, Categories: uint64(s.AllCategories()), NoAuth: s.Has(FlagNoAuth)})
		}
		cmds = append(cmds, e)
	}
	cat, err := acl.NewCatalog(acl.RedisCategories(), cmds)
	if err != nil {
		panic(fmt.Sprintf("commands: the table is no ACL catalog: %v", err))
	}
	for _, c := range t.order {
		c.aclID, _ = cat.ID(c.Name)
		for _, s := range c.Subs {
			s.aclID, _ = cat.ID(s.Name)
		}
	}
	return cat
}

// Admit starts a new connection's session as Redis's createClient does:
// as the default user, authenticated when that user needs no password.
func (a *ACL) Admit(s *Session) {
	s.SetUser(a.Users.Default())
	s.Authenticated = !a.AuthNeeded()
}
