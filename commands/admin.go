package commands

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/loomcache/loomcache/keyspace"
)

// The operator's commands: SHUTDOWN, SAVE, BGSAVE, WAIT and DEBUG. A
// save is a Raft snapshot (the WAL already holds every write, as an
// always-on AOF); SHUTDOWN hands a leader's leadership over before the
// node goes, so a planned restart costs no election timeout.

// Admin is what these commands need of the server; a server without it
// answers them with an error.
type Admin interface {
	// Shutdown stops the node: with opts.Save after a snapshot, unless
	// opts.Now after handing its leaderships to up-to-date voters. It
	// returns once the node is going; an error means it is not.
	Shutdown(opts ShutdownOptions) error
	// Save takes a snapshot of every partition on this node and returns
	// once it is on disk.
	Save() error
	// BGSave starts Save in the background; the error is the reply.
	BGSave() error
	// WaitReplicas answers WAIT for the session: how many other members
	// hold its writes, waiting up to timeout (0: no limit) for want.
	WaitReplicas(s *Session, want int64, timeout time.Duration) int64
	// SetActiveExpire turns this node's expiry cycle on or off (DEBUG
	// SET-ACTIVE-EXPIRE).
	SetActiveExpire(on bool)
	// Reload snapshots the data and restores every node from that
	// snapshot through Raft (DEBUG RELOAD).
	Reload() error
	// Backup takes a fresh snapshot of partition p on its leader, one
	// that holds every write acknowledged before the call (RAFT.BACKUP).
	Backup(p int) (BackupPoint, []byte, error)
	// RestoreBackup replaces partition p's state with a backup's
	// (RAFT.RESTORE).
	RestoreBackup(p int, at BackupPoint, data []byte) error
}

// ShutdownOptions are SHUTDOWN's modifiers.
type ShutdownOptions struct {
	NoSave, Save, Now, Force bool
	// Signal names the signal that asked for the shutdown (SIGTERM, as
	// Redis shuts down on it as on SHUTDOWN); empty: the command.
	Signal string
}

func registerAdmin(t *Table) {
	dangerous := CatAdmin | CatDangerous
	t.add(
		&Command{Name: "shutdown", Arity: -1,
			Flags:      FlagAdmin | FlagNoScript | FlagLoading | FlagStale | FlagNoMulti | FlagAllowBusy,
			Categories: dangerous, Group: "server", Since: "1.0.0",
			Complexity: "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)",
			Summary:    "Synchronously save the dataset to disk and then shut down the server",
			History:    [][2]string{{"7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."}},
			Handler:    cmdShutdown,
			Args: []Arg{
				argOneof("nosave_save", argToken("nosave", "NOSAVE"), argToken("save", "SAVE")).optional(),
				argToken("now", "NOW").since("7.0.0").optional(),
				argToken("force", "FORCE").since("7.0.0").optional(),
				argToken("abort", "ABORT").since("7.0.0").optional(),
			}},
		&Command{Name: "save", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagNoAsyncLoading | FlagNoMulti,
			Categories: dangerous, Group: "server", Since: "1.0.0",
			Complexity: "O(N) where N is the total number of keys in all databases",
			Summary:    "Synchronously save the dataset to disk", Handler: cmdSave},
		&Command{Name: "bgsave", Arity: -1, Flags: FlagAdmin | FlagNoScript | FlagNoAsyncLoading,
			Categories: dangerous, Group: "server", Since: "1.0.0", Complexity: "O(1)",
			Summary: "Asynchronously save the dataset to disk",
			History: [][2]string{{"3.2.2", "Added the `SCHEDULE` option."}},
			Handler: cmdBGSave,
			Args:    []Arg{argToken("schedule", "SCHEDULE").since("3.2.2").optional()}},
		&Command{Name: "wait", Arity: 3, Flags: FlagNoScript, Categories: CatConnection,
			Tips:  []string{"request_policy:all_shards", "response_policy:agg_min"},
			Group: "generic", Since: "3.0.0", Complexity: "O(1)",
			Summary: "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
			Handler: cmdWait,
			Args:    []Arg{argInt("numreplicas"), argInt("timeout")}},
		&Command{Name: "debug", Arity: -2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale,
			Categories: dangerous, Group: "server", Since: "1.0.0", Complexity: "Depends on subcommand.",
			Summary: "A container for debugging commands", DocFlags: []string{"syscmd"}, Handler: cmdDebug},
	)
	t.add(backupCommands()...)
}

func (c *Ctx) admin() (Admin, bool) {
	a, ok := c.Server.(Admin)
	if !ok {
		c.W.Error("ERR this server does not support administration commands")
	}
	return a, ok
}

// cmdShutdown parses as Redis's shutdownCommand. On success the client
// gets no reply: its connection closes as the node goes.
func cmdShutdown(c *Ctx) {
	var opts ShutdownOptions
	abort := false
	for _, a := range c.Args[1:] {
		switch strings.ToLower(string(a)) {
		case "nosave":
			opts.NoSave = true
		case "save":
			opts.Save = true
		case "now":
			opts.Now = true
		case "force":
			opts.Force = true
		case "abort":
			abort = true
		default:
			c.W.Error(errSyntax.Error())
			return
		}
	}
	if abort && (opts.NoSave || opts.Save || opts.Now || opts.Force) || opts.NoSave && opts.Save {
		c.W.Error(errSyntax.Error())
		return
	}
	if abort {
		// A shutdown here never waits (for replicas to catch up, as
		// Redis's may): there is none in progress to abort.
		c.W.Error("ERR No shutdown in progress.")
		return
	}
	a, ok := c.admin()
	if !ok {
		return
	}
	if err := a.Shutdown(opts); err != nil {
		c.W.Error("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	c.S.CloseAfter = true
}

func cmdSave(c *Ctx) {
	a, ok := c.admin()
	if !ok {
		return
	}
	if err := a.Save(); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.OK()
}

func cmdBGSave(c *Ctx) {
	if len(c.Args) > 1 && (len(c.Args) != 2 || !strings.EqualFold(string(c.Args[1]), "schedule")) {
		c.W.Error(errSyntax.Error())
		return
	}
	a, ok := c.admin()
	if !ok {
		return
	}
	if err := a.BGSave(); err != nil {
		c.W.Error(err.Error())
		return
	}
	c.W.Status("Background saving started")
}

// cmdWait parses as Redis's waitCommand: numreplicas as a long, the
// timeout in milliseconds (0: wait for ever).
func cmdWait(c *Ctx) {
	want, ok := parseInt(c.Args[1])
	if !ok {
		c.W.Error(errNotInt.Error())
		return
	}
	ms, ok := parseInt(c.Args[2])
	if !ok {
		c.W.Error("ERR timeout is not an integer or out of range")
		return
	}
	if ms < 0 {
		c.W.Error("ERR timeout is negative")
		return
	}
	a, ok := c.admin()
	if !ok {
		return
	}
	if c.S.InMulti() || c.InScript {
		// As Redis inside MULTI: what is known now, without waiting.
		want = 0
	}
	c.W.Int(a.WaitReplicas(c.S, want, time.Duration(ms)*time.Millisecond))
}

var debugHelp = []string{
	"OBJECT <key>",
	"    Show low level info about the `key` and associated value.",
	"RELOAD",
	"    Save the dataset as a Raft snapshot and restore every node from it.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop the server for <seconds>. Decimals allowed.",
}

// cmdDebug serves the subset of DEBUG that means something here (the
// server refuses DEBUG unless enable-debug-command allows the client).
func cmdDebug(c *Ctx) {
	sub := strings.ToLower(string(c.Args[1]))
	switch {
	case sub == "help" && len(c.Args) == 2:
		writeHelp(c, "DEBUG", debugHelp)
	case sub == "sleep" && len(c.Args) == 3:
		secs, _ := strconv.ParseFloat(string(c.Args[2]), 64) // Redis's strtod: junk is 0
		time.Sleep(time.Duration(secs * float64(time.Second)))
		c.W.OK()
	case sub == "set-active-expire" && len(c.Args) == 3:
		a, ok := c.admin()
		if !ok {
			return
		}
		n, _ := parseInt(c.Args[2]) // Redis's atoi: anything else is 0
		a.SetActiveExpire(n != 0)
		c.W.OK()
	case sub == "object" && len(c.Args) == 3:
		debugObject(c)
	case sub == "reload":
		for _, o := range c.Args[2:] {
			switch strings.ToLower(string(o)) {
			case "merge", "noflush", "nosave": // the snapshot holds it all: nothing to merge
			default:
				c.W.Error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.")
				return
			}
		}
		a, ok := c.admin()
		if !ok {
			return
		}
		if err := a.Reload(); err != nil {
			c.W.Error("ERR Error trying to load the RDB dump: " + err.Error())
			return
		}
		c.W.OK()
	default:
		c.W.Error("ERR unknown subcommand or wrong number of arguments for '" + cstrMax(c.Args[1], 128) + "'. Try DEBUG HELP.")
	}
}

// debugObject is DEBUG OBJECT's line, Redis's format with what has a
// meaning here: no address (0x0), the value's memory for its serialized
// length, the LRU clock in seconds as Redis keeps it (24 bits).
func debugObject(c *Ctx) {
	c.read(func(db *keyspace.DB) {
		v := db.Get(c.Args[2], c.Now())
		if v == nil {
			c.W.Error("ERR no such key")
			return
		}
		refs := int64(1)
		if v.Shared() {
			refs = math.MaxInt32
		}
		var lru, idle int64
		if at := v.Accessed(); at != 0 {
			lru = at / 1000 & (1<<24 - 1)
			idle = max(c.Now()/1000-at/1000, 0)
		}
		c.W.Status("Value at:0x0 refcount:" + strconv.FormatInt(refs, 10) +
			" encoding:" + v.Encoding().String() +
			" serializedlength:" + strconv.FormatInt(v.Usage(), 10) +
			" lru:" + strconv.FormatInt(lru, 10) +
			" lru_seconds_idle:" + strconv.FormatInt(idle, 10))
	})
}
