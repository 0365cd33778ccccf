package server

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/loomcache/loomcache/commands"
)

// This file is the server's side of the server-level commands: INFO's
// text, CONFIG RESETSTAT, LASTSAVE and CLIENT KILL (the commands.Server
// interface; CONFIG GET/SET are in config.go).

// Version is LoomCache's own version, reported by INFO beside the Redis
// version it is compatible with.
const Version = "0.1.0"

// infoSection is one INFO section: its name as INFO takes it and its
// writer. Sections print in this order whatever order they were asked in.
type infoSection struct {
	name  string
	title string
	write func(s *Server, b []byte) []byte
	// all: only "all" and "everything" (or its name) print it, not
	// INFO alone or "default".
	all bool
}

func infoSections() []infoSection {
	return []infoSection{
		{"server", "Server", (*Server).infoServer, false},
		{"clients", "Clients", (*Server).infoClients, false},
		{"memory", "Memory", (*Server).infoMemory, false},
		{"persistence", "Persistence", (*Server).infoPersistence, false},
		{"stats", "Stats", (*Server).infoStats, false},
		{"replication", "Replication", (*Server).infoReplication, false},
		{"raft", "Raft", (*Server).infoRaft, false},
		{"cpu", "CPU", (*Server).infoCPU, false},
		{"modules", "Modules", func(_ *Server, b []byte) []byte { return b }, false},
		{"commandstats", "Commandstats", (*Server).infoCommandStats, true},
		{"errorstats", "Errorstats", func(s *Server, b []byte) []byte { return s.table.AppendErrorStats(b) }, false},
		{"latencystats", "Latencystats", (*Server).infoLatencyStats, true},
		{"cluster", "Cluster", (*Server).infoCluster, false},
		{"keyspace", "Keyspace", (*Server).infoKeyspace, false},
	}
}

// Info appends INFO's text for sections (lower case): none or "default"
// mean every section but commandstats, "all" and "everything" every
// section; unknown names add nothing.
func (s *Server) Info(dst []byte, sections []string, caller *commands.Session) []byte {
	want := make(map[string]bool, len(sections))
	every, byDefault := false, len(sections) == 0
	for _, name := range sections {
		switch name {
		case "default":
			byDefault = true
		case "all", "everything":
			every = true
		case "module_list":
			want["modules"] = true // Redis's other name for it
		default:
			want[name] = true
		}
	}
	first := true
	for _, sec := range infoSections() {
		if !every && !want[sec.name] && !(byDefault && !sec.all) {
			continue
		}
		if !first {
			dst = append(dst, "\r\n"...)
		}
		first = false
		dst = append(dst, "# "...)
		dst = append(dst, sec.title...)
		dst = append(dst, "\r\n"...)
		dst = sec.write(s, dst)
	}
	return dst
}

// infoField appends one "name:value" line.
func infoField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = append(b, value...)
	return append(b, "\r\n"...)
}

func infoInt(b []byte, name string, v int64) []byte {
	return infoField(b, name, strconv.FormatInt(v, 10))
}

func infoUint(b []byte, name string, v uint64) []byte {
	return infoField(b, name, strconv.FormatUint(v, 10))
}

// runID identifies this process, as Redis's run_id does: 40 hex digits,
// new at every start.
func (s *Server) runID(salt string) string {
	h := sha1.Sum([]byte(fmt.Sprintf("%s/%d/%d/%s", s.cfg.ID, os.Getpid(), s.started.UnixNano(), salt)))
	return hex.EncodeToString(h[:])
}

func (s *Server) infoServer(b []byte) []byte {
	now := time.Now()
	uptime := int64(now.Sub(s.started) / time.Second)
	b = infoField(b, "redis_version", commands.RedisVersion)
	b = infoField(b, "loomcache_version", Version)
	b = infoField(b, "loomcache_git_sha", GitSHA())
	b = infoField(b, "redis_mode", "standalone")
	b = infoField(b, "os", osName())
	b = infoInt(b, "arch_bits", strconv.IntSize)
	b = infoField(b, "go_version", runtime.Version())
	b = infoInt(b, "process_id", int64(os.Getpid()))
	b = infoField(b, "process_supervised", "no")
	b = infoField(b, "run_id", s.runID("run"))
	b = infoField(b, "tcp_port", s.ConfigGet("port")[0][1])
	b = infoInt(b, "server_time_usec", now.UnixMicro())
	b = infoInt(b, "uptime_in_seconds", uptime)
	b = infoInt(b, "uptime_in_days", uptime/86400)
	exe, _ := os.Executable()
	b = infoField(b, "executable", exe)
	cf := s.cfg.ConfigFile
	if cf != "" {
		if abs, err := filepath.Abs(cf); err == nil {
			cf = abs
		}
	}
	return infoField(b, "config_file", cf)
}

// osName is "sysname release machine", as Redis prints uname.
func osName() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return runtime.GOOS + " " + runtime.GOARCH
	}
	return cstr(u.Sysname[:]) + " " + cstr(u.Release[:]) + " " + cstr(u.Machine[:])
}

// cstr reads a NUL-terminated C string (Utsname's fields are int8 on some
// platforms, uint8 on others).
func cstr[T int8 | uint8](f []T) string {
	var sb strings.Builder
	for _, c := range f {
		if c == 0 {
			break
		}
		sb.WriteByte(byte(c))
	}
	return sb.String()
}

func (s *Server) infoClients(b []byte) []byte {
	b = infoInt(b, "connected_clients", int64(len(s.Clients())))
	b = infoField(b, "maxclients", s.ConfigGet("maxclients")[0][1])
	b = infoInt(b, "blocked_clients", s.table.Waiters().Blocked()+s.pause.held.Load())
	return infoInt(b, "tracking_clients", int64(s.table.Tracking().Stats().Clients))
}

func (s *Server) infoMemory(b []byte) []byte {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := residentBytes()
	if rss == 0 {
		rss = ms.Sys - ms.HeapReleased
	}
	s.conf.mu.Lock()
	maxmem, policy := s.conf.v.maxMemory, s.conf.v.maxmemoryPolicy()
	s.conf.mu.Unlock()
	mem := s.MemoryStats()
	used := uint64(mem.TotalAllocated)
	b = infoUint(b, "used_memory", used)
	b = infoField(b, "used_memory_human", bytesToHuman(used))
	b = infoUint(b, "used_memory_rss", rss)
	b = infoField(b, "used_memory_rss_human", bytesToHuman(rss))
	b = infoMemoryPeak(b, &mem)
	scripts, functions, libraries := s.table.ScriptStats()
	b = infoUint(b, "number_of_cached_scripts", uint64(scripts))
	b = infoUint(b, "number_of_functions", uint64(functions))
	b = infoUint(b, "number_of_libraries", uint64(libraries))
	b = infoUint(b, "maxmemory", maxmem)
	b = infoField(b, "maxmemory_human", bytesToHuman(maxmem))
	b = infoField(b, "maxmemory_policy", policy)
	// Nothing of the memory counted is outside eviction's reach (Redis's
	// replication and AOF buffers), and nothing is freed in the
	// background: the values UNLINK and FLUSHALL ASYNC drop are the
	// garbage collector's at once.
	b = infoUint(b, "mem_not_counted_for_evict", 0)
	b = infoField(b, "mem_allocator", memAllocator())
	b = infoUint(b, "lazyfree_pending_objects", 0)
	return infoUint(b, "lazyfreed_objects", 0)
}

// residentBytes reads the process's resident set size from /proc; 0 where
// there is none.
func residentBytes() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseUint(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * uint64(os.Getpagesize())
}

// bytesToHuman formats n as Redis's bytesToHuman does.
func bytesToHuman(n uint64) string {
	const k = 1024
	switch {
	case n < k:
		return strconv.FormatUint(n, 10) + "B"
	case n < k*k:
		return fmt.Sprintf("%.2fK", float64(n)/k)
	case n < k*k*k:
		return fmt.Sprintf("%.2fM", float64(n)/(k*k))
	case n < k*k*k*k:
		return fmt.Sprintf("%.2fG", float64(n)/(k*k*k))
	case n < k*k*k*k*k:
		return fmt.Sprintf("%.2fT", float64(n)/(k*k*k*k))
	case n < k*k*k*k*k*k:
		return fmt.Sprintf("%.2fP", float64(n)/(k*k*k*k*k))
	}
	return strconv.FormatUint(n, 10) + "B"
}

// infoCommandStats is Redis's genRedisInfoStringCommandStats.
func (s *Server) infoCommandStats(b []byte) []byte {
	for _, st := range s.table.CommandStats() {
		perCall := float32(0)
		if st.Calls != 0 {
			perCall = float32(st.Usec) / float32(st.Calls) // Redis's float
		}
		b = append(b, "cmdstat_"...)
		b = append(b, st.Name...)
		b = append(b, ":calls="...)
		b = strconv.AppendInt(b, st.Calls, 10)
		b = append(b, ",usec="...)
		b = strconv.AppendInt(b, st.Usec, 10)
		b = append(b, ",usec_per_call="...)
		b = strconv.AppendFloat(b, float64(perCall), 'f', 2, 64)
		b = append(b, ",rejected_calls="...)
		b = strconv.AppendInt(b, st.Rejected, 10)
		b = append(b, ",failed_calls="...)
		b = strconv.AppendInt(b, st.Failed, 10)
		b = append(b, "\r\n"...)
	}
	return b
}

func (s *Server) infoCluster(b []byte) []byte {
	// Redis Cluster's protocol (slots, MOVED) is not spoken.
	return infoInt(b, "cluster_enabled", 0)
}

func (s *Server) infoKeyspace(b []byte) []byte {
	n := s.openNode()
	if n == nil {
		return b // restoring the snapshot, under the store's lock
	}
	// Each partition's keys, added up (the stores of this node: a
	// follower's may lag, as INFO's figures are this node's own).
	for i := range s.cfg.Databases {
		keys, expires := 0, 0
		for _, g := range s.groups {
			ks := g.Store()
			ks.RLock()
			keys += ks.DB(i).Len()
			expires += ks.DB(i).Expires()
			ks.RUnlock()
		}
		if keys == 0 {
			continue
		}
		b = append(b, "db"...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ":keys="...)
		b = strconv.AppendInt(b, int64(keys), 10)
		b = append(b, ",expires="...)
		b = strconv.AppendInt(b, int64(expires), 10)
		b = append(b, ",avg_ttl=0\r\n"...)
	}
	return b
}

// ResetStats zeroes INFO's counters, as CONFIG RESETSTAT does.
func (s *Server) ResetStats() {
	s.stats.connections.Store(0)
	s.stats.commands.Store(0)
	s.stats.rejected.Store(0)
	s.table.ResetEvictedKeys()
	s.table.ResetCommandStats()
	s.resetNetStats()
}

// LastSave returns the unix time of the newest snapshot on disk, or of the
// start if there is none newer (Redis counts its start as a save).
func (s *Server) LastSave() int64 {
	last := s.started
	metas, _ := filepath.Glob(filepath.Join(s.cfg.DataDir, "snapshots", "*", "meta.json"))
	for _, m := range metas {
		if strings.HasSuffix(filepath.Dir(m), ".tmp") {
			continue
		}
		if fi, err := os.Stat(m); err == nil && fi.ModTime().After(last) {
			last = fi.ModTime()
		}
	}
	return max(last.Unix(), s.admin.savedAt.Load())
}

// KillClient closes the connection of the session with that id.
func (s *Server) KillClient(id int64) bool {
	s.mu.Lock()
	c := s.clients[id]
	s.mu.Unlock()
	if c == nil {
		return false
	}
	s.killClient(id)
	return true
}
