package op

// Type identifies an operation. Codes are stable forever: never renumber or
// reuse one; add new types at the end of their family's range.
type Type uint16

// Flags shared by several types.
const (
	FlagNX      uint32 = 1 << iota // only if the key does not exist
	FlagXX                         // only if the key exists
	FlagGT                         // only if the new value is greater
	FlagLT                         // only if the new value is less
	FlagKeepTTL                    // keep the existing deadline
	FlagGet                        // reply with the old value
	FlagPersist                    // remove the deadline
	FlagReplace                    // overwrite the destination
	FlagSetTTL                     // Int holds a deadline to set
)

// Internal operations: 1-9.
const (
	// Noop changes nothing; a new leader's barrier.
	Noop Type = 1
	// ExpireKeys deletes each key in Args of DB whose deadline is at or
	// before Now. The leader's active expiry proposes it.
	ExpireKeys Type = 2
	// Forward is a client command a follower forwards to the leader over
	// the cluster port; it is never proposed. Args: the command and its
	// arguments as the client sent them; DB: the connection's database;
	// Int: its RESP protocol version; Req: the request id.
	Forward Type = 3
	// EvictKeys deletes each key in Args of DB that exists (with Flags
	// VOLATILE, each that has a deadline), and counts them as evicted.
	// The leader proposes it when used memory is over maxmemory; the
	// victims are its choice, by the maxmemory-policy.
	EvictKeys Type = 4
	// ReqMark records a client request id for a write that proposed
	// nothing (its reply was decided from the leader's state), so that a
	// retry still in the log is answered by the log. Args [reply]: the
	// RESP bytes the command wrote, the op's reply; or, for a reply too
	// large to carry, Args [""] and Int its length (the proposer writes
	// it).
	ReqMark Type = 5
	// ReadIndex is a follower's request for a read index, sent to the
	// leader over the cluster port's forwarding channel; it is never
	// proposed. No fields. The leader confirms it still leads, waits
	// until it has applied everything it had committed, and answers the
	// index of the last entry it applied (raftfsm/readindex.go).
	ReadIndex Type = 6
)

// Strings: 10-39.
const (
	// Set: Args [key, value]; Int deadline (0: none);
	// Flags NX XX KEEPTTL GET INTREPLY.
	Set Type = 10
	// MSet: Args [k1, v1, k2, v2, ...]; Flags NX makes it MSETNX.
	MSet Type = 11
	// Append: Args [key, value].
	Append Type = 12
	// IncrBy: Args [key]; Int delta.
	IncrBy Type = 13
	// IncrByFloat: Args [key, delta as text].
	IncrByFloat Type = 14
	// SetRange: Args [key, value]; Int offset.
	SetRange Type = 15
	// GetDel: Args [key].
	GetDel Type = 16
	// GetEx: Args [key]; Flags PERSIST, or SETTTL with Int the deadline.
	GetEx Type = 17
)

// FlagIntReply makes a Set reply 1 when it stored the value and 0 when NX
// or XX stopped it, as SETNX does. High bit: it is specific to Set.
const FlagIntReply uint32 = 1 << 24

// Generic key operations: 40-69.
const (
	// Del: Args keys.
	Del Type = 40
	// Rename: Args [src, dst]; Flags NX.
	Rename Type = 41
	// Expire: Args [key]; Int deadline (unix ms); Flags NX XX GT LT.
	Expire Type = 42
	// Persist: Args [key].
	Persist Type = 43
	// Copy: Args [src, dst]; Int destination db; Flags REPLACE.
	Copy Type = 44
	// Move: Args [key]; Int destination db.
	Move Type = 45
	// SwapDB: swaps DB and Int.
	SwapDB Type = 46
	// FlushDB: empties DB.
	FlushDB Type = 47
	// FlushAll: empties every database.
	FlushAll Type = 48
)

// RESTORE: 60-69.
const (
	// Restore: Args [key, DUMP payload, access, stream limits]: access
	// "" or "idle:N" / "freq:N", the limits the proposer's
	// stream-node-max-bytes<<32 | -entries in decimal; Int absolute
	// deadline (unix ms, 0: none); Flags REPLACE. Every node decodes the
	// payload alike.
	Restore Type = 60
)

// Lists: 170-189. Every write to a list is one of these; the blocking
// commands propose the same ops once there is something to pop.
const (
	// ListPush: Args [key, element...]; pushes at the head, or the tail
	// with Flags RIGHT; with Flags XX only onto an existing list
	// (LPUSHX, RPUSHX). Replies the new length.
	ListPush Type = 170
	// ListPop pops up to Int elements (Int 0: none, a count of 0) from
	// the first of the keys Args that holds a list, at the head or, with
	// Flags RIGHT, the tail. Flags carry the reply's shape (PopOne,
	// PopCount, PopKeyed).
	ListPop Type = 171
	// LSet: Args [key, index as text, element].
	LSet Type = 172
	// LInsert: Args [key, pivot, element]; before the pivot, or after it
	// with Flags RIGHT.
	LInsert Type = 173
	// LRem: Args [key, element]; Int count.
	LRem Type = 174
	// LTrim: Args [key, start, stop] (as text).
	LTrim Type = 175
	// LMove: Args [src, dst]; pops at the head of src (Flags RIGHT: the
	// tail) and pushes at the head of dst (Flags TORIGHT: the tail).
	LMove Type = 176
)

// Flags of the list ops. High bits: specific to them.
const (
	FlagRight   uint32 = 1 << 22 // the tail end (RIGHT); LINSERT: AFTER
	FlagToRight uint32 = 1 << 23 // LMove: push at the tail
)

// ListPop's reply shapes, in Flags (PopShapeMask).
const (
	PopOne       uint32 = 0       // LPOP key: the element, or a null
	PopCount     uint32 = 1 << 16 // LPOP key count: an array, or a null array
	PopKeyed     uint32 = 2 << 16 // LMPOP: [key, [element...]], or a null array
	PopPair      uint32 = 3 << 16 // BLPOP: [key, element], or a null array
	PopShapeMask uint32 = 0xf << 16
)

// Sets: 190-209. Random choices (SPOP) are made by the handler and
// carried as members; the *STORE results are computed by the applier from
// the sources, so the op stays small.
const (
	// SAdd: Args [key, member...].
	SAdd Type = 190
	// SRem: Args [key, member...].
	SRem Type = 191
	// SPop removes the members of Args[1:] still in the set Args[0] and
	// replies them; with Flags ALL it removes every member. Flags COUNT
	// replies a set (SPOP key count) rather than one member.
	SPop Type = 192
	// SMove: Args [src, dst, member].
	SMove Type = 193
	// SStore: Args [dst, key...]; Int the operation (SetInter, SetUnion,
	// SetDiff).
	SStore Type = 194
)

// SStore's operations.
const (
	SetInter int64 = 0
	SetUnion int64 = 1
	SetDiff  int64 = 2
)

// Flags of SPop. High bits: specific to it.
const (
	FlagCount uint32 = 1 << 20 // SPOP with a count: reply a set
	FlagAll   uint32 = 1 << 21 // pop every member
)

// Sorted sets: 210-239. Scores travel as the 8 bytes of a float64 (little
// endian); the range and *STORE ops carry their command's arguments,
// which the applier parses as the handler did, so the op stays small and
// every node computes the same result.
const (
	// ZAdd: Args [key, score, member, score, member...]; Flags NX XX GT
	// LT ZINCR ZCH.
	ZAdd Type = 210
	// ZRem: Args [key, member...].
	ZRem Type = 211
	// ZRemRange: Args [key, min, max] as the command gave them; Int the
	// kind of range (0 rank, 1 score, 2 lex).
	ZRemRange Type = 212
	// ZPop pops from the first non-empty sorted set of Args (keys), Int
	// members at most, the lowest scores (the highest with Flags ZMAX).
	// Flags ZEMITKEY, ZNESTED, ZNILEMPTY choose the reply's shape, as
	// Redis's genericZpopCommand's arguments do.
	ZPop Type = 213
	// ZRangeStore: Args the arguments of ZRANGESTORE after its name.
	ZRangeStore Type = 214
	// ZStore: Args the arguments of Z{UNION,INTER,DIFF}STORE after its
	// name; Int the operation (SetInter, SetUnion, SetDiff).
	ZStore Type = 215
)

// Sort: 240-249.
const (
	// SortStore is SORT with STORE: Args the arguments of SORT after its
	// name; the applier parses them as the handler did and sorts the
	// keyspace it is given, so every node stores the same list.
	SortStore Type = 240
)

// Flags of ZAdd and ZPop. High bits: specific to them.
const (
	FlagZIncr     uint32 = 1 << 20 // ZADD INCR (and ZINCRBY): reply the new score
	FlagZCh       uint32 = 1 << 21 // ZADD CH: count updated members too
	FlagZMax      uint32 = 1 << 20 // ZPop: pop the highest scores
	FlagZEmitKey  uint32 = 1 << 21 // ZPop: the reply names the key
	FlagZNested   uint32 = 1 << 22 // ZPop: [member, score] pairs in RESP3
	FlagZNilEmpty uint32 = 1 << 23 // ZPop: a null array when nothing was popped
)

// Scripting: 70-89. The script cache and the function libraries are
// replicated state outside the keyspace; the leader validates a library
// (running its body) before proposing it, and the op carries what the
// appliers need, so no node runs Lua to apply one.
const (
	// ScriptLoad adds a script to the cache: Args [body].
	ScriptLoad Type = 70
	// ScriptFlush empties the script cache.
	ScriptFlush Type = 71
	// FunctionLoad adds a library: Args [library] (an encoded name, code
	// and function names); Flags REPLACE.
	FunctionLoad Type = 72
	// FunctionDelete deletes a library: Args [name].
	FunctionDelete Type = 73
	// FunctionFlush deletes every library.
	FunctionFlush Type = 74
	// FunctionRestore adds libraries of a FUNCTION DUMP payload: Args
	// libraries as FunctionLoad's; Int the policy (0 APPEND, 1 REPLACE,
	// 2 FLUSH).
	FunctionRestore Type = 75
)

// Hashes: 150-169. Every write to a hash is one of these, decided where
// the command arrived; HINCRBYFLOAT's sum is computed by the applier, in
// the same emulated long double on every node.
const (
	// HSet: Args [key, f1, v1, f2, v2, ...]; replies the number of new
	// fields.
	HSet Type = 150
	// HSetNX: Args [key, field, value]; sets only a new field, replies 1/0.
	HSetNX Type = 151
	// HMSet: Args as HSet; replies OK.
	HMSet Type = 152
	// HDel: Args [key, field...]; replies the number removed.
	HDel Type = 153
	// HIncrBy: Args [key, field]; Int delta.
	HIncrBy Type = 154
	// HIncrByFloat: Args [key, field, delta as text].
	HIncrByFloat Type = 155
	// HPExpireAt sets the deadline Int (unix ms) of the fields Args[1:] of
	// hash Args[0] (Redis 7.4's HEXPIRE family); Flags the condition
	// (HFieldNX ...). Replies an array: per field -2, 0, 1, or 2 when the
	// deadline has passed at Now and the field was deleted.
	HPExpireAt Type = 156
	// HPersist removes the deadlines of the fields Args[1:] of hash
	// Args[0]; replies an array of -2, -1 or 1.
	HPersist Type = 157
	// HExpireFields deletes hash fields expired at Now (the leader's
	// active expiry): Args [key, count, field..., key, count, field...],
	// count in decimal; a field given a new deadline since stays.
	HExpireFields Type = 158
)

// HPExpireAt's conditions (Flags), as HEXPIRE's NX|XX|GT|LT.
const (
	HFieldNX uint32 = 1 + iota
	HFieldXX
	HFieldGT
	HFieldLT
)

// Blocks: 120-129.
const (
	// Exec is a transaction's or a script's writes, applied together if
	// the versions they were decided on still hold (exec.go): Args
	// [checks, reply, op...]; Now is the block's time.
	Exec Type = 120
)

// Pub/Sub: 250-259. They change no state: applying one hands the
// message to the node's Pub/Sub hub, which delivers it to the node's own
// subscribers, so every node delivers a log's messages in its order.
const (
	// Publish is PUBLISH, proposed through partition 0's log: Args
	// [channel, message].
	Publish Type = 250
	// SPublish is SPUBLISH, proposed through the log of the channel's
	// partition (hashed as a key): Args [channel, message].
	SPublish Type = 251
)

// Access control: 100-119. They change the users every node enforces,
// at the same log position on every node.
const (
	// AclSetUser is ACL SETUSER: Args [name, rule...].
	AclSetUser Type = 100
	// AclDelUser is ACL DELUSER: Args names.
	AclDelUser Type = 101
	// AclLoad is ACL LOAD: Args [file name, file content]; Flags
	// IfChanged.
	AclLoad Type = 102
	// AclRequirePass is the requirepass directive: Args [password], ""
	// for none; Flags IfChanged.
	AclRequirePass Type = 103
)

// FlagIfChanged makes AclLoad and AclRequirePass change nothing when the
// state already is what they would make it: a node that restarts with
// the same aclfile or requirepass does not undo later ACL SETUSERs.
const FlagIfChanged uint32 = 1 << 25

// FlagProposal marks a Forward op whose Args [0] is an encoded op for the
// leader to propose as it is (a follower's handler proposing, as ACL
// SETUSER does), rather than a client command to run.
const FlagProposal uint32 = 1 << 26

// FlagVolatile makes EvictKeys delete only keys that have a deadline, so
// a volatile-* policy never evicts a key that lost its TTL after the
// leader picked it.
const FlagVolatile uint32 = 1 << 27

// FlagBlock marks a Forward op whose last argument is a transaction for
// the leader to run as a block (its Args: ["EXEC", transaction]), as a
// follower forwards EXEC.
const FlagBlock uint32 = 1 << 28

// FlagVersions marks a Forward op asking the leader for the versions of
// keys (Args: ["WATCH", key...]), as a follower's WATCH does.
const FlagVersions uint32 = 1 << 29

// FlagUser marks a Forward op whose Args[0] is the name of the
// connection's user, the command following: a script's commands are
// checked against its caller's ACL rules where the script runs.
const FlagUser uint32 = 1 << 30

// spec describes a type: its name and the shape of its Args, which the
// decoder enforces so appliers can index Args without checking.
type spec struct {
	name    string
	minArgs int
	maxArgs int // -1: no limit
	argStep int // args beyond minArgs come in groups of this many
}

var specs = map[Type]spec{
	Noop:        {"NOOP", 0, 0, 1},
	ExpireKeys:  {"EXPIREKEYS", 0, -1, 1},
	Forward:     {"FORWARD", 1, -1, 1},
	EvictKeys:   {"EVICTKEYS", 1, -1, 1},
	ReqMark:     {"REQMARK", 1, 1, 1},
	ReadIndex:   {"READINDEX", 0, 0, 1},
	Set:         {"SET", 2, 2, 1},
	MSet:        {"MSET", 2, -1, 2},
	Append:      {"APPEND", 2, 2, 1},
	IncrBy:      {"INCRBY", 1, 1, 1},
	IncrByFloat: {"INCRBYFLOAT", 2, 2, 1},
	SetRange:    {"SETRANGE", 2, 2, 1},
	GetDel:      {"GETDEL", 1, 1, 1},
	GetEx:       {"GETEX", 1, 1, 1},
	SetBit:      {"SETBIT", 2, 2, 1},
	BitOp:       {"BITOP", 2, -1, 1},
	BitField:    {"BITFIELD", 1, -1, 1},
	Del:         {"DEL", 1, -1, 1},
	Rename:      {"RENAME", 2, 2, 1},
	Expire:      {"EXPIRE", 1, 1, 1},
	Persist:     {"PERSIST", 1, 1, 1},
	Copy:        {"COPY", 2, 2, 1},
	Move:        {"MOVE", 1, 1, 1},
	SwapDB:      {"SWAPDB", 0, 0, 1},
	FlushDB:     {"FLUSHDB", 0, 0, 1},
	FlushAll:    {"FLUSHALL", 0, 0, 1},
	Restore:     {"RESTORE", 4, 4, 1},

	SAdd:   {"SADD", 2, -1, 1},
	SRem:   {"SREM", 2, -1, 1},
	SPop:   {"SPOP", 1, -1, 1},
	SMove:  {"SMOVE", 3, 3, 1},
	SStore: {"SSTORE", 2, -1, 1},

	ListPush:    {"LISTPUSH", 2, -1, 1},
	ListPop:     {"LISTPOP", 1, -1, 1},
	LSet:        {"LSET", 3, 3, 1},
	LInsert:     {"LINSERT", 3, 3, 1},
	LRem:        {"LREM", 2, 2, 1},
	LTrim:       {"LTRIM", 3, 3, 1},
	LMove:       {"LMOVE", 2, 2, 1},
	ZAdd:        {"ZADD", 3, -1, 2},
	ZRem:        {"ZREM", 2, -1, 1},
	ZRemRange:   {"ZREMRANGE", 3, 3, 1},
	ZPop:        {"ZPOP", 1, -1, 1},
	ZRangeStore: {"ZRANGESTORE", 4, -1, 1},
	ZStore:      {"ZSTORE", 3, -1, 1},

	SortStore: {"SORTSTORE", 1, -1, 1},

	GeoStore: {"GEOSTORE", 5, -1, 1},

	Exec: {"EXEC", 2, -1, 1},

	HSet:          {"HSET", 3, -1, 2},
	HSetNX:        {"HSETNX", 3, 3, 1},
	HMSet:         {"HMSET", 3, -1, 2},
	HDel:          {"HDEL", 2, -1, 1},
	HIncrBy:       {"HINCRBY", 2, 2, 1},
	HIncrByFloat:  {"HINCRBYFLOAT", 3, 3, 1},
	HPExpireAt:    {"HPEXPIREAT", 2, -1, 1},
	HPersist:      {"HPERSIST", 2, -1, 1},
	HExpireFields: {"HEXPIREFIELDS", 3, -1, 1},

	ScriptLoad:      {"SCRIPTLOAD", 1, 1, 1},
	ScriptFlush:     {"SCRIPTFLUSH", 0, 0, 1},
	FunctionLoad:    {"FUNCTIONLOAD", 1, 1, 1},
	FunctionDelete:  {"FUNCTIONDELETE", 1, 1, 1},
	FunctionFlush:   {"FUNCTIONFLUSH", 0, 0, 1},
	FunctionRestore: {"FUNCTIONRESTORE", 0, -1, 1},

	AclSetUser:     {"ACLSETUSER", 1, -1, 1},
	AclDelUser:     {"ACLDELUSER", 1, -1, 1},
	AclLoad:        {"ACLLOAD", 2, 2, 1},
	AclRequirePass: {"ACLREQUIREPASS", 1, 1, 1},

	Publish:  {"PUBLISH", 2, 2, 1},
	SPublish: {"SPUBLISH", 2, 2, 1},

	PFAdd:   {"PFADD", 1, -1, 1},
	PFMerge: {"PFMERGE", 1, -1, 1},
	PFCache: {"PFCACHE", 1, 1, 1},
	PFDebug: {"PFDEBUG", 2, 2, 1},

	XAdd:                 {"XADD", 6, -1, 2},
	XTrim:                {"XTRIM", 3, 3, 1},
	XDel:                 {"XDEL", 2, -1, 1},
	XSetID:               {"XSETID", 4, 4, 1},
	XGroupCreate:         {"XGROUPCREATE", 3, -1, 1},
	XGroupSetID:          {"XGROUPSETID", 3, -1, 1},
	XGroupDestroy:        {"XGROUPDESTROY", 2, 2, 1},
	XGroupCreateConsumer: {"XGROUPCREATECONSUMER", 3, 3, 1},
	XGroupDelConsumer:    {"XGROUPDELCONSUMER", 3, 3, 1},
	XReadGroup:           {"XREADGROUP", 4, -1, 2},
	XAck:                 {"XACK", 3, -1, 1},
	XClaim:               {"XCLAIM", 5, -1, 1},
	XAutoClaim:           {"XAUTOCLAIM", 5, -1, 1},
	StreamSync:           {"STREAMSYNC", 1, 1, 1},
}

// Known reports whether t is a defined type.
func (t Type) Known() bool { _, ok := specs[t]; return ok }

// String returns the type's name.
func (t Type) String() string {
	if sp, ok := specs[t]; ok {
		return sp.name
	}
	return "UNKNOWN"
}

// Types returns every defined type, for documentation and tests.
func Types() []Type {
	ts := make([]Type, 0, len(specs))
	for t := range specs {
		ts = append(ts, t)
	}
	return ts
}

// ValidArgs reports whether n arguments fit t's shape.
func (t Type) ValidArgs(n int) bool {
	sp := specs[t]
	if n < sp.minArgs || (sp.maxArgs >= 0 && n > sp.maxArgs) {
		return false
	}
	return (n-sp.minArgs)%sp.argStep == 0
}

// Bitmaps: 18-20 (the strings range). Each works on the key's string at
// apply time; BITOP reads its sources and BITFIELD its subcommands there.
const (
	// SetBit: Args [key, bit ("0" or "1")]; Int the bit offset. Replies
	// the bit's old value.
	SetBit Type = 18
	// BitOp: Args [dst, src...]; Int the operation (BitAnd, BitOr,
	// BitXor, BitNot). Replies the result's length.
	BitOp Type = 19
	// BitField: Args [key, subcommand...], BITFIELD's arguments after its
	// name, which the applier parses as the handler did. Replies an
	// array, an integer or a null per GET, SET and INCRBY.
	BitField Type = 20
)

// BitOp's operations.
const (
	BitAnd int64 = 0
	BitOr  int64 = 1
	BitXor int64 = 2
	BitNot int64 = 3
)

// Geo: 260-269.
const (
	// GeoStore is a geo search that stores its result (GEORADIUS and
	// GEORADIUSBYMEMBER with STORE or STOREDIST, GEOSEARCHSTORE): Args
	// the command's whole argv, its name as sent first (Redis's errors
	// quote it); Int the variant (1 GEORADIUS, 2 GEORADIUSBYMEMBER, 24
	// GEOSEARCHSTORE). The applier parses and searches the source as it
	// is at apply time, so every node stores the same set.
	GeoStore Type = 260
)

// HyperLogLogs: 30-34 (the strings range: an HLL is a string value).
// The appliers hash and merge, so the ops carry the command's arguments.
const (
	// PFAdd: Args [key, element...]; replies 1 if it created the key or
	// changed a register, else 0.
	PFAdd Type = 30
	// PFMerge: Args [dest, source...]; merges dest and the sources (read
	// at apply time) into dest, replies OK.
	PFMerge Type = 31
	// PFCache: Args [key]; PFCOUNT of one key whose cached cardinality
	// is stale: the applier counts and stores the cache in the value's
	// header, as Redis's PFCOUNT changes its bytes; replies the count.
	PFCache Type = 32
	// PFDebug: Args [subcommand, key]; PFDEBUG, whose GETREG and TODENSE
	// make a sparse value dense.
	PFDebug Type = 33
)

// Streams: 270-309. Every write to a stream is one of these. Ids given as
// "*" (and "ms-*") are decided by the applier from Now (the leader's
// clock, carried in the op) and the stream's last id, so every node holds
// the same ids and a clock that goes back never makes one go back.
// Deliveries to consumer groups (XREADGROUP, XCLAIM, XAUTOCLAIM) are
// writes too, timed by Now, so idle times and delivery counts replicate.
const (
	// XAdd: Args [key, id as given ("*", "ms-*", "ms-seq"), trim
	// threshold, trim limit, f1, v1, ...]; Flags XNoMkStream and the
	// XTrim* flags (threshold and limit are "" without a trim); Int the
	// proposer's stream-node-max-bytes << 32 | stream-node-max-entries,
	// by which every node cuts the stream's blocks. Replies the id added.
	XAdd Type = 270
	// XTrim: Args [key, threshold, limit]; Flags the XTrim* flags; Int
	// as XAdd's. Replies the number of entries removed.
	XTrim Type = 271
	// XDel: Args [key, id...]; replies the number removed.
	XDel Type = 272
	// XSetID: Args [key, last id, entries added ("": unchanged), max
	// deleted id ("": unchanged)].
	XSetID Type = 273
	// XGroupCreate is XGROUP CREATE: Args its arguments as given (key,
	// group, id or "$", options); the applier checks them in Redis's
	// order against the stream as it is then ("$": its last id then).
	XGroupCreate Type = 274
	// XGroupSetID is XGROUP SETID: Args as XGroupCreate's.
	XGroupSetID Type = 275
	// XGroupDestroy: Args [key, group].
	XGroupDestroy Type = 276
	// XGroupCreateConsumer: Args [key, group, consumer]; seen at Now.
	XGroupCreateConsumer Type = 277
	// XGroupDelConsumer: Args [key, group, consumer].
	XGroupDelConsumer Type = 278
	// XReadGroup delivers entries to a consumer: Args [group, consumer,
	// key1, id1, key2, id2, ...] (">" for new entries, else the
	// consumer's history from the id); Int the count (0: all); Flags
	// XNoAck, XBlocked (a blocked reader's retry). Delivery time Now.
	XReadGroup Type = 279
	// XAck: Args [key, group, id...].
	XAck Type = 280
	// XClaim is XCLAIM: Args its arguments as given; idle times are
	// judged against Now, and the delivery time is Now unless TIME or
	// IDLE set it.
	XClaim Type = 281
	// XAutoClaim is XAUTOCLAIM: Args its arguments as given; judged
	// against Now.
	XAutoClaim Type = 282
	// StreamSync changes nothing. A blocking stream read on a follower
	// proposed it and waited until its node applied it, before read
	// indexes; none is proposed now, and one in the log applies as
	// nothing.
	// Args [token]: the proposing node's own.
	StreamSync Type = 283
)

// Flags of the stream ops. High bits: specific to them.
const (
	XNoMkStream uint32 = 1 << 20 // XAdd: do not create the stream
	XTrimMaxLen uint32 = 1 << 21 // XAdd, XTrim: trim to a length
	XTrimMinID  uint32 = 1 << 22 // XAdd, XTrim: trim below an id
	XTrimApprox uint32 = 1 << 23 // XAdd, XTrim: "~", whole blocks only
	XNoAck      uint32 = 1 << 20 // XReadGroup: no PEL entry
	XBlocked    uint32 = 1 << 21 // XReadGroup: a blocked reader's retry
)
