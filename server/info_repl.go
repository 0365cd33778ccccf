package server

import (
	"net"
	"strconv"
	"strings"
	"time"
)

// infoReplication says what Redis says of a primary and its replicas, in
// Raft's terms (of partition 0's group, with several partitions): the
// leader is the master, with a slaveN line per follower that accepted
// its requests this term; a follower is a replica of the leader, at the
// leader's RESP address, its link up while the leader's heartbeats
// arrive. Offsets are log indexes. The raft section has the rest.
func (s *Server) infoReplication(b []byte) []byte {
	st := s.nodeStats()
	n := s.openNode()
	var followers []string
	if n != nil && strings.EqualFold(st.State, "follower") {
		b = s.infoReplica(b, st.AppliedIndex)
	} else {
		b = infoField(b, "role", "master")
		if n != nil {
			for _, f := range n.Followers() {
				if !f.Acked || f.Since > 3*n.HeartbeatTimeout() {
					continue // not connected, as far as this leader knows
				}
				host, port := splitHostPort(s.host.ClientAddr(f.ID, f.RaftAddr))
				followers = append(followers, "ip="+host+",port="+port+",state=online,offset="+
					strconv.FormatUint(f.Match, 10)+",lag="+strconv.FormatInt(int64(f.Since/time.Second), 10))
			}
		}
	}
	b = infoInt(b, "connected_slaves", int64(len(followers)))
	for i, f := range followers {
		b = infoField(b, "slave"+strconv.Itoa(i), f)
	}
	b = infoField(b, "master_failover_state", "no-failover")
	b = infoField(b, "master_replid", s.runID("replid"))
	b = infoField(b, "master_replid2", strings.Repeat("0", 40))
	b = infoUint(b, "master_repl_offset", st.AppliedIndex)
	b = infoInt(b, "second_repl_offset", -1)
	return s.infoReplicationRaft(b)
}

// infoReplica is a replica's part: role to replica_announced.
func (s *Server) infoReplica(b []byte, applied uint64) []byte {
	n := s.openNode()
	id, raftAddr := n.Leader()
	host, port := "", "0"
	if id != "" {
		host, port = splitHostPort(s.host.ClientAddr(id, raftAddr))
	}
	last := n.LastContact()
	since := time.Since(last)
	up := id != "" && !last.IsZero() && since < 2*n.HeartbeatTimeout()
	b = infoField(b, "role", "slave")
	b = infoField(b, "master_host", host)
	b = infoField(b, "master_port", port)
	b = infoField(b, "master_link_status", map[bool]string{true: "up", false: "down"}[up])
	io := int64(-1)
	if up {
		io = int64(since / time.Second)
	}
	b = infoInt(b, "master_last_io_seconds_ago", io)
	b = infoInt(b, "master_sync_in_progress", 0)
	b = infoUint(b, "slave_read_repl_offset", applied)
	b = infoUint(b, "slave_repl_offset", applied)
	if !up {
		down := int64(-1)
		if !last.IsZero() {
			down = int64(since / time.Second)
		}
		b = infoInt(b, "master_link_down_since_seconds", down)
	}
	b = infoInt(b, "slave_priority", 100)
	// Writes sent to a follower are forwarded to the leader, not refused.
	b = infoInt(b, "slave_read_only", 0)
	return infoInt(b, "replica_announced", 1)
}

func splitHostPort(addr string) (host, port string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, "0"
	}
	return host, port
}
