package commands

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeServer is the Server of unit tests: a fixed set of sessions, and a
// record of what was killed.
type fakeServer struct {
	sessions []*Session
	killed   []int64
	resets   int
	aclFile  string
	mem      MemoryStats
	pause    [2]int64 // the last CLIENT PAUSE's kind and end
}

func (f *fakeServer) ACLFile() string                  { return f.aclFile }
func (f *fakeServer) MemoryStats() MemoryStats         { return f.mem }
func (f *fakeServer) OutOfMemory() bool                { return false }
func (f *fakeServer) Misconf() string                  { return "" }
func (f *fakeServer) PauseClients(kind int, end int64) { f.pause = [2]int64{int64(kind), end} }
func (f *fakeServer) UnpauseClients()                  { f.pause = [2]int64{} }

func (f *fakeServer) Clients() []*Session { return f.sessions }
func (f *fakeServer) Info(dst []byte, _ []string, _ *Session) []byte {
	return append(dst, "# Server\r\n"...)
}
func (f *fakeServer) ConfigGet(string) [][2]string { return nil }
func (f *fakeServer) ConfigSet([][2]string) error  { return nil }
func (f *fakeServer) ResetStats()                  { f.resets++ }
func (f *fakeServer) ConfigRewrite() error         { return nil }
func (f *fakeServer) LastSave() int64              { return 1_700_000_000 }
func (f *fakeServer) KillClient(id int64) bool {
	for _, s := range f.sessions {
		if s.ID == id {
			f.killed = append(f.killed, id)
			return true
		}
	}
	return false
}

// newServerTester is newTester with a fakeServer holding the tester's
// session and others.
func newServerTester(t *testing.T, others ...*Session) (*tester, *fakeServer) {
	x := newTester(t)
	srv := &fakeServer{sessions: append([]*Session{x.ctx.S}, others...)}
	x.ctx.Server = srv
	return x, srv
}

func TestConnectionReplies(t *testing.T) {
	x, _ := newServerTester(t)
	for _, c := range []struct{ line, want string }{
		{"PING", "+PONG\r\n"},
		{"PING hi", "$2\r\nhi\r\n"},
		{"PING a b", "-ERR wrong number of arguments for 'ping' command\r\n"},
		{"ECHO hi", "$2\r\nhi\r\n"},
		{"ECHO", "-ERR wrong number of arguments for 'echo' command\r\n"},
		{"SELECT 15", "+OK\r\n"},
		{"SELECT 16", "-ERR DB index is out of range\r\n"},
		{"SELECT -1", "-ERR DB index is out of range\r\n"},
		{"SELECT x", "-ERR value is not an integer or out of range\r\n"},
		{"SELECT 2147483648", "-ERR value is out of range, value must between -2147483648 and 2147483647\r\n"},
		{"SELECT 0", "+OK\r\n"},
		{"HELLO 1", "-NOPROTO unsupported protocol version\r\n"},
		{"HELLO 99999999999999", "-NOPROTO unsupported protocol version\r\n"},
		{"HELLO 99999999999999999999", "-ERR Protocol version is not an integer or out of range\r\n"},
		{"HELLO abc", "-ERR Protocol version is not an integer or out of range\r\n"},
		{"HELLO 3 AUTH a", "-ERR Syntax error in HELLO option 'AUTH'\r\n"},
		{"HELLO 3 AUTH a b", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"HELLO 3 AUTH a b SETNAME", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"HELLO 3 AUTH default b SETNAME", "-ERR Syntax error in HELLO option 'SETNAME'\r\n"},
		{"HELLO 2 SETNAME 'a b'", "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{"HELLO 2 foo", "-ERR Syntax error in HELLO option 'foo'\r\n"},
		{"CLIENT", "-ERR wrong number of arguments for 'client' command\r\n"},
		{"CLIENT FOO", "-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n"},
		{"CLIENT ID", ":1\r\n"},
		{"CLIENT GETNAME", "$-1\r\n"},
		{"CLIENT SETNAME a b", "-ERR wrong number of arguments for 'client|setname' command\r\n"},
		{"CLIENT SETNAME 'a b'", "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{"CLIENT SETNAME \"caf\\xc3\\xa9\"", "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"},
		{"CLIENT SETNAME conn-1", "+OK\r\n"},
		{"CLIENT GETNAME", "$6\r\nconn-1\r\n"},
		{"CLIENT SETNAME ''", "+OK\r\n"},
		{"CLIENT GETNAME", "$-1\r\n"},
		{"CLIENT NO-EVICT maybe", "-ERR syntax error\r\n"},
		{"CLIENT NO-EVICT on", "+OK\r\n"},
		{"CLIENT LIST TYPE foo", "-ERR Unknown client type 'foo'\r\n"},
		{"CLIENT LIST TYPE normal extra", "-ERR syntax error\r\n"},
		{"CLIENT LIST ID", "-ERR syntax error\r\n"},
		{"CLIENT LIST ID 1 x", "-ERR Invalid client ID\r\n"},
		{"CLIENT LIST ID 0", "$0\r\n\r\n"},
		{"CLIENT LIST TYPE pubsub", "$0\r\n\r\n"},
		{"CLIENT KILL 1.2.3.4:5", "-ERR No such client\r\n"},
		{"CLIENT KILL ID 0", "-ERR client-id should be greater than 0\r\n"},
		{"CLIENT KILL ID x", "-ERR client-id should be greater than 0\r\n"},
		{"CLIENT KILL ID 99", ":0\r\n"},
		{"CLIENT KILL TYPE master", ":0\r\n"},
		{"CLIENT KILL TYPE foo", "-ERR Unknown client type 'foo'\r\n"},
		{"CLIENT KILL USER nobody", "-ERR No such user 'nobody'\r\n"},
		{"CLIENT KILL SKIPME maybe", "-ERR syntax error\r\n"},
		{"CLIENT KILL ID 1 TYPE", "-ERR syntax error\r\n"},
		{"CLIENT KILL MAXAGE 5", "-ERR syntax error\r\n"},
	} {
		x.expect(c.line, c.want)
	}
	if !strings.HasPrefix(x.do("CLIENT HELP"), "*48\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n") {
		t.Error("CLIENT HELP header")
	}
}

func TestHelloAndReset(t *testing.T) {
	x, _ := newServerTester(t)
	x.expect("HELLO 3 SETNAME first",
		"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"+
			"$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")
	if x.ctx.W.Proto != 3 || x.ctx.S.Proto() != 3 {
		t.Fatalf("HELLO 3 left protocol %d/%d", x.ctx.W.Proto, x.ctx.S.Proto())
	}
	x.expect("CLIENT GETNAME", "$5\r\nfirst\r\n")
	x.expect("CLIENT ID", ":1\r\n")
	x.expect("HELLO", "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n"+
		"$2\r\nid\r\n:1\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n")
	x.expect("SELECT 4", "+OK\r\n")
	x.expect("CLIENT NO-EVICT on", "+OK\r\n")
	x.expect("RESET", "+RESET\r\n")
	if x.ctx.W.Proto != 2 || x.ctx.S.Proto() != 2 || x.ctx.S.DB != 0 || !x.ctx.S.NoEvict {
		t.Errorf("after RESET: proto %d/%d db %d no-evict %v", x.ctx.W.Proto, x.ctx.S.Proto(), x.ctx.S.DB, x.ctx.S.NoEvict)
	}
	x.expect("CLIENT GETNAME", "$-1\r\n")
	x.expect("RESET x", "-ERR wrong number of arguments for 'reset' command\r\n")
	x.expect("QUIT", "+OK\r\n")
	if !x.ctx.S.CloseAfter {
		t.Error("QUIT did not ask for the connection to close")
	}
}

// clientLine is the shape of a Redis 7.0 CLIENT LIST line.
var clientLine = regexp.MustCompile(`^id=\d+ addr=\S+ laddr=\S+ fd=\d+ name=\S* age=\d+ idle=\d+ flags=[A-Za-z]+ db=\d+ ` +
	`sub=\d+ psub=\d+ ssub=\d+ multi=-?\d+ qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ ` +
	`obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=r cmd=\S+ user=\S+ redir=-1 resp=[23]$`)

func TestClientList(t *testing.T) {
	other := NewSession(7, "10.0.0.9:5000", "127.0.0.1:6379", time.Now().Add(-5*time.Second))
	other.SetName("worker")
	other.SelectDB(3)
	other.SetNoEvict(true)
	other.SetSubscriptions(2, 1, 0)
	x, _ := newServerTester(t, other)
	reply := x.do("CLIENT LIST")
	body := reply[strings.Index(reply, "\r\n")+2 : len(reply)-2]
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("CLIENT LIST: %q", reply)
	}
	for _, l := range lines {
		if !clientLine.MatchString(l) {
			t.Errorf("not a Redis 7.0 CLIENT LIST line: %q", l)
		}
	}
	for _, want := range []string{"id=1 ", "cmd=client|list ", "qbuf=26 ", "argv-mem=10 ", "flags=N ", "resp=2"} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("own line %q lacks %q", lines[0], want)
		}
	}
	for _, want := range []string{"id=7 ", "addr=10.0.0.9:5000 ", "name=worker ", "age=5 ", "db=3 ", "flags=Pe ",
		"sub=2 psub=1 ", "cmd=NULL "} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("other line %q lacks %q", lines[1], want)
		}
	}
	if got := x.do("CLIENT LIST TYPE pubsub"); !strings.Contains(got, "id=7 ") || strings.Contains(got, "id=1 ") {
		t.Errorf("CLIENT LIST TYPE pubsub: %q", got)
	}
	if got := x.do("CLIENT LIST ID 7 7 99"); strings.Count(got, "id=7 ") != 2 {
		t.Errorf("CLIENT LIST ID 7 7 99: %q", got)
	}
	x.ctx.W.Proto = 3
	if got := x.do("CLIENT INFO"); !strings.HasPrefix(got, "=") || !strings.Contains(got, "txt:id=1 ") {
		t.Errorf("CLIENT INFO in RESP3: %q", got)
	}
}

func TestClientKill(t *testing.T) {
	mk := func(id int64, addr string) *Session { return NewSession(id, addr, "127.0.0.1:6379", time.Now()) }
	for _, c := range []struct {
		line      string
		want      string
		killed    []int64
		closeSelf bool
	}{
		{"CLIENT KILL 10.0.0.2:2", "+OK\r\n", []int64{2}, false},
		{"CLIENT KILL 127.0.0.1:1", "+OK\r\n", nil, true}, // the old form may kill the caller
		{"CLIENT KILL ID 3", ":1\r\n", []int64{3}, false},
		{"CLIENT KILL ADDR 10.0.0.2:2 ID 3", ":0\r\n", nil, false},
		{"CLIENT KILL LADDR 127.0.0.1:6379", ":2\r\n", []int64{2, 3}, false},
		{"CLIENT KILL TYPE normal SKIPME no", ":3\r\n", []int64{2, 3}, true},
		{"CLIENT KILL USER default", ":2\r\n", []int64{2, 3}, false},
		{"CLIENT KILL ID 1", ":0\r\n", nil, false},
		{"CLIENT KILL ID 1 SKIPME no", ":1\r\n", nil, true},
	} {
		x, srv := newServerTester(t, mk(2, "10.0.0.2:2"), mk(3, "10.0.0.3:3"))
		x.expect(c.line, c.want)
		if !slices.Equal(srv.killed, c.killed) {
			t.Errorf("%s killed %v, want %v", c.line, srv.killed, c.killed)
		}
		if x.ctx.S.CloseAfter != c.closeSelf {
			t.Errorf("%s: closes own connection %v, want %v", c.line, x.ctx.S.CloseAfter, c.closeSelf)
		}
	}
}
