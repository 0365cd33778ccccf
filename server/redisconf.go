package server

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/loomcache/loomcache/persistence"
)

// This file gives Redis's persistence and process directives their
// LoomCache meaning: save points trigger Raft snapshots, appendfsync is
// the log's fsync policy, tcp-keepalive applies to client sockets, bind
// listens on several addresses; daemonize, pidfile, logfile and loglevel
// are the command's (cmd/loomcache), shown here as Redis shows them.

// defaultSave is Redis's save points when the config names none.
const defaultSave = "3600 1 300 100 60 10000"

// redisValues are the settable ones.
type redisValues struct {
	save       string // canonical "seconds changes ..."; "" none
	keepalive  int64  // tcp-keepalive, seconds (0: off)
	appendonly bool   // kept for CONFIG GET: the Raft log is always on
	loglevel   string // Redis's word, as given
	port       int64  // a CONFIG SET port's (applyPort)
}

func defaultRedisValues() redisValues {
	return redisValues{save: defaultSave, keepalive: 300, loglevel: "notice"}
}

// RedisStartup are Redis directives the command (cmd/loomcache) applies
// before the node starts; CONFIG GET shows them.
type RedisStartup struct {
	Bind      []string // bind's addresses as given ("-" marks one optional)
	Daemonize bool
	PidFile   string
	LogFile   string
	// LogFileSet: logfile was given ("" is then standard output).
	LogFileSet bool
	// Chdir: dir was given, and the process works in it, as Redis's.
	Chdir bool
	// OwnSettings are the command's setting names (id, raft-addr, ...):
	// CONFIG REWRITE keeps their lines.
	OwnSettings []string
	// Notes are startup log lines about directives of the file that
	// have no meaning here (rename-command, loadmodule, ...).
	Notes []string
}

func redisConfSettings() []setting {
	return []setting{
		{name: "save", get: func(_ *Server, v *confValues) string { return v.redis.save },
			set: func(_ *Server, v *confValues, val string) error {
				canon, err := canonicalSave(val)
				v.redis.save = canon
				return err
			}},
		{name: "appendonly", get: func(_ *Server, v *confValues) string { return yesNo(v.redis.appendonly) },
			set: func(_ *Server, v *confValues, val string) error {
				on, err := parseYesNo(val)
				v.redis.appendonly = on
				return err
			}},
		// The log's policy lives in the database (persistence.DB), read on
		// every commit: a change applies to the next one.
		{name: "appendfsync", get: func(s *Server, _ *confValues) string { return s.syncMode().String() },
			set: func(s *Server, _ *confValues, val string) error {
				w, err := parseEnum(val, []string{"everysec", "always", "no"})
				if err != nil {
					return err
				}
				m, _ := persistence.ParseSyncMode(w)
				if s.openNode() != nil {
					s.host.SetSyncMode(m)
				} else { // a startup directive: New opens the log with it
					s.cfg.Fsync, s.cfg.FsyncEverySec = m == persistence.SyncAlways, m == persistence.SyncEverySec
				}
				return nil
			}},
		{name: "tcp-keepalive", get: func(_ *Server, v *confValues) string { return strconv.FormatInt(v.redis.keepalive, 10) },
			set: func(_ *Server, v *confValues, val string) error {
				n, err := parseBounded(val, 0, 1<<31-1, false)
				v.redis.keepalive = n
				return err
			}},
		{name: "loglevel", get: func(_ *Server, v *confValues) string { return v.redis.loglevel },
			set: func(_ *Server, v *confValues, val string) error {
				w, err := parseEnum(val, []string{"debug", "verbose", "notice", "warning"})
				v.redis.loglevel = w
				return err
			}},
		{name: "daemonize", immutable: true, get: func(s *Server, _ *confValues) string { return yesNo(s.cfg.Redis.Daemonize) },
			set: func(*Server, *confValues, string) error { return nil }},
		{name: "pidfile", immutable: true, get: func(s *Server, _ *confValues) string { return s.cfg.Redis.PidFile },
			set: func(*Server, *confValues, string) error { return nil }},
		{name: "logfile", immutable: true, get: func(s *Server, _ *confValues) string { return s.cfg.Redis.LogFile },
			set: func(*Server, *confValues, string) error { return nil }},
	}
}

// syncMode is the log's fsync policy: the database's once it is open.
func (s *Server) syncMode() persistence.SyncMode {
	if s.openNode() != nil { // published after s.host (see openNode)
		return s.host.SyncMode()
	}
	switch {
	case s.cfg.Fsync:
		return persistence.SyncAlways
	case s.cfg.FsyncEverySec:
		return persistence.SyncEverySec
	}
	return persistence.SyncNo
}

// canonicalSave checks save's value as setConfigSaveOption does and
// returns CONFIG GET's form of it.
func canonicalSave(val string) (string, error) {
	f := strings.Fields(val)
	if len(f) == 1 && f[0] == `""` {
		f = nil
	}
	bad := errors.New("Invalid save parameters")
	if len(f)%2 != 0 {
		return "", bad
	}
	out := make([]string, len(f))
	for i, a := range f {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || (i%2 == 0 && n < 1) || (i%2 == 1 && n < 0) {
			return "", bad
		}
		out[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(out, " "), nil
}

type savePoint struct {
	secs    int64
	changes uint64
}

func parseSavePoints(save string) []savePoint {
	f := strings.Fields(save)
	var pts []savePoint
	for i := 0; i+1 < len(f); i += 2 {
		s, _ := strconv.ParseInt(f[i], 10, 64)
		c, _ := strconv.ParseUint(f[i+1], 10, 64)
		pts = append(pts, savePoint{s, c})
	}
	return pts
}

// saveEvery is how often the save points are looked at (Redis's
// serverCron checks them at hz, 10 times a second; a second is enough
// for points of a second or more).
const saveEvery = time.Second

// startSaver runs the save points: each node snapshots its own state,
// so every node checks them; Close stops it (s.done).
func (s *Server) startSaver() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(saveEvery)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
			}
			s.saveCheck(time.Now())
		}
	}()
}

// saveCheck takes a snapshot of every partition with changes when a save
// point is met: that many ops applied since the last snapshot, that long
// ago, as Redis's serverCron does with its dirty counter and lastsave.
func (s *Server) saveCheck(now time.Time) {
	if s.openNode() == nil {
		return
	}
	s.conf.mu.Lock()
	save := s.conf.v.redis.save
	s.conf.mu.Unlock()
	var changes uint64
	for _, g := range s.groups {
		changes += g.OpsSinceSnapshot()
	}
	if changes == 0 {
		return
	}
	elapsed := now.Unix() - s.LastSave()
	for _, p := range parseSavePoints(save) {
		if changes >= p.changes && elapsed >= p.secs {
			for _, g := range s.groups {
				if g.OpsSinceSnapshot() > 0 {
					if err := g.Snapshot(); err != nil {
						s.log.Printf("save point %d %d: snapshot: %v", p.secs, p.changes, err)
					}
				}
			}
			return
		}
	}
}

// keepAlive applies tcp-keepalive to a client's socket, as Redis's
// anetKeepAlive: probes after that many seconds of silence, then every
// third of it.
func (s *Server) keepAlive(nc net.Conn) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return
	}
	s.conf.mu.Lock()
	secs := s.conf.v.redis.keepalive
	s.conf.mu.Unlock()
	if secs <= 0 {
		tc.SetKeepAlive(false)
		return
	}
	d := time.Duration(secs) * time.Second
	tc.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: d, Interval: max(d/3, time.Second), Count: 3})
}

// listenBind opens the plain listener: on Addr, or on each of bind's
// addresses at Addr's port, as Redis: "*" is every IPv4 address, "::*"
// every IPv6 one, and an address with a leading "-" is skipped when this
// machine does not have it.
func (s *Server) listenBind() (net.Listener, error) {
	_, port, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil {
		return nil, err
	}
	return s.listenBindPort(port)
}

// listenBindPort is listenBind at another port.
func (s *Server) listenBindPort(port string) (net.Listener, error) {
	if len(s.cfg.Redis.Bind) == 0 {
		host, _, _ := net.SplitHostPort(s.cfg.Addr)
		return net.Listen("tcp", net.JoinHostPort(host, port))
	}
	var lns []net.Listener
	for _, b := range s.cfg.Redis.Bind {
		host, optional := strings.CutPrefix(b, "-")
		network := "tcp4"
		switch {
		case host == "*":
			host = "0.0.0.0"
		case host == "::*":
			host, network = "::", "tcp6"
		case strings.Contains(host, ":"):
			network = "tcp6" // IPv6 only, as Redis sets IPV6_V6ONLY
		}
		ln, err := net.Listen(network, net.JoinHostPort(host, port))
		if err != nil {
			if optional && (errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)) {
				s.log.Printf("bind %s: skipped, this machine does not have it", b)
				continue
			}
			for _, l := range lns {
				l.Close()
			}
			return nil, fmt.Errorf("listen %s: %w", net.JoinHostPort(host, port), err)
		}
		lns = append(lns, ln)
	}
	if len(lns) == 0 {
		return nil, errors.New("bind: none of its addresses is on this machine")
	}
	if len(lns) == 1 {
		return lns[0], nil
	}
	return newMultiListener(lns), nil
}

// multiListener accepts on several listeners as one; it owns a goroutine
// per listener, which Close stops.
type multiListener struct {
	lns   []net.Listener
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func newMultiListener(lns []net.Listener) *multiListener {
	m := &multiListener{lns: lns, conns: make(chan net.Conn), done: make(chan struct{})}
	for _, ln := range lns {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					var ne net.Error
					if errors.As(err, &ne) && ne.Timeout() {
						continue
					}
					return
				}
				select {
				case m.conns <- c:
				case <-m.done:
					c.Close()
					return
				}
			}
		}()
	}
	return m
}

func (m *multiListener) Accept() (net.Conn, error) {
	select {
	case c := <-m.conns:
		return c, nil
	case <-m.done:
		return nil, net.ErrClosed
	}
}

func (m *multiListener) Close() error {
	m.once.Do(func() {
		close(m.done)
		for _, ln := range m.lns {
			ln.Close()
		}
	})
	m.wg.Wait()
	return nil
}

// Addr is the first address's.
func (m *multiListener) Addr() net.Addr { return m.lns[0].Addr() }

// GitSHA is the commit the binary was built from (the build's
// vcs.revision, with "-dirty" if it had changes), or 8 zeros as Redis's
// redis_git_sha1 when unknown.
func GitSHA() string {
	sha, dirty := strings.Repeat("0", 8), false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				sha = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if dirty {
		sha += "-dirty"
	}
	return sha
}

// setPort checks a port for CONFIG SET port; applyPort moves to it.
func setPort(_ *Server, v *confValues, val string) error {
	n, err := parseBounded(val, 0, 65535, false)
	v.redis.port = n
	return err
}

// applyPort listens on the new port before anything changes, so a port
// in use fails the CONFIG SET (and undoes the rest of it) as in Redis;
// connections accepted on the old port stay open.
func (s *Server) applyPort(tx *applyTx) error {
	want := strconv.FormatInt(tx.next.redis.port, 10)
	if tx.startup || want == listenerPort(s.plainListener()) {
		return nil
	}
	if want == "0" {
		tx.onCommit(func() { s.setPlainListener(nil) })
		return nil
	}
	ln, err := s.listenBindPort(want)
	if err != nil {
		return &applyError{reply: "Unable to listen on this port. Check server logs.", err: fmt.Errorf("port %s: %w", want, err)}
	}
	tx.onAbort(func() { ln.Close() })
	tx.onCommit(func() { s.setPlainListener(ln) })
	return nil
}

// setBind takes bind's value as it is: the addresses are fixed when the
// node starts (a change is refused as immutable).
func setBind(s *Server, _ *confValues, val string) error {
	if strings.Join(strings.Fields(val), " ") != s.bindValue() {
		return errImmutable
	}
	return nil
}

func (s *Server) plainListener() net.Listener {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	return s.ln
}

// setPlainListener makes ln the plain listener (nil: none), accepting on
// it if the server is serving, and closes the one it replaces.
func (s *Server) setPlainListener(ln net.Listener) { s.setListener(&s.ln, ln, false) }

// setListener makes ln the listener held in *slot (s.ln or s.tlsLn; nil:
// none), accepting on it if the server is serving, and closes the one it
// replaces, whose accept loop then ends.
func (s *Server) setListener(slot *net.Listener, ln net.Listener, tls bool) {
	s.lnMu.Lock()
	if s.closed {
		s.lnMu.Unlock()
		if ln != nil {
			ln.Close()
		}
		return
	}
	old := *slot
	*slot = ln
	if ln != nil && s.serving {
		s.startAccept(ln, tls)
	}
	s.lnMu.Unlock()
	if old != nil {
		old.Close()
	}
}

// bindValue is CONFIG GET bind: bind's addresses, or --addr's host.
func (s *Server) bindValue() string {
	if b := s.cfg.Redis.Bind; len(b) > 0 {
		return strings.Join(b, " ")
	}
	host, _, err := net.SplitHostPort(s.cfg.Addr)
	if err != nil || host == "" {
		return "*"
	}
	return host
}
