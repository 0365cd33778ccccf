package commands

// MIGRATE, as Redis 7.0's migrateCommand (cluster.c): the keys are read
// and serialized in DUMP's format under the read lock, sent to the target
// as RESTOREs on the connection's goroutine (never the FSM's), and unless
// COPY the keys the target acknowledged are deleted through one Del op.

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
	"github.com/loomcache/loomcache/rdb"
	"github.com/loomcache/loomcache/resp"
)

func registerMigrate(t *Table) {
	const keyFlags = KeyRW | KeyAccess | KeyDelete
	t.add(&Command{Name: "migrate", Arity: -6, Flags: FlagWrite, Categories: CatKeyspace | CatDangerous,
		Keys: []KeySpec{
			{Flags: keyFlags, Index: 3, LastKey: 0, KeyStep: 1},
			{Flags: keyFlags | KeyIncomplete, Keyword: "KEYS", StartFrom: -2, LastKey: -1, KeyStep: 1},
		},
		GetKeys: migrateGetKeys,
		Tips:    []string{"nondeterministic_output"},
		Group:   "generic", Since: "2.6.0",
		Complexity: "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.",
		Summary:    "Atomically transfer a key from a Redis instance to another one.",
		History: [][2]string{
			{"3.0.0", "Added the `COPY` and `REPLACE` options."},
			{"3.0.6", "Added the `KEYS` option."},
			{"4.0.7", "Added the `AUTH` option."},
			{"6.0.0", "Added the `AUTH2` option."},
		},
		Handler: cmdMigrate,
		Args: []Arg{
			argString("host"),
			argInt("port"),
			argOneof("key_or_empty_string", argKey("key", 0), argToken("empty_string", "")),
			argInt("destination-db"),
			argInt("timeout"),
			argToken("copy", "COPY").since("3.0.0").optional(),
			argToken("replace", "REPLACE").since("3.0.0").optional(),
			argOneof("authentication",
				argString("password").token("AUTH").since("4.0.7").optional(),
				argBlock("username_password", argString("username"), argString("password")).token("AUTH2").since("6.0.0").optional(),
			).optional(),
			argKey("key", 1).token("KEYS").since("3.0.6").optional().multiple(),
		}})
}

// migrateGetKeys finds the keys as Redis's getKeysFromCommandWithSpecs
// does for MIGRATE: by the specs while their KEYS keyword (searched from
// the second last argument back) is absent, else by migrateGetKeys: the
// key argument, or with KEYS (and an empty key argument) every argument
// after it.
func migrateGetKeys(args [][]byte, fn func(pos int, flags KeyFlag)) {
	const flags = KeyRW | KeyAccess | KeyDelete
	found := false
	for i := len(args) - 2; i > 1; i-- {
		if eq(args[i], "KEYS") {
			found = true
			break
		}
	}
	if !found {
		if len(args) > 3 {
			fn(3, flags)
		}
		return
	}
	first, num := 3, 1
	skip := [...]struct {
		name string
		n    int
	}{{"COPY", 0}, {"REPLACE", 0}, {"AUTH", 1}, {"AUTH2", 2}}
	for i := 6; i < len(args); i++ {
		if eq(args[i], "KEYS") {
			if len(args[3]) > 0 {
				num = 0 // a syntax error MIGRATE reports
			} else {
				first, num = i+1, len(args)-i-1
			}
			break
		}
		for _, s := range skip {
			if eq(args[i], s.name) {
				i += s.n
				break
			}
		}
	}
	for i := first; i < first+num && i < len(args); i++ {
		fn(i, flags)
	}
}

var errMigrateKeys = errors.New("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string")

// migrateReq is one MIGRATE's parsed arguments.
type migrateReq struct {
	addr              string
	db                int64
	timeout           time.Duration
	copy, replace     bool
	user, pass        []byte
	auth              bool
	firstKey, numKeys int
}

func parseMigrate(c *Ctx) (*migrateReq, error) {
	r := &migrateReq{firstKey: 3, numKeys: 1,
		addr: net.JoinHostPort(string(c.Args[1]), string(c.Args[2]))}
	for j := 6; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch a := c.Args[j]; {
		case eq(a, "COPY"):
			r.copy = true
		case eq(a, "REPLACE"):
			r.replace = true
		case eq(a, "AUTH"):
			if more < 1 {
				return nil, errSyntax
			}
			j++
			r.pass, r.auth = c.Args[j], true
			c.Redact(j)
		case eq(a, "AUTH2"):
			if more < 2 {
				return nil, errSyntax
			}
			r.user, r.pass, r.auth = c.Args[j+1], c.Args[j+2], true
			c.Redact(j + 1)
			c.Redact(j + 2)
			j += 2
		case eq(a, "KEYS"):
			if len(c.Args[3]) != 0 {
				return nil, errMigrateKeys
			}
			r.firstKey, r.numKeys = j+1, len(c.Args)-j-1
			j = len(c.Args)
		default:
			return nil, errSyntax
		}
	}
	timeout, ok := parseInt(c.Args[5])
	if !ok {
		return nil, errNotInt
	}
	if r.db, ok = parseInt(c.Args[4]); !ok {
		return nil, errNotInt
	}
	if timeout <= 0 {
		timeout = 1000
	}
	r.timeout = time.Duration(timeout) * time.Millisecond
	return r, nil
}

// migrateKey is one key to send: its name, remaining TTL (0: none) and
// DUMP payload.
type migrateKey struct {
	name    []byte
	ttl     int64
	payload []byte
}

func cmdMigrate(c *Ctx) {
	if _, inBlock := c.Node.(*blockNode); inBlock {
		// The block runs where no network I/O may wait.
		c.W.Error("ERR " + errNotInBlock.Error())
		return
	}
	r, err := parseMigrate(c)
	if err != nil {
		c.W.Error(err.Error())
		return
	}
	var keys []migrateKey
	if !c.read(func(db *keyspace.DB) {
		now := c.Now()
		for _, k := range c.Args[r.firstKey : r.firstKey+r.numKeys] {
			e := db.Get(k, now)
			if e == nil {
				continue
			}
			ttl := int64(0)
			if d := db.Deadline(k); d != 0 {
				ttl = max(d-now, 1)
			}
			keys = append(keys, migrateKey{name: k, ttl: ttl, payload: rdb.Payload(dumpBody(e, now))})
		}
	}) {
		return
	}
	if len(keys) == 0 {
		c.W.Status("NOKEY")
		return
	}
	acked, reply := c.Table.migrate.send(r, keys)
	if !r.copy && len(acked) > 0 {
		if _, err := c.Node.Propose(&op.Op{Type: op.Del, DB: c.S.DB, Now: c.Now(), Args: acked}); err != nil {
			c.W.Error(nodeError(err))
			return
		}
		c.S.wrote.Store(true)
	}
	if reply == "" {
		c.W.OK()
		return
	}
	c.W.Error(reply)
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...[]byte) []byte {
	w := resp.Writer{}
	w.Array(len(args))
	for _, a := range args {
		w.Bulk(a)
	}
	return append(b, w.Bytes()...)
}

// migrateLineMax bounds a reply line from the target, as Redis's buffers.
const migrateLineMax = 1024

// migrateConn is one cached connection to a target.
type migrateConn struct {
	conn    net.Conn
	r       *bufio.Reader
	lastDB  int64 // -1: SELECT before the next RESTORE
	lastUse time.Time
}

// readLine reads one reply line, of at most migrateLineMax bytes as
// Redis's connSyncReadLine (the rest of a longer line is skipped).
func (m *migrateConn) readLine(timeout time.Duration) (string, error) {
	_ = m.conn.SetReadDeadline(time.Now().Add(timeout))
	b, err := m.r.ReadSlice('\n')
	line := string(b)
	for err == bufio.ErrBufferFull {
		_, err = m.r.ReadSlice('\n')
	}
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	return line, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// send runs migrateCommand's exchange with the target, retrying once on
// a cached connection found closed. It returns the keys the target
// acknowledged and the error reply ("" for +OK).
func (mc *migrateCache) send(r *migrateReq, keys []migrateKey) (acked [][]byte, reply string) {
	retry := true
	for {
		m := mc.get(r.addr)
		if m == nil {
			conn, err := net.DialTimeout("tcp", r.addr, r.timeout)
			if err != nil && isTimeout(err) {
				return nil, "IOERR error or timeout connecting to the client"
			}
			if err != nil {
				// Redis's non-blocking connect succeeds on a refused
				// connection, and the write that follows fails.
				if retry {
					retry = false
					continue
				}
				return nil, "IOERR error or timeout writing to target instance"
			}
			m = &migrateConn{conn: conn, r: bufio.NewReaderSize(conn, migrateLineMax), lastDB: -1}
		}
		acked, reply, sockErr, timedOut, first := m.exchange(r, keys)
		if sockErr == "" {
			mc.put(r.addr, m)
			return acked, reply
		}
		m.conn.Close()
		if reply != "" {
			return acked, reply
		}
		if retry && first && !timedOut {
			retry = false
			continue
		}
		return acked, "IOERR error or timeout " + sockErr + " to target instance"
	}
}

// exchange writes AUTH, SELECT and the RESTOREs, and reads their replies.
// sockErr is "writing" or "reading" on a socket failure; first reports
// that no RESTORE reply was read (a retry is safe).
func (m *migrateConn) exchange(r *migrateReq, keys []migrateKey) (acked [][]byte, reply, sockErr string, timedOut, first bool) {
	var b []byte
	if r.auth {
		if r.user != nil {
			b = appendCommand(b, []byte("AUTH"), r.user, r.pass)
		} else {
			b = appendCommand(b, []byte("AUTH"), r.pass)
		}
	}
	sel := m.lastDB != r.db
	if sel {
		b = appendCommand(b, []byte("SELECT"), strconv.AppendInt(nil, r.db, 10))
	}
	for _, k := range keys {
		args := [][]byte{[]byte("RESTORE"), k.name, strconv.AppendInt(nil, k.ttl, 10), k.payload}
		if r.replace {
			args = append(args, []byte("REPLACE"))
		}
		b = appendCommand(b, args...)
	}
	_ = m.conn.SetWriteDeadline(time.Now().Add(r.timeout))
	if _, err := m.conn.Write(b); err != nil {
		return nil, "", "writing", isTimeout(err), true
	}
	var authReply, selReply string
	var err error
	if r.auth {
		if authReply, err = m.readLine(r.timeout); err != nil {
			return nil, "", "reading", isTimeout(err), true
		}
	}
	if sel {
		if selReply, err = m.readLine(r.timeout); err != nil {
			return nil, "", "reading", isTimeout(err), true
		}
	}
	for j, k := range keys {
		line, err := m.readLine(r.timeout)
		if err != nil {
			return acked, reply, "reading", isTimeout(err), j == 0
		}
		failed := ""
		switch {
		case r.auth && authReply != "" && authReply[0] == '-':
			failed = authReply
		case sel && selReply != "" && selReply[0] == '-':
			failed = selReply
		case line != "" && line[0] == '-':
			failed = line
		}
		if failed == "" {
			acked = append(acked, k.name)
			continue
		}
		if reply == "" {
			m.lastDB = -1
			reply = "ERR Target instance replied with error: " + failed[1:]
		}
	}
	if reply == "" {
		m.lastDB = r.db
	}
	return acked, reply, "", false, false
}
