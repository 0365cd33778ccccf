package commands

import (
	"time"

	"github.com/loomcache/loomcache/acl"
)

// ErrUserGone is Permit's answer for a connection whose user was deleted
// (or replaced by ACL LOAD): Redis closes such connections, with no reply.
const ErrUserGone = "user deleted"

// Permit is processCommand's authentication and ACL checks of cmd (which
// Resolve returned for c.Args), run on the node that received the
// command before anything is forwarded or proposed: "" when it may run,
// otherwise the error reply (NOAUTH, NOPERM; a NOPERM is logged in the
// ACL LOG) or ErrUserGone.
func (c *Ctx) Permit(cmd *Command) string { return c.permit(cmd, acl.ContextToplevel) }

// permit is Permit for a command run where the ACL LOG says (a
// transaction's commands are checked again when EXEC runs them).
func (c *Ctx) permit(cmd *Command, where acl.Context) string {
	msg, _ := c.check(cmd, where)
	return msg
}

// check is permit that also tells why a command was denied.
func (c *Ctx) check(cmd *Command, where acl.Context) (string, acl.Reason) {
	a := c.Table.acl
	s := c.S
	ref := s.UserRef()
	if ref == nil {
		ref = a.Users.Default()
	}
	if !cmd.Has(FlagNoAuth) && a.AuthRequired(s) {
		return acl.NoAuthError, acl.DeniedAuth
	}
	u := ref.User()
	if u == nil {
		return ErrUserGone, acl.DeniedCommand
	}
	if u.AllowsEverything() {
		return "", acl.Allowed
	}
	d := u.Check(cmd.aclID, c.Args, cmd.aclKeys(c.Args), cmd.aclChannels(c.Args))
	if d.OK() {
		return "", acl.Allowed
	}
	cat := a.Users.Catalog()
	now := time.Now()
	s.noteCommand(cmd, now.UnixMilli()) // the log's client-info names it
	a.Log.Add(acl.LogEntry{
		Reason: d.Reason, Context: where, Object: cat.LogObject(cmd.aclID, c.Args, d),
		Username: ref.Name(), ClientInfo: c.clientInfo(now),
	}, now.UnixMilli())
	return cat.NoPermError(cmd.aclID, d), d.Reason
}

// clientInfo is the caller's CLIENT INFO line, as the ACL LOG keeps it.
func (c *Ctx) clientInfo(now time.Time) string {
	line := c.appendClient(nil, c.S, fdTable(c.Server.Clients()), now)
	return string(line[:len(line)-1])
}

// logAuthFailure records a failed AUTH or HELLO AUTH for username.
func (c *Ctx) logAuthFailure(username string) {
	now := time.Now()
	c.Table.acl.Log.Add(acl.LogEntry{
		Reason: acl.DeniedAuth, Context: acl.ContextToplevel, Object: string(c.Args[0]),
		Username: username, ClientInfo: c.clientInfo(now),
	}, now.UnixMilli())
}
