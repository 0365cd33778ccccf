package server

import "github.com/loomcache/loomcache/commands"

// misconf is Redis's refusal by a master that cannot persist
// (processCommand's writeCommandsDeniedByDiskError): a write command, or
// PING, gets -MISCONF before it runs, so the refusal comes before the
// command's own errors, as in Redis, and a write queued in MULTI fails
// the transaction. Only a leader refuses: a follower (Redis's replica)
// does not, and the writes it forwards are its leader's to judge. The
// leader's proposals are checked again (raftfsm), for the writes that
// come another way (scripts, internal ops). It returns "" to run cmd.
func (s *Server) misconf(cmd *commands.Command) string {
	if cmd == nil || !cmd.Has(commands.FlagWrite) && cmd.Name != "ping" {
		return ""
	}
	return s.Misconf()
}

// queueMisconf is misconf for EXEC: Redis counts it a write when a
// queued command writes.
func (s *Server) queueMisconf(sess *commands.Session) string {
	for _, args := range sess.Queued() {
		if cmd, _ := s.table.Resolve(args); cmd != nil && cmd.Has(commands.FlagWrite) {
			return s.misconf(cmd)
		}
	}
	return ""
}

// Misconf is misconf for a caller with no command at hand (a script
// about to run): the reply while writes are refused, "" otherwise.
func (s *Server) Misconf() string {
	n := s.openNode()
	if n == nil || !n.IsLeader() {
		return ""
	}
	if err := n.DiskErr(); err != nil {
		return commands.Misconf(err)
	}
	return ""
}
