package server

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/loomcache/loomcache/glob"
	"github.com/loomcache/loomcache/keyspace"
	"github.com/loomcache/loomcache/op"
)

// This file is CONFIG GET/SET's registry: the Redis parameters whose
// values are real in LoomCache, with Redis's names, formats and errors.

// runtimeConfig holds what CONFIG SET may change at run time. New fills
// in Redis's defaults (defaultConfValues).
type runtimeConfig struct {
	mu sync.Mutex
	v  confValues
	// limits is what connections read of v on every request (limits.go).
	limits atomic.Pointer[connLimits]
	// unprotected is v.unprotected, read by every accept.
	unprotected atomic.Bool
	// encodings is v.enc, for the keyspace (encodings.go).
	encodings atomic.Pointer[keyspace.EncodingLimits]
	// mem is what eviction reads of v (maxmemory.go).
	mem atomic.Pointer[memPolicy]
	// debugCmd is enable-debug-command (admin.go), set at startup only.
	debugCmd atomic.Int32
}

// confValues are the settable values; zero means the default.
type confValues struct {
	maxMemory  uint64
	policy     string // maxmemory-policy; "" is noeviction
	maxClients int64  // 0 is 10000
	timeout    int64
	notify     keyspace.EventClass // notify-keyspace-events
	queryBuf   int64               // client-query-buffer-limit; 0 is 1gb
	obuf       *obufLimits         // client-output-buffer-limit; nil is Redis's default; never changed once set
	maxBulk    int64               // proto-max-bulk-len; 0 is the node's Config.MaxBulk
	// unprotected is protected-mode no (Redis's default is yes).
	unprotected bool
	// requirePass is a requirepass being set: replicated state, so it is
	// proposed once every value checked out, never stored here.
	requirePass *string
	tls         tlsValues
	enc         keyspace.EncodingLimits // the encoding directives (encodings.go)
	// noActiveRehashing is activerehashing no (Redis's default is yes).
	noActiveRehashing bool
	evict             evictValues // maxmemory.go
	// busyMs is busy-reply-threshold (lua-time-limit): how long a script
	// runs before other clients get BUSY.
	busyMs int64
	// trackMaxKeys is tracking-table-max-keys (0: no limit).
	trackMaxKeys int64
	lat          latencyValues // slow log and latency monitor (latency.go)
	inert        *inertValues  // redisdirectives.go
	redis        redisValues   // redisconf.go
}

// defaultConfValues are Redis's defaults: the zero value but for the TLS,
// eviction and encoding settings, some of whose defaults are not zero.
func defaultConfValues() confValues {
	return confValues{tls: defaultTLSValues(), evict: defaultEvictValues(), enc: keyspace.DefaultEncodingLimits(),
		busyMs: 5000, trackMaxKeys: 1000000, lat: defaultLatencyValues(), redis: defaultRedisValues()}
}

// setting is one CONFIG parameter.
type setting struct {
	name string
	// alias is Redis's other name for it (withAliases).
	alias string
	get   func(s *Server, v *confValues) string
	// set validates val and stores it in v; nil means immutable.
	set func(s *Server, v *confValues, val string) error
	// protected: Redis refuses it at run time unless
	// enable-protected-configs allows it, which LoomCache never does.
	protected bool
	// startupOnly: settable at startup; at run time only to the value it
	// has (can't set immutable config otherwise), for the settings Redis
	// lets CONFIG SET change but LoomCache fixes when it starts.
	startupOnly bool
	// immutable: settable at startup only, as Redis's IMMUTABLE_CONFIG
	// (CONFIG SET refuses it whatever the value).
	immutable bool
	// apply makes a change take effect once every value of the CONFIG
	// SET is in place, as Redis's apply functions do: settings that share
	// one run it once, and only if one of them changed (or is volatile).
	apply applyKind
	// volatile: apply even when set to the value it has, as Redis's
	// VOLATILE_CONFIG, so that naming a certificate file again re-reads it.
	volatile bool
	// hidden: left out of CONFIG GET's patterns (HIDDEN_CONFIG).
	hidden bool
	// inert: a Redis directive with no meaning here (redisdirectives.go).
	inert bool
}

// Errors whose text Redis reports after "CONFIG SET failed (...) - ".
var (
	errImmutable = errors.New("can't set immutable config")
	errProtected = errors.New("can't set protected config")
	errDuplicate = errors.New("duplicate parameter")
)

// settings lists the parameters in the order CONFIG GET * reports them.
func settings() []setting {
	all := []setting{
		{name: "bind", set: setBind, get: func(s *Server, _ *confValues) string { return s.bindValue() }},
		// 0 when there is no plain listener (Config.NoPlainPort), as Redis
		// shows port 0.
		{name: "port", get: func(s *Server, _ *confValues) string { return listenerPort(s.plainListener()) },
			set: setPort, apply: applyPort, volatile: true},
		{name: "databases", get: func(s *Server, _ *confValues) string { return strconv.Itoa(s.cfg.Databases) }},
		{name: "dir", protected: true, get: func(s *Server, _ *confValues) string {
			if abs, err := filepath.Abs(s.cfg.DataDir); err == nil {
				return abs
			}
			return s.cfg.DataDir
		}},
		{name: "maxclients", get: func(_ *Server, v *confValues) string { return strconv.FormatInt(v.maxclients(), 10) },
			set: func(_ *Server, v *confValues, val string) error {
				n, err := parseBounded(val, 1, math.MaxUint32, true)
				v.maxClients = n
				return err
			}},
		{name: "timeout", get: func(_ *Server, v *confValues) string { return strconv.FormatInt(v.timeout, 10) },
			set: func(_ *Server, v *confValues, val string) error {
				n, err := parseBounded(val, 0, math.MaxInt32, false)
				v.timeout = n
				return err
			}},
		// The default user's password, replicated with the users.
		{name: "requirepass", get: func(s *Server, _ *confValues) string { return s.table.ACL().RequirePass() },
			set: func(_ *Server, v *confValues, val string) error {
				v.requirePass = &val
				return nil
			}},
		{name: "aclfile", get: func(s *Server, _ *confValues) string { return s.cfg.ACLFile }},
		{name: "protected-mode", get: func(_ *Server, v *confValues) string { return yesNo(!v.unprotected) },
			set: func(_ *Server, v *confValues, val string) error {
				on, err := parseYesNo(val)
				v.unprotected = !on
				return err
			}},
		{name: "busy-reply-threshold", alias: "lua-time-limit",
			get: func(_ *Server, v *confValues) string { return strconv.FormatInt(v.busyMs, 10) },
			set: func(_ *Server, v *confValues, val string) error {
				n, err := parseBounded(val, 0, math.MaxInt64, false)
				v.busyMs = n
				return err
			}},
		{name: "tracking-table-max-keys", get: func(_ *Server, v *confValues) string { return strconv.FormatInt(v.trackMaxKeys, 10) },
			set: func(_ *Server, v *confValues, val string) error {
				n, err := parseBounded(val, 0, math.MaxInt64, true)
				v.trackMaxKeys = n
				return err
			}},
		{name: "notify-keyspace-events", get: func(_ *Server, v *confValues) string { return notifyFlagsString(v.notify) },
			set: func(_ *Server, v *confValues, val string) error {
				f, ok := parseNotifyFlags(val)
				if !ok {
					return errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
				}
				v.notify = f
				return nil
			}},
	}
	all = append(all, memorySettings()...)
	all = append(all, latencySettings()...)
	all = append(all, redisConfSettings()...)
	all = append(append(append(all, limitSettings()...), tlsSettings()...), encodingSettings()...)
	all = append(all, debugSetting())
	all = append(all, inertSettings(all)...)
	return withAliases(all)
}

func (v *confValues) maxclients() int64 {
	if v.maxClients == 0 {
		return 10000
	}
	return v.maxClients
}

// maxClients is the maxclients setting now.
func (s *Server) maxClients() int64 {
	s.conf.mu.Lock()
	defer s.conf.mu.Unlock()
	return s.conf.v.maxclients()
}

func lookupSetting(all []setting, name string) *setting {
	for i := range all {
		if strings.EqualFold(all[i].name, name) {
			return &all[i]
		}
	}
	return nil
}

// ConfigGet returns name/value pairs for pattern: a name without glob
// characters is looked up as given (and answered under that spelling, as
// Redis does), anything else is matched case-insensitively.
func (s *Server) ConfigGet(pattern string) [][2]string {
	all := settings()
	s.conf.mu.Lock()
	v := s.conf.v
	s.conf.mu.Unlock()
	if !strings.ContainsAny(pattern, "[*?") {
		if st := lookupSetting(all, pattern); st != nil {
			return [][2]string{{pattern, st.get(s, &v)}}
		}
		return nil
	}
	var out [][2]string
	for i := range all {
		if !all[i].hidden && glob.MatchString(pattern, all[i].name, true) {
			out = append(out, [2]string{all[i].name, all[i].get(s, &v)})
		}
	}
	return out
}

// ConfigSet applies pairs all or nothing, checking them in Redis's order:
// unknown names, then immutable ones and duplicates, then the values,
// then the apply steps of what changed.
func (s *Server) ConfigSet(pairs [][2]string) error { return s.configSet(pairs, false) }

// configSet is ConfigSet; at startup (the directives New is given) the
// startup-only settings may change, and an apply step's error is given in
// full rather than as the reply Redis sends a client.
func (s *Server) configSet(pairs [][2]string, startup bool) error {
	if startup {
		pairs = lastOfEach(withoutIgnored(pairs))
	}
	all := settings()
	found := make([]*setting, len(pairs))
	var unknown string
	var firstErr error
	for i, p := range pairs {
		st := lookupSetting(all, p[0])
		if st == nil {
			if unknown == "" && firstErr == nil {
				unknown = p[0]
			}
			continue
		}
		if unknown != "" || firstErr != nil {
			continue
		}
		switch {
		case st.protected && !startup:
			firstErr = setFailed(p[0], errProtected)
		case st.set == nil, st.immutable && !startup:
			firstErr = setFailed(p[0], errImmutable)
		}
		for _, prev := range found[:i] {
			if firstErr == nil && prev == st {
				firstErr = setFailed(p[0], errDuplicate)
			}
		}
		found[i] = st
	}
	if unknown != "" {
		return &setError{name: unknown}
	}
	if firstErr != nil {
		return firstErr
	}
	s.conf.mu.Lock()
	defer s.conf.mu.Unlock()
	next := s.conf.v
	// The apply steps to run, each once, in the order of the first
	// setting that asked for it; Redis names that setting when it fails.
	var applies []applyKind
	var applyNames []string
	for i, st := range found {
		before := next
		if err := st.set(s, &next, pairs[i][1]); err != nil {
			return setFailed(st.name, err)
		}
		if startup && st.inert {
			s.log.Printf("directive %s accepted: it has no meaning in LoomCache (CONFIG GET shows it, nothing uses it)", pairs[i][0])
		}
		changed := next != before
		if changed && st.startupOnly && !startup {
			return setFailed(st.name, errImmutable)
		}
		if st.apply != applyNone && (changed || st.volatile) && !slices.Contains(applies, st.apply) {
			applies = append(applies, st.apply)
			applyNames = append(applyNames, st.name)
		}
	}
	tx := &applyTx{startup: startup, next: &next}
	for i, k := range applies {
		if err := s.configApply(k, tx); err != nil {
			tx.abort()
			if startup {
				return err // says what it is about, and what is wrong
			}
			s.log.Printf("CONFIG SET %s: %v", applyNames[i], err)
			return setFailed(applyNames[i], replyOf(err))
		}
	}
	if p := next.requirePass; p != nil {
		next.requirePass = nil
		if err := s.setRequirePass(*p, startup); err != nil {
			tx.abort()
			return err
		}
	}
	s.conf.v = next
	s.table.SetBusyThreshold(next.busyMs)
	s.table.SetNotifyEvents(next.notify)
	s.table.Tracking().SetMaxKeys(next.trackMaxKeys)
	s.conf.limits.Store(newConnLimits(s, &next))
	s.conf.unprotected.Store(next.unprotected)
	s.publishEncodings(next.enc)
	s.publishMemory(&next)
	s.tls.publish(&next.tls)
	s.publishLatency(&next.lat)
	tx.commit()
	return nil
}

// setRequirePass proposes requirepass; given at startup, before the node
// runs, it waits for the startup proposals (acl.go).
func (s *Server) setRequirePass(p string, startup bool) error {
	if startup {
		s.startup.pass = &p
		return nil
	}
	o := &op.Op{Type: op.AclRequirePass, Args: [][]byte{[]byte(p)}}
	s.awaitACLSync(o)
	res, err := s.propose(o)
	if err != nil {
		return err
	}
	if e, ok := res.(error); ok {
		return e
	}
	return nil
}

// lastOfEach keeps the last value given for each name: at startup a
// directive may come from the config file and again from the command
// line, which wins, as a later line of redis.conf does. The lines of
// client-output-buffer-limit, one per class in redis.conf, are joined
// into one value in their order, which sets every class they name.
func lastOfEach(pairs [][2]string) [][2]string {
	out := make([][2]string, 0, len(pairs))
	obuf := -1
	for i, p := range pairs {
		if strings.EqualFold(p[0], "client-output-buffer-limit") {
			if obuf < 0 {
				obuf = len(out)
				out = append(out, p)
			} else {
				out[obuf][1] += " " + p[1]
			}
			continue
		}
		later := false
		for _, q := range pairs[i+1:] {
			if strings.EqualFold(p[0], q[0]) {
				later = true
				break
			}
		}
		if !later {
			out = append(out, p)
		}
	}
	return out
}

// setError is a refused CONFIG SET; its text is Redis's reply.
type setError struct {
	name string
	err  error // nil: the name is unknown
}

func (e *setError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("ERR Unknown option or number of arguments for CONFIG SET - '%s'", e.name)
	}
	return fmt.Sprintf("ERR CONFIG SET failed (possibly related to argument '%s') - %s", e.name, e.err)
}

func setFailed(name string, err error) error { return &setError{name: name, err: err} }

// startupError words a refused startup directive for a person at a shell.
func startupError(err error) error {
	var se *setError
	if errors.As(err, &se) {
		if se.err == nil {
			return fmt.Errorf("unknown directive %q", se.name)
		}
		return fmt.Errorf("%s: %v", se.name, se.err)
	}
	return err
}

// parseYesNo is Redis's yesnotoi.
func parseYesNo(val string) (bool, error) {
	switch {
	case strings.EqualFold(val, "yes"):
		return true, nil
	case strings.EqualFold(val, "no"):
		return false, nil
	}
	return false, errors.New("argument must be 'yes' or 'no'")
}

// parseEnum returns the canonical spelling of val among names.
func parseEnum(val string, names []string) (string, error) {
	for _, n := range names {
		if strings.EqualFold(n, val) {
			return n, nil
		}
	}
	return "", errors.New("argument(s) must be one of the following: " + strings.Join(names, ", "))
}

// parseBounded parses an integer as Redis's numeric configs do: string2ll
// syntax, then the bounds (compared as unsigned for unsigned settings, so
// -1 is out of range rather than unparsable).
func parseBounded(val string, lo, hi int64, unsigned bool) (int64, error) {
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != val {
		return 0, errors.New("argument couldn't be parsed into an integer")
	}
	out := n < lo || n > hi
	if unsigned {
		out = uint64(n) < uint64(lo) || uint64(n) > uint64(hi)
	}
	if out {
		return 0, fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
	}
	return n, nil
}

// parseSave checks a "seconds changes ..." list as Redis does and returns
// the number of save points.
func parseSave(val string) (int, error) {
	f := strings.Fields(val)
	bad := errors.New("Invalid save parameters")
	if len(f)%2 != 0 {
		return 0, bad
	}
	for i, a := range f {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil || (i%2 == 0 && n < 1) || (i%2 == 1 && n < 0) {
			return 0, bad
		}
	}
	return len(f) / 2, nil
}

// notifyChars maps the class characters of notify-keyspace-events to
// flags, in the order Redis prints them.
var notifyChars = []struct {
	c    byte
	flag keyspace.EventClass
}{
	{'g', keyspace.EventGeneric}, {'$', keyspace.EventString}, {'l', keyspace.EventList}, {'s', keyspace.EventSet},
	{'h', keyspace.EventHash}, {'z', keyspace.EventZSet}, {'x', keyspace.EventExpired}, {'e', keyspace.EventEvicted},
	{'t', keyspace.EventStream}, {'d', keyspace.EventModule}, {'n', keyspace.EventNew},
}

func parseNotifyFlags(val string) (keyspace.EventClass, bool) {
	var flags keyspace.EventClass
outer:
	for i := 0; i < len(val); i++ {
		switch val[i] {
		case 'A':
			flags |= keyspace.EventAll
			continue
		case 'K':
			flags |= keyspace.EventKeyspace
			continue
		case 'E':
			flags |= keyspace.EventKeyevent
			continue
		case 'm':
			flags |= keyspace.EventKeyMiss
			continue
		}
		for _, nc := range notifyChars {
			if nc.c == val[i] {
				flags |= nc.flag
				continue outer
			}
		}
		return 0, false
	}
	return flags, true
}

func notifyFlagsString(flags keyspace.EventClass) string {
	var b []byte
	if flags&keyspace.EventAll == keyspace.EventAll {
		b = append(b, 'A')
	} else {
		for _, nc := range notifyChars {
			if flags&nc.flag != 0 {
				b = append(b, nc.c)
			}
		}
	}
	if flags&keyspace.EventKeyspace != 0 {
		b = append(b, 'K')
	}
	if flags&keyspace.EventKeyevent != 0 {
		b = append(b, 'E')
	}
	if flags&keyspace.EventKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// DirectiveNames lists the Redis directives a node accepts at startup (in
// loomcache.conf or as --name value): those CONFIG SET can change.
func DirectiveNames() []string {
	var names []string
	for _, st := range settings() {
		if st.set != nil && !st.protected && !st.inert && !st.immutable {
			names = append(names, st.name)
		}
	}
	return names
}
