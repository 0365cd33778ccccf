package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/loomcache/loomcache/raftfsm"
	"github.com/loomcache/loomcache/server"
)

var errHelp = errors.New("help requested")

// secretEnv is the environment variable that gives the cluster secret
// without putting it on the command line, where ps shows it to every user.
const secretEnv = "LOOMCACHE_CLUSTER_SECRET"

// setting is one configuration directive: the same name on the command
// line (--name value), in loomcache.conf (name value) and, where Redis has
// it, in CONFIG GET.
type setting struct {
	name, def, help string
	set             func(c *server.Config, v string) error
}

func settings() []setting {
	return []setting{
		{"id", "n1", "node id, unique in the cluster", func(c *server.Config, v string) error {
			if v == "" {
				return errors.New("id must not be empty")
			}
			c.ID = v
			return nil
		}},
		{"addr", "127.0.0.1:6379", "RESP listen address (host:port)", func(c *server.Config, v string) error {
			c.Addr = v
			return nil
		}},
		{"port", "", "Redis's port directive: the plain RESP port, replacing --addr's (later settings win); 0 turns the plain listener off, leaving tls-port", func(c *server.Config, v string) error {
			if v == "" {
				return nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				return fmt.Errorf("port must be between 0 and 65535, not %q", v)
			}
			c.NoPlainPort = n == 0
			if n != 0 {
				host, _, err := net.SplitHostPort(c.Addr)
				if err != nil {
					return fmt.Errorf("port: --addr %q: %w", c.Addr, err)
				}
				c.Addr = net.JoinHostPort(host, v)
			}
			return nil
		}},
		{"raft-addr", "127.0.0.1:7379", "Raft/cluster listen address (host:port)", func(c *server.Config, v string) error {
			c.RaftAddr = v
			return nil
		}},
		{"raft-advertise", "", "address other nodes dial to reach this node's cluster port, as named in --cluster lists; empty: --raft-addr", func(c *server.Config, v string) error {
			c.RaftAdvertise = v
			return nil
		}},
		{"data-dir", "./loomcache-data", "directory of this node's WAL and snapshots (each node its own)", func(c *server.Config, v string) error {
			c.DataDir = v
			return nil
		}},
		{"fsync", "always", "always: a write is acknowledged once fsync'd in the WAL; everysec: a background fsync each second (a crash loses at most about the last second); no: the OS flushes when it likes", func(c *server.Config, v string) error {
			return setFsync(c, v)
		}},
		{"cluster", "", "initial members by Raft address, id=host:port,... identical on every initial node; empty: a single node", func(c *server.Config, v string) error {
			c.Members = nil
			if v == "" {
				return nil
			}
			for _, m := range strings.Split(v, ",") {
				id, addr, ok := strings.Cut(strings.TrimSpace(m), "=")
				if !ok || id == "" || addr == "" {
					return fmt.Errorf("cluster member %q: want id=host:port", m)
				}
				c.Members = append(c.Members, raftfsm.Member{ID: id, RaftAddr: addr})
			}
			return nil
		}},
		{"join", "", "RESP address (host:port) of a running member: a node with no data yet asks it to add this node (RAFT.NODE ADD) and is brought up to date; ignored once the node has joined", func(c *server.Config, v string) error {
			c.Join = v
			return nil
		}},
		{"cluster-secret", "", "shared secret, the same on every node, required of every connection on the cluster port (at least 16 bytes, e.g. openssl rand -base64 32); the command line shows in ps: prefer the " + secretEnv + " environment variable or the config file; empty: the cluster port is unauthenticated", func(c *server.Config, v string) error {
			if v != "" && len(v) < raftfsm.MinClusterSecret {
				return fmt.Errorf("cluster-secret has %d bytes: it must have at least %d", len(v), raftfsm.MinClusterSecret)
			}
			c.ClusterSecret = []byte(v)
			if v == "" {
				c.ClusterSecret = nil
			}
			return nil
		}},
		{"snapshot-threshold", "10000", "applied ops between snapshots (and log compaction)", func(c *server.Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				return fmt.Errorf("snapshot-threshold must be a positive integer, not %q", v)
			}
			c.SnapshotThreshold = n
			return nil
		}},
		{"partitions", "1", "number of partitions, each its own Raft group with its own leader (keys map to them by MurmurHash3 of the key or its {hashtag}); fixed when the cluster is created, the same on every node", func(c *server.Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > raftfsm.MaxPartitions {
				return fmt.Errorf("partitions must be an integer from 1 to %d, not %q", raftfsm.MaxPartitions, v)
			}
			c.Partitions = n
			return nil
		}},
		{"trailing-logs", "1024", "log entries kept behind a snapshot when the log is compacted: a follower less far behind catches up from the log, one further behind receives the snapshot", func(c *server.Config, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || n == 0 {
				return fmt.Errorf("trailing-logs must be a positive integer, not %q", v)
			}
			c.TrailingLogs = n
			return nil
		}},
		{"aclfile", "", "Redis's aclfile: its users are loaded at startup (through Raft, when they differ from the cluster's), by ACL LOAD, and written by ACL SAVE; a file that does not load stops the start", func(c *server.Config, v string) error {
			c.ACLFile = v
			return nil
		}},
		{"databases", "16", "number of databases (SELECT 0..n-1)", func(c *server.Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1<<16 {
				return fmt.Errorf("databases must be between 1 and 65536, not %q", v)
			}
			c.Databases = n
			return nil
		}},
		{"loglevel", "warn", "log level: trace, debug, info, warn, error, or Redis's debug, verbose, notice (as warn), warning (as error)", func(c *server.Config, v string) error {
			if l, ok := redisLogLevels[strings.ToLower(v)]; ok {
				v = l
			}
			c.LogLevel = v
			return nil
		}},
		{"metrics-addr", "", "host:port to serve Prometheus metrics on, at /metrics (docs/operations.md); empty: off", func(c *server.Config, v string) error {
			c.MetricsAddr = v
			return nil
		}},
	}
}

const usage = `LoomCache: a Redis-compatible, strongly consistent cache.

Usage:
  loomcache [server] [CONFIG-FILE] [--name value ...]

Every setting can be given as --name value (or --name=value) on the command
line or as a "name value" line in a config file (loomcache.conf); the
command line wins. The environment variable ` + secretEnv + `, when
set, gives --cluster-secret (after the config file, before the command
line). Settings:
`

func printHelp(w io.Writer) {
	fmt.Fprint(w, usage)
	for _, s := range settings() {
		def := s.def
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%-20s %s (default %s)\n", s.name, s.help, def)
	}
	fmt.Fprint(w, "  --help                 print this help\n")
	fmt.Fprintf(w, "\nRedis configuration directives, with Redis's names, values and checks\n(also settable at run time with CONFIG SET, but for tls-cluster and\nenable-debug-command, fixed at startup as in Redis):\n%s\n",
		wrap(strings.Join(server.DirectiveNames(), ", "), "  ", 76))
	fmt.Fprint(w, redisConfHelp)
	fmt.Fprint(w, tlsHelp)
}

const tlsHelp = `
TLS (docs/tls.md), as in redis.conf:
  --tls-port N                   also serve TLS clients on N, on --addr's host
                                 (0: off, the default); --port 0 leaves TLS only
  --tls-cert-file, --tls-key-file  PEM certificate (chain) and key;
  --tls-key-file-pass            the key's password, if it is encrypted
  --tls-ca-cert-file, --tls-ca-cert-dir  CAs that sign client certificates
  --tls-auth-clients yes|no|optional  require a client certificate (default
                                 yes), ask for none, or verify one if given
  --tls-protocols "TLSv1.2 TLSv1.3"  versions (default both)
  --tls-ciphers LIST             OpenSSL names of TLS 1.2 suites Go implements
  --tls-ciphersuites LIST        checked, not applied: Go picks TLS 1.3 suites
  --tls-session-caching yes|no, --tls-session-cache-timeout SECONDS
  --tls-cluster yes|no           TLS with mutual verification on the cluster
                                 port, fixed at startup (docs/tls.md)
  tls-prefer-server-ciphers, tls-session-cache-size, tls-dh-params-file,
  tls-replication and tls-client-* are accepted; docs/tls.md says what each
  does here. CONFIG SET re-reads the files, even under the same names.
`

// wrap breaks a comma-separated list into lines of at most width
// characters, each starting with indent.
func wrap(list, indent string, width int) string {
	var b strings.Builder
	line := indent
	for i, item := range strings.Split(list, ", ") {
		if i > 0 {
			item = ", " + item
		}
		if len(line)+len(item) > width && line != indent {
			b.WriteString(line + ",\n")
			line = indent + strings.TrimPrefix(item, ", ")
			continue
		}
		line += item
	}
	b.WriteString(line)
	return b.String()
}

// parseArgs builds the configuration: defaults, then the config file if
// one is named, then the command-line settings.
func parseArgs(args []string, out io.Writer) (server.Config, error) {
	var cfg server.Config
	cfg.LogOutput = os.Stderr
	byName := map[string]setting{}
	for _, s := range settings() {
		byName[s.name] = s
		if err := s.set(&cfg, s.def); err != nil {
			return cfg, fmt.Errorf("default %s: %w", s.name, err)
		}
	}
	for _, s := range redisSettings() {
		byName[s.name] = s // their defaults are Config's zero values
	}
	for _, s := range settings() {
		if !directivesKnown(s.name) {
			cfg.Redis.OwnSettings = append(cfg.Redis.OwnSettings, s.name)
		}
	}
	if len(args) > 0 && args[0] == "server" {
		args = args[1:]
	}
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	var pairs [][2]string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--help" || a == "-h" || a == "-help" {
			printHelp(out)
			return cfg, errHelp
		}
		if !strings.HasPrefix(a, "--") {
			return cfg, fmt.Errorf("unexpected argument %q (settings are --name value)", a)
		}
		name, val, hasVal := strings.Cut(a[2:], "=")
		if !hasVal {
			if i+1 >= len(args) {
				return cfg, fmt.Errorf("--%s needs a value", name)
			}
			i++
			val = args[i]
		}
		pairs = append(pairs, [2]string{name, val})
	}
	if v, ok := os.LookupEnv(secretEnv); ok {
		pairs = append([][2]string{{"cluster-secret", v}}, pairs...)
	}
	directives := map[string]bool{}
	for _, name := range append(append(server.DirectiveNames(), server.IgnoredDirectives()...), server.RedisDirectiveNames()...) {
		directives[name] = true
	}
	if file != "" {
		fp, notes, err := readRedisConf(file, directives)
		if err != nil {
			return cfg, err
		}
		if abs, err := filepath.Abs(file); err == nil {
			file = abs // CONFIG REWRITE's, after dir's chdir
		}
		cfg.ConfigFile = file
		cfg.Redis.Notes = notes
		pairs = append(fp, pairs...)
	}
	for _, p := range pairs {
		s, ok := byName[p[0]]
		if ok && passThrough(p[0], p[1]) {
			cfg.Directives = append(cfg.Directives, p)
		}
		if !ok && directives[strings.ToLower(p[0])] {
			cfg.Directives = append(cfg.Directives, p)
			continue
		}
		if !ok {
			return cfg, fmt.Errorf("unknown setting %q (see --help)", p[0])
		}
		if err := s.set(&cfg, p[1]); err != nil {
			return cfg, err
		}
	}
	if cfg.Join != "" && len(cfg.Members) > 0 {
		return cfg, errors.New("--join and --cluster exclude each other: initial members bootstrap with --cluster, later ones --join")
	}
	return cfg, nil
}
