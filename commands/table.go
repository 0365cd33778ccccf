// Package commands owns the command table — one declarative entry per Redis
// command, grouped one file per family — and the handlers and op appliers
// behind it. Dispatch, arity errors, COMMAND replies, ACL categories and key
// extraction are all derived from the table. Handlers validate arguments,
// turn writes into ops for the node to replicate, and serve reads from the
// keyspace; appliers apply ops deterministically.
package commands

import (
	"hash/maphash"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/latency"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/pubsub"
)

// Flag is a command flag, as COMMAND INFO lists them.
type Flag uint32

// Command flags, in the order Redis prints them.
const (
	FlagWrite Flag = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagModule
	FlagAdmin
	FlagPubsub
	FlagNoScript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagSkipSlowlog
	FlagAsking
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagSentinel
	FlagOnlySentinel
	FlagNoMandatoryKeys
	FlagProtected
	FlagModuleGetKeys
	FlagModuleGetChannels
	FlagNoAsyncLoading
	FlagNoMulti
	FlagMovableKeys
	FlagAllowBusy
	flagEnd
)

var flagNames = [...]string{
	"write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
	"blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
	"fast", "no_auth", "may_replicate", "sentinel", "only_sentinel",
	"no_mandatory_keys", "protected", "module_getkeys", "module_getchannels",
	"no_async_loading", "no_multi", "movablekeys", "allow_busy",
}

// Category is a set of ACL categories.
type Category uint32

// ACL categories, in Redis's order (ACL CAT lists them so).
const (
	CatKeyspace Category = 1 << iota
	CatRead
	CatWrite
	CatSet
	CatSortedSet
	CatList
	CatHash
	CatString
	CatBitmap
	CatHyperLogLog
	CatGeo
	CatStream
	CatPubsub
	CatAdmin
	CatFast
	CatSlow
	CatBlocking
	CatDangerous
	CatConnection
	CatTransaction
	CatScripting
	catEnd
)

// CategoryNames lists the ACL category names in order.
var CategoryNames = [...]string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
	"bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast",
	"slow", "blocking", "dangerous", "connection", "transaction", "scripting",
}

// KeyFlag describes how a key spec's keys are used.
type KeyFlag uint32

// Key spec flags, in the order Redis prints them.
const (
	KeyRO KeyFlag = 1 << iota
	KeyRW
	KeyOW
	KeyRM
	KeyAccess
	KeyUpdate
	KeyInsert
	KeyDelete
	KeyNotKey
	KeyIncomplete
	KeyVariableFlags
	keyFlagEnd
)

var keyFlagNames = [...]string{
	"RO", "RW", "OW", "RM", "access", "update", "insert", "delete",
	"not_key", "incomplete", "variable_flags",
}

// KeySpec is one Redis 7 key specification: where the keys begin and how
// to find them from there. A spec with neither Index nor Keyword is
// Redis's "unknown" spec (as SORT's BY/GET/STORE keys).
type KeySpec struct {
	Notes string
	Flags KeyFlag
	// Begin search: by index, or (when Keyword is set) after a keyword
	// searched for from StartFrom (negative: from the end).
	Index     int
	Keyword   string
	StartFrom int
	// Find keys: a range (LastKey relative to the begin, -1 for the last
	// argument, KeyStep, Limit), or with KeyNum set a count argument.
	LastKey  int
	KeyStep  int
	Limit    int
	KeyNum   bool
	KeyNumAt int // index of the count, relative to the begin
	FirstKey int // first key, relative to the begin
}

// ArgType is a command argument's type, as COMMAND DOCS names it.
type ArgType uint8

// Argument types, in Redis's order.
const (
	ArgString ArgType = iota
	ArgInteger
	ArgDouble
	ArgKey
	ArgPattern
	ArgUnixTime
	ArgPureToken
	ArgOneof // one of Args
	ArgBlock // all of Args, in order
)

var argTypeNames = [...]string{
	"string", "integer", "double", "key", "pattern", "unix-time",
	"pure-token", "oneof", "block",
}

// ArgFlag qualifies an argument.
type ArgFlag uint8

// Argument flags, in the order Redis prints them.
const (
	ArgOptional      ArgFlag = 1 << iota
	ArgMultiple              // repeats
	ArgMultipleToken         // repeats with its token each time
)

var argFlagNames = [...]string{"optional", "multiple", "multiple_token"}

// Arg describes one command argument as Redis 7.0's redisCommandArg does.
// Entries build them with the arg* constructors and chained qualifiers, so
// they read like the "arguments" of Redis's src/commands/*.json.
type Arg struct {
	Name            string
	Type            ArgType
	KeySpec         int // key_spec_index + 1; 0 when the argument has none
	Token           string
	Summary         string
	Since           string
	DeprecatedSince string
	Flags           ArgFlag
	Args            []Arg // of a oneof or a block
}

func argKey(name string, spec int) Arg { return Arg{Name: name, Type: ArgKey, KeySpec: spec + 1} }
func argString(name string) Arg        { return Arg{Name: name, Type: ArgString} }
func argInt(name string) Arg           { return Arg{Name: name, Type: ArgInteger} }
func argDouble(name string) Arg        { return Arg{Name: name, Type: ArgDouble} }
func argPattern(name string) Arg       { return Arg{Name: name, Type: ArgPattern} }
func argUnixTime(name string) Arg      { return Arg{Name: name, Type: ArgUnixTime} }

// argToken is a pure-token argument: the token alone.
func argToken(name, token string) Arg { return Arg{Name: name, Type: ArgPureToken, Token: token} }

func argOneof(name string, args ...Arg) Arg { return Arg{Name: name, Type: ArgOneof, Args: args} }
func argBlock(name string, args ...Arg) Arg { return Arg{Name: name, Type: ArgBlock, Args: args} }

// Qualifiers, chained after a constructor.
func (a Arg) token(t string) Arg           { a.Token = t; return a }
func (a Arg) keySpec(i int) Arg            { a.KeySpec = i + 1; return a }
func (a Arg) summary(s string) Arg         { a.Summary = s; return a }
func (a Arg) since(v string) Arg           { a.Since = v; return a }
func (a Arg) deprecatedSince(v string) Arg { a.DeprecatedSince = v; return a }
func (a Arg) optional() Arg                { a.Flags |= ArgOptional; return a }
func (a Arg) multiple() Arg                { a.Flags |= ArgMultiple; return a }
func (a Arg) multipleToken() Arg           { a.Flags |= ArgMultipleToken; return a }

// Handler serves one command on one connection.
type Handler func(c *Ctx)

// ApplyFunc applies an op to a store locked for writing and returns the
// reply value (see reply.go). It must be deterministic.
type ApplyFunc func(ks *keyspace.Store, o *op.Op) any

// Command is one entry of the table.
type Command struct {
	Name       string // lower case; subcommands are named "parent|sub"
	Arity      int    // Redis convention: negative means at least -Arity
	Flags      Flag
	Categories Category // explicit categories; the implied ones are derived
	Keys       []KeySpec
	Tips       []string
	Group      string // COMMAND DOCS group: string, generic, connection, server
	Summary    string
	Since      string
	Complexity string
	Handler    Handler
	Subs       []*Command
	Args       []Arg // COMMAND DOCS "arguments", as Redis's JSON describes them
	// KeyFlags narrows a variable_flags key spec's flags for one call, as
	// the command's getkeys_proc does in Redis (SET needs ACCESS only with
	// GET): what ACL checks and COMMAND GETKEYSANDFLAGS see.
	KeyFlags func(args [][]byte) KeyFlag
	// GetKeys finds the keys of a command whose specs cannot (an
	// "unknown" spec, as SORT's STORE), as Redis falls back to the
	// command's getkeys_proc: it calls fn with each key's index and flags.
	GetKeys func(args [][]byte, fn func(pos int, flags KeyFlag))
	// Channels are the arguments the ACL channel rules check (pubsub.go).
	Channels ChannelArgs
	// COMMAND DOCS extras, where Redis has them.
	History         [][2]string // {version, change}
	DocFlags        []string    // "deprecated", "syscmd"
	DeprecatedSince string
	ReplacedBy      string

	parent *Command
	subs   map[string]*Command
	aclID  acl.CmdID // in the table's ACL catalog
	// Legacy first/last/step, derived from Keys as Redis derives them.
	first, last, step int
	stats             CommandStats // INFO commandstats (stats.go)
	// hist is LATENCY HISTOGRAM's, made at the first call (latency.go).
	hist atomic.Pointer[latency.Histogram]
}

// Table is the whole command table plus the op appliers. It is built once
// by NewTable and never changed after; the access control state it
// carries (ACL) changes only through its appliers.
type Table struct {
	cmds  map[string]*Command
	order []*Command
	apply map[op.Type]ApplyFunc
	acl   *ACL
	evict evictState // evict.go
	// blockLocks order the blocks (transactions, scripts) that name the
	// same keys (block.go).
	blockLocks blockLocks
	scripts    *scripts         // scripts.go
	waiters    *Waiters         // blocking.go
	hub        *pubsub.Hub      // pubsub.go
	events     *keyspaceEvents  // notify.go
	monitors   *pubsub.Monitors // monitor.go
	noLoop     noLoopOrigins    // client_noloop.go
	tracking   *pubsub.Tracking // client_tracking.go
	errStats   errorStats       // INFO errorstats (stats.go)
	lat        latencyState     // SLOWLOG, LATENCY (latency.go)
	migrate    migrateCache     // MIGRATE's connections (migrate_cache.go)
	// epoch is what commands' durations are read from (Table.call).
	epoch time.Time
}

// NewTable builds the table from every family, and the access control
// state over its commands (only the default user).
func NewTable() *Table {
	t := &Table{cmds: make(map[string]*Command), apply: make(map[op.Type]ApplyFunc), hub: pubsub.NewHub(), monitors: pubsub.NewMonitors(),
		tracking: pubsub.NewTracking()}
	t.blockLocks.seed = maphash.MakeSeed()
	t.epoch = time.Now()
	t.lat.init()
	t.events = &keyspaceEvents{hub: t.hub}
	for _, family := range []func(*Table){
		registerConnection, registerServer, registerStrings, registerBitops, registerHash, registerHashTTL, registerSets, registerLists, registerZSets, registerGeo, registerBlocking, registerSort, registerKeys, registerCluster, registerACL,
		registerMulti, registerScripting, registerFunctions, registerPubSub, registerHLL, registerStreams, registerDump,
		registerAdmin,
		registerMigrate,
		registerRedisCluster,
	} {
		family(t)
	}
	t.scripts = newScripts()
	t.waiters = newWaiters()
	t.registerScriptAppliers()
	t.acl = newACL(t.aclCatalog())
	t.registerACLAppliers()
	t.registerEviction()
	return t
}

// Waiters are the clients blocked on keys on this node.
func (t *Table) Waiters() *Waiters { return t.waiters }

// ACL is the node's access control state.
func (t *Table) ACL() *ACL { return t.acl }

// add registers commands.
func (t *Table) add(cmds ...*Command) {
	for _, c := range cmds {
		c.derive()
		if _, dup := t.cmds[c.Name]; dup {
			panic("commands: duplicate command " + c.Name)
		}
		t.cmds[c.Name] = c
		t.order = append(t.order, c)
	}
}

// applier registers the applier of an op type.
func (t *Table) applier(typ op.Type, f ApplyFunc) {
	if _, dup := t.apply[typ]; dup {
		panic("commands: duplicate applier " + typ.String())
	}
	t.apply[typ] = f
}

// Apply applies o; an op with no applier is an error reply, identically on
// every node.
func (t *Table) Apply(ks *keyspace.Store, o *op.Op) any {
	f, ok := t.apply[o.Type]
	if !ok {
		return errorf("ERR no applier for operation %s", o.Type)
	}
	// A corrupt or hostile op must fail the same way on every node, never
	// index out of range.
	if o.DB < 0 || o.DB >= ks.NumDBs() {
		return errDBIndex
	}
	ks.SetOpTime(o.Now)
	return f(ks, o)
}

// Lookup finds a command by name, case-insensitively.
func (t *Table) Lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return t.cmds[strings.ToLower(string(name))]
	}
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return t.cmds[string(buf[:len(name)])]
}

// withArgs sets the arguments of an entry built by a family's helper.
func (c *Command) withArgs(args ...Arg) *Command { c.Args = args; return c }

// Commands returns every top-level command in registration order.
func (t *Table) Commands() []*Command { return t.order }

// Sub finds a subcommand by name, case-insensitively.
func (c *Command) Sub(name []byte) *Command {
	return c.subs[strings.ToLower(string(name))]
}

// HasSubs reports whether the command is a container of subcommands.
func (c *Command) HasSubs() bool { return len(c.subs) > 0 }

// FullName is "parent|sub" for subcommands, the name otherwise.
func (c *Command) FullName() string { return c.Name }

// Has reports whether the command carries flag f.
func (c *Command) Has(f Flag) bool { return c.Flags&f != 0 }

// AllCategories returns the explicit categories plus those Redis implies
// from the flags.
func (c *Command) AllCategories() Category {
	cat := c.Categories
	if c.Flags&FlagWrite != 0 {
		cat |= CatWrite
	}
	if c.Flags&FlagReadonly != 0 && cat&CatScripting == 0 {
		cat |= CatRead
	}
	if c.Flags&FlagAdmin != 0 {
		cat |= CatAdmin | CatDangerous
	}
	if c.Flags&FlagPubsub != 0 {
		cat |= CatPubsub
	}
	if c.Flags&FlagFast != 0 {
		cat |= CatFast
	}
	if c.Flags&FlagBlocking != 0 {
		cat |= CatBlocking
	}
	if c.Flags&FlagFast == 0 {
		cat |= CatSlow
	}
	return cat
}

// derive fills the derived fields: subcommand index and legacy key range.
func (c *Command) derive() {
	if len(c.Subs) > 0 {
		c.subs = make(map[string]*Command, len(c.Subs))
		for _, s := range c.Subs {
			s.parent = c
			short := s.Name[strings.IndexByte(s.Name, '|')+1:]
			s.derive()
			c.subs[short] = s
		}
	}
	c.first, c.last, c.step = 0, 0, 0
	first, last, prevLast := int(^uint(0)>>1), 0, 0
	if len(c.Keys) == 1 && c.Keys[0].Keyword == "" && !c.Keys[0].KeyNum {
		k := c.Keys[0]
		c.first, c.step = k.Index, k.KeyStep
		c.last = k.LastKey
		if k.LastKey >= 0 {
			c.last = k.Index + k.LastKey
		}
		if k.Flags&KeyIncomplete != 0 {
			c.Flags |= FlagMovableKeys
		}
		return
	}
	for _, k := range c.Keys {
		if k.Keyword != "" || k.KeyNum || k.KeyStep != 1 || (prevLast != 0 && prevLast != k.Index-1) {
			c.Flags |= FlagMovableKeys
			continue
		}
		if k.Flags&KeyIncomplete != 0 {
			c.Flags |= FlagMovableKeys
		}
		first = min(first, k.Index)
		abs := k.LastKey
		if abs >= 0 {
			abs += k.Index
		}
		if uint(abs) > uint(last) {
			last = abs
		}
		prevLast = last
	}
	if first == int(^uint(0)>>1) {
		if len(c.Keys) > 0 {
			c.Flags |= FlagMovableKeys
		}
		return
	}
	c.first, c.last, c.step = first, last, 1
}

// CheckArity reports whether n arguments (the name included) fit.
func (c *Command) CheckArity(n int) bool {
	if c.Arity >= 0 {
		return n == c.Arity
	}
	return n >= -c.Arity
}

// KeyPositions returns the indexes of args that are keys, by the key
// specs. Malformed argument lists yield the positions that exist.
func (c *Command) KeyPositions(args [][]byte) []int {
	var pos []int
	c.eachKey(args, func(p int, _ KeyFlag) { pos = append(pos, p) })
	return pos
}

// aclKeys returns the keys of args with the permission each needs, as
// Redis's ACL check derives it from the key spec: ACCESS needs read,
// INSERT, DELETE or UPDATE write.
func (c *Command) aclKeys(args [][]byte) []acl.KeyRef {
	var refs []acl.KeyRef
	c.eachKey(args, func(p int, f KeyFlag) {
		var perm acl.Perm
		if f&KeyAccess != 0 {
			perm |= acl.PermRead
		}
		if f&(KeyInsert|KeyDelete|KeyUpdate) != 0 {
			perm |= acl.PermWrite
		}
		refs = append(refs, acl.KeyRef{Pos: p, Perm: perm})
	})
	return refs
}

// eachKey calls fn with the index of each key of args and its flags: the
// spec's, or for a variable_flags spec those KeyFlags gives.
func (c *Command) eachKey(args [][]byte, fn func(pos int, flags KeyFlag)) {
	if c.GetKeys != nil {
		c.GetKeys(args, fn)
		return
	}
	for _, k := range c.Keys {
		if k.Flags&KeyVariableFlags != 0 && c.KeyFlags != nil {
			k.Flags = c.KeyFlags(args)
		}
		if k.Flags&KeyNotKey != 0 {
			continue
		}
		begin := k.Index
		if k.Keyword != "" {
			begin = findKeyword(args, k.Keyword, k.StartFrom)
			if begin < 0 {
				continue
			}
		}
		if begin <= 0 || begin >= len(args) {
			continue
		}
		if k.KeyNum {
			at := begin + k.KeyNumAt
			if at >= len(args) {
				continue
			}
			n, ok := parseInt(args[at])
			if !ok || n < 0 {
				continue
			}
			step := max(k.KeyStep, 1)
			for i, start := int64(0), begin+k.FirstKey; i < n; i++ {
				p := start + int(i)*step
				if p >= len(args) {
					break
				}
				fn(p, k.Flags)
			}
			continue
		}
		last := k.LastKey
		switch {
		case last >= 0:
			last += begin
		case k.Limit > 1:
			last = begin + (len(args)-begin)/k.Limit - 1
		default:
			last = len(args) + last
		}
		step := max(k.KeyStep, 1)
		for p := begin; p <= last && p < len(args); p += step {
			fn(p, k.Flags)
		}
	}
}

func findKeyword(args [][]byte, kw string, from int) int {
	if from >= 0 {
		for i := from; i < len(args); i++ {
			if strings.EqualFold(string(args[i]), kw) {
				return i + 1
			}
		}
		return -1
	}
	for i := len(args) + from; i > 0; i-- {
		if strings.EqualFold(string(args[i]), kw) {
			return i + 1
		}
	}
	return -1
}
