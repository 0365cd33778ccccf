package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/loomcache/loomcache/server"
)

// This file maps the Redis directives a node needs before it starts (the
// process's and the listener's: dir, bind, daemonize, pidfile, logfile,
// loglevel, appendfsync) onto Config; server.Config.Directives carries
// the rest, and the Redis words of these, to CONFIG GET.

// redisSettings are the directives of redis.conf with a startup meaning.
func redisSettings() []setting {
	return []setting{
		{"dir", "", "Redis's dir: the data directory (replaces --data-dir); relative paths later in the config are relative to it, as in Redis", func(c *server.Config, v string) error {
			if v != "" {
				c.DataDir, c.Redis.Chdir = v, true
			}
			return nil
		}},
		{"bind", "", `Redis's bind: the addresses to listen on at --port, e.g. "127.0.0.1 -::1" ("-": skipped if this machine lacks it; "*": every IPv4 address, "::*": every IPv6 one)`, func(c *server.Config, v string) error {
			c.Redis.Bind = strings.Fields(v)
			if len(c.Redis.Bind) > 0 {
				host := strings.TrimPrefix(c.Redis.Bind[0], "-")
				switch host {
				case "*":
					host = "0.0.0.0"
				case "::*":
					host = "::"
				}
				c.Addr = joinPort(host, c.Addr)
			}
			return nil
		}},
		{"daemonize", "no", "yes: run in the background (the command returns once the node listens, or says why it could not)", func(c *server.Config, v string) error {
			on, err := yesNo("daemonize", v)
			c.Redis.Daemonize = on
			return err
		}},
		{"pidfile", "", "file to write the process id to (with daemonize yes and none: " + defaultPidFile + ")", func(c *server.Config, v string) error {
			c.Redis.PidFile = v
			return nil
		}},
		{"logfile", "", `file the log is appended to; "" given: standard output (as Redis); not given: standard error`, func(c *server.Config, v string) error {
			c.Redis.LogFile, c.Redis.LogFileSet = v, true
			return nil
		}},
		{"appendfsync", "", "Redis's name for --fsync: always, everysec or no", func(c *server.Config, v string) error {
			return setFsync(c, v)
		}},
	}
}

// defaultPidFile is where a daemon writes its pid when no pidfile is
// named (Redis's /var/run/redis.pid).
const defaultPidFile = "/var/run/loomcache.pid"

func setFsync(c *server.Config, v string) error {
	switch strings.ToLower(v) {
	case "always":
		c.Fsync, c.FsyncEverySec = true, false
	case "everysec":
		c.Fsync, c.FsyncEverySec = false, true
	case "no":
		c.Fsync, c.FsyncEverySec = false, false
	default:
		return fmt.Errorf("fsync must be always, everysec or no, not %q", v)
	}
	return nil
}

func yesNo(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("%s must be yes or no, not %q", name, v)
}

// redisLogLevels maps Redis's loglevel words onto the Raft library's
// levels: Redis's notice (its default, "what you want in production")
// leaves Raft's chatty INFO lines out.
var redisLogLevels = map[string]string{"debug": "debug", "verbose": "info", "notice": "warn", "warning": "error"}

// passThrough are the directives the command applies and CONFIG GET also
// shows in Redis's words (server.Config.Directives).
func passThrough(name, val string) bool {
	switch name {
	case "loglevel":
		_, ok := redisLogLevels[strings.ToLower(val)]
		return ok
	}
	return false
}

// absPath makes a relative path of a setting absolute against base, as
// Redis's chdir into dir makes later relative paths relative to it.
func absPath(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

// writePidFile writes the pid as Redis does (a failure is only logged).
func writePidFile(path string) error {
	return os.WriteFile(path, []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644)
}

// joinPort is host with addr's port.
func joinPort(host, addr string) string {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		port = "6379"
	}
	return net.JoinHostPort(host, port)
}

// directivesKnown reports whether name is a Redis directive (the server's
// CONFIG parameter, rewritten by CONFIG REWRITE).
func directivesKnown(name string) bool {
	for _, n := range server.RedisDirectiveNames() {
		if n == name {
			return true
		}
	}
	return false
}

const redisConfHelp = `
A Redis 7.0 config file (redis.conf, Debian's stock one included) starts a
node: dir, bind, daemonize, pidfile, logfile, loglevel and appendfsync are
applied as above, save points take snapshots, every other Redis directive
(rdbcompression, hz, ...) is accepted with a log line saying it has no
meaning here and kept for CONFIG GET/SET/REWRITE (docs/redis-conf.md).
`
