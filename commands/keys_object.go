package commands

import (
	"math"

	"github.com/loomcache/loomcache/keyspace"
)

// OBJECT: introspection of one key's value. Like Redis's
// objectCommandLookup it never updates the access time it reports.

func registerObject(t *Table) {
	sub := func(name, since, summary string, h Handler) *Command {
		return &Command{Name: "object|" + name, Arity: 3, Flags: FlagReadonly, Categories: CatKeyspace,
			Keys:  []KeySpec{{Flags: KeyRO, Index: 2, LastKey: 0, KeyStep: 1}},
			Tips:  []string{"nondeterministic_output"},
			Group: "generic", Since: since, Complexity: "O(1)", Summary: summary, Handler: h,
			Args: []Arg{argKey("key", 0)}}
	}
	// Redis 7.0's COMMAND INFO OBJECT lists the subcommands in this order.
	t.add(&Command{Name: "object", Arity: -2, Group: "generic", Since: "2.2.3",
		Complexity: "Depends on subcommand.", Summary: "A container for object introspection commands",
		Subs: []*Command{
			{Name: "object|help", Arity: 2, Flags: FlagLoading | FlagStale, Categories: CatKeyspace,
				Group: "generic", Since: "6.2.0", Complexity: "O(1)",
				Summary: "Show helpful text about the different subcommands", Handler: cmdObjectHelp},
			sub("encoding", "2.2.3", "Inspect the internal encoding of a Redis object", cmdObjectEncoding),
			sub("idletime", "2.2.3", "Get the time since a Redis object was last accessed", cmdObjectIdleTime),
			sub("freq", "4.0.0", "Get the logarithmic access frequency counter of a Redis object", cmdObjectFreq),
			sub("refcount", "2.2.3", "Get the number of references to the value of the key", cmdObjectRefCount),
		}})
}

var objectHelp = []string{
	"ENCODING <key>",
	"    Return the kind of internal representation used in order to store the value",
	"    associated with a <key>.",
	"FREQ <key>",
	"    Return the access frequency index of the <key>. The returned integer is",
	"    proportional to the logarithm of the recent access frequency of the key.",
	"IDLETIME <key>",
	"    Return the idle time of the <key>, that is the approximated number of",
	"    seconds elapsed since the last access to the key.",
	"REFCOUNT <key>",
	"    Return the number of references of the value associated with the specified",
	"    <key>.",
}

func cmdObjectHelp(c *Ctx) { writeHelp(c, "OBJECT", objectHelp) }

// objectRead runs fn with the key's value, or replies null if there is
// none.
func (c *Ctx) objectRead(fn func(db *keyspace.DB, v *keyspace.Entry)) {
	c.read(func(db *keyspace.DB) {
		v := db.Get(c.Args[2], c.Now())
		if v == nil {
			c.W.Null()
			return
		}
		fn(db, v)
	})
}

func cmdObjectEncoding(c *Ctx) {
	c.objectRead(func(_ *keyspace.DB, v *keyspace.Entry) { c.W.BulkString(v.Encoding().String()) })
}

// cmdObjectIdleTime counts whole seconds of the clock as Redis's LRU clock
// does. A value no access has been recorded for (written by an applier
// that does not stamp it) counts as just used. Under an LFU policy Redis
// does not track idle time, and says so.
func cmdObjectIdleTime(c *Ctx) {
	c.objectRead(func(_ *keyspace.DB, v *keyspace.Entry) {
		if c.Node.Store().LFU() {
			c.W.Error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		var idle int64
		if at := v.Accessed(); at != 0 {
			idle = max(c.Now()/1000-at/1000, 0)
		}
		c.W.Int(idle)
	})
}

// cmdObjectFreq answers the key's LFU counter, decayed to now, under an
// LFU maxmemory policy (the counter is this node's: access data is not
// replicated), and Redis's error under any other.
func cmdObjectFreq(c *Ctx) {
	c.objectRead(func(db *keyspace.DB, v *keyspace.Entry) {
		if !c.Node.Store().LFU() {
			c.W.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.W.Int(int64(db.Freq(v, c.Now())))
	})
}

// cmdObjectRefCount reports Redis's shared integers (0..9999) as it does,
// with OBJ_SHARED_REFCOUNT; every other value has one reference.
func cmdObjectRefCount(c *Ctx) {
	c.objectRead(func(_ *keyspace.DB, v *keyspace.Entry) {
		if v.Shared() {
			c.W.Int(math.MaxInt32)
			return
		}
		c.W.Int(1)
	})
}
