package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loomcache/loomcache/rdb"
)

// `loomcache import-rdb FILE --addr host:port`: loads an RDB file written
// by Redis (7.0 or before) into a running LoomCache through ordinary
// commands. Each key goes as RESTORE key <deadline> <payload> ABSTTL
// REPLACE (its object's own bytes wrapped as a DUMP payload, so the
// server decodes it, and every write goes through Raft), each function
// library as FUNCTION RESTORE ... REPLACE, pipelined on one connection.
// Keys already expired are skipped.

const importUsage = `usage: loomcache import-rdb FILE --addr host:port [--user NAME] [--password PASS]
                           [--tls [--cacert FILE] [--cert FILE --key FILE]]
                           [--batch N] [--pipeline N] [--progress auto|bar|lines|off]

Loads an RDB file written by Redis 7.0 or earlier (redis-cli --rdb, or a
dump.rdb) into a running LoomCache node. Every key of every database is
written with RESTORE ... ABSTTL REPLACE (keys already expired are
skipped), every function library with FUNCTION RESTORE ... REPLACE.
--batch keys go in one MULTI/EXEC (one Raft entry: 100 by default, 1 for
none); --pipeline commands are in flight at once (64).
`

type importOptions struct {
	file, addr, user, password string
	pipeline, batch            int
	progress                   string
	// TLS, with redis-cli's option names.
	tls                  bool
	cacert, cert, keyPEM string
}

func parseImportArgs(args []string) (importOptions, error) {
	o := importOptions{addr: "127.0.0.1:6379", pipeline: 64, batch: 100, progress: "auto"}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--help" || a == "-h" {
			return o, errHelp
		}
		if !strings.HasPrefix(a, "--") {
			if o.file != "" {
				return o, fmt.Errorf("unexpected argument %q", a)
			}
			o.file = a
			continue
		}
		name, val, has := strings.Cut(a[2:], "=")
		if !has && name == "tls" { // a flag, as redis-cli's
			val, has = "yes", true
		}
		if !has {
			if i+1 >= len(args) {
				return o, fmt.Errorf("--%s needs a value", name)
			}
			i++
			val = args[i]
		}
		switch name {
		case "addr":
			o.addr = val
		case "user":
			o.user = val
		case "password":
			o.password = val
		case "tls":
			o.tls = val == "yes" || val == "true" || val == "1"
		case "cacert":
			o.cacert, o.tls = val, true
		case "cert":
			o.cert, o.tls = val, true
		case "key":
			o.keyPEM, o.tls = val, true
		case "pipeline":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 100000 {
				return o, fmt.Errorf("--pipeline wants 1 to 100000, not %q", val)
			}
			o.pipeline = n
		case "batch":
			n, err := strconv.Atoi(val)
			if err != nil || n < 1 || n > 10000 {
				return o, fmt.Errorf("--batch wants 1 to 10000, not %q", val)
			}
			o.batch = n
		case "progress":
			switch val {
			case "auto", "bar", "lines", "off":
				o.progress = val
			default:
				return o, fmt.Errorf("--progress wants auto, bar, lines or off, not %q", val)
			}
		default:
			return o, fmt.Errorf("unknown option --%s", name)
		}
	}
	if o.file == "" {
		return o, errors.New("no RDB file given")
	}
	return o, nil
}

// runImportRDB is the import-rdb subcommand; it returns the exit code.
func runImportRDB(args []string, stderr io.Writer) int {
	o, err := parseImportArgs(args)
	if err == errHelp {
		fmt.Fprint(stderr, importUsage)
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "loomcache import-rdb: %v\n%s", err, importUsage)
		return 2
	}
	sum, err := importRDB(o, stderr, time.Now)
	fmt.Fprintln(stderr, sum.String())
	if err != nil {
		fmt.Fprintln(stderr, "loomcache import-rdb:", err)
		return 1
	}
	if sum.errors > 0 {
		return 1
	}
	return 0
}

// importSummary is what an import did.
type importSummary struct {
	keys, functions, expired, errors int64
	dbs                              map[int]bool
	bytes                            int64
	elapsed                          time.Duration
	firstErrors                      []string
}

func (s *importSummary) String() string {
	mbps := 0.0
	if s.elapsed > 0 {
		mbps = float64(s.bytes) / 1e6 / s.elapsed.Seconds()
	}
	out := fmt.Sprintf("import-rdb: %d keys in %d databases, %d function libraries, %d expired keys skipped; %.1f MB in %.2fs, %.1f MB/s; %d errors",
		s.keys, len(s.dbs), s.functions, s.expired, float64(s.bytes)/1e6, s.elapsed.Seconds(), mbps, s.errors)
	for _, e := range s.firstErrors {
		out += "\n  " + e
	}
	return out
}

// importRDB reads the file and writes its records to the server at
// o.addr.
func importRDB(o importOptions, stderr io.Writer, now func() time.Time) (*importSummary, error) {
	start := now()
	sum := &importSummary{dbs: map[int]bool{}}
	defer func() { sum.elapsed = now().Sub(start) }()
	file, err := os.Open(o.file)
	if err != nil {
		return sum, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return sum, err
	}
	f, err := rdb.NewFileReader(file)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", o.file, err)
	}
	conn, err := o.dial()
	if err != nil {
		return sum, err
	}
	defer conn.Close()
	p := newPipeline(conn, o.pipeline, o.batch)
	if o.password != "" {
		args := []string{"AUTH", o.password}
		if o.user != "" {
			args = []string{"AUTH", o.user, o.password}
		}
		if reply, err := p.call(args...); err != nil || strings.HasPrefix(reply, "-") {
			return sum, fmt.Errorf("AUTH: %s%v", reply, err)
		}
	}
	p.start(sum)
	prog := newProgress(stderr, o.progress, st.Size())
	db := 0
	for {
		rec, err := f.Next()
		prog.update(f.Offset(), sum)
		if err == io.EOF {
			break
		}
		if err != nil {
			p.finish()
			prog.stop()
			return sum, err
		}
		switch rec.Kind {
		case rdb.RecordFunction:
			sum.functions++
			p.endBatch()
			p.send(reply{what: "function library"}, []byte("FUNCTION"), []byte("RESTORE"), rec.Payload, []byte("REPLACE"))
		case rdb.RecordKey:
			if rec.ExpireMs != 0 && rec.ExpireMs <= now().UnixMilli() {
				sum.expired++
				continue
			}
			if rec.DB != db {
				db = rec.DB
				p.endBatch()
				p.send(reply{}, []byte("SELECT"), []byte(strconv.Itoa(db)))
			}
			sum.keys++
			sum.dbs[db] = true
			args := [][]byte{[]byte("RESTORE"), rec.Key, []byte(strconv.FormatInt(rec.ExpireMs, 10)), rec.Payload, []byte("ABSTTL"), []byte("REPLACE")}
			// A file saved under an LRU or LFU policy carries access data.
			if rec.Freq >= 0 {
				args = append(args, []byte("FREQ"), []byte(strconv.Itoa(rec.Freq)))
			} else if rec.Idle >= 0 {
				args = append(args, []byte("IDLETIME"), []byte(strconv.FormatInt(rec.Idle, 10)))
			}
			p.restore(string(rec.Key), args)
		}
	}
	sum.bytes = f.Offset()
	p.endBatch()
	p.finish()
	prog.stop()
	return sum, p.err
}

// dial connects to o.addr, over TLS if asked: the server verified
// against --cacert (or the system's roots), --cert and --key shown when
// the server asks for a client certificate (Redis's tls-auth-clients).
func (o importOptions) dial() (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !o.tls {
		return d.Dial("tcp", o.addr)
	}
	host, _, err := net.SplitHostPort(o.addr)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{ServerName: host}
	if o.cacert != "" {
		pem, err := os.ReadFile(o.cacert)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate", o.cacert)
		}
	}
	if o.cert != "" || o.keyPEM != "" {
		c, err := tls.LoadX509KeyPair(o.cert, o.keyPEM)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return tls.DialWithDialer(d, "tcp", o.addr, cfg)
}

// pipeline writes commands on one connection while its reader takes
// their replies; at most window are in flight. RESTOREs are grouped by
// batch into MULTI/EXEC, one Raft entry each.
type pipeline struct {
	conn    net.Conn
	w       *bufio.Writer
	r       *bufio.Reader
	pending chan reply // what each reply in flight answers
	batch   int
	inBatch []string // keys of the open MULTI
	wg      sync.WaitGroup
	err     error // the reader's, set before it returns
}

// reply is what a reply in flight answers: a command about what, or an
// EXEC of keys (whose QUEUED replies are skipped).
type reply struct {
	what   string
	keys   []string
	queued bool
}

func newPipeline(conn net.Conn, window, batch int) *pipeline {
	return &pipeline{conn: conn, w: bufio.NewWriterSize(conn, 256<<10), r: bufio.NewReaderSize(conn, 64<<10),
		pending: make(chan reply, window), batch: batch}
}

// restore queues a key's RESTORE, in the open batch.
func (p *pipeline) restore(key string, args [][]byte) {
	if p.batch <= 1 {
		p.send(reply{what: key}, args...)
		return
	}
	if len(p.inBatch) == 0 {
		p.send(reply{queued: true}, []byte("MULTI"))
	}
	p.inBatch = append(p.inBatch, key)
	p.send(reply{what: key, queued: true}, args...)
	if len(p.inBatch) >= p.batch {
		p.endBatch()
	}
}

// endBatch sends the open batch's EXEC.
func (p *pipeline) endBatch() {
	if len(p.inBatch) == 0 {
		return
	}
	p.send(reply{keys: p.inBatch}, []byte("EXEC"))
	p.inBatch = nil
}

// call sends one command and waits for its reply (before start).
func (p *pipeline) call(args ...string) (string, error) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	writeCommand(p.w, b)
	if err := p.w.Flush(); err != nil {
		return "", err
	}
	return readReply(p.r)
}

// start runs the reader, which counts error replies into sum.
func (p *pipeline) start(sum *importSummary) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		fail := func(what, msg string) {
			sum.errors++
			if len(sum.firstErrors) < 5 {
				sum.firstErrors = append(sum.firstErrors, fmt.Sprintf("%q: %s", what, msg))
			}
		}
		for rp := range p.pending {
			top, errs, err := readReplyErrors(p.r)
			if err != nil {
				p.err = fmt.Errorf("reading replies: %w", err)
				p.conn.Close()        // the writer's next write fails
				for range p.pending { // let the writer finish
				}
				return
			}
			switch {
			case rp.keys != nil && strings.HasPrefix(top, "-"): // EXECABORT: the batch is lost
				for _, k := range rp.keys {
					fail(k, top[1:])
				}
			case rp.keys != nil:
				for i, e := range errs {
					if e.index < len(rp.keys) {
						fail(rp.keys[e.index], e.msg)
					} else {
						fail(fmt.Sprint(i), e.msg)
					}
				}
			case strings.HasPrefix(top, "-") && !rp.queued:
				fail(rp.what, top[1:])
			}
		}
	}()
}

// send queues a command; the buffer is flushed when the window is full.
func (p *pipeline) send(rp reply, args ...[]byte) {
	writeCommand(p.w, args)
	select {
	case p.pending <- rp:
	default:
		p.w.Flush()
		p.pending <- rp
	}
}

// finish flushes, and waits for every reply.
func (p *pipeline) finish() {
	p.w.Flush()
	close(p.pending)
	p.wg.Wait()
}

func writeCommand(w *bufio.Writer, args [][]byte) {
	w.WriteString("*")
	w.WriteString(strconv.Itoa(len(args)))
	w.WriteString("\r\n")
	for _, a := range args {
		w.WriteString("$")
		w.WriteString(strconv.Itoa(len(a)))
		w.WriteString("\r\n")
		w.Write(a)
		w.WriteString("\r\n")
	}
}

// readReply reads one reply: its first line for a status, an error or an
// integer, the type and size for the rest (whose contents are skipped).
func readReply(r *bufio.Reader) (string, error) {
	top, _, err := readReplyErrors(r)
	return top, err
}

// elemError is an error reply inside an array (an EXEC's), by position.
type elemError struct {
	index int
	msg   string
}

// readReplyErrors is readReply that also collects the error replies
// directly inside an array.
func readReplyErrors(r *bufio.Reader) (string, []elemError, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", nil, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", nil, errors.New("empty reply line")
	}
	switch line[0] {
	case '+', '-', ':':
		return line, nil, nil
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", nil, fmt.Errorf("bad reply %q", line)
		}
		if n >= 0 {
			if _, err := r.Discard(n + 2); err != nil {
				return "", nil, err
			}
		}
		return line, nil, nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return "", nil, fmt.Errorf("bad reply %q", line)
		}
		var errs []elemError
		for i := range n {
			e, _, err := readReplyErrors(r)
			if err != nil {
				return "", nil, err
			}
			if strings.HasPrefix(e, "-") {
				errs = append(errs, elemError{i, e[1:]})
			}
		}
		return line, errs, nil
	}
	return "", nil, fmt.Errorf("unexpected reply %q", line)
}
