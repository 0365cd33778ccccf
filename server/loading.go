package server

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/raftfsm"
)

// Loading, as Redis has it: the client ports listen from the start, and
// until the node can answer truly a command without Redis's loading flag
// gets -LOADING. The node can answer truly once
//
//  1. the newest snapshot is restored (raftfsm.Open, inside New; the
//     node is not open before),
//  2. the WAL's entries after it, those on disk at start, are applied
//     (raftfsm.Node.Replayed: on a follower, once a leader says they
//     are committed), and
//  3. the startup settings about users (requirepass, aclfile) are in
//     effect: applied through Raft, or already what the replayed users
//     say (a restart with the same settings).
//
// Loading ends once, and never comes back (a snapshot a leader installs
// later is not loading). What runs meanwhile is what has the loading
// flag, with these exceptions, because the users are not known yet:
// AUTH and HELLO with AUTH answer -LOADING (a password can be judged only
// against the users it will meet), and so do admin commands (CONFIG,
// CLIENT LIST and KILL, ACL ...: who may run them is not known). The
// checks come in Redis's order (processCommand): unknown command and
// arity, then NOAUTH and NOPERM, then LOADING.
//
// A client that connects while loading is admitted against the users as
// they are known at each of its commands (an unrestored default user
// lets it run INFO), and once more at its first command after loading.

// loadingReply is Redis's shared.loadingerr.
const loadingReply = "LOADING Redis is loading the dataset in memory"

// loadingPoll is how often the watcher looks at the replay's progress.
const loadingPoll = 10 * time.Millisecond

// loadingLogEvery is how often the log shows loading's progress: every
// second, and every half minute once it has gone on for a minute (a
// follower waiting for its leader).
func loadingLogEvery(elapsed time.Duration) time.Duration {
	if elapsed > time.Minute {
		return 30 * time.Second
	}
	return time.Second
}

// loadState is the server's loading.
type loadState struct {
	start    time.Time
	progress *raftfsm.Loading
	// node is the node once raftfsm.Open returned (New stores it after
	// setting Server.node).
	node atomic.Pointer[raftfsm.Node]
	// loading is true until the watcher ends it and closes loaded.
	loading atomic.Bool
	loaded  chan struct{}
	// settled: the startup settings about users are in effect (acl.go's
	// sync applied them, or the watcher found them so).
	settled atomic.Bool
	// empty stands for the keyspace while the node is not open: SELECT
	// asks it how many databases there are.
	empty *keyspace.Store
	wg    sync.WaitGroup // the watcher; Close waits for it
}

// startLoading starts loading and its watcher, which ends at Close.
func (s *Server) startLoading() {
	l := &s.load
	l.start = time.Now()
	l.progress = &raftfsm.Loading{Hold: s.cfg.HoldRestore}
	l.empty = keyspace.New(s.cfg.Databases)
	l.loading.Store(true)
	l.loaded = make(chan struct{})
	if s.startup.empty() {
		l.settled.Store(true)
	}
	l.wg.Add(1)
	go s.watchLoading()
}

// WaitLoaded waits until the node has loaded, or ctx ends, or the server
// closes.
func (s *Server) WaitLoaded(ctx context.Context) error {
	select {
	case <-s.load.loaded:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errors.New("server closed while loading")
	}
}

// Loading reports whether the node is loading (INFO's loading:1).
func (s *Server) Loading() bool { return s.load.loading.Load() }

// openNode returns the node once raftfsm.Open returned, nil before. The
// atomic load orders the caller after New's write of s.node.
func (s *Server) openNode() *raftfsm.Node { return s.load.node.Load() }

// settleUsers records that the startup settings about users are in
// effect, and lets connections in as the users say.
func (s *Server) settleUsers() {
	s.table.ACL().HoldAuth(false)
	s.load.settled.Store(true)
}

// admit starts a new connection's session (the caller is the accept
// loop, before the connection's goroutine starts).
func (s *Server) admit(c *client) {
	loading := s.Loading() // before Admit: if it is over, Admit saw the users
	s.table.ACL().Admit(c.sess)
	c.duringLoad = loading
}

// readmit admits again a session that came in while loading, as Redis
// admits a new client against the users known now; after loading it
// does so once more and stops. No AUTH succeeds while loading, so its
// authentication is only ever the admission's.
func (s *Server) readmit(cn *conn) {
	if !s.Loading() {
		cn.duringLoad = false
	}
	cn.sess.Authenticated = !s.table.ACL().AuthNeeded()
}

// refuseLoading reports whether cmd, resolved and permitted, gets
// -LOADING now.
func (s *Server) refuseLoading(cmd *commands.Command, args [][]byte) bool {
	if !s.Loading() {
		return false
	}
	if !cmd.Has(commands.FlagLoading) || cmd.Has(commands.FlagAdmin) {
		return true
	}
	switch cmd.Name {
	case "auth":
		return true
	case "hello":
		return helloAuths(args)
	case "raft.info":
		return s.openNode() == nil
	}
	return false
}

// helloAuths reports whether a HELLO authenticates: it has an AUTH
// option before any option HELLO would refuse (as cmdHello parses it).
func helloAuths(args [][]byte) bool {
	if len(args) < 2 {
		return false
	}
	opts := args[2:]
	for i := 0; i < len(opts); i++ {
		more := len(opts) - i - 1
		switch {
		case eqFold(opts[i], "auth") && more >= 2:
			return true
		case eqFold(opts[i], "setname") && more >= 1:
			i++
		default:
			return false
		}
	}
	return false
}

func eqFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// watchLoading ends loading once the node can answer truly, logging the
// progress on the way (every second while it takes long), or returns at
// Close.
func (s *Server) watchLoading() {
	defer s.load.wg.Done()
	l := &s.load
	tick := time.NewTicker(loadingPoll)
	defer tick.Stop()
	nextLog := l.start.Add(time.Second)
	var n *raftfsm.Node
	replayed := false
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		now := time.Now()
		report := !now.Before(nextLog)
		if report {
			nextLog = now.Add(loadingLogEvery(now.Sub(l.start)))
		}
		if n == nil {
			if n = s.openNode(); n == nil {
				if read, total := l.progress.Progress(); report && total > 0 {
					s.log.Printf("Loading the snapshot: %s of %s read (%.2f%%)",
						bytesToHuman(uint64(read)), bytesToHuman(uint64(total)), loadPercent(read, total))
				}
				continue
			}
			s.logRestored(n, now)
		}
		if !replayed {
			if replayed = s.replayed(); replayed {
				// The log replayed was delivered when it was first
				// applied: Pub/Sub delivers from here on.
				s.table.PubSub().SetDelivering(true)
			} else {
				if report {
					st := n.Stats()
					wait := ""
					if st.Leader == "" {
						wait = " (waiting for a leader to confirm what is committed)"
					}
					s.log.Printf("Replaying the WAL: applied up to index %d of %d%s", st.AppliedIndex, st.StartLogIndex, wait)
				}
				continue
			}
		}
		if !l.settled.Load() {
			su := s.startup
			if !s.table.ACL().InEffect(su.pass, su.fileName, su.file) {
				continue // acl.go's sync applies them
			}
			s.settleUsers()
		}
		if h := s.cfg.HoldLoading; h != nil {
			select {
			case <-h:
			default:
				continue
			}
		}
		l.loading.Store(false)
		close(l.loaded)
		s.logLoaded(n)
		return
	}
}

// replayed reports whether every partition's group has applied what its
// WAL held at start (raftfsm.Node.Replayed).
func (s *Server) replayed() bool {
	for _, g := range s.groups {
		if !g.Replayed() {
			return false
		}
	}
	return true
}

// logRestored logs the snapshot restored at start, if there was one.
func (s *Server) logRestored(n *raftfsm.Node, now time.Time) {
	st := n.Stats()
	if st.RestoredSnapshot == 0 {
		return
	}
	_, total := s.load.progress.Progress()
	s.log.Printf("Snapshot at index %d restored: %d keys, %s in %.3f seconds",
		st.RestoredSnapshot, keyCount(n.Store()), bytesToHuman(uint64(total)), now.Sub(s.load.start).Seconds())
}

// logLoaded logs the end of loading as Redis does, and what was
// replayed.
func (s *Server) logLoaded(n *raftfsm.Node) {
	st := n.Stats()
	s.log.Printf("DB loaded from disk: %.3f seconds", time.Since(s.load.start).Seconds())
	from := "no snapshot"
	if st.RestoredSnapshot > 0 {
		from = "the snapshot at index " + strconv.FormatUint(st.RestoredSnapshot, 10)
	}
	s.log.Printf("Loaded %s and replayed %d WAL entries (to index %d): %d keys",
		from, st.ReplayedEntries, st.StartLogIndex, s.keysLoaded())
	s.log.Printf("Ready to accept connections")
}

// keysLoaded counts the keys of every partition's store (the figures
// beside it in the log are partition 0's: with one partition, the node's).
func (s *Server) keysLoaded() int {
	keys := 0
	for _, g := range s.groups {
		keys += keyCount(g.Store())
	}
	return keys
}

// keyCount counts the keys of every database.
func keyCount(ks *keyspace.Store) int {
	ks.RLock()
	defer ks.RUnlock()
	keys := 0
	for i := 0; i < ks.NumDBs(); i++ {
		keys += ks.DB(i).Len()
	}
	return keys
}

func loadPercent(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole) * 100
}

// infoLoading appends INFO persistence's loading fields, which Redis
// 7.0's genRedisInfoString prints while loading: the snapshot is what an
// RDB file is to Redis (loading_rdb_used_mem, from the RDB's aux fields,
// is always 0), and while the WAL replays its bytes are all read.
func (s *Server) infoLoading(b []byte) []byte {
	read, total := s.load.progress.Progress()
	perc, remaining := 0.0, int64(1)
	if total > 0 {
		perc = loadPercent(read, total)
		remaining = total - read
	}
	start := s.load.start.Unix()
	eta := int64(1) // Redis's "fake 1 second figure"
	if elapsed := time.Now().Unix() - start; elapsed != 0 {
		eta = elapsed * remaining / (read + 1)
	}
	b = infoInt(b, "loading_start_time", start)
	b = infoInt(b, "loading_total_bytes", total)
	b = infoInt(b, "loading_rdb_used_mem", 0)
	b = infoInt(b, "loading_loaded_bytes", read)
	b = infoField(b, "loading_loaded_perc", strconv.FormatFloat(perc, 'f', 2, 64))
	return infoInt(b, "loading_eta_seconds", eta)
}

// nodeStats returns the node's figures, or while it is not open those
// the configuration tells (its state "Loading").
func (s *Server) nodeStats() raftfsm.Stats {
	if n := s.openNode(); n != nil {
		return n.Stats()
	}
	threshold := s.cfg.SnapshotThreshold
	if threshold == 0 {
		threshold = raftfsm.DefaultSnapshotThreshold
	}
	return raftfsm.Stats{ID: s.cfg.ID, State: "Loading", FsyncAlways: s.cfg.Fsync, FsyncMode: s.syncMode(), SnapshotThreshold: threshold}
}
