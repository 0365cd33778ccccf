// Package acl owns Redis 7.0's access control model: users and their
// selectors, the ACL rule language of ACL SETUSER and the aclfile, the
// descriptions ACL LIST and ACL GETUSER print, the permission checks run
// before every command (and by ACL DRYRUN), the ACL LOG, ACL CAT and
// ACL GENPASS. Redis 7.0.15's src/acl.c is the specification, quirks
// included, and every reply string is Redis's byte for byte.
//
// The package knows no command table: the caller supplies a Catalog of
// command names, categories and subcommands. It never reads a clock (log
// times are passed in), never touches the network or disk, and is
// deterministic: the same rules applied in the same order give the same
// users on every node of a cluster. It imports nothing of the project
// but glob.
//
// Users are immutable once published. A Registry swaps them with atomic
// pointers (copy on write), so the per-command check of a connection takes
// no lock and, for the default user, allocates nothing. A connection holds
// a *Ref; Ref.User returns nil once the user was deleted or replaced by
// ACL LOAD, which is when Redis closes such connections.
package acl
