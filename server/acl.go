package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/loomcache/loomcache/acl"
	"github.com/loomcache/loomcache/commands"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/raftfsm"
)

// Access control on the server's side. The users are replicated state
// (commands.ACL, changed only by ops through Raft); what the server adds
// is what Redis does at startup and around connections:
//
//   - requirepass and --aclfile given at startup are proposed once a
//     leader takes them, with op.FlagIfChanged, so a node restarting with
//     the same settings does not undo later ACL SETUSERs; until they are
//     in effect (applied, or already what the replayed users say), new
//     connections must authenticate (ACL.HoldAuth), so a node never
//     serves clients without the password it was given, and the node is
//     loading (loading.go), so AUTH answers -LOADING rather than judge a
//     password against users that are about to change;
//   - a client's own access control proposals wait for the startup ones
//     (aclSynced), so a CONFIG SET requirepass made right after a start
//     is not undone by the startup directive landing after it;
//   - connections of a user deleted (or replaced by ACL LOAD) are closed,
//     off the FSM goroutine (revoke.go).

// aclRetry is how long the startup proposals wait between attempts.
const aclRetry = 200 * time.Millisecond

// loadACLFile reads and checks --aclfile at startup, as Redis refuses to
// start with a file it cannot load. It returns the content.
func (s *Server) loadACLFile() ([]byte, error) {
	data, err := os.ReadFile(s.cfg.ACLFile)
	if err != nil {
		return nil, fmt.Errorf("aclfile: %w", err)
	}
	scratch := acl.NewRegistry(s.table.ACL().Users.Catalog(), false)
	if err := scratch.Load(s.cfg.ACLFile, data); err != nil {
		return nil, fmt.Errorf("aclfile %s: %v", s.cfg.ACLFile, err)
	}
	return data, nil
}

// startupACL is what startup settings ask of the replicated users.
type startupACL struct {
	pass     *string // requirepass, when given
	file     []byte  // the aclfile's content, when given
	fileName string
}

func (a startupACL) empty() bool { return a.pass == nil && a.file == nil }

// startACLSync proposes the startup requirepass and aclfile until a
// leader applies them or ctx ends, then lets connections in as the users
// say; it returns a function that stops it and waits.
func (s *Server) startACLSync(ctx context.Context) (stop func()) {
	if s.startup.empty() {
		close(s.aclSynced)
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.syncedOnce.Do(func() { close(s.aclSynced) })
		var ops []*op.Op
		if p := s.startup.pass; p != nil {
			ops = append(ops, &op.Op{Type: op.AclRequirePass, Flags: op.FlagIfChanged, Args: [][]byte{[]byte(*p)}})
		}
		if s.startup.file != nil {
			ops = append(ops, &op.Op{Type: op.AclLoad, Flags: op.FlagIfChanged,
				Args: [][]byte{[]byte(s.startup.fileName), s.startup.file}})
		}
		for _, o := range ops {
			for {
				res, err := s.propose(o)
				if err == nil {
					if e, ok := res.(error); ok {
						s.log.Printf("startup %s: %v", o.Type, e)
					}
					break
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(aclRetry):
				}
			}
		}
		s.settleUsers()
	}()
	return func() { cancel(); <-done }
}

// awaitACLSync holds a client's access control proposal until the
// startup ones are applied, for at most aclSyncWait (then it goes, and
// fails like them if no leader takes it).
func (s *Server) awaitACLSync(o *op.Op) {
	if !isACLOp(o.Type) {
		return
	}
	t := time.NewTimer(aclSyncWait)
	defer t.Stop()
	select {
	case <-s.aclSynced:
	case <-t.C:
	}
}

// aclSyncWait bounds awaitACLSync: a few election timeouts.
const aclSyncWait = 3 * time.Second

func isACLOp(t op.Type) bool {
	switch t {
	case op.AclSetUser, op.AclDelUser, op.AclLoad, op.AclRequirePass:
		return true
	}
	return false
}

// propose proposes o on the leader, or has the leader propose it (as
// ACL SETUSER on a follower does); the leader's reply comes back as
// commands.RawReply.
func (s *Server) propose(o *op.Op) (any, error) {
	if s.node.IsLeader() {
		res, err := s.node.Propose(o)
		if errors.Is(err, raftfsm.ErrNoLeader) && !s.node.IsLeader() {
			return s.proposeViaLeader(s.node, o, 2)
		}
		return res, translate(err)
	}
	return s.proposeViaLeader(s.node, o, 2)
}

// proposeViaLeader has the leader propose o; its reply comes back encoded
// in RESP version proto.
func (s *Server) proposeViaLeader(g *raftfsm.Node, o *op.Op, proto int) (any, error) {
	if o.Now == 0 {
		o.Now = time.Now().UnixMilli()
	}
	// A client's request id goes with it (a node's is given by AddForward).
	req := op.Op{Type: op.Forward, Flags: op.FlagProposal, Int: int64(proto), Args: [][]byte{o.Encode(nil)}, Req: o.Req}
	reply, err := g.Forward(&req, true)
	if err != nil {
		return nil, translate(err)
	}
	return commands.RawReply(reply), nil
}

// ACLFile is the aclfile ACL LOAD and ACL SAVE use.
func (s *Server) ACLFile() string { return s.cfg.ACLFile }

// deniedProtected is Redis 7.0's reply to a client refused by protected
// mode.
const deniedProtected = "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"

// refuseProtected is protected mode: with protected-mode on and no
// password for the default user, a client from anywhere but 127.0.0.1 or
// ::1 (as Redis compares them) gets DENIED and is closed; it reports
// whether it refused nc.
func (s *Server) refuseProtected(nc net.Conn) bool {
	if s.conf.unprotected.Load() || s.table.ACL().AuthNeeded() {
		return false
	}
	addr, ok := nc.RemoteAddr().(*net.TCPAddr)
	if !ok || addr.IP.Equal(net.IPv4(127, 0, 0, 1)) || addr.IP.Equal(net.IPv6loopback) {
		return false
	}
	s.stats.rejected.Add(1)
	nc.Write([]byte(deniedProtected))
	nc.Close()
	return true
}
