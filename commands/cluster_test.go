package commands

import (
	"errors"
	"fmt"
	"testing"
)

// fakeCluster is a server with a cluster side; the Server methods the
// cluster commands never call are left to the embedded nil interface.
type fakeCluster struct {
	Server
	calls []string
	err   error
}

func (f *fakeCluster) RaftInfo(b []byte) []byte { return append(b, "# Raft\r\nrole:leader\r\n"...) }

func (f *fakeCluster) Partitions() []PartitionInfo {
	return []PartitionInfo{{Partition: 0, Leader: "n1", LeaderAddr: "127.0.0.1:6379", Term: 3, CommitIndex: 9, AppliedIndex: 8,
		Voters: []string{"n1", "n2"}, VoterAddrs: []string{"127.0.0.1:6379", ""}}}
}

func (f *fakeCluster) AppliedIndex(Node) uint64 { return 8 }

func (f *fakeCluster) AddNode(_ Node, id, addr string) error {
	f.calls = append(f.calls, "add "+id+" "+addr)
	return f.err
}

func (f *fakeCluster) RemoveNode(_ Node, id string) error {
	f.calls = append(f.calls, "remove "+id)
	return f.err
}

func (f *fakeCluster) TransferLeader(_ Node, id string, partition int) error {
	f.calls = append(f.calls, fmt.Sprintf("transfer %s %d", id, partition))
	return f.err
}

func TestRaftCommands(t *testing.T) {
	x := newTester(t)
	fc := &fakeCluster{}
	x.ctx.Server = fc
	cases := []struct {
		line, want string
		err        error
	}{
		{"RAFT.INFO", "$21\r\n# Raft\r\nrole:leader\r\n\r\n", nil},
		{"raft.info extra", "-ERR wrong number of arguments for 'raft.info' command\r\n", nil},
		{"RAFT.NODE ADD n4 127.0.0.1:7400", "+OK\r\n", nil},
		{"RAFT.NODE REMOVE n2", "+OK\r\n", nil},
		{"RAFT.READINDEX", ":8\r\n", nil},
		{"RAFT.PARTITIONS", "*1\r\n*16\r\n$9\r\npartition\r\n:0\r\n$6\r\nleader\r\n$2\r\nn1\r\n$11\r\nleader-addr\r\n$14\r\n127.0.0.1:6379\r\n" +
			"$4\r\nterm\r\n:3\r\n$12\r\ncommit-index\r\n:9\r\n$13\r\napplied-index\r\n:8\r\n$6\r\nvoters\r\n*2\r\n$2\r\nn1\r\n$2\r\nn2\r\n" +
			"$11\r\nvoter-addrs\r\n*2\r\n$14\r\n127.0.0.1:6379\r\n$0\r\n\r\n", nil},
		{"RAFT.REDIRECT on", "+OK\r\n", nil},
		{"RAFT.REDIRECT maybe", "-ERR syntax error\r\n", nil},
		{"raft.node add n4", "-ERR wrong number of arguments for 'raft.node|add' command\r\n", nil},
		{"RAFT.NODE REMOVE", "-ERR wrong number of arguments for 'raft.node|remove' command\r\n", nil},
		{"RAFT.NODE", "-ERR wrong number of arguments for 'raft.node' command\r\n", nil},
		{"RAFT.NODE JOIN n4", "-ERR unknown subcommand 'JOIN'. Try RAFT.NODE HELP.\r\n", nil},
		{"RAFT.NODE ADD n4 a:1", "-CLUSTERDOWN no leader available, the command was not applied; retry\r\n", ErrNoLeader},
		{"RAFT.NODE REMOVE n4", "-UNKNOWN the outcome of this write is unknown (leadership was lost); read before retrying\r\n", ErrUnknownOutcome},
		{"RAFT.NODE ADD n4 a:1", "-ERR bad member: empty id\r\n", errors.New("bad member: empty id")},
		// An error relayed from the leader keeps its code.
		{"RAFT.NODE ADD n4 a:1", "-CLUSTERDOWN relayed\r\n", errors.New("CLUSTERDOWN relayed")},
		{"RAFT.TRANSFER", "+OK\r\n", nil},
		{"raft.transfer n2", "+OK\r\n", nil},
		{"RAFT.TRANSFER n2 n3", "-ERR syntax error\r\n", nil},
		{"RAFT.TRANSFER n2 PARTITION 2", "+OK\r\n", nil},
		{"RAFT.TRANSFER partition 1", "+OK\r\n", nil},
		{"RAFT.TRANSFER n2 PARTITION", "-ERR syntax error\r\n", nil},
		{"RAFT.TRANSFER n2 PARTITION -1", "-ERR syntax error\r\n", nil},
		{"RAFT.TRANSFER n2 PARTITION x", "-ERR syntax error\r\n", nil},
		{"RAFT.TRANSFER n9", "-ERR unknown node id 'n9'\r\n", errors.New("unknown node id 'n9'")},
		{"RAFT.TRANSFER", "-CLUSTERDOWN no leader available, the command was not applied; retry\r\n", ErrNoLeader},
	}
	for _, c := range cases {
		fc.err = c.err
		x.expect(c.line, c.want)
	}
	want := []string{"add n4 127.0.0.1:7400", "remove n2", "add n4 a:1", "remove n4", "add n4 a:1", "add n4 a:1",
		"transfer  0", "transfer n2 0", "transfer n2 2", "transfer  1", "transfer n9 0", "transfer  0"}
	if len(fc.calls) != len(want) {
		t.Fatalf("calls %q, want %q", fc.calls, want)
	}
	for i := range want {
		if fc.calls[i] != want[i] {
			t.Errorf("call %d: %q, want %q", i, fc.calls[i], want[i])
		}
	}
	if got := x.do("RAFT.NODE HELP"); got[:5] != "*7\r\n+" {
		t.Errorf("RAFT.NODE HELP: %q", got)
	}
	for _, name := range []string{"raft.info", "raft.node", "raft.transfer"} {
		c := x.ctx.Table.Lookup([]byte(name))
		if c == nil || !LoomOnly(c) {
			t.Errorf("%s is not marked LoomCache's own", name)
			continue
		}
		for _, s := range c.Subs {
			if !LoomOnly(s) {
				t.Errorf("%s is not marked LoomCache's own", s.Name)
			}
		}
	}
	if LoomOnly(x.ctx.Table.Lookup([]byte("get"))) {
		t.Error("GET is marked LoomCache's own")
	}
	// A server with no cluster side.
	x.ctx.Server = nil
	x.expect("RAFT.INFO", "-ERR this server is not part of a Raft cluster\r\n")
	x.expect("RAFT.NODE ADD n4 a:1", "-ERR this server is not part of a Raft cluster\r\n")
	x.expect("RAFT.TRANSFER", "-ERR this server is not part of a Raft cluster\r\n")
}
