package commands

import (
	"strconv"
	"strings"
)

// RAFT.BACKUP and RAFT.RESTORE: a partition's snapshot out of a running
// cluster and back into another (docs/backup.md). `loomcache backup` and
// `loomcache restore-backup` are their clients.

// BackupPoint is where a backup stands in the log of the cluster it was
// taken from.
type BackupPoint struct{ Index, Term uint64 }

func backupCommands() []*Command {
	admin := FlagAdmin | FlagNoScript | FlagNoMulti
	return []*Command{
		{Name: "raft.backup", Arity: -1, Flags: admin, Categories: CatAdmin | CatDangerous,
			Group: "cluster", Since: "0.1.0", Complexity: "O(N) where N is the size of the data",
			Summary: "Take a snapshot on a partition's leader and return it with its index and term",
			Args:    []Arg{argInt("partition").token("PARTITION").optional()}, Handler: cmdRaftBackup},
		{Name: "raft.restore", Arity: -4, Flags: admin, Categories: CatAdmin | CatDangerous,
			Group: "cluster", Since: "0.1.0", Complexity: "O(N) where N is the size of the data",
			Summary: "Replace a partition's whole state, on every node, with a backup's",
			Args: []Arg{argInt("index"), argInt("term"), argString("snapshot"),
				argInt("partition").token("PARTITION").optional()}, Handler: cmdRaftRestore},
	}
}

// partitionArg parses an optional trailing PARTITION p.
func partitionArg(c *Ctx, args [][]byte) (int, bool) {
	switch {
	case len(args) == 0:
		return 0, true
	case len(args) == 2 && strings.EqualFold(string(args[0]), "partition"):
		if p, err := strconv.Atoi(string(args[1])); err == nil && p >= 0 {
			return p, true
		}
	}
	c.W.Error(errSyntax.Error())
	return 0, false
}

// cmdRaftBackup replies [index, term, snapshot bytes].
func cmdRaftBackup(c *Ctx) {
	p, ok := partitionArg(c, c.Args[1:])
	if !ok {
		return
	}
	b, ok := c.admin()
	if !ok {
		return
	}
	info, data, err := b.Backup(p)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.Array(3)
	c.W.Int(int64(info.Index))
	c.W.Int(int64(info.Term))
	c.W.Bulk(data)
}

func cmdRaftRestore(c *Ctx) {
	index, ok1 := parseInt(c.Args[1])
	term, ok2 := parseInt(c.Args[2])
	if !ok1 || !ok2 || index < 0 || term < 0 {
		c.W.Error(errNotInt.Error())
		return
	}
	p, ok := partitionArg(c, c.Args[4:])
	if !ok {
		return
	}
	b, ok := c.admin()
	if !ok {
		return
	}
	data := c.Args[3]
	info := BackupPoint{Index: uint64(index), Term: uint64(term)}
	if err := b.RestoreBackup(p, info, data); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.OK()
}
