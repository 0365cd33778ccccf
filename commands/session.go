package commands

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/pubsub"
)

// Session is one client connection's state. The connection's own goroutine
// changes it; fields other connections read (CLIENT LIST, CLIENT KILL) are
// guarded by mu or atomic.
type Session struct {
	ID      int64
	Addr    string
	LAddr   string
	Created time.Time

	mu       sync.Mutex
	name     string
	db       atomic.Int64
	lastCmd  atomic.Pointer[Command] // nil until the first command
	lastSeen atomic.Int64            // unix ms of the last command
	// wrote: the connection proposed a write (WAIT waits for its writes).
	wrote atomic.Bool
	proto atomic.Int32
	user  atomic.Pointer[acl.Ref] // nil: the default user

	// Owned by the connection goroutine only.
	DB int
	// Authenticated is Redis's c->authenticated: set by AUTH or HELLO
	// AUTH, or at creation when the default user needs no password.
	Authenticated bool
	NoEvict       bool
	ReadOnly      bool // READONLY: reads on a follower are served locally
	// Redirect: RAFT.REDIRECT ON, a partition-aware client's connection:
	// a command for a partition another node leads is answered with
	// -MOVED instead of being forwarded.
	Redirect   bool
	CloseAfter bool // close once the reply is written (QUIT)
	// Sub is the connection's Pub/Sub subscriptions and message queue;
	// nil where a session has none (a leader's forwarded runs).
	Sub *pubsub.Sub
	// Track is the connection's client-side caching state; nil with Sub.
	Track *pubsub.Tracker
	// trackScript are the keys a running script declares, recorded once
	// it reads (client_tracking.go).
	trackScript [][]byte

	killed atomic.Bool
	// monitoring: in MONITOR mode (monitor.go), for the connection's
	// own checks; monitor the same for other goroutines.
	monitoring bool
	monitor    atomic.Bool
	// Unmonitored: the session runs a follower's forwarded commands,
	// which the follower showed to its monitors.
	Unmonitored bool

	tx      txState    // MULTI and WATCH (multi.go)
	req     reqIDState // RAFT.REQID (reqid.go)
	replies replyState // CLIENT REPLY (client_reply.go)

	// Figures CLIENT LIST shows for other connections; the families that
	// own the state (CLIENT NO-EVICT, MULTI, SUBSCRIBE) keep them current.
	noEvict     atomic.Bool
	readOnly    atomic.Bool
	subs, psubs atomic.Int32
	ssubs       atomic.Int32
	multi       atomic.Int32           // commands queued in MULTI, -1 outside
	multiMem    atomic.Int64           // Redis's multi-mem of the queue
	blockedOn   atomic.Pointer[waiter] // set while blocked in BLPOP and its kin (blocking.go)
}

// NewSession returns a session for a new connection.
func NewSession(id int64, addr, laddr string, now time.Time) *Session {
	s := &Session{ID: id, Addr: addr, LAddr: laddr, Created: now}
	s.proto.Store(2)
	s.lastSeen.Store(now.UnixMilli())
	s.multi.Store(-1)
	return s
}

// noteCommand records the command being run at now (unix ms) for CLIENT
// LIST; it is on every command's path, so it takes no lock.
func (s *Session) noteCommand(cmd *Command, now int64) {
	s.lastSeen.Store(now)
	s.lastCmd.Store(cmd)
}

// SelectDB switches the connection's database.
func (s *Session) SelectDB(i int) {
	s.DB = i
	s.db.Store(int64(i))
}

// SetName sets CLIENT SETNAME's name.
func (s *Session) SetName(n string) {
	s.mu.Lock()
	s.name = n
	s.mu.Unlock()
}

// Name returns the connection name.
func (s *Session) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.name
}

// SetUser records the user the connection runs as.
func (s *Session) SetUser(u *acl.Ref) { s.user.Store(u) }

// UserRef is the user the connection runs as; nil before SetUser, which
// stands for the default user.
func (s *Session) UserRef() *acl.Ref { return s.user.Load() }

// User returns the name of the user the connection runs as.
func (s *Session) User() string {
	if u := s.user.Load(); u != nil {
		return u.Name()
	}
	return "default"
}

// SetProto records the RESP version.
func (s *Session) SetProto(p int) {
	s.proto.Store(int32(p))
	if s.Sub != nil {
		s.Sub.SetProto(p) // messages follow the connection's protocol
	}
}

// Proto returns the RESP version.
func (s *Session) Proto() int { return int(s.proto.Load()) }

// Kill marks the session to be closed; the server closes its connection.
func (s *Session) Kill() { s.killed.Store(true) }

// Killed reports whether the session was killed.
func (s *Session) Killed() bool { return s.killed.Load() }

// SetNoEvict records CLIENT NO-EVICT.
func (s *Session) SetNoEvict(on bool) {
	s.NoEvict = on
	s.noEvict.Store(on)
}

// SetReadOnly records READONLY (on) or READWRITE (off).
func (s *Session) SetReadOnly(on bool) {
	s.ReadOnly = on
	s.readOnly.Store(on)
}

// SetSubscriptions records how many channels, patterns and shard channels
// the connection is subscribed to (CLIENT LIST sub=, psub=, ssub=; a
// subscribed connection is of type pubsub).
func (s *Session) SetSubscriptions(channels, patterns, shardChannels int) {
	s.subs.Store(int32(channels))
	s.psubs.Store(int32(patterns))
	s.ssubs.Store(int32(shardChannels))
}

// SetMulti records the number of commands queued in MULTI, -1 outside a
// transaction (CLIENT LIST multi=).
func (s *Session) SetMulti(queued int) { s.multi.Store(int32(queued)) }

// Reset returns the connection to the state RESET leaves it in: database
// 0, no name, RESP2, the default user (the caller decides whether it is
// authenticated), reads not stale. CLIENT NO-EVICT stays, as Redis's
// clearClientConnectionState leaves it. The families that keep
// more state on the session (MULTI, subscriptions) clear theirs in RESET's
// handler.
func (s *Session) Reset() {
	s.SelectDB(0)
	s.SetName("")
	s.SetProto(2)
	s.SetUser(nil)
	s.SetReadOnly(false)
	s.Redirect = false
	s.replies.off, s.replies.skipNext = false, false // as Redis: SKIP stays
}

// ClientInfo is a consistent copy of what CLIENT LIST/INFO prints.
type ClientInfo struct {
	ID      int64
	Addr    string
	LAddr   string
	Name    string
	Age     int64 // seconds
	Idle    int64 // seconds
	DB      int
	LastCmd string
	User    string
	Proto   int
	// Buffer figures supplied by the server.
	QueryBuf, QueryBufFree, OutBuf int
	NoEvict, ReadOnly, Blocked     bool
	Monitor                        bool
	Sub, PSub, SSub                int
	Multi                          int // -1 outside MULTI
	// MultiMem is the queue's size as Redis counts it; ArgvMem the
	// arguments of the command a blocked client waits in.
	MultiMem, ArgvMem int
}

// Info returns the session's CLIENT LIST figures at now.
func (s *Session) Info(now time.Time) ClientInfo {
	lastCmd := "NULL"
	if cmd := s.lastCmd.Load(); cmd != nil {
		lastCmd = cmd.Name
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ci := ClientInfo{
		ID: s.ID, Addr: s.Addr, LAddr: s.LAddr, Name: s.name,
		Age:     int64(now.Sub(s.Created) / time.Second),
		Idle:    (now.UnixMilli() - s.lastSeen.Load()) / 1000,
		DB:      int(s.db.Load()),
		LastCmd: lastCmd, User: s.User(), Proto: int(s.proto.Load()),
		NoEvict: s.noEvict.Load(), ReadOnly: s.readOnly.Load(), Blocked: s.blockedOn.Load() != nil,
		Monitor: s.monitor.Load(),
		Sub:     int(s.subs.Load()), PSub: int(s.psubs.Load()), SSub: int(s.ssubs.Load()),
		Multi: int(s.multi.Load()), MultiMem: int(s.multiMem.Load()),
	}
	if w := s.blockedOn.Load(); w != nil {
		ci.ArgvMem = w.argvMem
	}
	return ci
}

// Server is what server-level commands need of the running server.
type Server interface {
	// Clients returns the connected sessions.
	Clients() []*Session
	// Info appends INFO's text for the sections asked for.
	Info(dst []byte, sections []string, caller *Session) []byte
	// ConfigGet returns name/value pairs of settings matching pattern.
	ConfigGet(pattern string) [][2]string
	// ConfigSet changes settings; the error text is the reply.
	ConfigSet(pairs [][2]string) error
	// ResetStats zeroes INFO's counters.
	ResetStats()
	// ConfigRewrite rewrites the config file; the error text is the reply.
	ConfigRewrite() error
	// LastSave is the unix time of the newest snapshot on disk.
	LastSave() int64
	// KillClient closes the connection of the session with that id and
	// reports whether there was one.
	KillClient(id int64) bool
	// ACLFile is the aclfile ACL LOAD and ACL SAVE use ("": none).
	ACLFile() string
	// MemoryStats returns the node's memory figures now (MEMORY STATS,
	// MEMORY DOCTOR), recording the peak.
	MemoryStats() MemoryStats
	// OutOfMemory evicts what it may and reports whether used memory is
	// still over maxmemory (scripts check it before they write).
	OutOfMemory() bool
	// Misconf is the -MISCONF reply while this node leads and cannot
	// persist writes (its disk is full), "" otherwise.
	Misconf() string
	// PauseClients holds this node's clients' commands (PauseWrite: those
	// that may write; PauseAll: all) until end, unix ms, or CLIENT
	// UNPAUSE; a pause already on keeps the stronger kind and the later
	// end.
	PauseClients(kind int, end int64)
	// UnpauseClients ends CLIENT PAUSE's pause.
	UnpauseClients()
}

// Wrote reports whether the connection proposed a write here.
func (s *Session) Wrote() bool { return s.wrote.Load() }
