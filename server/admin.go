package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/raftfsm"
)

// The operator's commands (commands.Admin): SHUTDOWN, SAVE and BGSAVE
// (Raft snapshots), WAIT, DEBUG's settings, and the backups RAFT.BACKUP
// takes and RAFT.RESTORE puts back.

// adminState is what those commands keep on the server.
type adminState struct {
	// stop is closed by SHUTDOWN: Run returns, and the process with it.
	stop     chan struct{}
	stopOnce sync.Once

	// bgsave: a background save runs; its goroutine is counted in wg,
	// which Close waits for once closed keeps new ones from starting.
	mu     sync.Mutex
	closed bool
	wg     sync.WaitGroup
	bgsave atomic.Bool
	// bgsaveStart is the unix time the running one began.
	bgsaveStart atomic.Int64
	// bgsaveFailed and bgsaveSecs describe the last one (secs -1: none).
	bgsaveFailed atomic.Bool
	bgsaveSecs   atomic.Int64
	// savedAt is the unix time of the last save that found the newest
	// snapshot already held everything (no new one is written then).
	savedAt atomic.Int64

	noActiveExpire atomic.Bool // DEBUG SET-ACTIVE-EXPIRE 0
}

func (a *adminState) init() {
	a.stop = make(chan struct{})
	a.bgsaveSecs.Store(-1)
}

// close waits for a background save and lets no other start.
func (a *adminState) close() {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.wg.Wait()
}

var errBGSaveRunning = errors.New("ERR Background save already in progress")

// Shutdown is SHUTDOWN: an optional snapshot, the leaderships handed
// over, one log line, then Run returns.
func (s *Server) Shutdown(o commands.ShutdownOptions) error {
	var did []string
	if o.Save {
		if err := s.Save(); err != nil {
			if !o.Force {
				s.log.Printf("SHUTDOWN refused: the snapshot failed: %v", err)
				return err
			}
			did = append(did, "snapshot failed ("+err.Error()+"), going on (FORCE)")
		} else {
			did = append(did, "snapshot saved")
		}
	}
	if o.Now {
		did = append(did, "leadership not handed over (NOW)")
	} else {
		did = append(did, s.handOver()...)
	}
	by := "SHUTDOWN"
	if o.Signal != "" {
		by = o.Signal
	}
	s.log.Printf("%s: %s; exiting", by, strings.Join(did, "; "))
	s.admin.stopOnce.Do(func() { close(s.admin.stop) })
	return nil
}

// handOver hands every partition this node leads to its most up-to-date
// voter, so the others go on without waiting for an election timeout.
func (s *Server) handOver() []string {
	var did []string
	for g, n := range s.groups {
		if !n.IsLeader() {
			continue
		}
		switch err := n.TransferLeadership(""); {
		case err == nil:
			id, _ := n.Leader()
			to := ""
			if id != "" {
				to = " to " + id
			}
			did = append(did, fmt.Sprintf("partition %d's leadership handed over%s", g, to))
		default:
			did = append(did, fmt.Sprintf("partition %d's leadership not handed over: %v", g, err))
		}
	}
	if len(did) == 0 {
		did = append(did, "leading no partition")
	}
	return did
}

// Save is SAVE: a snapshot of every partition on this node, on disk when
// it returns.
func (s *Server) Save() error {
	if s.admin.bgsave.Load() {
		return errBGSaveRunning
	}
	return s.snapshotAll()
}

func (s *Server) snapshotAll() error {
	if s.node == nil {
		return errors.New("ERR the node is not open yet")
	}
	for g, n := range s.groups {
		saved, err := n.SaveSnapshot()
		if err != nil {
			s.log.Printf("save: partition %d's snapshot failed: %v", g, err)
			return fmt.Errorf("ERR snapshot of partition %d failed: %v", g, err)
		}
		if !saved {
			s.admin.savedAt.Store(time.Now().Unix())
		}
	}
	return nil
}

// BGSave is BGSAVE: Save on a goroutine Close waits for.
func (s *Server) BGSave() error {
	a := &s.admin
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return errors.New("ERR the server is shutting down")
	}
	if !a.bgsave.CompareAndSwap(false, true) {
		return errBGSaveRunning
	}
	start := time.Now()
	a.bgsaveStart.Store(start.Unix())
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		err := s.snapshotAll()
		a.bgsaveFailed.Store(err != nil)
		a.bgsaveSecs.Store(int64(time.Since(start) / time.Second))
		a.bgsave.Store(false)
	}()
	return nil
}

// WaitReplicas is WAIT: the other members known to hold every entry this
// node had applied when it was called, if the session wrote (its writes
// among them), waiting up to timeout for want of them.
func (s *Server) WaitReplicas(sess *commands.Session, want int64, timeout time.Duration) int64 {
	if s.node == nil {
		return 0
	}
	var index uint64
	if sess.Wrote() {
		index = s.node.AppliedIndex()
	}
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	// A killed client (CLIENT KILL) stops waiting too.
	return int64(s.node.WaitReplicas(index, int(min(want, 1<<20)), deadline, s.done, sess.Killed))
}

// SetActiveExpire is DEBUG SET-ACTIVE-EXPIRE.
func (s *Server) SetActiveExpire(on bool) { s.admin.noActiveExpire.Store(!on) }

// expiryPaused stops the leader's expiry cycle: CLIENT PAUSE WRITE or
// DEBUG SET-ACTIVE-EXPIRE 0.
func (s *Server) expiryPaused() bool { return s.admin.noActiveExpire.Load() || s.writesPaused() }

// Reload is DEBUG RELOAD: every partition this node leads is snapshotted
// and restored from that snapshot, on every member, through Raft.
func (s *Server) Reload() error {
	if s.node == nil {
		return errors.New("the node is not open yet")
	}
	for g, n := range s.groups {
		if !n.IsLeader() {
			return fmt.Errorf("this node does not lead partition %d", g)
		}
		if err := s.reloadGroup(n); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) reloadGroup(n *raftfsm.Node) error {
	info, rc, err := n.Backup()
	if err != nil {
		return err
	}
	defer rc.Close()
	return n.RestoreSnapshot(info, rc)
}

// debugAllowed is enable-debug-command for a client: yes, or local for
// one on the loopback interface.
func (s *Server) debugAllowed(sess *commands.Session) bool {
	switch s.conf.debugCmd.Load() {
	case debugYes:
		return true
	case debugLocal:
		host, _, err := net.SplitHostPort(sess.Addr)
		ip := net.ParseIP(host)
		return err == nil && ip != nil && ip.IsLoopback()
	}
	return false
}

// protectedReject is Redis's refusal of DEBUG when enable-debug-command
// does not allow the client.
func (s *Server) protectedReject(cmd *commands.Command, sess *commands.Session) string {
	if cmd.Name != "debug" || s.debugAllowed(sess) {
		return ""
	}
	return "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", " +
		"you can run it from a local connection, otherwise you need to set this option in the " +
		"configuration file, and then restart the server."
}

// enable-debug-command's values, as Redis's protected_action_enum.
const (
	debugNo int32 = iota
	debugYes
	debugLocal
)

var debugNames = []string{"no", "yes", "local"}

func debugSetting() setting {
	return setting{name: "enable-debug-command", immutable: true,
		get: func(s *Server, _ *confValues) string { return debugNames[s.conf.debugCmd.Load()] },
		set: func(s *Server, _ *confValues, val string) error {
			for i, name := range debugNames {
				if strings.EqualFold(val, name) {
					s.conf.debugCmd.Store(int32(i))
					return nil
				}
			}
			return errors.New("argument(s) must be one of the following: no, yes, local")
		}}
}

// Backup is RAFT.BACKUP: a fresh snapshot of partition p, taken on its
// leader (elsewhere the error says where that is), read whole.
func (s *Server) Backup(p int) (commands.BackupPoint, []byte, error) {
	n, err := s.leaderGroup(p)
	if err != nil {
		return commands.BackupPoint{}, nil, err
	}
	info, rc, err := n.Backup()
	if err != nil {
		return commands.BackupPoint{}, nil, fmt.Errorf("ERR backup: %v", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return commands.BackupPoint{}, nil, fmt.Errorf("ERR backup: read snapshot: %v", err)
	}
	return commands.BackupPoint{Index: info.Index, Term: info.Term}, data, nil
}

// RestoreBackup is RAFT.RESTORE: partition p's state on every member
// replaced with a backup's, on its leader.
func (s *Server) RestoreBackup(p int, at commands.BackupPoint, data []byte) error {
	n, err := s.leaderGroup(p)
	if err != nil {
		return err
	}
	// The users and scripts are checked by a scratch table's, the live
	// ones untouched.
	if err := n.CheckSnapshot(data, commands.NewTable().Aux()); err != nil {
		return fmt.Errorf("ERR %v", err)
	}
	info := raftfsm.SnapshotInfo{Index: at.Index, Term: at.Term, Size: int64(len(data))}
	if err := n.RestoreSnapshot(info, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("ERR %v", err)
	}
	s.log.Printf("partition %d restored from a backup taken at index %d, term %d (%d bytes)", p, info.Index, info.Term, len(data))
	return nil
}

// leaderGroup returns partition p's group when this node leads it; the
// error is the reply otherwise (MOVED to the leader, as a redirect).
func (s *Server) leaderGroup(p int) (*raftfsm.Node, error) {
	if s.node == nil {
		return nil, errors.New("LOADING Redis is loading the dataset in memory")
	}
	if p < 0 || p >= len(s.groups) {
		return nil, errors.New("ERR no such partition")
	}
	n := s.groups[p]
	if n.IsLeader() {
		return n, nil
	}
	if id, raftAddr := n.Leader(); id != "" {
		if addr := s.host.ClientAddr(id, raftAddr); addr != "" {
			return nil, errors.New("MOVED " + strconv.Itoa(p) + " " + addr)
		}
	}
	return nil, errors.New("CLUSTERDOWN no leader available, the command was not applied; retry")
}

// bgsaveRunning is INFO's rdb_current_bgsave_time_sec: -1 when none runs.
func (s *Server) bgsaveRunning() int64 {
	if !s.admin.bgsave.Load() {
		return -1
	}
	return time.Now().Unix() - s.admin.bgsaveStart.Load()
}

func okErr(ok bool) string {
	if ok {
		return "ok"
	}
	return "err"
}
